"""Queueing arithmetic of the fluid data plane: waiting in a multi-server queue, and a
service-time distribution spread over the latency histogram's bins.

Pure: numpy and scipy's special functions, no SimPy. Units: rates in requests per second,
times in seconds.

- :func:`erlang_c`: P(wait) of an M/M/c queue (Erlang's C formula), computed through the
  Erlang B recursion so that c = 1,000 servers neither overflows nor loses precision.
- :func:`waiting`: who waits and for how long, M/M/c exactly, and for general arrivals and
  service times Allen and Cunneen's approximation ``Wq ≈ Wq(M/M/c) · (ca² + cs²) / 2``
  (ca², cs²: squared coefficients of variation of inter-arrival and service times) with
  Krämer and Langenbach-Belz's correction for regular arrivals.
- :func:`scv`: cs² of each service-time distribution of :mod:`simdeploy.rules.dists`.
- :func:`bin_probabilities`: P(service time in bin k) for the bins of
  :mod:`simdeploy.rules.latency_bins`, from each distribution's exact CDF.
- :func:`residual_times` and :func:`drain_time`: how long the requests found in service at a
  random moment still run (the equilibrium residual life), and when the last of them ends:
  what a table lock queued behind them waits.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from simdeploy.rules.dists import Constant, Distribution, Exponential, LogNormal, Uniform
from simdeploy.rules.latency_bins import GAMMA, MIN_S, N_BINS, N_REGULAR, bin_index


def erlang_c(c: int, offered: float) -> float:
    """P(an arrival waits) in an M/M/c queue with ``offered`` = λ/μ Erlangs (λ·mean service).

    1 for ``offered >= c`` (unstable: everyone waits). Examples: c 1, 0.5 Erlang → 0.5;
    c 2, 1 Erlang → 1/3; c 4, 3.2 Erlangs (ρ 0.8) → 0.5964.
    """
    if c < 1:
        raise ValueError(f"c must be at least 1, got {c}")
    if offered <= 0:
        return 0.0
    if offered >= c:
        return 1.0
    b = 1.0  # Erlang B by recursion: B(k) = A·B(k-1) / (k + A·B(k-1))
    for k in range(1, c + 1):
        b = offered * b / (k + offered * b)
    rho = offered / c
    return b / (1.0 - rho + rho * b)


def waiting(
    c: int, rate: float, mean_service_s: float, ca2: float = 1.0, cs2: float = 1.0
) -> tuple[float, float]:
    """(P(wait), mean wait of those who wait, s) in a c-server queue in steady state:
    ``rate`` req/s, mean service (s), squared coefficients of variation of the inter-arrival
    (``ca2``) and service (``cs2``) times. ``(1.0, inf)`` when unstable.

    M/M/c (ca² = cs² = 1) exactly: Erlang C, and an exponential wait with rate cμ - λ.
    Otherwise the mean wait is Allen–Cunneen's ``Wq(M/M/c)·(ca² + cs²)/2`` with the
    Krämer–Langenbach-Belz factor for smoother-than-Poisson arrivals (ca² < 1):
    ``exp(-2(1-ρ)(1-ca²)² / (3ρ(ca² + cs²)))``. Those who wait, wait as long as in GI/M/c
    (an exponential with rate cμ(1-σ)), lengthened by service variability ((1 + cs²)/2);
    P(wait) is what makes the mean come out.

    Examples: M/M/1, λ 10, 50 ms → (0.5, 0.1 s), mean wait 50 ms; every 4th of a Poisson
    stream (ca² 0.25) at one exponential server, λ 15, 40 ms → (0.444, 0.0692 s), mean wait
    30.7 ms (exact E4/M/1: σ 0.422, 0.0692 s, 29.2 ms).
    """
    offered = rate * mean_service_s
    if offered <= 0:
        return 0.0, 0.0
    if offered >= c:
        return 1.0, math.inf
    rho = offered / c
    mu_c = c / mean_service_s
    g = 1.0
    if ca2 < 1.0 and ca2 + cs2 > 0:
        g = math.exp(-2.0 * (1.0 - rho) * (1.0 - ca2) ** 2 / (3.0 * rho * (ca2 + cs2)))
    mean_wait_s = erlang_c(c, offered) / (mu_c - rate) * (ca2 + cs2) / 2.0 * g
    # The wait of those who wait is exponential with rate cμ(1 - σ), σ the root in (0, 1) of
    # σ = A*(cμ(1 - σ)), A* the inter-arrival time's Laplace transform: Poisson → σ = ρ and
    # the rate is cμ - λ; every k-th of a Poisson stream (ca² = 1/k) → (kλ / (kλ + s))^k.
    sigma = rho
    if ca2 < 1.0:
        k = 1.0 / max(ca2, 1e-6)
        for _ in range(200):
            sigma = (k * rate / (k * rate + mu_c * (1.0 - sigma))) ** k
    given_wait_s = (1.0 + cs2) / 2.0 / (mu_c * (1.0 - sigma))
    return min(1.0, mean_wait_s / given_wait_s), given_wait_s


def scv(dist: Distribution) -> float:
    """Squared coefficient of variation (variance / mean²) of a service-time distribution:
    constant 0, exponential 1, uniform (b-a)²/(3(a+b)²), log-normal exp(σ²) - 1."""
    if isinstance(dist, Constant):
        return 0.0
    if isinstance(dist, Exponential):
        return 1.0
    if isinstance(dist, Uniform):
        m = (dist.low + dist.high) / 2
        return 0.0 if m <= 0 else (dist.high - dist.low) ** 2 / 12 / (m * m)
    if isinstance(dist, LogNormal):
        _, sigma = dist.params
        return math.expm1(sigma * sigma)
    raise TypeError(f"no coefficient of variation for {type(dist).__name__}")


#: Upper edges of bins 0 … N_REGULAR (the zero bin's is MIN_S); the overflow bin is open.
_UPPER = MIN_S * GAMMA ** np.arange(N_REGULAR + 1, dtype=float)


def cdf(dist: Distribution, x: np.ndarray) -> np.ndarray:
    """P(service time <= x) for each x (seconds), from the distribution's formula."""
    if isinstance(dist, Constant):
        return (x >= dist.value).astype(float)
    if isinstance(dist, Exponential):
        return -np.expm1(-np.maximum(x, 0.0) / dist.mean_s)
    if isinstance(dist, Uniform):
        if dist.high <= dist.low:
            return (x >= dist.low).astype(float)
        return np.clip((x - dist.low) / (dist.high - dist.low), 0.0, 1.0)
    if isinstance(dist, LogNormal):
        mu, sigma = dist.params
        with np.errstate(divide="ignore"):
            return np.where(x > 0, ndtr((np.log(np.maximum(x, 1e-300)) - mu) / sigma), 0.0)
    raise TypeError(f"no CDF for {type(dist).__name__}")


