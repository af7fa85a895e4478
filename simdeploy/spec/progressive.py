"""Scenario models for progressive delivery: Argo Rollouts, Flagger, shadow, analysis.

Field names are the upstream ones (camelCase in YAML), so ``steps`` with ``setWeight``,
``pause``, ``analysis`` and ``setCanaryScale``, a blue/green block with
``previewReplicaCount`` and ``autoPromotionSeconds``, or a Flagger ``analysis`` block
with ``interval``, ``threshold``, ``stepWeight`` and ``maxWeight`` paste in from a manifest.

Where the simulator needs a stand-in for something outside it:

- metrics come from the simulator itself: an analysis metric's provider is
  ``{simdeploy: {metric: success_rate, of: canary, window: 1m, minRequests: 20}}``
  (``success_rate``, ``error_rate``, ``error_count``, ``request_count``, ``latency_p50`` /
  ``p95`` / ``p99`` in seconds), in place of a Prometheus query; or a judge on those
  metrics: ``{kayenta: {...}}`` (Kayenta's NetflixACAJudge on per-step samples of a baseline
  and a canary) or ``{sequential: {...}}`` (an anytime-valid test of their errors);
- header matching becomes a share of users: ``setHeaderRoute: {name: beta, userShare: 0.1}``
  (Argo) or ``match: [{userShare: 0.1}]`` (Flagger) sends a fixed 10% of users, picked by
  sticky bucketing, to the canary.

Pure: pydantic only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic.alias_generators import to_camel

from simdeploy.rules import progressive_validation as pv
from simdeploy.rules.analysis_expr import InvalidCondition, parse_condition
from simdeploy.rules.canary_math import ReplicaProgressThreshold as ProgressThresholdRule
from simdeploy.rules.canary_steps import INT32_MAX, pause_duration_seconds
from simdeploy.spec.base import (
    ArgoIntOrPercent,
    ArgoMaxUnavailable,
    Duration,
    Fraction,
    Strict,
    problem,
    raise_problems,
)

#: The metrics a query can ask for (latencies in seconds).
QueryMetric = Literal[
    "success_rate",
    "error_rate",
    "error_count",
    "request_count",
    "latency_p50",
    "latency_p95",
    "latency_p99",
]
QUERY_METRICS: tuple[str, ...] = get_args(QueryMetric)

#: What a query's ``of:`` may name besides a version, per strategy that runs analysis: the
#: roles each strategy maps to a version (control/strategies: ``ro.roles``).
ROLES_OF: dict[str, tuple[str, ...]] = {
    "Canary": ("canary", "stable"),
    "BlueGreen": ("canary", "stable", "preview", "active"),
}
QUERY_ROLES: tuple[str, ...] = ("canary", "stable", "preview", "active")


# --- analysis ----------------------------------------------------------------------------


class SimQuery(Strict):
    """A metric query over the simulator's counters, like a PromQL query over a window.

    ``of``: a role (``canary``, ``stable``, ``preview``, ``active``) or a version name.
    Fewer than ``minRequests`` completed requests in the window → no data. ``scale``
    multiplies the value, for a condition written in other units (1000: latency in ms, as
    ``istio_request_duration_milliseconds``; 100: a rate in percent).
    """

    metric: QueryMetric
    of: str = "canary"
    window: Annotated[Duration, Field(gt=0)] = 60.0
    min_requests: Annotated[int, Field(ge=1)] = 1
    scale: Annotated[float, Field(gt=0)] = 1.0


#: Which way a change is a regression (Kayenta's ``direction``).
Direction = Literal["increase", "decrease", "either"]


class KayentaThresholds(Strict):
    """``thresholds: {pass, marginal}``: scores (0–100) as the Argo provider sends them to
    Kayenta (Kayenta's ``scoreThresholds``). A score at or above ``pass`` is Successful, at
    or above ``marginal`` Inconclusive, below it Failed."""

    pass_: Annotated[int, Field(alias="pass", ge=0, le=100)]
    marginal: Annotated[int, Field(ge=0, le=100)]

    @model_validator(mode="after")
    def _order(self) -> KayentaThresholds:
        if self.marginal > self.pass_:
            raise_problems(
                type(self).__name__,
                [
                    problem(
                        ("marginal",),
                        f"above pass ({self.pass_}): no score could be Inconclusive",
                        self.marginal,
                    )
                ],
            )
        return self


class KayentaOutliers(Strict):
    """Kayenta's ``outliers``: ``keep`` them, or ``remove`` what lies beyond
    Q1 − outlierFactor·IQR and Q3 + outlierFactor·IQR (and beyond P1 / P99)."""

    strategy: Literal["keep", "remove"] = "keep"
    outlier_factor: Annotated[float, Field(gt=0)] = 3.0


class KayentaEffectSize(Strict):
    """Kayenta's ``effectSize``: how big a significant change must be to count. For
    ``meanRatio`` (canary mean / baseline mean) the thresholds default to 1.0, for ``cles``
    (the share of pairs where the canary is higher) to 0.5."""

    measure: Literal["meanRatio", "cles"] = "meanRatio"
    allowed_increase: Annotated[float, Field(ge=0)] | None = None
    allowed_decrease: Annotated[float, Field(ge=0)] | None = None
    critical_increase: Annotated[float, Field(ge=0)] | None = None
    critical_decrease: Annotated[float, Field(ge=0)] | None = None


class KayentaMetric(Strict):
    """One metric of the canary config: a simulator metric sampled per ``step`` for the
    baseline and the canary, and how Kayenta judges it (``analysisConfigurations.canary``).
    A step with fewer than ``minRequests`` requests has no value (NaN), as a Prometheus
    rate over an empty range."""

    name: str
    metric: QueryMetric
    groups: Annotated[list[str], Field(min_length=1)]
    direction: Direction = "either"
    nan_strategy: Literal["remove", "replace"] = "remove"
    outliers: KayentaOutliers = Field(default_factory=KayentaOutliers)
    effect_size: KayentaEffectSize = Field(default_factory=KayentaEffectSize)
    critical: bool = False
    must_have_data: bool = False
    muted: bool = False
    min_requests: Annotated[int, Field(ge=1)] = 1


class KayentaQuery(Strict):
    """``provider: {kayenta: ...}``: Kayenta's NetflixACAJudge on simulator samples.

    Each measurement samples every metric of the ``baseline`` and the ``canary`` (a role
    or a version) once per ``step`` over the window (the metric's ``interval`` back from
    now, or since the run began with ``lookback``, as Argo's provider asks Kayenta), judges
    them (:mod:`simdeploy.rules.kayenta`) and takes the score as the measurement.
    """

    metrics: Annotated[list[KayentaMetric], Field(min_length=1)]
    thresholds: KayentaThresholds
    group_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    baseline: str = "stable"
    canary: str = "canary"
    step: Annotated[Duration, Field(gt=0)] = 10.0
    lookback: bool = False

    @model_validator(mode="after")
    def _config(self) -> KayentaQuery:
        out = []
        names = [m.name for m in self.metrics]
        for i, name in enumerate(names):
            if name in names[:i]:
                out.append(problem(("metrics", i, "name"), f"'{name}' is given twice"))
        groups = {g for m in self.metrics for g in m.groups}
        for g in self.group_weights:
            if g not in groups:
                known = ", ".join(sorted(groups))
                msg = f"no metric is in group '{g}' (groups: {known})"
                out.append(problem(("groupWeights", g), msg))
        total = sum(self.group_weights.values())
        if total > 100 + 1e-9:
            msg = f"the weights add up to {total:g}: Kayenta's weights total 100"
            out.append(problem(("groupWeights",), msg))
        elif groups and groups <= set(self.group_weights) and total < 100 - 1e-9:
            msg = f"the weights add up to {total:g}, so no score could reach 100: they total 100"
            out.append(problem(("groupWeights",), msg))
        raise_problems(type(self).__name__, out)
        return self


class SequentialQuery(Strict):
    """``provider: {sequential: ...}``: an anytime-valid test of the canary's errors.

    Counts the errors and requests of the ``canary`` and the ``baseline`` in each bucket
    since the analysis run began; under the null hypothesis the canary's share of a bucket's
    errors is its share of that bucket's requests, however the weights and the error rate
    change. The e-value (a mixture over the canary's error-rate ratio θ to the baseline's,
    normal on log θ with a spread set by ``concentration``, on θ > 1 for ``direction:
    increase``; :mod:`simdeploy.rules.sequential`) may be checked at every measurement: the
    measurement fails once it reaches 1/``alpha``, and the chance that a release as good as
    the baseline ever does is at most ``alpha``.
    """

    metric: Literal["error_count"] = "error_count"
    baseline: str = "stable"
    canary: str = "canary"
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    concentration: Annotated[float, Field(gt=0)] = 100.0
    direction: Direction = "increase"


class KayentaBinding(Strict):
    """A ``metricBindings`` entry for a manifest's Kayenta metric: the canary config (which
    lives in Kayenta, not in the manifest) as the ``kayenta`` provider's fields."""

    metrics: Annotated[list[KayentaMetric], Field(min_length=1)]
    group_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    baseline: str = "stable"
    canary: str = "canary"
    step: Annotated[Duration, Field(gt=0)] | None = None


def _binding_kind(value: Any) -> str:
    if isinstance(value, KayentaBinding) or (isinstance(value, dict) and "metrics" in value):
        return "kayenta"
    return "simdeploy"


#: What a manifest metric stands for (``metricBindings``): a query, or a Kayenta canary config.
MetricBinding = Annotated[
    Annotated[SimQuery, Tag("simdeploy")] | Annotated[KayentaBinding, Tag("kayenta")],
    Discriminator(_binding_kind),
]


#: The providers a metric may name, each with the fields that name a role or a version.
PROVIDERS: dict[str, tuple[str, ...]] = {
    "simdeploy": ("of",),
    "kayenta": ("baseline", "canary"),
    "sequential": ("baseline", "canary"),
}


class Provider(Strict):
    """Exactly one of ``simdeploy`` (a query, judged by the metric's conditions),
    ``kayenta`` (Kayenta's judge, judged by its score) or ``sequential`` (an anytime-valid
    test, judged by its e-value)."""

    simdeploy: SimQuery | None = None
    kayenta: KayentaQuery | None = None
    sequential: SequentialQuery | None = None

    @model_validator(mode="after")
    def _one(self) -> Provider:
        given = [k for k in PROVIDERS if getattr(self, k) is not None]
        if len(given) != 1:
            got = " and ".join(given) if given else "none"
            raise_problems(
                type(self).__name__,
                [problem((), f"give exactly one of simdeploy, kayenta, sequential (got {got})")],
            )
        return self

    @property
    def kind(self) -> str:
        """``simdeploy``, ``kayenta`` or ``sequential``."""
        return next(k for k in PROVIDERS if getattr(self, k) is not None)

    def role_fields(self) -> list[tuple[str, str]]:
        """(field, role or version) for each field of the provider that names one."""
        body = getattr(self, self.kind)
        return [(f, getattr(body, f)) for f in PROVIDERS[self.kind]]


def _condition(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_condition(value)
        except InvalidCondition as exc:
            raise ValueError(str(exc)) from None
    return value


class Metric(Strict):
    """An Argo AnalysisTemplate metric (defaults as upstream)."""

    name: str
    provider: Provider
    #: > 0: a run measures every ``interval`` (0 would measure without end at one instant)
    interval: Annotated[Duration, Field(gt=0)] | None = None
    initial_delay: Duration = 0.0
    count: Annotated[int, Field(ge=0)] | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    failure_limit: Annotated[int, Field(ge=-1)] = 0
    inconclusive_limit: Annotated[int, Field(ge=0)] = 0
    consecutive_error_limit: Annotated[int, Field(ge=0)] = 4
    consecutive_success_limit: Annotated[int, Field(ge=0)] = 0
    dry_run: bool = False
    no_data: Literal["Error", "Inconclusive", "Failed"] = "Error"

    @model_validator(mode="after")
    def _conditions(self) -> Metric:
        out = []
        for name, text in (
            ("successCondition", self.success_condition),
            ("failureCondition", self.failure_condition),
        ):
            try:
                _condition(text)
            except ValueError as exc:
                out.append(problem((name,), str(exc), text))
        if self.provider.kind != "simdeploy":
            for name, text in (
                ("successCondition", self.success_condition),
                ("failureCondition", self.failure_condition),
            ):
                if text is not None:
                    msg = (
                        f"the {self.provider.kind} provider decides the measurement's phase "
                        "itself; a condition would never be read"
                    )
                    out.append(problem((name,), msg, text))
        if self.count is not None and self.count > 1 and self.interval is None:
            out.append(
                problem(("interval",), "required when count > 1 (Argo: 'interval must be set')")
            )
        raise_problems(type(self).__name__, out)
        return self


class AnalysisTemplate(Strict):
    metrics: Annotated[list[Metric], Field(min_length=1)]


class TemplateRef(Strict):
    template_name: str


class RunRef(Strict):
    """``analysis: {templates: [{templateName: x}]}`` of a step, background or gate."""

    templates: Annotated[list[TemplateRef], Field(min_length=1)]
    starting_step: Annotated[int, Field(ge=0)] = 0


_STARTING_STEP_ONLY = (
    "only the background analysis (canary.analysis) has a startingStep (Argo: "
    "RolloutAnalysisBackground)"
)

# --- Argo canary --------------------------------------------------------------------------


def _argo_pause_duration(value: object) -> int:
    """``pause.duration`` as Argo reads it: whole seconds (canary_steps.pause_duration_seconds).

    An int (int32) or a string: digits (``"10"``) or a Go duration (``"30s"``, ``"1h30m"``),
    truncated to whole seconds (``"1ms"`` → 0, ``"1.5s"`` → 1). A YAML float, a number beyond
    int32 or an invalid string is refused, as the CRD and ValidateRolloutStrategyCanary do.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(
            f"invalid duration {value!r}: whole seconds (an integer) or a Go duration such as "
            "30s, 1m30s, 1h (Argo: int-or-string)"
        )
    if isinstance(value, int) and not -(2**31) <= value <= INT32_MAX:
        raise ValueError(f"invalid duration {value}: more seconds than an int32 holds")
    seconds = pause_duration_seconds(value)
    if seconds >= 0:
        return seconds
    # A negative result is either a negative duration ("-5", "-2s") or a string Argo cannot
    # read at all (DurationSeconds' -1): tell them apart by the text without its sign.
    if isinstance(value, str) and pause_duration_seconds(value.removeprefix("-")) < 0:
        raise ValueError(
            f"invalid duration {value!r}: whole seconds up to {INT32_MAX} or a Go duration such "
            "as 30s, 1m30s, 1h (units ns, us, ms, s, m, h)"
        )
    raise ValueError(
        f"Invalid value: {seconds}: must be >= 0 seconds (Argo: Duration needs to be "
        "greater than 0)"
    )


#: What ``pause.duration`` accepts, for ``simdeploy schema`` (the CRD's int-or-string).
_PauseDurationInput = (
    Annotated[int, Field(ge=0, le=INT32_MAX, description="whole seconds")]
    | Annotated[
        str,
        Field(
            pattern=r"^\+?(?:[0-9]+|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+)$",
            description="seconds, or a Go duration such as 30s, 1m30s, 1h (whole seconds kept)",
        ),
    ]
)

#: Argo's pause duration: whole seconds, int32.
ArgoPauseDuration = Annotated[
    int, BeforeValidator(_argo_pause_duration, json_schema_input_type=_PauseDurationInput)
]


class Pause(Strict):
    """``pause: {}`` waits for a ``promote`` plan action; with ``duration`` it times out.

    ``duration`` is whole seconds, as Argo keeps it: ``1ms`` is 0 s, ``1.5s`` is 1 s.
    """

    duration: ArgoPauseDuration | None = None


class ReplicaProgressThreshold(Strict):
    """``canary.replicaProgressThreshold {type, value}``: when a step's pods are ready enough.

    ``type: Percent`` — at least ``value`` % of the step's desired canary pods are available;
    ``type: Pods`` (the docs spell it ``Pod``; both are accepted) — at least ``value`` available
    pods. Only available pods count, whatever the ReplicaSet's spec. The same test lets the
    router move traffic off a stable that is not yet fully available, and the rollout promote.
    Both fields are required and ``value`` must be greater than 0 (upstream's CRD and docs); a
    Percent above 100 could never be met, so it is refused.
    """

    type: Literal["Percent", "Pods", "Pod"]
    value: Annotated[int, Field(strict=True, ge=1, le=INT32_MAX)]

    @model_validator(mode="after")
    def _percent(self) -> ReplicaProgressThreshold:
        if self.type == "Percent" and self.value > 100:
            raise_problems(
                type(self).__name__,
                [problem(("value",), "a Percent above 100 can never be met", self.value)],
            )
        return self

    def to_rule(self) -> ProgressThresholdRule:
        """The rules/ form (canary_math.ReplicaProgressThreshold)."""
        return ProgressThresholdRule(self.type, self.value)


class SetCanaryScale(Strict):
    replicas: Annotated[int, Field(ge=0)] | None = None
    weight: Annotated[int, Field(ge=0)] | None = None  # <= maxTrafficWeight: ArgoCanary
    match_traffic_weight: bool = False


class HeaderRoute(Strict):
    """Argo ``setHeaderRoute``; ``userShare`` stands for the users whose requests match."""

    name: str
    user_share: Fraction = 0.0


class MirrorRoute(Strict):
    """Argo ``setMirrorRoute``: ``percentage`` of requests copied to the canary."""

    name: str
    percentage: Annotated[float, Field(ge=0, le=100)] = 100.0


class ExperimentTemplate(Strict):
    """A replica set the experiment runs: ``specRef`` stable (a baseline) or canary."""

    name: str
    spec_ref: Literal["stable", "canary"]
    replicas: Annotated[int, Field(ge=0)] = 1
    #: Traffic the router sends it, taken from the stable side (needs trafficRouting).
    weight: Annotated[int, Field(ge=0, le=100)] | None = None


class ExperimentAnalysis(Strict):
    """An analysis run of the experiment; a failure fails the experiment and the rollout."""

    name: str
    template_name: str
    required_for_completion: bool = False


class Experiment(Strict):
    """An Argo canary ``experiment`` step: extra replica sets for ``duration`` (or until the
    analyses ``requiredForCompletion`` complete), with analyses deciding the step. A query's
    ``of:`` may name a template (its version: a baseline measures as its version does)."""

    duration: ArgoPauseDuration | None = None
    templates: Annotated[list[ExperimentTemplate], Field(min_length=1)]
    analyses: list[ExperimentAnalysis] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rules(self) -> Experiment:
        out = []
        names = [t.name for t in self.templates]
        for i, name in enumerate(names):
            if name in names[:i]:
                out.append(problem(("templates", i, "name"), f"'{name}' is given twice"))
        if self.duration is None and not any(a.required_for_completion for a in self.analyses):
            out.append(
                problem(
                    (),
                    "without a duration an experiment runs until its analyses with "
                    "requiredForCompletion complete: give one or the other",
                )
            )
        raise_problems(type(self).__name__, out)
        return self

    def run_refs(self) -> list[RunRef]:
        """Each analysis as a one-template run, for the template checks."""
        return [
            RunRef(templates=[TemplateRef(template_name=a.template_name)]) for a in self.analyses
        ]


class CanaryStep(Strict):
    """Exactly one of the step kinds."""

    set_weight: Annotated[int, Field(ge=0)] | None = None  # <= maxTrafficWeight: ArgoCanary
    pause: Pause | None = None
    analysis: RunRef | None = None
    set_canary_scale: SetCanaryScale | None = None
    set_header_route: HeaderRoute | None = None
    set_mirror_route: MirrorRoute | None = None
    experiment: Experiment | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> CanaryStep:
        kinds = [k for k, v in self if v is not None]
        if len(kinds) != 1:
            got = " and ".join(to_camel(k) for k in kinds) if kinds else "none"
            raise ValueError(
                "a step has exactly one of setWeight, pause, analysis, "
                f"setCanaryScale, setHeaderRoute, setMirrorRoute, experiment (got {got})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self if v is not None)


class ArgoCanary(Strict):
    """Argo Rollouts ``spec.strategy.canary``."""

    steps: list[CanaryStep] = Field(default_factory=list)
    max_surge: ArgoIntOrPercent = "25%"
    max_unavailable: ArgoMaxUnavailable = "25%"
    traffic_routing: dict[str, Any] | None = None
    max_traffic_weight: Annotated[int, Field(gt=0)] = 100
    dynamic_stable_scale: bool = False
    abort_scale_down_delay_seconds: Duration = 30.0
    scale_down_delay_seconds: Duration = 30.0
    min_pods_per_replica_set: Annotated[int, Field(ge=1)] | None = None
    analysis: RunRef | None = None
    replica_progress_threshold: ReplicaProgressThreshold | None = None
    #: With dynamicStableScale, how an abort returns traffic: ``stepped`` (Argo today:
    #: the weight walks down the setWeight steps as stable scales back up) or
    #: ``immediate`` (older releases: weight 0 at once onto a stable side still scaled
    #: down, which overloads it).
    abort_weight_policy: Literal["stepped", "immediate"] = "stepped"

    @model_validator(mode="after")
    def _rules(self) -> ArgoCanary:
        """Argo's ValidateRolloutStrategyCanary and the controller's parse of maxSurge /
        maxUnavailable (:mod:`simdeploy.rules.progressive_validation`), every problem at once."""
        out = []
        routed, given = self.traffic_routing is not None, self.model_fields_set
        surge = pv.argo_int_or_percent_errors(self.max_surge, max_100_percent=False)
        unavailable = pv.argo_int_or_percent_errors(self.max_unavailable, max_100_percent=True)
        out += [problem(("maxSurge",), m, self.max_surge) for m in surge]
        out += [problem(("maxUnavailable",), m, self.max_unavailable) for m in unavailable]
        if not surge and not unavailable:
            both = pv.invalid_max_surge_max_unavailable(self.max_surge, self.max_unavailable)
            out += [problem(("maxSurge",), m, self.max_surge) for m in both]
        if self.dynamic_stable_scale and not routed:
            out.append(problem(("dynamicStableScale",), "requires trafficRouting"))
        if not routed and "max_traffic_weight" in given:
            out.append(
                problem(
                    ("maxTrafficWeight",),
                    "requires trafficRouting (Argo: trafficRouting.maxTrafficWeight, the total "
                    "weight the router splits)",
                )
            )
        if "scale_down_delay_seconds" in given:
            if not routed:
                msg = pv.INVALID_CANARY_SCALE_DOWN_DELAY_MSG
                out.append(problem(("scaleDownDelaySeconds",), msg))
            elif self.dynamic_stable_scale:
                msg = pv.INVALID_CANARY_DYNAMIC_STABLE_SCALE_WITH_SCALE_DOWN_DELAY_MSG
                out.append(problem(("dynamicStableScale",), msg))
        max_w = self.max_traffic_weight
        for i, step in enumerate(self.steps):
            at = ("steps", i)
            if step.set_weight is not None:
                out += [
                    problem((*at, "setWeight"), m, step.set_weight)
                    for m in pv.set_weight_errors(step.set_weight, max_w)
                ]
            scale = step.set_canary_scale
            if scale is not None and not routed:
                out.append(problem((*at, "setCanaryScale"), "requires trafficRouting"))
            if scale is not None and scale.weight is not None:
                out += [
                    problem((*at, "setCanaryScale", "weight"), m, scale.weight)
                    for m in pv.set_canary_scale_weight_errors(scale.weight, max_w)
                ]
            if step.set_header_route is not None and not routed:
                out.append(problem((*at, "setHeaderRoute"), "requires trafficRouting"))
            if step.set_mirror_route is not None and not routed:
                out.append(problem((*at, "setMirrorRoute"), "requires trafficRouting"))
            if step.experiment is not None and not routed:
                for k, t in enumerate(step.experiment.templates):
                    if t.weight is not None:
                        at_t = (*at, "experiment", "templates", k, "weight")
                        out.append(problem(at_t, "requires trafficRouting"))
            if step.analysis is not None and "starting_step" in step.analysis.model_fields_set:
                out.append(problem((*at, "analysis", "startingStep"), _STARTING_STEP_ONLY))
        if self.analysis is not None:
            out += [
                problem(("analysis", "startingStep"), m, self.analysis.starting_step)
                for m in pv.starting_step_errors(self.analysis.starting_step, len(self.steps))
            ]
        raise_problems(type(self).__name__, out)
        return self

    @property
    def routed(self) -> bool:
        return self.traffic_routing is not None

    @property
    def abort_scale_down_delay_given(self) -> float | None:
        """``abortScaleDownDelaySeconds`` as written, None when absent (upstream's nil
        pointer): "explicitly set" means present in the spec, whatever the value."""
        given = "abort_scale_down_delay_seconds" in self.model_fields_set
        return self.abort_scale_down_delay_seconds if given else None


# --- Argo blue/green ------------------------------------------------------------------------


class ArgoBlueGreen(Strict):
    """Argo Rollouts ``spec.strategy.blueGreen``.

    ``previewTraffic`` (req/s) is the simulator's stand-in for the smoke tests a team
    points at the preview Service, so that pre-promotion analysis has data to judge.
    """

    active_service: str = "active"
    preview_service: str | None = "preview"
    preview_replica_count: Annotated[int, Field(ge=0)] | None = None
    auto_promotion_enabled: bool = True
    auto_promotion_seconds: Duration | None = None
    scale_down_delay_seconds: Duration = 30.0
    abort_scale_down_delay_seconds: Duration = 30.0
    pre_promotion_analysis: RunRef | None = None
    post_promotion_analysis: RunRef | None = None
    preview_traffic: Annotated[float, Field(ge=0)] = 0.0

    @property
    def abort_scale_down_delay_given(self) -> float | None:
        """``abortScaleDownDelaySeconds`` as written, None when absent (upstream's nil
        pointer); 0 keeps the preview up after an abort."""
        given = "abort_scale_down_delay_seconds" in self.model_fields_set
        return self.abort_scale_down_delay_seconds if given else None

    @model_validator(mode="after")
    def _rules(self) -> ArgoBlueGreen:
        """ValidateRolloutStrategyBlueGreen, and no startingStep outside a canary's
        background analysis; every problem at once."""
        out = []
        msgs = pv.blue_green_services_errors(self.active_service, self.preview_service)
        out += [problem(("activeService",), m, self.active_service) for m in msgs]
        for name, run in (
            ("prePromotionAnalysis", self.pre_promotion_analysis),
            ("postPromotionAnalysis", self.post_promotion_analysis),
        ):
            if run is not None and "starting_step" in run.model_fields_set:
                out.append(problem((name, "startingStep"), _STARTING_STEP_ONLY))
        raise_problems(type(self).__name__, out)
        return self


# --- Flagger --------------------------------------------------------------------------------


class ThresholdRange(Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _order(self) -> ThresholdRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise_problems(
                type(self).__name__,
                [problem(("min",), f"{self.min:g} is above max {self.max:g}: every check fails")],
            )
        return self


#: Flagger's built-in metrics.
FLAGGER_BUILT_IN = ("request-success-rate", "request-duration")


class FlaggerMetric(Strict):
    """A Flagger metric: the built-ins ``request-success-rate`` (%) and ``request-duration``
    (ms, p99), or any name with a simulator ``query`` (what a MetricTemplate's query measures;
    its value in the units of ``thresholdRange``, see ``SimQuery.scale``)."""

    # JSON Schema: a name other than the built-ins needs a query, as _known says.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"name": {"not": {"enum": list(FLAGGER_BUILT_IN)}}}},
            "then": {"required": ["query"]},
        }
    )

    name: str
    threshold_range: ThresholdRange
    interval: Annotated[Duration, Field(gt=0)] = 60.0
    min_requests: Annotated[int, Field(ge=1)] = 1
    query: SimQuery | None = None

    @model_validator(mode="after")
    def _known(self) -> FlaggerMetric:
        if self.query is None and self.name not in FLAGGER_BUILT_IN:
            raise_problems(
                type(self).__name__,
                [
                    problem(
                        ("name",),
                        f"{self.name!r} is not a built-in metric (request-success-rate, "
                        "request-duration): give its query",
                    )
                ],
            )
        return self


#: Flagger's webhook types; the ``confirm-*`` ones are gates.
FlaggerWebhookType = Literal[
    "confirm-rollout",
    "pre-rollout",
    "rollout",
    "confirm-traffic-increase",
    "confirm-promotion",
    "post-rollout",
    "rollback",
    "event",
]
FLAGGER_GATES = ("confirm-rollout", "confirm-traffic-increase", "confirm-promotion")


class FlaggerWebhook(Strict):
    """A Flagger webhook. The service it calls is not simulated: a gate (``confirm-rollout``
    before the canary is scaled up, ``confirm-traffic-increase`` before each weight
    increase, ``confirm-promotion`` before the promotion) waits for a ``promote`` plan
    action (the approval), unless ``approved``; once approved it stays open, as
    flagger-loadtester's gate does. The other types are taken to pass (a ``rollback`` hook
    is the plan's ``rollback`` action)."""

    name: str
    type: FlaggerWebhookType = "rollout"
    approved: bool = False


class FlaggerMatch(Strict):
    user_share: Fraction


class FlaggerAnalysis(Strict):
    """Flagger ``spec.analysis`` (defaults as upstream: interval 60 s, threshold 1)."""

    interval: Annotated[Duration, Field(ge=1)] = 60.0
    threshold: int = 1
    max_weight: Annotated[int, Field(ge=0, le=100)] | None = None
    step_weight: Annotated[int, Field(ge=0, le=100)] | None = None
    step_weights: list[Annotated[int, Field(ge=0, le=100)]] | None = None
    step_weight_promotion: Annotated[int, Field(ge=0, le=100)] = 0
    iterations: Annotated[int, Field(ge=0)] = 0
    match: list[FlaggerMatch] | None = None
    mirror: bool = False
    mirror_weight: Annotated[int, Field(ge=0, le=100)] = 100
    metrics: list[FlaggerMetric] = Field(default_factory=list)
    webhooks: list[FlaggerWebhook] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rules(self) -> FlaggerAnalysis:
        """Every problem at once; threshold and maxWeight as
        :mod:`simdeploy.rules.progressive_validation` says Flagger reads them."""
        out = []
        if not self.iterations and not self.step_weight and not self.step_weights:
            out.append(
                problem(
                    (), "set stepWeight, stepWeights or iterations (else the canary never advances)"
                )
            )
        if self.match and not self.iterations:
            out.append(problem(("match",), "A/B testing needs iterations"))
        if "threshold" in self.model_fields_set:
            out += [
                problem(("threshold",), m, self.threshold)
                for m in pv.flagger_threshold_errors(self.threshold)
            ]
        if self.max_weight is not None:
            out += [
                problem(("maxWeight",), m, self.max_weight)
                for m in pv.flagger_max_weight_errors(self.max_weight)
            ]
        raise_problems(type(self).__name__, out)
        return self


class FlaggerCanary(Strict):
    """Flagger ``Canary.spec`` (the parts that shape a rollout)."""

    analysis: FlaggerAnalysis
    skip_analysis: bool = False


# --- shadow ---------------------------------------------------------------------------------


class ShadowAnalysis(Strict):
    """Abort the shadow when mismatches / comparisons exceeds ``maxMismatchRate``."""

    interval: Annotated[Duration, Field(gt=0)] = 30.0
    max_mismatch_rate: Fraction = 0.01
    min_comparisons: Annotated[int, Field(ge=1)] = 100


class Shadow(Strict):
    """Run the new version beside the old at full size and mirror traffic to it.

    Its responses are compared and discarded. Mirrored writes reach the shared
    database (``duplicate_writes``) unless ``readsOnly`` or ``separateDatabase``.
    After ``duration`` without a failed analysis the shadow is torn down and the
    rollout ends ``completed`` (validated); with ``promote`` it then rolls out for real.
    """

    percentage: Annotated[float, Field(ge=0, le=100)] = 100.0
    reads_only: bool = False
    separate_database: bool = False
    duration: Annotated[Duration, Field(gt=0)] = 300.0
    analysis: ShadowAnalysis | None = ShadowAnalysis()
    promote: bool = False
