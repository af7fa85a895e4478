"""rules/kayenta.py: Kayenta's NetflixACAJudge, with Kayenta's own test cases.

Rows are named as upstream names them: ``ClassifierSuite`` (its arrays in
``data/kayenta_cases.json``), ``DetectorSuite``, ``TransformSuite`` and ``ScorerSuite``
(``kayenta-judge/src/test/scala``), and the Argo Rollouts Kayenta provider's
``TestResume*`` (``metricproviders/kayenta/kayenta_test.go``).
"""

from __future__ import annotations

import doctest
import json
import math
import random
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simdeploy.rules import kayenta
from simdeploy.rules.analysis_phase import Phase
from simdeploy.rules.kayenta import (
    MetricConfig,
    MetricResult,
    argo_phase,
    classify,
    classify_metric,
    classify_score,
    cles,
    iqr_outliers,
    judge,
    mean_ratio,
    percentile,
    remove_nans,
    remove_outliers,
    replace_nans,
    score,
)

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "kayenta_cases.json").read_text()
)["ClassifierSuite"]


def test_docstring_examples() -> None:
    assert doctest.testmod(kayenta).failed == 0


# --- ClassifierSuite ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_classifier_suite(name: str) -> None:
    c = CASES[name]
    k = c["classifier"]
    result = classify(
        c["controlData"],
        c["experimentData"],
        direction=c["direction"].lower(),
        nan_strategy=c["nanStrategy"].lower(),
        critical=c["isCriticalMetric"],
        tolerance=k["tolerance"],
        confidence_level=k["confLevel"],
        effect_thresholds=tuple(k.get("effectSizeThresholds", (1.0, 1.0))),
        critical_thresholds=tuple(k.get("criticalThresholds", (1.0, 1.0))),
        effect_size_measure=k.get("effectSizeMeasure", "meanRatio"),
        name=name,
    )
    if c["expected"] is not None:
        assert result.classification == c["expected"]
    if "expectedCritical" in c:
        assert result.critical is c["expectedCritical"]
    if c.get("expectedDeviation") == "NaN":
        assert math.isnan(result.deviation)
    elif "expectedDeviation" in c:
        assert result.deviation == c["expectedDeviation"]
    if c.get("expectedReason"):
        assert result.reason


def test_the_judge_uses_tolerance_025_and_98_percent() -> None:
    # "Mann-Whitney Classifier Test: High Metric" is High at Kayenta's test settings (10%,
    # 95%) and at the judge's own (25%, 98%): 20 vs 10 is far apart either way. The
    # "Pass Metric" pair (means 9.8 and 9.8) passes at both.
    high = CASES["Mann-Whitney Classifier Test: High Metric"]
    config = MetricConfig("m", ("g",))
    assert classify_metric(config, high["controlData"], high["experimentData"]).classification == (
        "High"
    )
    ok = CASES["Mann-Whitney Classifier Test: Pass Metric"]
    assert classify_metric(config, ok["controlData"], ok["experimentData"]).classification == (
        "Pass"
    )


def test_must_have_data_without_data_is_a_failed_metric() -> None:
    # Nodata, unless mustHaveData (not critical): NodataFailMetric, which scores as a failure.
    config = MetricConfig("m", ("g",), must_have_data=True)
    r = classify_metric(config, [1.0, 2.0], [math.nan, math.nan])
    assert r.classification == "NodataFailMetric" and not r.critical
    critical = MetricConfig("m", ("g",), must_have_data=True, critical=True)
    r = classify_metric(critical, [1.0, 2.0], [math.nan])
    assert r.classification == "Nodata" and r.critical


def test_constant_samples_get_seeded_noise() -> None:
    # 10s against 1s: both constant, so both get noise of sd value·1e-5 before the test; the
    # same stream gives the same deviation, another stream a slightly different one.
    a = classify([1.0] * 5, [10.0] * 5, rng=random.Random(1))
    b = classify([1.0] * 5, [10.0] * 5, rng=random.Random(1))
    c = classify([1.0] * 5, [10.0] * 5, rng=random.Random(2))
    assert a == b and a.classification == c.classification == "High"
    assert a.deviation != c.deviation and a.deviation == pytest.approx(10.0, rel=1e-4)


# --- DetectorSuite and TransformSuite ----------------------------------------------------------

