"""rules/mann_whitney.py: Kayenta's Mann–Whitney test with its confidence interval.

Three independent checks:

- Kayenta's own ``MannWhitneySuite`` (rows named as upstream names them; its arrays are in
  ``data/kayenta_cases.json``, its asserted numbers below, several of them R's
  ``wilcox.test(..., conf.int = TRUE)`` values that upstream ties out with);
- scipy's ``mannwhitneyu`` for the U statistic and the normal-approximation p-value (with
  continuity and tie corrections);
- a brute-force computation from the Walsh differences x_i − y_j: for a shift μ, dz is
  #{x_i − μ > y_j} + ½#{x_i − μ = y_j} − nₓn_y/2, so the interval's bounds are the
  differences where the step function crosses ±z, and the estimate lies on the plateau
  around their median (the Hodges–Lehmann estimate).
"""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from simdeploy.rules import mann_whitney
from simdeploy.rules.mann_whitney import (
    BRENT_TOLERANCE,
    AllTiedError,
    average_ranks,
    mann_whitney_u_test,
    u_statistic,
    wilcoxon_diff,
    z_statistic,
)

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "kayenta_cases.json").read_text()
)["MannWhitneySuite"]
E = 1e-6  # MannWhitneySuite's tolerance


def test_docstring_examples() -> None:
    assert doctest.testmod(mann_whitney).failed == 0


# --- Kayenta's MannWhitneySuite ---------------------------------------------------------------


def test_wilcoxon_diff_function() -> None:
    # "Wilcoxon Diff Function": f(μ) at μ = 0 and 5 with z = 0, 850 values a side.
    c = CASES["Wilcoxon Diff Function"]
    assert wilcoxon_diff(0, 0, c["x"], c["y"]) == pytest.approx(-1.229416, abs=E)
    assert wilcoxon_diff(5, 0, c["x"], c["y"]) == pytest.approx(-35.80606, abs=E)


def test_z_quant() -> None:
    # "Test zQuant": the 98% interval's quantile.
    assert NormalDist().inv_cdf(0.02 / 2) == pytest.approx(-2.326348, abs=E)


@pytest.mark.parametrize(
    ("name", "experiment", "control", "level", "expected", "estimate_tolerance"),
    [
        # [10, 20, 30, 40] against [1, 2, 3, 4]: the 16 differences are 6..39, the normal
        # approximation's 95% interval spans them all; the estimate is their middle plateau.
        (
            "Mann-Whitney Confidence Interval & Estimate",
            "experimentData",
            "controlData",
            0.95,
            (6.0, 39.0, 22.5),
            E,
        ),
        (
            "Mann-Whitney Confidence Interval & Estimate: Problem Case",
            "experiment",
            "control",
            0.98,
            (-1.4808028936386108e-5, 1.808255910873413e-5, 1.808255910873413e-5),
            E,
        ),
        # The two "tie out with R" rows: R's numbers, the estimate to 1e-4 as upstream.
        (
            "Mann-Whitney Confidence Interval & Estimate: Tie out with R Version",
            "experiment",
            "control",
            0.95,
            (-0.500002521696696, -3.486287505871302e-5, -0.4999393907180323),
            1e-4,
        ),
        (
            "Mann-Whitney Confidence Interval & Estimate: Tie out with R Version (Large)",
            "experiment",
            "control",
            0.98,
            (-0.4999173250549087, -6.912685789769486e-6, -3.45044082729315e-5),
            1e-4,
        ),
    ],
)
def test_confidence_interval_and_estimate(
    name: str,
    experiment: str,
    control: str,
    level: float,
    expected: tuple[float, float, float],
    estimate_tolerance: float,
) -> None:
    c = CASES[name]
    r = mann_whitney_u_test(c[experiment], c[control], level)
    assert r.lower == pytest.approx(expected[0], abs=E)
    assert r.upper == pytest.approx(expected[1], abs=E)
    assert r.estimate == pytest.approx(expected[2], abs=estimate_tolerance)


def test_intermediate_values_and_variables() -> None:
    # "Mann-Whitney Intermediate Values / Variables": the search range, f at its ends for
    # z = ±1.96, and the three roots (R's values).
    c = CASES["Mann-Whitney Intermediate Values / Variables"]
    x, y = c["x"], c["y"]
    mu_min, mu_max = min(x) - max(y), max(x) - min(y)
    assert mu_min == pytest.approx(c["rMumin"], abs=E)
    assert mu_max == pytest.approx(c["rMumax"], abs=E)
    z = -NormalDist().inv_cdf(0.05 / 2)
    assert z == pytest.approx(c["rZqLower"], abs=E)
    assert wilcoxon_diff(mu_min, z, x, y) == pytest.approx(c["rFlower1"], abs=E)
    assert wilcoxon_diff(mu_max, z, x, y) == pytest.approx(c["rFupper1"], abs=E)
    assert wilcoxon_diff(mu_min, -z, x, y) == pytest.approx(c["rFlower2"], abs=E)
    assert wilcoxon_diff(mu_max, -z, x, y) == pytest.approx(c["rFupper2"], abs=E)
    r = mann_whitney_u_test(x, y, c["confidenceLevel"])
    assert r.lower == pytest.approx(c["rCil"], abs=E)
    assert r.upper == pytest.approx(c["rCiu"], abs=E)
    assert r.estimate == pytest.approx(c["rEst"], abs=E)


