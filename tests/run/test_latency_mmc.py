"""Latency against queueing theory: a pod with c workers is an M/M/c queue.

Poisson arrivals at rate λ, exponential service at rate μ per worker, c workers, FCFS
(the pod's queue), no client timeout in reach: the sojourn time T (wait + service, the
latency simdeploy reports) has a known law. With a = λ/μ, ρ = a/c and the Erlang C
probability of waiting

    C(c, a) = B / (1 - ρ (1 - B)),   B the Erlang B loss probability (recursion below),

a request waits with probability C, and the wait, given that it waits, is exponential with
rate θ = cμ - λ (FCFS, memoryless). So T is S ~ Exp(μ) with probability 1 - C and
W' + S (W' ~ Exp(θ), independent) with probability C:

    P(T ≤ t) = (1 - C)(1 - e^{-μt}) + C (1 - (θ e^{-μt} - μ e^{-θt}) / (θ - μ))
    E[T]     = 1/μ + C / (cμ - λ)

(θ = μ: the second term is Erlang-2, 1 - e^{-μt}(1 + μt)). Quantiles invert the CDF with
brentq. Several pods behind a random balancer are independent M/M/c queues at λ/pods
(a random split of a Poisson stream is Poisson).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pytest
from scipy.optimize import brentq

from simdeploy import Scenario, simulate

MEAN_SERVICE_S = 0.010
QS = {"latency_p50_s": 0.5, "latency_p95_s": 0.95, "latency_p99_s": 0.99}
#: The histogram's own bound on a quantile (rules.latency_bins.ALPHA).
HIST = 0.01


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a = λ/μ (a < c)."""
    b = 1.0  # Erlang B by the stable recursion B(k) = a B(k-1) / (k + a B(k-1))
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b / (1.0 - (a / c) * (1.0 - b))


def sojourn_cdf(t: float, lam: float, mu: float, c: int) -> float:
    wait = erlang_c(c, lam / mu)
    theta = c * mu - lam
    served = 1.0 - math.exp(-mu * t)
    if math.isclose(theta, mu):
        queued = 1.0 - math.exp(-mu * t) * (1.0 + mu * t)
    else:
        queued = 1.0 - (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1.0 - wait) * served + wait * queued


def sojourn_quantile(q: float, lam: float, mu: float, c: int) -> float:
    hi = 50.0 / min(mu, c * mu - lam)  # P(T > hi) < e^-40 or so
    return float(brentq(lambda t: sojourn_cdf(t, lam, mu, c) - q, 0.0, hi, xtol=1e-12))


def sojourn_mean(lam: float, mu: float, c: int) -> float:
    return 1.0 / mu + erlang_c(c, lam / mu) / (c * mu - lam)


@pytest.mark.parametrize(
    ("c", "a", "expected"),
    [
        pytest.param(1, 0.5, 0.5, id="M/M/1: C = rho"),
        pytest.param(2, 1.0, 1 / 3, id="M/M/2 a=1"),
        pytest.param(4, 2.0, 4 / 23, id="M/M/4 a=2"),
    ],
)
def test_erlang_c_table(c: int, a: float, expected: float) -> None:
    # M/M/2, a=1: B = 0.2, C = 0.2 / (1 - 0.5 * 0.8) = 1/3. M/M/4, a=2: B = 2/21,
    # C = (2/21) / (1 - 0.5 * 19/21) = 4/23.
    assert erlang_c(c, a) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("c", "a"), [(1, 0.8), (4, 3.2), (8, 4.0), (8, 6.4), (20, 18.0)])
def test_erlang_c_is_the_textbook_sum(c: int, a: float) -> None:
    # C = (a^c/c!)(c/(c-a)) / (Σ_{k<c} a^k/k! + (a^c/c!)(c/(c-a))), summed directly.
    top = a**c / math.factorial(c) * c / (c - a)
    assert erlang_c(c, a) == pytest.approx(
        top / (sum(a**k / math.factorial(k) for k in range(c)) + top), rel=1e-12
    )


def test_mm1_sojourn_is_exponential() -> None:
    # c = 1: T ~ Exp(μ - λ), so the q-quantile is -ln(1 - q) / (μ - λ).
    lam, mu = 60.0, 100.0
    for q in (0.5, 0.95, 0.99):
        assert sojourn_quantile(q, lam, mu, 1) == pytest.approx(-math.log(1 - q) / 40.0)
    assert sojourn_mean(lam, mu, 1) == pytest.approx(1 / 40.0)


