"""An anytime-valid test of count data: is the canary producing more errors than its share?

The sequential test of Lindon & Malek, "Anytime-Valid Inference for Multinomial Count
Data" (NeurIPS 2022), applied to canary tests as in Lindon, Sanden & Shirikian, "Rapid
Regression Detection in Software Deployments through Sequential Testing" (KDD 2022).

**Model.** Errors of the baseline and of the canary arrive as Poisson processes with
intensities ρ_i·λ_i(t), ρ_i the share of traffic each receives and λ_i(t) an error rate
per unit of traffic that may vary in time in any way. Given that an error happened, it is
the canary's with probability θ = ρ_c λ_c / (ρ_c λ_c + ρ_b λ_b): under the null hypothesis
H₀: λ_c = λ_b the time variation cancels and θ = ρ_c, whatever λ(t) does. The counts since
the test began are then a multinomial sample (a binomial one for two arms), and the test
needs only them.

**E-value.** With a Dirichlet(k·θ₀) prior on θ (k, the *concentration*, is how tightly the
alternative is centred on the null; savvi's default is 100), the Bayes factor against
H₀: θ = θ₀ after counts n is

    BF(n) = B(k·θ₀ + n) / B(k·θ₀) / Π θ₀ᵢ^nᵢ,     B(a) = Π Γ(aᵢ) / Γ(Σ aᵢ),

a non-negative martingale with mean 1 under H₀. By Ville's inequality P(sup_n BF(n) ≥ 1/α)
≤ α: rejecting the first time BF ≥ 1/α, checked as often as one likes, keeps the false
alarm probability at or below α. (A fixed-sample test checked repeatedly does not: its false
alarms grow with the number of looks.) For two arms (canary, baseline) with null share ρ:

    BF = B(kρ + c, k(1 − ρ) + b) / B(kρ, k(1 − ρ)) / (ρ^c (1 − ρ)^b)

with c, b the canary's and baseline's error counts.

**Direction.** The test is two-sided. With direction ``increase`` :func:`decide` rejects
only when BF ≥ 1/α and the canary's share of the errors is above ρ (``decrease``: below).
That event is inside {BF ≥ 1/α}, so the bound still holds.

**A share that changes.** All of the above needs ρ fixed for the whole test: the null is the
allocation. If the canary's share of the traffic changes during the test (an analysis across
``setWeight`` steps) while the error rate changes too, the pooled share (the canary's
requests over all since the test began) is not the share the errors were drawn at, and the
false alarms are no longer bounded (20% → 60% of the traffic while a shared error rate goes
1% → 5%: every run rejects). :func:`log_e_value` is the test the judge uses, valid whatever
the share and the error rate do, bucket by bucket. In bucket b the canary served a fraction
ρ_b of the requests; under H₀ (in each bucket the same error probability for every request,
whatever it is over time) the canary's errors c_b given the bucket's errors e_b = c_b + s_b
are hypergeometric: e_b requests drawn without replacement, ρ_b of them the canary's. The
alternative θ is the ratio of the canary's error rate to the baseline's, under which an
error of bucket b is the canary's with probability q_b(θ) = ρ_bθ / (ρ_bθ + 1 − ρ_b), and

    LR(θ) = Π_b (q_b/ρ_b)^c_b ((1 − q_b)/(1 − ρ_b))^s_b = θ^C / Π_b (1 + ρ_b(θ − 1))^e_b

(C = Σ c_b). Each factor θ^c / (1 + ρ(θ − 1))^e is convex in c and has mean 1 when
c ~ Binomial(e, ρ) (sampling with replacement), so by Hoeffding's comparison of sampling
without and with replacement (Hoeffding 1963, Theorem 4) its mean under the hypergeometric
is at most 1: for each fixed θ, LR is a non-negative supermartingale from 1 over the buckets,
and so is any mixture Σ wᵢ LR(θᵢ) with weights fixed in advance. Ville's inequality bounds
P(ever ≥ 1/α) by α again. The prior is discrete: log θ on a grid of ``GRID_STEP`` out to
±``GRID_MAX`` (ratios up to e⁴ ≈ 55), weights of a normal of mean 0 and standard deviation
2/√k. That is the Beta(kρ, k(1 − ρ)) prior above seen on the log-odds scale, where its
variance is trigamma(kρ) + trigamma(k(1 − ρ)) ≈ 1/(kρ(1 − ρ)), at ρ = 1/2 (4/k, its
narrowest); it depends on k only, never on the data. ``increase`` puts the prior on θ > 1
only, ``decrease`` on θ < 1, ``either`` on both halves: a one-sided prior is as valid and
has the whole weight where the alternative is. For a constant share LR depends on the totals
only and the mixture is a Bayes factor of (C, E − C), like the closed form above.

The newest bucket of a look may still have requests in flight: its counts are those that
completed, and the next look sees more of them. That revision is not modelled.

Pure: ``math``, numpy and scipy's ``logsumexp``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import logsumexp

__all__ = [
    "GRID_MAX",
    "GRID_STEP",
    "Decision",
    "anytime_p_value",
    "decide",
    "decide_by_bucket",
    "log_bayes_factor",
    "log_e_value",
    "log_multinomial_bayes_factor",
    "prior",
]

Direction = Literal["increase", "decrease", "either"]

#: The prior's grid on log θ: steps of 0.05 out to 4 (ratios from e⁻⁴ to e⁴ ≈ 55).
GRID_STEP = 0.05
GRID_MAX = 4.0


def _log_beta(a: Sequence[float]) -> float:
    """log of the multivariate beta function B(a) = Π Γ(aᵢ) / Γ(Σ aᵢ)."""
    return sum(math.lgamma(x) for x in a) - math.lgamma(sum(a))


def log_multinomial_bayes_factor(
    counts: Sequence[int], theta0: Sequence[float], concentration: float
) -> float:
    """log BF of counts ``counts`` against H₀: θ = ``theta0`` with a Dirichlet(k·θ₀) prior.

    ``theta0`` must be positive and sum to 1, ``concentration`` (k) positive. With no
    counts the Bayes factor is 1 (log 0).
    """
    if len(counts) != len(theta0) or len(counts) < 2:
        raise ValueError("counts and theta0 need the same length, at least 2")
    if any(c < 0 for c in counts):
        raise ValueError(f"counts must be >= 0, got {list(counts)}")
    if any(not 0 < p < 1 for p in theta0) or not math.isclose(sum(theta0), 1.0):
        raise ValueError(f"theta0 must be in (0, 1) and sum to 1, got {list(theta0)}")
    if not concentration > 0:
        raise ValueError(f"concentration must be > 0, got {concentration}")
    prior = [concentration * p for p in theta0]
    posterior = [a + n for a, n in zip(prior, counts, strict=True)]
    null = sum(n * math.log(p) for n, p in zip(counts, theta0, strict=True))
    return _log_beta(posterior) - _log_beta(prior) - null


def log_bayes_factor(canary: int, baseline: int, share: float, concentration: float) -> float:
    """log BF of ``canary`` and ``baseline`` error counts against H₀: the canary's share of
    errors is its share of traffic ``share`` (ρ). 0 (BF = 1) when ρ is 0 or 1: with all the
    traffic on one side the counts say nothing about the other.

    Example: ρ = 0.2, k = 100 and 15 canary errors to none: log BF = log B(35, 80) −
    log B(20, 80) − 15 log 0.2 = 3.30, BF = 27.2 ≥ 20 = 1/0.05; 14 give 18.2, not yet.

    >>> round(math.exp(log_bayes_factor(15, 0, 0.2, 100)), 1)
    27.2
    """
    if not 0 < share < 1:
        return 0.0
    return log_multinomial_bayes_factor([canary, baseline], [share, 1 - share], concentration)


@dataclass(frozen=True)
class Decision:
    """One look at the counts: the e-value (Bayes factor), whether to reject H₀ (roll back)
    and the canary's observed share of the errors (NaN with none)."""

    e_value: float
    reject: bool
    observed_share: float


