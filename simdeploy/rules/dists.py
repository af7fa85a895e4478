"""Small distributions of durations (seconds) with ``sample(rng, n)`` and ``mean``.

Pure: numpy only, no SimPy. Each distribution is a frozen dataclass so a scenario
can hold it, compare it and print it. ``sample`` draws a whole batch at once: the
request path draws service times in batches of thousands, which is what keeps it
cheap (one numpy call per batch instead of one per request).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Distribution(Protocol):
    """A distribution of non-negative durations in seconds."""

    @property
    def mean(self) -> float: ...

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray: ...


@dataclass(frozen=True)
class Constant:
    """Always ``value`` seconds."""

    value: float

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value, dtype=float)


@dataclass(frozen=True)
class Exponential:
    """Exponential with the given mean (seconds): the M/M/c service time."""

    mean_s: float

    @property
    def mean(self) -> float:
        return self.mean_s

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean_s, n)


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high] seconds."""

    low: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


@dataclass(frozen=True)
class LogNormal:
    """Log-normal given by its mean and its 99th percentile (seconds).

    Users know "about 50 ms, p99 300 ms" better than mu and sigma. With
    ``m = mu + sigma**2 / 2 = ln(mean)`` and ``ln(p99) = mu + z99 * sigma``,
    sigma solves ``sigma**2 / 2 - z99 * sigma + ln(p99 / mean) = 0``; we take the
    smaller root. Example: mean 50 ms, p99 300 ms → sigma ≈ 0.91, mu ≈ -3.41.
    Requires ``p99 > mean`` and ``ln(p99/mean) < z99**2 / 2`` (p99 at most ~15x mean).
    """

    mean_s: float
    p99_s: float

    @property
    def mean(self) -> float:
        return self.mean_s

    @property
    def params(self) -> tuple[float, float]:
        z99 = 2.3263478740408408
        c = math.log(self.p99_s / self.mean_s)
        disc = z99 * z99 - 2 * c
        sigma = z99 - math.sqrt(max(disc, 0.0))
        mu = math.log(self.mean_s) - sigma * sigma / 2
        return mu, sigma

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        mu, sigma = self.params
        return rng.lognormal(mu, sigma, n)


class BatchSampler:
    """Serves one draw at a time from pre-drawn batches of ``dist``.

    The per-request path calls ``next()``; a numpy call refills ``batch`` draws
    when the buffer runs out. Same rng and batch size → same sequence.
    """

    __slots__ = ("_buf", "_dist", "_i", "_n", "_rng")

    def __init__(self, dist: Distribution, rng: np.random.Generator, batch: int = 4096) -> None:
        self._dist = dist
        self._rng = rng
        self._n = batch
        self._buf: list[float] = []
        self._i = 0

    @property
    def dist(self) -> Distribution:
        """The distribution it draws from."""
        return self._dist

    def next(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = self._dist.sample(self._rng, self._n).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]
