"""Scenario models for progressive delivery: Argo Rollouts, Flagger, shadow, analysis.

Field names are the upstream ones (camelCase in YAML), so ``steps`` with ``setWeight``,
``pause``, ``analysis`` and ``setCanaryScale``, a blue/green block with
``previewReplicaCount`` and ``autoPromotionSeconds``, or a Flagger ``analysis`` block
with ``interval``, ``threshold``, ``stepWeight`` and ``maxWeight`` paste in from a manifest.

Where the simulator needs a stand-in for something outside it:

- metrics come from the simulator itself: an analysis metric's provider is
  ``{simdeploy: {metric: success_rate, of: canary, window: 1m, minRequests: 20}}``
  (``success_rate``, ``error_rate``, ``error_count``, ``request_count``, ``latency_p50`` /
  ``p95`` / ``p99`` in seconds), in place of a Prometheus query;
- header matching becomes a share of users: ``setHeaderRoute: {name: beta, userShare: 0.1}``
  (Argo) or ``match: [{userShare: 0.1}]`` (Flagger) sends a fixed 10% of users, picked by
  sticky bucketing, to the canary.

Pure: pydantic only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from simdeploy.rules.analysis_expr import InvalidCondition, parse_condition
from simdeploy.rules.int_or_percent import IntOrPercent
from simdeploy.spec.base import Duration, Fraction, Strict

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


# --- analysis ----------------------------------------------------------------------------


class SimQuery(Strict):
    """A metric query over the simulator's counters, like a PromQL query over a window.

    ``of``: a role (``canary``, ``stable``, ``preview``, ``active``) or a version name.
    Fewer than ``minRequests`` completed requests in the window → no data.
    """

    metric: QueryMetric
    of: str = "canary"
    window: Annotated[Duration, Field(gt=0)] = 60.0
    min_requests: Annotated[int, Field(ge=1)] = 1


class Provider(Strict):
    simdeploy: SimQuery


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
    interval: Duration | None = None
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
        for name, text in (
            ("successCondition", self.success_condition),
            ("failureCondition", self.failure_condition),
        ):
            try:
                _condition(text)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        if self.count is not None and self.count > 1 and self.interval is None:
            raise ValueError("interval: required when count > 1 (Argo: 'interval must be set')")
        return self


class AnalysisTemplate(Strict):
    metrics: Annotated[list[Metric], Field(min_length=1)]


class TemplateRef(Strict):
    template_name: str


class RunRef(Strict):
    """``analysis: {templates: [{templateName: x}]}`` of a step, background or gate."""

    templates: Annotated[list[TemplateRef], Field(min_length=1)]
    starting_step: Annotated[int, Field(ge=0)] = 0


# --- Argo canary --------------------------------------------------------------------------


class Pause(Strict):
    """``pause: {}`` waits for a ``promote`` plan action; with ``duration`` it times out."""

    duration: Duration | None = None


class SetCanaryScale(Strict):
    replicas: Annotated[int, Field(ge=0)] | None = None
    weight: Annotated[int, Field(ge=0)] | None = None
    match_traffic_weight: bool = False


class HeaderRoute(Strict):
    """Argo ``setHeaderRoute``; ``userShare`` stands for the users whose requests match."""

    name: str
    user_share: Fraction = 0.0


class MirrorRoute(Strict):
    """Argo ``setMirrorRoute``: ``percentage`` of requests copied to the canary."""

    name: str
    percentage: Annotated[float, Field(ge=0, le=100)] = 100.0


class CanaryStep(Strict):
    """Exactly one of the step kinds."""

    set_weight: Annotated[int, Field(ge=0, le=100)] | None = None
    pause: Pause | None = None
    analysis: RunRef | None = None
    set_canary_scale: SetCanaryScale | None = None
    set_header_route: HeaderRoute | None = None
    set_mirror_route: MirrorRoute | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> CanaryStep:
        kinds = [k for k, v in self if v is not None]
        if len(kinds) != 1:
            got = " and ".join(to_camel(k) for k in kinds) if kinds else "none"
            raise ValueError(
                "a step has exactly one of setWeight, pause, analysis, "
                f"setCanaryScale, setHeaderRoute, setMirrorRoute (got {got})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self if v is not None)


class ArgoCanary(Strict):
    """Argo Rollouts ``spec.strategy.canary``."""

    steps: list[CanaryStep] = Field(default_factory=list)
    max_surge: IntOrPercent = "25%"
    max_unavailable: IntOrPercent = "25%"
    traffic_routing: dict[str, Any] | None = None
    max_traffic_weight: Annotated[int, Field(gt=0)] = 100
    dynamic_stable_scale: bool = False
    abort_scale_down_delay_seconds: Duration = 30.0
    scale_down_delay_seconds: Duration = 30.0
    min_pods_per_replica_set: Annotated[int, Field(ge=1)] | None = None
    analysis: RunRef | None = None
    #: With dynamicStableScale, how an abort returns traffic: ``stepped`` (Argo today:
    #: the weight walks down the setWeight steps as stable scales back up) or
    #: ``immediate`` (older releases: weight 0 at once onto a stable side still scaled
    #: down, which overloads it).
    abort_weight_policy: Literal["stepped", "immediate"] = "stepped"

    @model_validator(mode="after")
    def _rules(self) -> ArgoCanary:
        if self.dynamic_stable_scale and self.traffic_routing is None:
            raise ValueError("dynamicStableScale: requires trafficRouting")
        for i, step in enumerate(self.steps):
            if step.set_canary_scale is not None and self.traffic_routing is None:
                raise ValueError(f"steps[{i}].setCanaryScale: requires trafficRouting")
            if step.set_header_route is not None and self.traffic_routing is None:
                raise ValueError(f"steps[{i}].setHeaderRoute: requires trafficRouting")
        return self

    @property
    def routed(self) -> bool:
        return self.traffic_routing is not None


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


# --- Flagger --------------------------------------------------------------------------------


class ThresholdRange(Strict):
    min: float | None = None
    max: float | None = None


class FlaggerMetric(Strict):
    """Flagger's built-ins: ``request-success-rate`` (%) and ``request-duration`` (ms, p99)."""

    name: Literal["request-success-rate", "request-duration"]
    threshold_range: ThresholdRange
    interval: Annotated[Duration, Field(gt=0)] = 60.0
    min_requests: Annotated[int, Field(ge=1)] = 1


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

    @model_validator(mode="after")
    def _rules(self) -> FlaggerAnalysis:
        if not self.iterations and not self.step_weight and not self.step_weights:
            raise ValueError(
                "set stepWeight, stepWeights or iterations (else the canary never advances)"
            )
        if self.match and not self.iterations:
            raise ValueError("match: A/B testing needs iterations")
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
