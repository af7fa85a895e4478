"""The Mann–Whitney U test with a confidence interval on the location shift, as Kayenta has it.

A port of ``kayenta-mannwhitney`` (``spinnaker/kayenta``: ``MannWhitney.scala`` and
``BrentSolver.java``), which is itself a port of R's ``wilcox.test(x, y, conf.int = TRUE,
correct = TRUE)`` in its *normal-approximation* branch: for a shift μ the values ``x − μ``
and ``y`` are ranked together (average ranks for ties) and

    dz(μ) = Σ R(x − μ) − nₓ(nₓ + 1)/2 − nₓn_y/2
    σ     = √( nₓn_y/12 · ((nₓ + n_y + 1) − Σ(t³ − t) / ((nₓ + n_y)(nₓ + n_y − 1))) )
    f(μ)  = (dz(μ) − ½·sign(dz(μ))) / σ − z

over the tie groups t. The interval's bounds are the roots of f at z = +z_{1−α/2} (lower) and
z = −z_{1−α/2} (upper), the location-shift estimate (the role of the Hodges–Lehmann
estimate) the root at z = 0; each is searched on [min x − max y, max x − min y] with R's
``zeroin`` (Brent's method, tolerance 1e-4), and an end of that range where f already has
the root's sign is the answer (R's ``root``).

Kayenta always takes this branch. R's default (``exact = NULL``) would compute an *exact*
interval from the order statistics of the Walsh differences when both samples have fewer
than 50 values and no ties; Kayenta does not, and neither does this module: its numbers
are Kayenta's (``MannWhitneySuite``: [10, 20, 30, 40] against [1, 2, 3, 4] gives the 95%
interval [6, 39] and the estimate 22.5, where R's exact interval would differ).

The roots sit at jumps of a step function: between two pairwise differences x_i − y_j,
dz is constant, so each bound is (within the solver's 1e-4) one of the differences, and the
estimate lies on the plateau around their median. Pure: no numpy, no scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

__all__ = [
    "BRENT_TOLERANCE",
    "MannWhitneyResult",
    "average_ranks",
    "brent_solve",
    "mann_whitney_u_test",
    "u_statistic",
    "wilcoxon_diff",
    "z_statistic",
]

BRENT_TOLERANCE: Final = 1e-4
"""``BrentSolver.TOLERANCE``: R's ``uniroot(..., tol = 1e-4)`` in ``wilcox.test``."""

_MAX_ITERATIONS: Final = 1000
_EPSILON: Final = 2.220446049250313e-16
_TINY: Final = 5e-324  # commons-math Precision.equals(x, 0): within one ulp of zero


class AllTiedError(ValueError):
    """σ is 0: every observation is tied, so no interval can be computed (Kayenta's
    ``IllegalArgumentException``)."""


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank (commons-math ``NaturalRanking`` with
    ``TiesStrategy.AVERAGE``). ValueError on NaN (remove or replace NaNs first).

    >>> average_ranks([3.0, 1.0, 3.0, 2.0])
    [3.5, 1.0, 3.5, 2.0]
    """
    if any(math.isnan(v) for v in values):
        raise ValueError("NaN cannot be ranked: remove or replace NaNs first")
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + j) / 2 + 1  # positions i..j (0-based) share the mean of i+1..j+1
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        i = j + 1
    return ranks


def _dz_and_sigma(mu: float, x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    nx, ny = float(len(x)), float(len(y))
    ranks = average_ranks([v - mu for v in x] + list(y))
    dz = sum(ranks[: len(x)]) - nx * (nx + 1) / 2 - nx * ny / 2
    ties: dict[float, int] = {}
    for r in ranks:
        ties[r] = ties.get(r, 0) + 1
    tie_sum = sum(t**3 - t for t in ties.values())
    sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - tie_sum / ((nx + ny) * (nx + ny - 1))))
    return dz, sigma


def wilcoxon_diff(mu: float, quantile: float, x: Sequence[float], y: Sequence[float]) -> float:
    """f(μ) = (dz − ½·sign(dz))/σ − ``quantile`` for the shift ``mu`` (``wilcoxonDiff``).

    Raises :class:`AllTiedError` when σ is 0. Example: x = [10, 20, 30, 40], y = [1, 2, 3,
    4], μ = 0: the x hold ranks 5..8, so dz = 26 − 10 − 8 = 8 and σ = √(16/12 · 9) = √12,
    f = 7.5/√12 = 2.1651.

    >>> round(wilcoxon_diff(0.0, 0.0, [10.0, 20.0, 30.0, 40.0], [1.0, 2.0, 3.0, 4.0]), 4)
    2.1651
    """
    dz, sigma = _dz_and_sigma(mu, x, y)
    if sigma == 0:
        raise AllTiedError("cannot compute confidence interval when all observations are tied")
    correction = math.copysign(0.5, dz) if dz != 0 else 0.0
    return (dz - correction) / sigma - quantile


def z_statistic(x: Sequence[float], y: Sequence[float]) -> float:
    """The rank-sum test's z at μ = 0, with the continuity and tie corrections: its two-sided
    p-value is ``2·(1 − Φ(|z|))``, scipy's ``mannwhitneyu(x, y, method="asymptotic")``."""
    return wilcoxon_diff(0.0, 0.0, x, y)