def bin_probabilities(dist: Distribution) -> np.ndarray:
    """P(service time in bin k) for the ``N_BINS`` latency bins; sums to 1.

    A constant 50 ms puts all its mass in bin 311, as ``bin_index(0.05)`` does.
    """
    if isinstance(dist, Constant):  # exact: the bin its value falls in
        out = np.zeros(N_BINS)
        out[bin_index(dist.value)] = 1.0
        return out
    c = cdf(dist, _UPPER)
    out = np.empty(N_BINS)
    out[0] = c[0]
    out[1 : N_REGULAR + 1] = np.diff(c)
    out[N_REGULAR + 1] = 1.0 - c[-1]
    out = np.clip(out, 0.0, None)
    return out / out.sum()


#: Length-biased draws pick from this many service times per residual wanted.
RESIDUAL_POOL = 32


def residual_times(dist: Distribution, n: int, rng: np.random.Generator) -> np.ndarray:
    """Remaining service times (s) of ``n`` requests found in service at a random moment.

    A request in service is caught in proportion to its length (length-biased), at a
    uniform point of it: the residual's density is (1 - F(x)) / E[S]. Exponential: the
    service time itself (memoryless); constant c: uniform on [0, c]; otherwise a
    length-biased pick from a pool of draws, times a uniform.
    """
    if n <= 0:
        return np.empty(0)
    if isinstance(dist, Exponential):
        return dist.sample(rng, n)
    if isinstance(dist, Constant):
        return dist.value * rng.random(n)
    pool = np.asarray(dist.sample(rng, RESIDUAL_POOL * n), dtype=float)
    total = float(pool.sum())
    if not total > 0:
        return np.zeros(n)
    return rng.choice(pool, n, p=pool / total) * rng.random(n)


def drain_time(in_service: list[tuple[Distribution, float]], rng: np.random.Generator) -> float:
    """How long until every request in service now has finished (s): per (service-time
    distribution, expected number in service) a Poisson count of requests, each with its
    residual time; the longest of them, 0 when none is in service.

    A lock that conflicts with the requests' own locks waits that long (PostgreSQL grants
    it once the transactions holding them end). Exponential service with n requests in
    service: the largest of n exponentials, E = E[S]·H_n (H_n = 1 + 1/2 + … + 1/n).
    """
    longest = 0.0
    for dist, busy in in_service:
        if busy <= 0:
            continue
        n = int(rng.poisson(busy))
        if n:
            longest = max(longest, float(residual_times(dist, n, rng).max()))
    return longest
