"""rules/sequential.py: the anytime-valid test of count data (Lindon & Malek; Lindon, Sanden
& Shirikian).

- The closed form against a direct numeric integration of the mixture (scipy's ``quad``,
  ``dblquad`` for three arms): BF = ∫ Π θᵢ^nᵢ dDir(θ; kθ₀) / Π θ₀ᵢ^nᵢ.
- The martingale identity that makes it anytime-valid: under H₀ the next error is the
  canary's with probability ρ, and ρ·BF(c + 1, b) + (1 − ρ)·BF(c, b + 1) = BF(c, b).
- A simulation: checked after every error, the sequential test rejects a true null at most
  α of the time, while a z-test at the same α checked as often does far more often.
- The judge's bucket-by-bucket e-value (``log_e_value``): a Bayes factor of mean 1 at a
  constant share, mean at most 1 under the hypergeometric law of a bucket's errors (exact
  sums), and, when the canary's share and the error rate both change mid-run, false alarms
  within α where the pooled share of the closed form alarms every time.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from simdeploy.rules import sequential
from simdeploy.rules.sequential import (
    anytime_p_value,
    decide,
    decide_by_bucket,
    log_bayes_factor,
    log_e_value,
    log_multinomial_bayes_factor,
    prior,
)


def test_docstring_examples() -> None:
    assert doctest.testmod(sequential).failed == 0


@pytest.mark.parametrize(
    ("canary", "baseline", "share", "k"),
    [
        (0, 0, 0.2, 100.0),
        (15, 0, 0.2, 100.0),
        (3, 12, 0.2, 100.0),
        (30, 20, 0.5, 10.0),
        (5, 40, 0.1, 1.0),
        (60, 240, 0.2, 100.0),
        (2, 0, 0.9, 2.0),
    ],
)
def test_closed_form_matches_numeric_integration(
    canary: int, baseline: int, share: float, k: float
) -> None:
    prior = stats.beta(k * share, k * (1 - share))
    null = share**canary * (1 - share) ** baseline

    def integrand(theta: float) -> float:
        return theta**canary * (1 - theta) ** baseline * prior.pdf(theta) / null

    # The integrand peaks near the posterior mean: tell quad where to look.
    peak = (k * share + canary) / (k + canary + baseline)
    value, _ = integrate.quad(integrand, 0, 1, points=[peak], epsabs=0, epsrel=1e-10)
    assert math.exp(log_bayes_factor(canary, baseline, share, k)) == pytest.approx(value, rel=1e-7)


def test_three_arms_match_numeric_integration() -> None:
    # Dirichlet(k·θ₀) over the simplex: θ₃ = 1 − θ₁ − θ₂.
    theta0, k, n = (0.5, 0.3, 0.2), 20.0, (4, 9, 2)
    a = [k * t for t in theta0]
    norm = math.exp(special.gammaln(sum(a)) - sum(special.gammaln(x) for x in a))
    null = math.prod(t**c for t, c in zip(theta0, n, strict=True))

    def integrand(t2: float, t1: float) -> float:
        t3 = 1 - t1 - t2
        density = norm * t1 ** (a[0] - 1) * t2 ** (a[1] - 1) * t3 ** (a[2] - 1)
        return density * t1 ** n[0] * t2 ** n[1] * t3 ** n[2] / null

    value, _ = integrate.dblquad(integrand, 0, 1, 0, lambda t1: 1 - t1, epsrel=1e-9)
    assert math.exp(log_multinomial_bayes_factor(n, theta0, k)) == pytest.approx(value, rel=1e-6)
    # Two arms are the Beta case.
    assert log_multinomial_bayes_factor([3, 7], [0.3, 0.7], 5.0) == log_bayes_factor(3, 7, 0.3, 5.0)


@pytest.mark.parametrize(
    ("c", "b", "share", "k"), [(0, 0, 0.2, 100), (7, 30, 0.2, 100), (5, 1, 0.5, 2)]
)
def test_the_e_value_is_a_martingale_under_the_null(c: int, b: int, share: float, k: float) -> None:
    def bf(c_: int, b_: int) -> float:
        return math.exp(log_bayes_factor(c_, b_, share, k))

    assert share * bf(c + 1, b) + (1 - share) * bf(c, b + 1) == pytest.approx(bf(c, b), rel=1e-12)


def test_continuous_monitoring_keeps_the_false_alarm_rate() -> None:
    # 4000 canaries as good as the baseline (each error is the canary's with probability
    # ρ = 0.2), each watched after every one of 300 errors. Ville: P(BF ever ≥ 20) ≤ 0.05.
    # The Monte Carlo error of a rate near 0.05 over 4000 runs is √(0.05·0.95/4000) = 0.0034,
    # so the bound with three of those is 0.06. A two-sided z-test at α = 0.05, looked at
    # after each error from the 30th on (where the normal approximation holds), crosses 1.96
    # far more often: a random walk watched at 271 looks leaves ±1.96 standard deviations
    # with a probability near 0.3 (the law of the iterated logarithm makes it 1 in the limit),
    # so 3α = 0.15 leaves a wide margin. Looked at once, at the end, it is about α.
    rng = np.random.default_rng(20220814)
    runs, looks, rho, alpha, k = 4000, 300, 0.2, 0.05, 100.0
    canary = np.cumsum(rng.random((runs, looks)) < rho, axis=1)
    n = np.arange(1, looks + 1)
    baseline = n - canary
    a, b = k * rho, k * (1 - rho)
    log_bf = (
        special.betaln(a + canary, b + baseline)
        - special.betaln(a, b)
        - canary * math.log(rho)
        - baseline * math.log(1 - rho)
    )
    sequential_rate = float(np.mean((log_bf >= math.log(1 / alpha)).any(axis=1)))
    z = (canary - n * rho) / np.sqrt(n * rho * (1 - rho))
    z_rate = float(np.mean((np.abs(z[:, 29:]) >= 1.959964).any(axis=1)))
    assert sequential_rate <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / runs)
    assert z_rate > 3 * alpha
    assert float(np.mean(np.abs(z[:, -1]) >= 1.959964)) == pytest.approx(alpha, abs=0.015)
    # The closed form of the module agrees with the vectorised one used here.
    assert log_bayes_factor(int(canary[0, -1]), int(baseline[0, -1]), rho, k) == pytest.approx(
        float(log_bf[0, -1])
    )


def test_a_regression_is_found() -> None:
    # The canary's errors at 3x its share (θ = 0.2·3 / (0.2·3 + 0.8) = 0.43): seen within
    # 300 errors in nearly every run, with a median of well under 100 errors.
    rng = np.random.default_rng(7)
    runs, looks, rho, theta, k = 500, 300, 0.2, 0.6 / 1.4, 100.0
    canary = np.cumsum(rng.random((runs, looks)) < theta, axis=1)
    baseline = np.arange(1, looks + 1) - canary
    log_bf = (
        special.betaln(k * rho + canary, k * (1 - rho) + baseline)
        - special.betaln(k * rho, k * (1 - rho))
        - canary * math.log(rho)
        - baseline * math.log(1 - rho)
    )
    crossed = log_bf >= math.log(20)
    assert crossed.any(axis=1).mean() > 0.99
    assert np.median(crossed.argmax(axis=1)) < 100


@pytest.mark.parametrize(
    ("canary", "baseline", "direction", "reject"),
    [
        (15, 0, "increase", True),  # BF 27.2, the canary's share 1.0 > 0.2
        (14, 0, "increase", False),  # BF 18.2 < 20
        (0, 200, "increase", False),  # far fewer: BF large, but not a regression
        (0, 200, "decrease", True),
        (0, 200, "either", True),
        (15, 0, "decrease", False),
        (0, 0, "either", False),  # nothing seen: BF 1
    ],
)
def test_decide(canary: int, baseline: int, direction: str, reject: bool) -> None:
    d = decide(canary, baseline, 0.2, 0.05, 100.0, direction)  # type: ignore[arg-type]
    assert d.reject is reject


def test_edges() -> None:
    # All the traffic on one side: nothing to compare, BF 1. The anytime p-value is 1/max BF.
    assert log_bayes_factor(3, 0, 1.0, 100) == 0.0 and log_bayes_factor(0, 3, 0.0, 100) == 0.0
    assert anytime_p_value([]) == 1.0 and anytime_p_value([40.0, 2.0]) == 0.025
    with pytest.raises(ValueError, match="alpha"):
        decide(1, 1, 0.5, 1.5)
    with pytest.raises(ValueError, match="sum to 1"):
        log_multinomial_bayes_factor([1, 1], [0.5, 0.6], 1.0)


# --- bucket by bucket -----------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["increase", "decrease", "either"])
def test_at_a_constant_share_the_e_value_is_a_bayes_factor(direction: str) -> None:
    # Under H₀ at a constant share ρ, n errors split Binomial(n, ρ); each LR(θ) has mean
    # Σ_c C(n,c) ρ^c (1−ρ)^(n−c) (q/ρ)^c ((1−q)/(1−ρ))^(n−c) = (q + 1 − q)^n = 1, so the
    # mixture's exact mean is 1. And it depends on the totals only: any split into buckets
    # at the same share gives the same value.
    n, rho = 30, 0.2
    c = np.arange(n + 1)
    e = np.array([math.exp(log_e_value([i], [n - i], [rho], 100.0, direction)) for i in c])  # type: ignore[arg-type]
    assert float(stats.binom.pmf(c, n, rho) @ e) == pytest.approx(1.0, rel=1e-9)
    split = log_e_value([3, 0, 4], [10, 2, 11], [rho] * 3, 100.0, direction)  # type: ignore[arg-type]
    assert split == pytest.approx(log_e_value([7], [23], [rho], 100.0, direction))  # type: ignore[arg-type]


def test_the_hypergeometric_law_keeps_the_mean_at_most_one() -> None:
    # The exact law of a bucket's errors under H₀ given its requests: e of the n_c + n_b
    # requests failed, the canary's count is hypergeometric. Two buckets at different shares
    # (10 canary requests of 50, then 30 of 40), 8 and 12 errors: the exact mean of the
    # e-value over both buckets' laws is at most 1 (Hoeffding: sampling without replacement
    # is less spread than with, and θ^c is convex), and below 1 (it is strictly less spread).
    laws = [stats.hypergeom(50, 10, 8), stats.hypergeom(40, 30, 12)]
    for direction in ("increase", "decrease", "either"):
        mean = 0.0
        for c1 in range(0, 9):
            for c2 in range(0, 13):
                p = laws[0].pmf(c1) * laws[1].pmf(c2)
                log_e = log_e_value([c1, c2], [8 - c1, 12 - c2], [0.2, 0.75], 100.0, direction)  # type: ignore[arg-type]
                mean += p * math.exp(log_e)
        assert 0.9 < mean <= 1.0


def _changing_share(rng: np.random.Generator, runs: int) -> tuple[np.ndarray, ...]:
    """The reviewer's case: two minutes of 1 s buckets at 200 requests a second; the canary
    has 40 of them (20%) for a minute, then 120 (60%); every request of either version fails
    with probability 1%, then 5% from the step on. (canary, baseline) errors per bucket, and
    the canary's requests per bucket."""
    canary_requests = np.r_[np.full(60, 40), np.full(60, 120)]
    p = np.r_[np.full(60, 0.01), np.full(60, 0.05)]
    c = rng.binomial(canary_requests, p, size=(runs, 120))
    s = rng.binomial(200 - canary_requests, p, size=(runs, 120))
    return c, s, canary_requests