def u_statistic(x: Sequence[float], y: Sequence[float]) -> float:
    """Mann–Whitney U of ``x``: Σ R(x) − nₓ(nₓ + 1)/2 (scipy's ``mannwhitneyu(x, y).statistic``).

    >>> u_statistic([10.0, 20.0, 30.0, 40.0], [1.0, 2.0, 3.0, 4.0])
    16.0
    """
    ranks = average_ranks(list(x) + list(y))
    n = len(x)
    return sum(ranks[:n]) - n * (n + 1) / 2


def brent_solve(ax: float, bx: float, fa: float, fb: float, f: Callable[[float], float]) -> float:
    """A zero of ``f`` in [``ax``, ``bx``] given f there (``fa``, ``fb``): R's ``zeroin``
    as ``BrentSolver.solve`` has it (tolerance :data:`BRENT_TOLERANCE`, at most 1000
    iterations, the last iterate if they run out)."""
    a, b, c, fc = ax, bx, ax, fa
    if abs(fa) <= _TINY:
        return a
    if abs(fb) <= _TINY:
        return b
    for _ in range(_MAX_ITERATIONS + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPSILON * abs(b) + BRENT_TOLERANCE / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or abs(fb) <= _TINY:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:  # linear interpolation
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


@dataclass(frozen=True)
class MannWhitneyResult:
    """The confidence interval of the location shift x − y and its estimate."""

    lower: float
    upper: float
    estimate: float


def mann_whitney_u_test(
    x: Sequence[float], y: Sequence[float], confidence_level: float = 0.95
) -> MannWhitneyResult:
    """The interval and estimate of the shift of ``x`` (the experiment) over ``y`` (the
    control): Kayenta's ``mannWhitneyUTest(x, y, confidenceLevel)``.

    Both samples need a value; :class:`AllTiedError` when every value is the same.

    >>> r = mann_whitney_u_test([10.0, 20.0, 30.0, 40.0], [1.0, 2.0, 3.0, 4.0])
    >>> r.lower, r.upper, r.estimate
    (6.0, 39.0, 22.5)
    """
    if not x or not y:
        raise ValueError("both samples need at least one value")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    alpha = 1.0 - confidence_level
    mu_min = min(x) - max(y)
    mu_max = max(x) - min(y)

    def root(zq: float) -> float:
        f_lower = wilcoxon_diff(mu_min, zq, x, y)
        f_upper = wilcoxon_diff(mu_max, zq, x, y)
        if f_lower <= 0:
            return mu_min
        if f_upper >= 0:
            return mu_max
        return brent_solve(mu_min, mu_max, f_lower, f_upper, lambda mu: wilcoxon_diff(mu, zq, x, y))

    z_quant = NormalDist().inv_cdf(alpha / 2)  # negative: z_{α/2}
    lower, upper = root(-z_quant), root(z_quant)
    f_lower = wilcoxon_diff(mu_min, 0.0, x, y)
    f_upper = wilcoxon_diff(mu_max, 0.0, x, y)
    estimate = brent_solve(
        mu_min, mu_max, f_lower, f_upper, lambda mu: wilcoxon_diff(mu, 0.0, x, y)
    )
    return MannWhitneyResult(lower, upper, estimate)
