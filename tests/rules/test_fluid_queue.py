"""The fluid data plane's queueing arithmetic, against closed forms and exact solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simdeploy.rules.dists import Constant, Exponential, LogNormal, Uniform
from simdeploy.rules.fluid_queue import (
    bin_probabilities,
    drain_time,
    erlang_c,
    residual_times,
    scv,
    waiting,
)
from simdeploy.rules.latency_bins import N_BINS, bin_index, bin_indices, histogram_of


@pytest.mark.parametrize(
    ("c", "a", "expected"),
    [
        pytest.param(1, 0.5, 0.5, id="M/M/1: C = rho"),
        pytest.param(2, 1.0, 1 / 3, id="M/M/2 a=1"),
        pytest.param(4, 2.0, 4 / 23, id="M/M/4 a=2"),
        pytest.param(3, 3.0, 1.0, id="saturated: everyone waits"),
        pytest.param(3, 0.0, 0.0, id="no load: nobody waits"),
    ],
)
def test_erlang_c(c: int, a: float, expected: float) -> None:
    assert erlang_c(c, a) == pytest.approx(expected, rel=1e-12)


def test_erlang_c_many_servers_does_not_overflow() -> None:
    # 1,000 servers at ρ 0.99: a^c/c! overflows a float; the recursion does not.
    assert 0.0 < erlang_c(1000, 990.0) < 1.0


def test_waiting_is_exact_for_mmc() -> None:
    # M/M/1, λ 10, 50 ms: P(wait) = ρ = 0.5, the wait of those who wait ~ Exp(μ - λ = 10).
    assert waiting(1, 10.0, 0.05) == pytest.approx((0.5, 0.1))
    # M/M/4, λ 50, 40 ms: a = 2, C = 4/23, rate cμ - λ = 50.
    assert waiting(4, 50.0, 0.04) == pytest.approx((4 / 23, 1 / 50))


def test_waiting_unstable_and_idle() -> None:
    assert waiting(2, 50.0, 0.04) == (1.0, math.inf)
    assert waiting(2, 0.0, 0.04) == (0.0, 0.0)


def _ek_m1(k: int, lam: float, mu: float) -> tuple[float, float]:
    """Exact E_k/M/1: σ = (kλ/(kλ + μ(1-σ)))^k; P(wait) = σ, wait | wait ~ Exp(μ(1-σ))."""
    sigma = 0.5  # any start in (0, 1) converges
    for _ in range(2000):
        sigma = (k * lam / (k * lam + mu * (1 - sigma))) ** k
    return sigma, 1 / (mu * (1 - sigma))


@pytest.mark.parametrize(("k", "rho"), [(2, 0.5), (4, 0.6), (4, 0.8), (10, 0.7)])
def test_round_robin_arrivals_close_to_exact_ek_m1(k: int, rho: float) -> None:
    # Every k-th arrival of a Poisson stream is Erlang-k: ca² = 1/k. The conditional wait
    # is GI/M/1's exactly; the mean wait (Allen–Cunneen with Krämer–Langenbach-Belz)
    # within 12% of the exact one.
    mu = 25.0
    lam = rho * mu
    p, given = waiting(1, lam, 1 / mu, 1 / k, 1.0)
    p_exact, given_exact = _ek_m1(k, lam, mu)
    assert given == pytest.approx(given_exact, rel=1e-9)
    assert p * given == pytest.approx(p_exact * given_exact, rel=0.12)


def test_service_variability_lengthens_the_wait() -> None:
    # M/D/1 waits half as long as M/M/1 (Pollaczek–Khinchine): cs² 0 → (1 + 0)/2.
    p_m, w_m = waiting(1, 10.0, 0.05, 1.0, 1.0)
    p_d, w_d = waiting(1, 10.0, 0.05, 1.0, 0.0)
    assert p_d * w_d == pytest.approx(0.5 * p_m * w_m)


@pytest.mark.parametrize(
    ("dist", "expected"),
    [
        (Constant(0.05), 0.0),
        (Exponential(0.05), 1.0),
        (Uniform(0.0, 0.1), 1 / 3),
        (LogNormal(0.05, 0.3), None),
    ],
)
def test_scv(dist: object, expected: float | None) -> None:
    value = scv(dist)  # type: ignore[arg-type]
    if expected is None:  # log-normal: against samples
        draws = dist.sample(np.random.default_rng(1), 400_000)  # type: ignore[attr-defined]
        expected = float(draws.var() / draws.mean() ** 2)
        assert value == pytest.approx(expected, rel=0.05)
    else:
        assert value == pytest.approx(expected)


@pytest.mark.parametrize(
    "dist", [Exponential(0.04), Uniform(0.01, 0.09), LogNormal(0.05, 0.3), Constant(0.05)]
)
def test_bin_probabilities_match_samples(dist: object) -> None:
    probs = bin_probabilities(dist)  # type: ignore[arg-type]
    assert probs.shape == (N_BINS,) and probs.sum() == pytest.approx(1.0)
    draws = dist.sample(np.random.default_rng(2), 200_000)  # type: ignore[attr-defined]
    empirical = histogram_of(draws) / len(draws)
    # Same mass in every decile of the bins (total variation distance small).
    assert 0.5 * np.abs(np.cumsum(probs) - np.cumsum(empirical)).max() < 0.01


def test_constant_puts_all_mass_in_its_bin() -> None:
    probs = bin_probabilities(Constant(0.05))
    assert probs[bin_index(0.05)] == 1.0 and probs[311] == 1.0


def test_bin_indices_is_bin_index() -> None:
    xs = np.array([0.0, 5e-5, 1e-4, 1e-3, 0.05, 1.0, 999.0, 2000.0, math.nan])
    assert bin_indices(xs).tolist() == [bin_index(float(x)) for x in xs]


# --- what a lock queued behind the requests in service waits ------------------------------


@pytest.mark.parametrize(
    ("dist", "mean"),
    [
        # Memoryless: a request found in service has an Exp(50 ms) remainder.
        pytest.param(Exponential(0.05), 0.05, id="exponential: E[S]"),
        # Constant 100 ms: caught at a uniform point of it, 50 ms left on average.
        pytest.param(Constant(0.1), 0.05, id="constant: c/2"),
        # Uniform [0, 0.2]: E[S²]/(2E[S]) = (0.04/3)/(0.2) = 1/15 s.
        pytest.param(Uniform(0.0, 0.2), 1 / 15, id="uniform: E[S^2]/2E[S]"),
        # Log-normal mean 50 ms: E[S](1 + cs²)/2, cs² = exp(σ²) - 1.
        pytest.param(LogNormal(0.05, 0.3), None, id="log-normal: E[S](1+cs^2)/2"),
    ],
)
def test_residual_times_have_the_equilibrium_mean(dist: object, mean: float | None) -> None:
    # The remainder of a request found in service at a random moment has mean
    # E[S²] / (2·E[S]) = E[S]·(1 + cs²)/2 (length-biased, then a uniform point of it).
    expected = mean if mean is not None else 0.05 * (1 + scv(dist)) / 2  # type: ignore[arg-type]
    x = residual_times(dist, 40_000, np.random.default_rng(7))  # type: ignore[arg-type]
    assert x.mean() == pytest.approx(expected, rel=0.03)
    assert (x >= 0).all()


def test_drain_time_is_the_longest_remainder_of_a_poisson_count() -> None:
    # Exponential 50 ms with on average 2 in service: N ~ Poisson(2) and, given N = n, the
    # largest of n exponentials has mean E[S]·H_n: E[drain] = E[S]·Σ P(N=n)·H_n.
    rng = np.random.default_rng(3)
    p = [math.exp(-2) * 2**n / math.factorial(n) for n in range(40)]
    harmonic = [sum(1 / k for k in range(1, n + 1)) for n in range(40)]
    expected = 0.05 * sum(pn * hn for pn, hn in zip(p, harmonic, strict=True))
    draws = [drain_time([(Exponential(0.05), 2.0)], rng) for _ in range(20_000)]
    assert np.mean(draws) == pytest.approx(expected, rel=0.03)
    # Nothing in service: the lock is granted at once.
    assert drain_time([], rng) == 0.0
    assert drain_time([(Exponential(0.05), 0.0)], rng) == 0.0
    # A constant 2 s with 40 in service: the last ends after 2·40/41 s on average, and
    # never after 2 s.
    big = [drain_time([(Constant(2.0), 40.0)], rng) for _ in range(2000)]
    assert max(big) <= 2.0 and np.mean(big) == pytest.approx(2 * 40 / 41, rel=0.02)