def test_a_share_and_an_error_rate_that_change_keep_the_false_alarm_rate() -> None:
    # 2000 canaries as good as the baseline, looked at every 10 s. Pooled, at the last look
    # the canary had (40·60 + 120·60) / 24000 = 40% of the requests, but after the step 60%
    # of five times as many errors are its: ~24 of 120 errors in the first minute, ~360 of
    # 600 in the second, 53% of all. With ~720 errors that is (0.53 − 0.40) / √(0.24/720)
    # = 7 standard deviations: the closed form at the pooled share alarms in nearly every
    # run. Bucket by bucket the test keeps Ville's bound, P(ever ≥ 20) ≤ 0.05.
    rng = np.random.default_rng(20220814)
    runs, alpha, k = 2000, 0.05, 100.0
    c, s, canary_requests = _changing_share(rng, runs)
    looks = np.arange(10, 121, 10) - 1
    cc, ss = np.cumsum(c, 1)[:, looks], np.cumsum(s, 1)[:, looks]
    # Vectorised log_e_value: the share is 0.2 for the first minute's errors, 0.6 after.
    first = np.arange(120) < 60
    e1 = np.cumsum((c + s) * first, 1)[:, looks]
    e2 = np.cumsum((c + s) * ~first, 1)[:, looks]
    x, log_w = prior(k, "increase")
    log_lr = (
        cc[..., None] * x
        - e1[..., None] * np.log1p(0.2 * np.expm1(x))
        - e2[..., None] * np.log1p(0.6 * np.expm1(x))
    )
    log_e = special.logsumexp(log_w + log_lr, axis=-1)
    by_bucket = float(np.mean((log_e >= math.log(1 / alpha)).any(axis=1)))
    assert log_e[0, -1] == pytest.approx(log_e_value(c[0], s[0], canary_requests / 200, k))
    # The closed form at the pooled share, with its side check.
    rho = np.cumsum(canary_requests)[looks] / (200.0 * (looks + 1))
    a, b = k * rho, k * (1 - rho)
    log_bf = special.betaln(a + cc, b + ss) - special.betaln(a, b)
    log_bf -= cc * np.log(rho) + ss * np.log(1 - rho)
    pooled = (log_bf >= math.log(1 / alpha)) & (cc / np.maximum(cc + ss, 1) > rho)
    assert by_bucket <= alpha
    assert float(np.mean(pooled.any(axis=1))) > 0.9