class Case(NamedTuple):
    c: int
    rho: float
    requests: int
    pods: int
    #: Standard deviation (%) of the relative error of p50, p95, p99 and the mean at this
    #: many requests, measured over 30 seeds (other than the one below).
    sd: tuple[float, float, float, float]


# Tolerance from the statistics. Sojourn times of a queue are correlated (a long wait makes
# the next ones long), the more so the higher the load: the mean of an M/M/1 sojourn time at
# ρ = 0.8 has an asymptotic variance ~1/(1-ρ)^4 (Whitt 1989), so 150k requests estimate
# it to ±2.6% and its p99 to ±6.8% (1 sd). Each case below asserts
#     |simulated / exact - 1| ≤ 1% (the histogram's bound, quantiles only) + 4 sd,
# with sd measured as stated, so a correct simulator fails with probability < 1e-4 per
# figure, while the old layout (10 bins per decade, upper edges: p50 +12%, p99 +8% at c=8, ρ=0.5)
# or a wrong queue (one worker short at ρ=0.8 is an unstable queue) fails by far. Request
# counts keep the whole module to a few seconds; ρ=0.5 needs fewer for the same precision.
CASES = [
    Case(1, 0.5, 60_000, 1, (1.36, 1.93, 2.29, 1.19)),
    Case(4, 0.5, 60_000, 1, (0.93, 1.07, 0.81, 0.70)),
    Case(8, 0.5, 60_000, 1, (0.90, 0.81, 0.94, 0.54)),
    Case(4, 0.5, 60_000, 3, (1.15, 0.64, 1.32, 0.64)),  # 3 pods, random balancer
    Case(1, 0.8, 150_000, 1, (1.79, 4.08, 6.81, 2.60)),
    Case(4, 0.8, 150_000, 1, (1.39, 3.05, 4.55, 1.91)),
    Case(8, 0.8, 150_000, 1, (1.28, 1.78, 1.67, 1.28)),
]


def mmc_scenario(case: Case, seed: int = 1) -> Scenario:
    mu = 1.0 / MEAN_SERVICE_S
    lam = case.rho * case.c * mu * case.pods
    return Scenario.parse(
        {
            "name": f"M/M/{case.c} rho={case.rho}",
            "service": {
                "version": "v1",
                "replicas": case.pods,
                "pod": {"concurrency": case.c},
                "balancer": {"policy": "random" if case.pods > 1 else "round_robin"},
            },
            "traffic": {"rate": lam, "users": 1000, "timeout": "1h"},
            "versions": {
                "v1": {"serviceTime": {"dist": "exponential", "mean": MEAN_SERVICE_S}},
            },
            "plan": [],
            "simulation": {"duration": case.requests / lam, "seed": seed, "bucket": "10s"},
        }
    )


@pytest.mark.parametrize("case", CASES, ids=[f"c={k.c}-rho={k.rho}-pods={k.pods}" for k in CASES])
def test_simulated_latency_matches_mmc(case: Case) -> None:
    r = simulate(mmc_scenario(case))
    rec = r.record
    assert rec["errors"] == 0 and rec["requests"] == pytest.approx(case.requests, rel=0.02)
    mu = 1.0 / MEAN_SERVICE_S
    lam = case.rho * case.c * mu  # per pod
    off: dict[str, tuple[float, float]] = {}
    for (field, q), sd in zip(QS.items(), case.sd[:3], strict=True):
        exact = sojourn_quantile(q, lam, mu, case.c)
        off[field] = (rec[field] / exact - 1.0, HIST + 4 * sd / 100)
    off["latency_mean_s"] = (
        rec["latency_mean_s"] / sojourn_mean(lam, mu, case.c) - 1.0,
        4 * case.sd[3] / 100,
    )
    bad = {k: f"{e:+.2%} (tolerance {t:.1%})" for k, (e, t) in off.items() if abs(e) > t}
    assert not bad, bad
    # The timeline reads the same histograms: its per-bucket median hovers around p50.
    p50 = r.timeline["p50_s"].dropna()
    exact50 = sojourn_quantile(0.5, lam, mu, case.c)
    assert abs(p50.median() / exact50 - 1.0) < 0.1
