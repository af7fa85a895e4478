"""Kayenta's ``NetflixACAJudge-v1.0``: clean each metric, classify it, score the canary.

A port of ``kayenta-judge`` (``spinnaker/kayenta``, read, not copied): ``NetflixACAJudge``
(``classifyMetric``), ``preprocessing/Transforms``, ``detectors/IQRDetector``,
``stats/EffectSizes``, ``classifiers/metric/MannWhitneyClassifier``,
``scorers/WeightedSumScorer`` with ``ScoringHelper``, ``classifiers/score/
ThresholdScoreClassifier``, and the Argo Rollouts Kayenta provider's ``evaluateResult``. A
metric has two samples over one interval: the *control* (baseline) and the *experiment*
(canary), one value per time step.

Per metric (:func:`classify_metric`):

1. **NaN strategy**: ``remove`` drops NaN values (a step without data); ``replace`` makes
   them 0 (count metrics, where no data means none happened).
2. **Outliers**: ``keep``, or ``remove`` with the IQR detector in reduced sensitivity: fences
   ``min(P1, Q1 − k·IQR)`` and ``max(P99, Q3 + k·IQR)``, k = ``outlierFactor`` (3.0), the
   percentiles R's type 7 (:func:`percentile`).
3. **Classification** (:func:`classify`): an empty sample is ``Nodata`` (``NodataFailMetric``
   when ``mustHaveData`` and not critical; ``Pass`` when NaNs are replaced); identical or
   single-valued samples ``Pass``; otherwise the Mann–Whitney interval at 98%
   (:mod:`simdeploy.rules.mann_whitney`) against ±0.25·|estimate|: ``High`` when its lower
   bound is above (direction ``increase`` or ``either``) and the effect size is at least
   ``allowedIncrease`` (or NaN), ``Low`` when its upper bound is below (``decrease`` or
   ``either``) and the effect is at most ``allowedDecrease`` (or NaN), else ``Pass``. The
   effect size is the ratio of means (experiment / control; NaN when either is 0) or CLES.
   A critical metric that is High beyond ``criticalIncrease`` / Low beyond
   ``criticalDecrease`` (or Nodata, Error) is a critical failure. Two constant samples get
   Gaussian noise of sd value·1e-5 first: the caller passes the random stream.

Scoring (:func:`score`): muted metrics are dropped; a group's score is 100 × Pass / (Pass +
High + Low + NodataFailMetric) (Nodata and Error do not count; a group with none of those
is a "no data" group, worth 100 in the sum); the summary is Σ score × weight / 100, groups
without a weight sharing (100 − Σ weights) equally, rounded half-up to 2 decimals. A critical
failure, or half the metrics or more ``Nodata``, makes it 0. :func:`classify_score`: ``Pass``
at or above ``pass``, ``Marginal`` at or above ``marginal``, else ``Fail``.

Argo Rollouts' provider (:func:`argo_phase`) keeps the score's integer part and maps it:
≥ pass → Successful, ≥ marginal → Inconclusive, else Failed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from simdeploy.rules.analysis_phase import Phase
from simdeploy.rules.mann_whitney import average_ranks, mann_whitney_u_test

__all__ = [
    "CONFIDENCE_LEVEL",
    "NODATA_THRESHOLD",
    "TOLERANCE",
    "JudgeResult",
    "MetricClassification",
    "MetricConfig",
    "MetricResult",
    "ScoreResult",
    "argo_phase",
    "classify",
    "classify_metric",
    "classify_score",
    "cles",
    "iqr_outliers",
    "judge",
    "mean_ratio",
    "percentile",
    "remove_nans",
    "remove_outliers",
    "replace_nans",
    "score",
]

Direction = Literal["increase", "decrease", "either"]
NaNStrategy = Literal["remove", "replace"]
Label = Literal["Pass", "High", "Low", "NodataFailMetric", "Nodata", "Error"]

TOLERANCE: Final = 0.25
"""The judge's tolerance: the interval must clear ±0.25·|estimate| (hard-coded upstream)."""

CONFIDENCE_LEVEL: Final = 0.98
"""The judge's confidence level for the Mann–Whitney interval (hard-coded upstream)."""

NODATA_THRESHOLD: Final = 50
"""``WeightedSumScorer.NODATA_THRESHOLD``: this percentage of Nodata metrics scores 0."""

_NOISE_SCALE: Final = 1e-5


# --- transforms --------------------------------------------------------------------------


