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

**Direction.** The test is two-sided. A rollback wants the canary *worse*: with direction
``increase`` the judge rejects only when BF ≥ 1/α and the canary's share of the errors is
above ρ (``decrease``: below). That event is inside {BF ≥ 1/α}, so the bound still holds.

Pure: ``math.lgamma`` only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Decision",
    "anytime_p_value",
    "decide",
    "log_bayes_factor",
    "log_multinomial_bayes_factor",
]

Direction = Literal["increase", "decrease", "either"]


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


def anytime_p_value(e_values: Iterable[float]) -> float:
    """The anytime-valid p-value after the looks ``e_values``: min(1, 1 / max BF).

    >>> anytime_p_value([0.5, 4.0, 2.0])
    0.25
    """
    return min(1.0, 1.0 / max(e_values, default=1.0))
