"""Confidence intervals of a proportion: how often a policy rolled a release back.

Pure arithmetic. :func:`wilson` is the Wilson score interval (Wilson 1927), the interval
statsmodels' ``proportion_confint(method="wilson")`` and R's ``prop.test(correct=FALSE)``
give: it stays inside [0, 1] and is not degenerate at 0 or n successes, which is where a
rollback rate usually sits (0 false rollbacks in 20 runs is not "certainly 0").
"""

from __future__ import annotations

import math

#: z of a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(low, high) of the Wilson score interval of ``k`` successes in ``n`` trials.

    0 of 10 → (0, 0.2775); 5 of 10 → (0.2366, 0.7634); 10 of 10 → (0.7225, 1);
    0 of 20 → (0, 0.1611).
    """
    if n <= 0:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, {n}], got {k}")
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At k = 0 (k = n) the bound is exactly 0 (1); the subtraction leaves float dust.
    low = 0.0 if k == 0 else max(0.0, center - half)
    high = 1.0 if k == n else min(1.0, center + half)
    return low, high