NIST = [
    30, 171, 184, 201, 212, 250, 265, 270, 272, 289, 305, 306, 322, 322, 336, 346,
    351, 370, 390, 404, 409, 411, 436, 437, 439, 441, 444, 448, 451, 453, 470, 480,
    482, 487, 494, 495, 499, 503, 514, 521, 522, 527, 548, 550, 559, 560, 570, 572,
    574, 578, 585, 592, 592, 607, 616, 618, 621, 629, 637, 638, 640, 656, 668, 707,
    709, 719, 737, 739, 752, 758, 766, 792, 792, 794, 802, 818, 830, 832, 843, 858,
    860, 869, 918, 925, 953, 991, 1000, 1005, 1068, 1441,
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "truth"),
    [
        ("IQR Detection", [21.0, 23, 24, 25, 50, 29, 23, 21], [4]),
        ("IQR Detect Two Sided", [1.0, 1, 1, 5, -1, -1, -1, -5], [3, 7]),
        ("IQR Empty Data", [], []),
        ("IQR NIST Test", [float(v) for v in NIST], [len(NIST) - 1]),
    ],
)
def test_detector_suite(name: str, data: list[float], truth: list[int]) -> None:
    flags = iqr_outliers(data, factor=1.5)
    assert [i for i, f in enumerate(flags) if f] == truth


def test_transform_suite() -> None:
    # "Remove Single NaN", "Remove Multiple NaN", "Replace NANs", "IQR Outlier Removal".
    assert remove_nans([0.0, 1.0, math.nan, 1.0, 0.0]) == [0.0, 1.0, 1.0, 0.0]
    assert remove_nans([math.nan] * 3) == []
    assert replace_nans([math.nan, 10.1, 20.2, 30.3, math.nan, 40.4]) == [
        0.0, 10.1, 20.2, 30.3, 0.0, 40.4,
    ]  # fmt: skip
    data = [21.0, 23.0, 24.0, 25.0, 50.0, 29.0, 23.0, 21.0]
    kept = [v for v, out in zip(data, iqr_outliers(data, 1.5), strict=True) if not out]
    assert kept == [21.0, 23.0, 24.0, 25.0, 29.0, 23.0, 21.0]


def test_the_judges_detector_is_less_sensitive() -> None:
    # The judge removes with factor 3 and fences no closer than P1 and P99. In the NIST data
    # (90 values, R type 7) Q1 sits at position 1 + 89/4 = 23.25: 436 + 0.25 = 436.25; Q3 at
    # 67.75: 737 + 0.75·2 = 738.5; IQR 302.25. Factor 1.5: fences -17.1 and 1191.9, 1441
    # goes (the DetectorSuite row); factor 3: -470.5 and 1645.25, it stays. Factor 0.5:
    # 285.1 and 889.6, but P1 = 30 + 0.89·141 = 155.5 and P99 = 1068 + 0.11·373 = 1109.0
    # widen them: 30 and 1441 go, 171 and 1068 stay.
    data = [float(v) for v in NIST]
    assert percentile(data, 25) == pytest.approx(436.25)
    assert percentile(data, 75) == pytest.approx(738.5)
    assert remove_outliers(data, 3.0) == data
    tight = remove_outliers(data, 0.5)
    assert (tight[0], tight[-1], len(tight)) == (171.0, 1068.0, 88)


@pytest.mark.parametrize("p", [1, 25, 50, 75, 99, 100])
def test_percentile_is_r_type_7(p: float) -> None:
    # numpy's default ("linear") is R's type 7 too.
    data = list(np.random.default_rng(p).lognormal(0, 1, 17))
    assert percentile(data, p) == pytest.approx(float(np.percentile(data, p)))
    assert math.isnan(percentile([], 50))


def test_effect_sizes() -> None:
    # meanRatio: 20/2 = 10; NaN when a mean is 0. CLES: pairs where the experiment is higher,
    # ties half, counted by brute force.
    assert mean_ratio([1.0, 3.0], [10.0, 30.0]) == 10.0
    assert math.isnan(mean_ratio([0.0, 0.0], [1.0]))
    control, experiment = [1.0, 2.0, 2.0, 5.0], [2.0, 3.0, 0.5]
    pairs = [(e > c) + 0.5 * (e == c) for e, c in product(experiment, control)]
    assert cles(control, experiment) == pytest.approx(sum(pairs) / len(pairs))