# --- against scipy --------------------------------------------------------------------------


def _samples() -> list[tuple[str, list[float], list[float]]]:
    rng = np.random.default_rng(11)
    out = [
        (name, CASES[name][a], CASES[name][b])
        for name, a, b in [
            ("Mann-Whitney Confidence Interval & Estimate", "experimentData", "controlData"),
            (
                "Mann-Whitney Confidence Interval & Estimate: Tie out with R Version",
                "experiment",
                "control",
            ),
            ("Mann-Whitney Intermediate Values / Variables", "x", "y"),
        ]
    ]
    out.append(("normal 12 vs 9", list(rng.normal(1, 1, 12)), list(rng.normal(0, 1, 9))))
    halves = [list(rng.integers(0, 6, 30) * 0.5), list(rng.integers(0, 5, 25) * 0.5)]
    out.append(("ties, 30 vs 25", *halves))
    out.append(("lognormal 5 vs 40", list(rng.lognormal(0, 1, 5)), list(rng.lognormal(0.3, 1, 40))))
    return out


@pytest.mark.parametrize(
    ("name", "x", "y"), _samples(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_u_and_p_value_match_scipy(name: str, x: list[float], y: list[float]) -> None:
    ref = mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert u_statistic(x, y) == pytest.approx(ref.statistic, rel=1e-12)
    p = 2 * NormalDist().cdf(-abs(z_statistic(x, y)))
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_average_ranks_match_scipy() -> None:
    from scipy.stats import rankdata

    values = [3.0, 1.0, 3.0, 2.0, 2.0, 2.0, 7.5]
    assert average_ranks(values) == list(rankdata(values))
    with pytest.raises(ValueError, match="NaN"):
        average_ranks([1.0, math.nan])


# --- against the Walsh differences ------------------------------------------------------------


def _walsh_dz(mu: float, x: list[float], y: list[float]) -> float:
    above = sum(1.0 if xi - mu > yj else 0.5 if xi - mu == yj else 0.0 for xi in x for yj in y)
    return above - len(x) * len(y) / 2


def _walsh_root(d: list[float], z: float, sigma: float) -> float:
    """Where the step function over the sorted differences ``d`` first drops to 0 or below:
    plateau k (after k differences) has dz = nm/2 − k."""
    nm = len(d)
    for k in range(nm + 1):
        dz = nm / 2 - k
        corr = math.copysign(0.5, dz) if dz else 0.0
        if (dz - corr) / sigma - z <= 0:
            return d[k - 1] if k else d[0]
    return d[-1]


@pytest.mark.parametrize(
    ("nx", "ny", "shift", "level"),
    [(5, 7, 0.0, 0.95), (12, 9, 1.5, 0.98), (20, 20, -0.7, 0.98), (30, 25, 0.2, 0.95)],
)
def test_interval_and_estimate_from_walsh_differences(
    nx: int, ny: int, shift: float, level: float
) -> None:
    # Continuous samples: no ties, so σ = √(nm(N + 1)/12) at every μ between differences.
    rng = np.random.default_rng(nx * 100 + ny)
    x = list(rng.normal(shift, 1.0, nx))
    y = list(rng.normal(0.0, 1.0, ny))
    d = sorted(xi - yj for xi in x for yj in y)
    nm = nx * ny
    sigma = math.sqrt(nm * (nx + ny + 1) / 12)

    # dz from the ranks is dz from counting the differences, at any μ (on a difference too).
    for mu in [*rng.uniform(d[0], d[-1], 5), d[3], d[nm // 2]]:
        dz = _walsh_dz(mu, x, y)
        corr = math.copysign(0.5, dz) if dz else 0.0
        ties = sum(xi - mu == yj for xi in x for yj in y)  # as the ranks see it
        if ties == 0:
            assert wilcoxon_diff(mu, 0.0, x, y) == pytest.approx((dz - corr) / sigma)
        else:  # one tied pair: its rank is shared, σ's tie term is 6/(N(N−1))
            n = nx + ny
            tied = math.sqrt(nm / 12 * ((n + 1) - 6 / (n * (n - 1))))
            assert wilcoxon_diff(mu, 0.0, x, y) == pytest.approx((dz - corr) / tied)

    r = mann_whitney_u_test(x, y, level)
    z = -NormalDist().inv_cdf((1 - level) / 2)
    tol = 1.1 * BRENT_TOLERANCE
    assert r.lower == pytest.approx(_walsh_root(d, z, sigma), abs=tol)
    assert r.upper == pytest.approx(_walsh_root(d, -z, sigma), abs=tol)
    # The estimate: on the zero plateau around the median difference (Hodges–Lehmann).
    lo, hi = (d[nm // 2 - 1], d[nm // 2]) if nm % 2 == 0 else (d[nm // 2 - 1], d[nm // 2 + 1])
    assert lo - tol <= r.estimate <= hi + tol
    hodges_lehmann = float(np.median(d))
    assert abs(r.estimate - hodges_lehmann) <= (hi - lo) / 2 + tol
    assert r.lower <= hodges_lehmann <= r.upper


def test_every_value_tied_has_no_interval() -> None:
    with pytest.raises(AllTiedError, match="all observations are tied"):
        wilcoxon_diff(0.0, 0.0, [2.0, 2.0], [2.0])
    with pytest.raises(ValueError, match="at least one value"):
        mann_whitney_u_test([], [1.0])