def remove_nans(values: Iterable[float]) -> list[float]:
    """``values`` without NaNs (``Transforms.removeNaNs``)."""
    return [v for v in values if not math.isnan(v)]


def replace_nans(values: Iterable[float], value: float = 0.0) -> list[float]:
    """``values`` with each NaN replaced by ``value`` (``Transforms.replaceNaNs``)."""
    return [value if math.isnan(v) else v for v in values]


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0 < p ≤ 100) by R's type 7, as commons-math's ``Percentile``
    with ``EstimationType.R_7``; NaN for no values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 25), round(percentile([1.0, 2.0, 3.0, 4.0], 99), 2)
    (1.75, 3.97)
    """
    if not values:
        return math.nan
    data = sorted(values)
    n = len(data)
    q = p / 100
    pos = 0.0 if q == 0 else float(n) if q == 1 else 1 + (n - 1) * q
    if pos < 1:
        return data[0]
    if pos >= n:
        return data[-1]
    lower = math.floor(pos)
    low, high = data[lower - 1], data[lower]
    return low + (pos - lower) * (high - low)


def iqr_outliers(
    values: Sequence[float], factor: float = 1.5, reduce_sensitivity: bool = False
) -> list[bool]:
    """Which values are outliers (``IQRDetector``): outside Q1 − factor·IQR, Q3 +
    factor·IQR; with ``reduce_sensitivity`` the fences widen to P1 and P99 if those are
    further out.

    >>> iqr_outliers([21.0, 23.0, 24.0, 25.0, 50.0, 29.0, 23.0, 21.0])
    [False, False, False, False, True, False, False, False]
    """
    if not factor > 0:
        raise ValueError(f"factor must be greater than zero, got {factor}")
    p25, p75 = percentile(values, 25), percentile(values, 75)
    low, high = p25 - factor * (p75 - p25), p75 + factor * (p75 - p25)
    if reduce_sensitivity:
        low, high = min(percentile(values, 1), low), max(percentile(values, 99), high)
    return [v > high or v < low for v in values]


def remove_outliers(values: Sequence[float], factor: float = 3.0) -> list[float]:
    """``values`` without the outliers the judge's detector finds (IQR, reduced
    sensitivity, ``outlierFactor`` = ``factor``)."""
    flags = iqr_outliers(values, factor, reduce_sensitivity=True)
    return [v for v, out in zip(values, flags, strict=True) if not out]


# --- effect sizes --------------------------------------------------------------------------


def mean_ratio(control: Sequence[float], experiment: Sequence[float]) -> float:
    """mean(experiment) / mean(control); NaN when either mean is 0 (``EffectSizes.meanRatio``)."""
    c = sum(control) / len(control) if control else math.nan
    e = sum(experiment) / len(experiment) if experiment else math.nan
    return math.nan if c == 0.0 or e == 0.0 else e / c


def cles(control: Sequence[float], experiment: Sequence[float]) -> float:
    """The common-language effect size (Vargha–Delaney A): the share of pairs where the
    experiment is higher, ties counting half (``EffectSizes.cles``).

    >>> cles([1.0, 2.0], [3.0, 2.0])
    0.875
    """
    m, n = len(experiment), len(control)
    r1 = sum(average_ranks(list(experiment) + list(control))[:m])
    return (2 * r1 - m * (m + 1)) / (2 * n * m)


# --- one metric ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricClassification:
    """``MetricClassification``: the label, why, the mean ratio and whether it is a critical
    failure."""

    classification: Label
    reason: str | None
    deviation: float
    critical: bool


def _add_noise(values: Sequence[float], rng: random.Random) -> list[float]:
    sd = values[0] * _NOISE_SCALE
    return [v + rng.gauss(0.0, 1.0) * sd for v in values]


def classify(
    control: Sequence[float],
    experiment: Sequence[float],
    *,
    direction: Direction = "either",
    nan_strategy: NaNStrategy = "remove",
    critical: bool = False,
    must_have_data: bool = False,
    tolerance: float = TOLERANCE,
    confidence_level: float = CONFIDENCE_LEVEL,
    effect_thresholds: tuple[float, float] = (1.0, 1.0),
    critical_thresholds: tuple[float, float] = (1.0, 1.0),
    effect_size_measure: Literal["meanRatio", "cles"] = "meanRatio",
    rng: random.Random | None = None,
    name: str = "",
) -> MetricClassification:
    """``MannWhitneyClassifier.classify`` of cleaned samples (no NaN left).

    ``effect_thresholds`` and ``critical_thresholds`` are (decrease, increase) pairs, as
    upstream. ``rng`` draws the noise two constant samples get (a fixed seed if None).
    """
    if not experiment or not control:
        if nan_strategy == "remove":
            reason = f"Missing data for {name}"
            if must_have_data and not critical:
                return MetricClassification("NodataFailMetric", reason, 1.0, False)
            return MetricClassification("Nodata", reason, 1.0, critical)
        return MetricClassification("Pass", None, 1.0, False)
    if sorted(experiment) == sorted(control):
        return MetricClassification(
            "Pass", "The Canary and Baseline data are identical", 1.0, False
        )
    if len(set(experiment) | set(control)) == 1:
        return MetricClassification("Pass", None, 1.0, False)

    if len(set(experiment)) == 1 and len(set(control)) == 1:
        rng = rng if rng is not None else random.Random(0)
        experiment, control = _add_noise(experiment, rng), _add_noise(control, rng)
    mw = mann_whitney_u_test(experiment, control, confidence_level)
    bound = tolerance * abs(mw.estimate)
    deviation = mean_ratio(control, experiment)
    effect = cles(control, experiment) if effect_size_measure == "cles" else deviation
    high = (
        direction in ("increase", "either")
        and mw.lower > bound
        and (math.isnan(effect) or effect >= effect_thresholds[1])
    )
    low = (
        direction in ("decrease", "either")
        and mw.upper < -bound
        and (math.isnan(effect) or effect <= effect_thresholds[0])
    )
    label: Label = "High" if high else "Low" if low else "Pass"
    if critical and label == "High" and (math.isnan(effect) or effect >= critical_thresholds[1]):
        return MetricClassification(
            "High", f"The metric {name} was classified as High (Critical)", deviation, True
        )
    if critical and label == "Low" and (math.isnan(effect) or effect <= critical_thresholds[0]):
        return MetricClassification(
            "Low", f"The metric {name} was classified as Low (Critical)", deviation, True
        )
    reason = None if label == "Pass" else f"{name} was classified as {label}"
    return MetricClassification(label, reason, deviation, False)


@dataclass(frozen=True)
class MetricConfig:
    """One metric of a canary config (its ``analysisConfigurations.canary``, upstream's
    defaults). ``allowed_*`` and ``critical_*`` default to 1.0 for ``meanRatio`` and 0.5 for
    ``cles``."""

    name: str
    groups: tuple[str, ...] = ()
    direction: Direction = "either"
    nan_strategy: NaNStrategy = "remove"
    outlier_strategy: Literal["keep", "remove"] = "keep"
    outlier_factor: float = 3.0
    critical: bool = False
    must_have_data: bool = False
    muted: bool = False
    effect_size_measure: Literal["meanRatio", "cles"] = "meanRatio"
    allowed_increase: float | None = None
    allowed_decrease: float | None = None
    critical_increase: float | None = None
    critical_decrease: float | None = None

    def _default(self, value: float | None) -> float:
        if value is not None:
            return value
        return 0.5 if self.effect_size_measure == "cles" else 1.0

    @property
    def effect_thresholds(self) -> tuple[float, float]:
        """(allowedDecrease, allowedIncrease)."""
        return self._default(self.allowed_decrease), self._default(self.allowed_increase)

    @property
    def critical_thresholds(self) -> tuple[float, float]:
        """(criticalDecrease, criticalIncrease)."""
        return self._default(self.critical_decrease), self._default(self.critical_increase)


@dataclass(frozen=True)
class MetricResult:
    """A ``CanaryAnalysisResult``: the metric's classification in its groups."""

    name: str
    classification: Label
    reason: str | None
    critical: bool
    deviation: float
    groups: tuple[str, ...]
    muted: bool = False