# --- ScorerSuite ------------------------------------------------------------------------------


def _r(label: str, group: str, critical: bool = False) -> MetricResult:
    return MetricResult(label.lower(), label, f"{label} reason", critical, 1.0, (group,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "weights", "results", "expected"),
    [
        ("Single Metric Pass", {}, [_r("Pass", "test-group")], 100.0),
        ("Single Metric Fail", {}, [_r("High", "test-group")], 0.0),
        ("Single group Nodata", {}, [_r("Nodata", "test-group-nodata")], 0.0),
        (
            "Two Groups, one Pass, one Nodata",
            {},
            [_r("Pass", "pass"), _r("Pass", "pass"), _r("Nodata", "nodata")],
            100.0,
        ),
        ("One Group, Two Metrics", {}, [_r("Pass", "g"), _r("High", "g")], 50.0),
        (
            "One Group, Three Metrics",
            {},
            [_r("Pass", "g"), _r("High", "g"), _r("Low", "g")],
            33.33,
        ),
        (
            "Two Groups, Three Metrics",
            {"group-1": 75.0, "group-2": 25.0},
            [_r("Pass", "group-1"), _r("Pass", "group-1"), _r("High", "group-2")],
            75.0,
        ),
        (
            "Two Groups, Three Metrics (Equal Weight)",
            {"group-1": 50.0, "group-2": 50.0},
            [_r("Pass", "group-1"), _r("High", "group-1"), _r("High", "group-2")],
            25.0,
        ),
        (
            "Two Groups, Three Metrics (Equal Weight), one NoData",
            {"group-1": 50.0, "group-2": 50.0},
            [_r("Pass", "group-1"), _r("Nodata", "group-1"), _r("High", "group-2")],
            50.0,
        ),
        (
            "Two Metrics, one good (normal), one fail (critical)",
            {},
            [_r("Pass", "g"), _r("High", "g", critical=True)],
            0.0,
        ),
        (
            "Two Metrics, one low (normal), one good (critical)",
            {},
            [_r("Low", "g"), _r("Pass", "g", critical=True)],
            50.0,
        ),
        (
            "Two Metrics, one good (normal), one nodata (critical)",
            {},
            [_r("Pass", "g"), _r("Nodata", "g", critical=True)],
            0.0,
        ),
        (
            "Two Groups (Unequal Weight), Four Metrics",
            {"group1": 15.0, "group2": 85.0},
            [_r("High", "group1"), _r("Low", "group1"), _r("Pass", "group1"), _r("High", "group2")],
            5.0,
        ),
    ],
)
def test_scorer_suite(
    name: str, weights: dict[str, float], results: list[MetricResult], expected: float
) -> None:
    # "Weighted Sum Group Scorer: <name>". E.g. the last row: group1 has 1 Pass of 3 (33.3)
    # at weight 15, group2 0 at 85: 33.33·0.15 = 5.0.
    assert score(results, weights).summary == expected


def test_scores_upstream_does_not_test() -> None:
    # A group without a weight shares what the weighted ones leave: a at 40, b and c at 30
    # each; b fails → 100·0.4 + 0 + 100·0.3 = 70. Muted metrics do not count; half the
    # metrics Nodata scores 0; an Error counts in no group (a "no data" group: 100).
    rs = [_r("Pass", "a"), _r("High", "b"), _r("Pass", "c")]
    assert score(rs, {"a": 40.0}).summary == 70.0
    muted = MetricResult("m", "High", None, False, 1.0, ("c",), muted=True)
    assert score([*rs, muted], {"a": 40.0}).summary == 70.0
    nodata = score([_r("Pass", "a"), _r("Nodata", "b")], {})
    assert nodata.summary == 0.0 and "50% or more metrics returned NODATA" in str(nodata.reason)
    assert score([_r("Pass", "a"), _r("Error", "b"), _r("Pass", "c")], {}).summary == 100.0
    # Half-up on the decimal text: 2/3 of 100 in one of three equal groups is 22.2222...
    third = [_r("Pass", "a"), _r("High", "a"), _r("Pass", "a"), _r("High", "b"), _r("High", "c")]
    assert score(third, {}).summary == 22.22