def decide(
    canary: int,
    baseline: int,
    share: float,
    alpha: float,
    concentration: float = 100.0,
    direction: Direction = "increase",
) -> Decision:
    """Reject when BF ≥ 1/α and the canary's error share lies on ``direction``'s side of
    ``share`` (``either``: any side).

    >>> d = decide(15, 0, 0.2, 0.05)
    >>> d.reject, round(d.e_value, 1), d.observed_share
    (True, 27.2, 1.0)
    >>> decide(0, 200, 0.2, 0.05).reject    # far fewer canary errors: not a regression
    False
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    log_bf = log_bayes_factor(canary, baseline, share, concentration)
    total = canary + baseline
    observed = canary / total if total else math.nan
    side = {
        "increase": observed > share,
        "decrease": observed < share,
        "either": True,
    }[direction]
    reject = total > 0 and side and log_bf >= math.log(1 / alpha)
    return Decision(math.exp(min(log_bf, 700.0)), reject, observed)


def prior(concentration: float, direction: Direction) -> tuple[np.ndarray, np.ndarray]:
    """The mixture's grid of log θ and its log weights (summing to 1): a normal of standard
    deviation 2/√k on the grid's points above 0 (``increase``), below (``decrease``) or both
    (``either``). θ = 1 is left out: there LR is 1 whatever the counts.

    >>> x, log_w = prior(100.0, "increase")
    >>> len(x), round(float(x[0]), 2), round(float(x[-1]), 2), round(float(np.exp(log_w).sum()), 12)
    (80, 0.05, 4.0, 1.0)
    """
    if not concentration > 0:
        raise ValueError(f"concentration must be > 0, got {concentration}")
    half = GRID_STEP * np.arange(1, round(GRID_MAX / GRID_STEP) + 1)
    x = {"increase": half, "decrease": -half, "either": np.concatenate([-half[::-1], half])}[
        direction
    ]
    sd = 2.0 / math.sqrt(concentration)
    log_w = -0.5 * (x / sd) ** 2
    return x, log_w - logsumexp(log_w)


def log_e_value(
    canary: Sequence[int] | np.ndarray,
    baseline: Sequence[int] | np.ndarray,
    shares: Sequence[float] | np.ndarray,
    concentration: float = 100.0,
    direction: Direction = "increase",
) -> float:
    """log of the mixture Σ wᵢ LR(θᵢ) over buckets: ``canary[b]`` and ``baseline[b]`` errors,
    the canary's share of the requests ``shares[b]`` (ρ_b). Buckets with no errors, or with
    ρ_b 0 or 1 (one side had all the requests), say nothing and are left out; with none left
    the e-value is 1 (log 0).

    Example: one bucket, ρ = 0.2, 15 canary errors to none: LR(θ) = (θ / (0.8 + 0.2θ))^15
    is 9.2e4 at θ = 3, but the prior (k = 100: sd 0.2 on log θ) keeps the weight near θ = 1:
    the e-value is 28.0, close to the 27.2 of the Beta closed form :func:`log_bayes_factor`.

    >>> round(math.exp(log_e_value([15], [0], [0.2])), 1)
    28.0
    """
    c = np.asarray(canary, dtype=float)
    s = np.asarray(baseline, dtype=float)
    rho = np.asarray(shares, dtype=float)
    if not c.shape == s.shape == rho.shape or c.ndim != 1:
        raise ValueError("canary, baseline and shares need the same length")
    if (c < 0).any() or (s < 0).any():
        raise ValueError("error counts must be >= 0")
    keep = (c + s > 0) & (rho > 0) & (rho < 1)
    if not keep.any():
        return 0.0
    c, e, rho = c[keep], (c + s)[keep], rho[keep]
    x, log_w = prior(concentration, direction)
    # log LR(θ) = C log θ − Σ_b e_b log(1 + ρ_b (θ − 1)), one column per grid point.
    log_lr = c.sum() * x - e @ np.log1p(np.outer(rho, np.expm1(x)))
    return float(logsumexp(log_w + log_lr))


def decide_by_bucket(
    canary: Sequence[int] | np.ndarray,
    baseline: Sequence[int] | np.ndarray,
    shares: Sequence[float] | np.ndarray,
    alpha: float,
    concentration: float = 100.0,
    direction: Direction = "increase",
) -> Decision:
    """Reject when the mixture e-value of :func:`log_e_value` reaches 1/α. Its prior is on
    ``direction``'s side already, so no side check is needed. ``observed_share`` is the
    canary's share of all the errors (NaN with none).

    >>> decide_by_bucket([15], [0], [0.2], 0.05).reject
    True
    >>> decide_by_bucket([0], [200], [0.2], 0.05).reject    # far fewer: not a regression
    False
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    log_e = log_e_value(canary, baseline, shares, concentration, direction)
    total = float(np.sum(canary) + np.sum(baseline))
    observed = float(np.sum(canary)) / total if total else math.nan
    return Decision(math.exp(min(log_e, 700.0)), log_e >= math.log(1 / alpha), observed)


def anytime_p_value(e_values: Iterable[float]) -> float:
    """The anytime-valid p-value after the looks ``e_values``: min(1, 1 / max BF).

    >>> anytime_p_value([0.5, 4.0, 2.0])
    0.25
    """
    return min(1.0, 1.0 / max(e_values, default=1.0))