def clean(values: Iterable[float], config: MetricConfig) -> list[float]:
    """``transformMetric``: the NaN strategy, then the outlier strategy."""
    out = remove_nans(values) if config.nan_strategy == "remove" else replace_nans(values)
    if config.outlier_strategy == "remove":
        out = remove_outliers(out, config.outlier_factor)
    return out


def classify_metric(
    config: MetricConfig,
    control: Iterable[float],
    experiment: Iterable[float],
    rng: random.Random | None = None,
) -> MetricResult:
    """``NetflixACAJudge.classifyMetric``: clean both samples, classify at the judge's
    tolerance (0.25) and confidence (0.98). A failure of the statistics is ``Error``."""
    c, e = clean(control, config), clean(experiment, config)
    try:
        out = classify(
            c,
            e,
            direction=config.direction,
            nan_strategy=config.nan_strategy,
            critical=config.critical,
            must_have_data=config.must_have_data,
            effect_thresholds=config.effect_thresholds,
            critical_thresholds=config.critical_thresholds,
            effect_size_measure=config.effect_size_measure,
            rng=rng,
            name=config.name,
        )
    except ValueError:
        failed = "Metric Classification Failed"
        return MetricResult(
            config.name, "Error", failed, False, math.nan, config.groups, config.muted
        )
    return MetricResult(
        config.name,
        out.classification,
        out.reason,
        out.critical,
        out.deviation,
        config.groups,
        config.muted,
    )