def test_a_fivefold_error_rate_is_found_within_two_looks() -> None:
    # A constant 20% share; the canary fails 5% of its 40 requests a second, the baseline 1%
    # of its 160: θ = 5. In 10 s ~20 canary errors and ~16 baseline, the canary's share of
    # them 0.56 against 0.2; by 20 s twice that. Every run rejects, nearly all at the first
    # or second look.
    rng = np.random.default_rng(7)
    runs = 500
    c = rng.binomial(40, 0.05, size=(runs, 120))
    s = rng.binomial(160, 0.01, size=(runs, 120))
    looks = np.arange(10, 121, 10) - 1
    cc, ee = np.cumsum(c, 1)[:, looks], np.cumsum(c + s, 1)[:, looks]
    x, log_w = prior(100.0, "increase")
    log_lr = cc[..., None] * x - ee[..., None] * np.log1p(0.2 * np.expm1(x))
    crossed = special.logsumexp(log_w + log_lr, axis=-1) >= math.log(20)
    assert crossed.any(axis=1).all() and crossed[:, :2].any(axis=1).mean() > 0.99
    assert decide_by_bucket(c[0], s[0], np.full(120, 0.2), 0.05).reject


def test_the_one_sided_prior_and_edges() -> None:
    # increase weighs θ > 1 only: far fewer canary errors than its share is evidence for
    # decrease (and either), never for increase. Buckets with ρ 0 or 1, or no errors, are
    # left out: nothing left, e-value 1.
    assert log_e_value([0], [200], [0.2], 100.0, "increase") < 0
    assert log_e_value([0], [200], [0.2], 100.0, "decrease") > math.log(20)
    assert log_e_value([0], [200], [0.2], 100.0, "either") > math.log(20)
    assert log_e_value([3, 0, 0], [0, 5, 0], [1.0, 0.0, 0.5]) == 0.0
    x, log_w = prior(100.0, "either")
    assert len(x) == 160 and (x != 0).all() and np.exp(log_w).sum() == pytest.approx(1.0)
    assert prior(100.0, "increase")[1][0] > prior(1.0, "increase")[1][0]  # k: how narrow
    with pytest.raises(ValueError, match="same length"):
        log_e_value([1, 2], [1], [0.5, 0.5])
    with pytest.raises(ValueError, match="alpha"):
        decide_by_bucket([1], [1], [0.5], 0.0)
