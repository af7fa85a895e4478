"""rules/sequential.py: the anytime-valid test of count data (Lindon & Malek; Lindon, Sanden
& Shirikian).

- The closed form against a direct numeric integration of the mixture (scipy's ``quad``,
  ``dblquad`` for three arms): BF = ∫ Π θᵢ^nᵢ dDir(θ; kθ₀) / Π θ₀ᵢ^nᵢ.
- The martingale identity that makes it anytime-valid: under H₀ the next error is the
  canary's with probability ρ, and ρ·BF(c + 1, b) + (1 − ρ)·BF(c, b + 1) = BF(c, b).
- A simulation: checked after every error, the sequential test rejects a true null at most
  α of the time, while a z-test at the same α checked as often does far more often.
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
    log_bayes_factor,
    log_multinomial_bayes_factor,
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