@pytest.mark.parametrize(
    ("score_", "expected"), [(95.0, "Pass"), (90.0, "Pass"), (80.0, "Marginal"), (60.0, "Fail")]
)
def test_threshold_score_classifier(score_: float, expected: str) -> None:
    assert classify_score(score_, 90, 75) == expected


@pytest.mark.parametrize(
    ("name", "score_", "phase"),
    [
        ("TestResumeSuccessfully", 100.0, Phase.SUCCESSFUL),
        ("TestResumeFailure", 60.0, Phase.FAILED),
        ("TestResumeInconclusive", 80.0, Phase.INCONCLUSIVE),
        ("int(score) truncates: 89.99 is 89", 89.99, Phase.INCONCLUSIVE),
        ("74.99 is 74, below marginal", 74.99, Phase.FAILED),
        ("marginal itself is Inconclusive", 75.0, Phase.INCONCLUSIVE),
    ],
)
def test_argo_kayenta_provider_phase(name: str, score_: float, phase: Phase) -> None:
    # Argo's provider with thresholds pass 90, marginal 75 (its tests' buildMetric).
    assert argo_phase(score_, 90, 75) is phase


def test_judge_end_to_end() -> None:
    # Two groups: errors (critical) and latency. The canary's errors are 10x the baseline's:
    # High and critical, so the score is 0 whatever latency says; without the critical flag
    # errors score 0 at weight 60 and latency 100 at 40: 40, Fail (marginal 75).
    rng = np.random.default_rng(3)
    base_err, can_err = list(rng.uniform(0.0, 0.01, 12)), list(rng.uniform(0.08, 0.12, 12))
    lat = list(rng.normal(0.1, 0.005, 12)), list(rng.normal(0.1, 0.005, 12))
    samples = {"errors": (base_err, can_err), "latency": lat}
    configs = [
        MetricConfig("errors", ("errors",), direction="increase", critical=True),
        MetricConfig("latency", ("latency",), direction="increase"),
    ]
    weights = {"errors": 60.0, "latency": 40.0}
    r = judge(configs, samples, weights, 90, 75)
    assert [m.classification for m in r.metrics] == ["High", "Pass"]
    assert r.score.summary == 0.0 and r.classification == "Fail"
    assert "Critical" in str(r.score.reason)
    configs[0] = MetricConfig("errors", ("errors",), direction="increase")
    r = judge(configs, samples, weights, 90, 75)
    assert r.score.summary == 40.0 and r.score.groups == {"errors": 0.0, "latency": 100.0}
    # Direction decrease cannot see an increase: both Pass, 100.
    configs[0] = MetricConfig("errors", ("errors",), direction="decrease")
    assert judge(configs, samples, weights, 90, 75).score.summary == 100.0


def test_nan_strategy_and_outliers_before_the_test() -> None:
    # 30 steps; the canary has data in 10 of them (0.02), the baseline in all (0.02).
    # remove: 10 values of 0.02 against 30 of 0.02, the same: Pass. replace: the 20 NaNs
    # become 0. For a shift μ in (-0.02, 0) only the canary's 10 values of 0.02 lie above
    # the baseline's: U = 10·30 = 300 of 900, dz = -150; σ with the ties (30, 20 and 10
    # equal values: Σt³ - t = 35940) is √(900/12 · (61 - 35940/3540)) = 61.8, so
    # f = -149.5/61.8 = -2.42 < -2.326 (98%): the upper bound is the jump at -0.02, below
    # -0.25·|estimate| = -0.005 (the estimate is the median difference, -0.02): Low.
    base = [0.02] * 30
    canary = [math.nan] * 20 + [0.02] * 10
    remove = MetricConfig("m", ("g",), nan_strategy="remove")
    replace = MetricConfig("m", ("g",), nan_strategy="replace")
    assert classify_metric(remove, base, canary).classification == "Pass"
    assert classify_metric(replace, base, canary).classification == "Low"
    # One wild step in the canary (5.0 among values near 1.0) is dropped with outliers:
    # remove, and the rest matches the baseline.
    base = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0, 1.0]
    canary = [*base[:9], 5.0]
    kept = MetricConfig("m", ("g",), outlier_strategy="remove")
    assert clean_len(kept, canary) == 9
    assert classify_metric(kept, base, canary).classification == "Pass"


def clean_len(config: MetricConfig, values: list[float]) -> int:
    return len(kayenta.clean(values, config))