# --- scoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    """The summary score (0–100), each group's score and, when forced to 0, why."""

    summary: float
    groups: dict[str, float]
    reason: str | None = None


def _round2(x: float) -> float:
    """commons-math ``Precision.round(x, 2)``: half-up on the decimal text."""
    return float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def score(results: Sequence[MetricResult], group_weights: Mapping[str, float]) -> ScoreResult:
    """``ScoringHelper`` + ``WeightedSumScorer``: the canary's score from its metrics.

    Example: groups g1 (weight 75) with two Pass and g2 (weight 25) with one High → 100 ·
    0.75 + 0 · 0.25 = 75.
    """
    scored = [r for r in results if not r.muted]
    labels: dict[str, list[str]] = {}
    for r in scored:
        for g in r.groups:
            labels.setdefault(g, []).append(r.classification)
    groups: dict[str, float] = {}
    no_data: set[str] = set()
    for g, ls in labels.items():
        counted = sum(ls.count(k) for k in ("Pass", "High", "Low", "NodataFailMetric"))
        if counted == 0:
            no_data.add(g)
            groups[g] = 0.0
        else:
            groups[g] = ls.count("Pass") / counted * 100
    critical = [r for r in scored if r.critical and r.classification != "Pass"]
    if critical:
        return ScoreResult(0.0, groups, f"Canary Failed: {critical[0].reason}")
    nodata = sum(r.classification == "Nodata" for r in scored)
    if scored and nodata / len(scored) * 100 >= NODATA_THRESHOLD:
        reason = f"Canary Failed: {NODATA_THRESHOLD}% or more metrics returned NODATA"
        return ScoreResult(0.0, groups, reason)
    unweighted = [g for g in groups if g not in group_weights]
    share = (100 - sum(group_weights.values())) / len(unweighted) if unweighted else 0.0
    total = 0.0
    for g, s in groups.items():
        total += (100.0 if g in no_data else s) * (group_weights.get(g, share) / 100)
    return ScoreResult(_round2(total), groups)


def classify_score(summary: float, pass_threshold: float, marginal: float) -> str:
    """``ThresholdScoreClassifier``: ``Pass``, ``Marginal`` or ``Fail``."""
    if summary >= pass_threshold:
        return "Pass"
    if summary >= marginal:
        return "Marginal"
    return "Fail"


def argo_phase(summary: float, pass_threshold: int, marginal: int) -> Phase:
    """The Argo Rollouts Kayenta provider's measurement phase: the score's integer part
    (Go's ``int(score)``) ≥ pass → Successful, ≥ marginal → Inconclusive, else Failed.

    >>> argo_phase(89.99, 90, 75), argo_phase(90.0, 90, 75), argo_phase(74.5, 90, 75)
    (<Phase.INCONCLUSIVE: 'Inconclusive'>, <Phase.SUCCESSFUL: 'Successful'>, \
<Phase.FAILED: 'Failed'>)
    """
    value = math.trunc(summary)
    if value >= pass_threshold:
        return Phase.SUCCESSFUL
    if value >= marginal:
        return Phase.INCONCLUSIVE
    return Phase.FAILED


# --- the judge -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeResult:
    """One judgement: each metric's result, the score and its classification."""

    metrics: tuple[MetricResult, ...]
    score: ScoreResult
    classification: str


def judge(
    configs: Sequence[MetricConfig],
    samples: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    group_weights: Mapping[str, float],
    pass_threshold: float,
    marginal: float,
    rng: random.Random | None = None,
) -> JudgeResult:
    """``NetflixACAJudge.judge``: ``samples[name]`` is (control, experiment) for each
    metric of ``configs``."""
    results = tuple(classify_metric(c, *samples[c.name], rng=rng) for c in configs)
    scored = score(results, group_weights)
    return JudgeResult(results, scored, classify_score(scored.summary, pass_threshold, marginal))
