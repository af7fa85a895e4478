"""The ``service:`` section: the Deployment, its pod template and its strategy.

Replicas, ``minReadySeconds``, ``progressDeadlineSeconds``, ``revisionHistoryLimit`` and an
optional ``autoscaler`` (:mod:`simdeploy.spec.autoscaler`); the pod's timing (scheduling,
start-up, ``readinessProbe``, ``livenessProbe``, ``lifecycle.preStop``, termination grace);
the balancer; and the strategy, spelled as Kubernetes, Argo Rollouts or Flagger spell it
(the Argo / Flagger / shadow blocks themselves are in :mod:`simdeploy.spec.progressive`).
The same ``Strategy`` is used by ``plan[].strategy`` and ``compare``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from simdeploy.rules.rolling_update_validation import InvalidRolloutSpec, validate_rolling_update
from simdeploy.spec.autoscaler import Autoscaler
from simdeploy.spec.base import Duration, IntOrPercent, MaxUnavailable, Strict
from simdeploy.spec.distributions import Dist, DistSpec
from simdeploy.spec.progressive import ArgoBlueGreen, ArgoCanary, FlaggerCanary, Shadow


class Probe(Strict):
    """A readiness probe with Kubernetes' defaults (period 10 s, thresholds 1 / 3)."""

    initial_delay_seconds: Duration = 0.0
    period_seconds: Annotated[Duration, Field(gt=0)] = 10.0
    timeout_seconds: Annotated[Duration, Field(gt=0)] = 1.0
    success_threshold: Annotated[int, Field(ge=1)] = 1
    failure_threshold: Annotated[int, Field(ge=1)] = 3


class LivenessProbe(Probe):
    """A liveness probe: ``failureThreshold`` consecutive failures restart the container.

    Same fields and defaults as a readiness probe; ``successThreshold`` must be 1, as the API
    server requires (validateLivenessProbe).
    """

    @model_validator(mode="after")
    def _success_threshold_one(self) -> LivenessProbe:
        if self.success_threshold != 1:
            raise ValueError(
                f"successThreshold: Invalid value: {self.success_threshold}: must be 1"
            )
        return self


class SleepAction(Strict):
    seconds: Duration


class PreStop(Strict):
    sleep: SleepAction


class Lifecycle(Strict):
    """``lifecycle.preStop.sleep.seconds`` exactly as in a Kubernetes pod spec."""

    pre_stop: PreStop | None = None


class PodSpec(Strict):
    """The pod template's timing: scheduling, start-up, probes, termination, workers."""

    scheduling_delay: Dist = DistSpec(dist="constant", value=0.5)
    startup_delay: Dist = DistSpec(dist="constant", value=2.0)
    concurrency: Annotated[int, Field(ge=1)] = 8
    readiness_probe: Probe | None = None
    liveness_probe: LivenessProbe | None = None
    #: Until it passes, the readiness and liveness probes wait; ``failureThreshold`` failures
    #: restart the container (successThreshold must be 1, as for liveness).
    startup_probe: LivenessProbe | None = None
    lifecycle: Lifecycle | None = None
    termination_grace_period_seconds: Duration = 30.0
    crash_loop_back_off: Duration = Field(10.0, description="first restart back-off; doubles to 5m")

    @property
    def pre_stop_sleep_s(self) -> float:
        if self.lifecycle is None or self.lifecycle.pre_stop is None:
            return 0.0
        return self.lifecycle.pre_stop.sleep.seconds


class Balancer(Strict):
    """How requests pick a ready endpoint, and how late endpoint changes reach it."""

    policy: Literal["round_robin", "random", "least_outstanding"] = "round_robin"
    endpoint_propagation_delay: Duration = 1.0


class RollingUpdate(Strict):
    max_surge: IntOrPercent = "25%"
    max_unavailable: MaxUnavailable = "25%"


#: Strategy block key → strategy type; Kubernetes' own types use ``type:``.
BLOCKS = {
    "canary": "Canary",
    "blueGreen": "BlueGreen",
    "flagger": "Flagger",
    "shadow": "Shadow",
}


class Strategy(Strict):
    """A deployment strategy, spelled as its tool spells it.

    Kubernetes: ``{type: Recreate}`` or ``{type: RollingUpdate, rollingUpdate: {...}}``.
    Argo Rollouts: ``{canary: {steps: [...]}}`` or ``{blueGreen: {...}}``. Flagger:
    ``{flagger: {analysis: {...}}}``. Shadow: ``{shadow: {...}}``. The block names the type.
    """

    type: Literal["Recreate", "RollingUpdate", "Canary", "BlueGreen", "Flagger", "Shadow"] = (
        "RollingUpdate"
    )
    rolling_update: RollingUpdate | None = None
    canary: ArgoCanary | None = None
    blue_green: ArgoBlueGreen | None = None
    flagger: FlaggerCanary | None = None
    shadow: Shadow | None = None

    @model_validator(mode="before")
    @classmethod
    def _type_from_block(cls, data: Any) -> Any:
        if isinstance(data, dict):
            spelled = {k: (k, _FIELD[BLOCKS[k]]) for k in BLOCKS}
            blocks = [
                k for k, names in spelled.items() if any(data.get(n) is not None for n in names)
            ]
            if len(blocks) > 1:
                raise ValueError(f"give one strategy block, not {' and '.join(blocks)}")
            if blocks:
                want = BLOCKS[blocks[0]]
                if data.get("type", want) != want:
                    raise ValueError(f"type: {data['type']} does not match the {blocks[0]} block")
                data = {**data, "type": want}
        return data

    @model_validator(mode="after")
    def _k8s_rules(self) -> Strategy:
        if self.type == "Recreate" and self.rolling_update is not None:
            raise ValueError(
                "rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
            )
        if self.type in BLOCKS.values() and getattr(self, _field(self.type)) is None:
            raise ValueError(f"type {self.type} needs its {_block(self.type)} block")
        if self.type == "RollingUpdate":
            ru = self.rolling_update or RollingUpdate()
            try:
                validate_rolling_update(ru.max_surge, ru.max_unavailable)
            except InvalidRolloutSpec as exc:
                # One line per Kubernetes validation error (see format_validation_error).
                raise PydanticCustomError(
                    "k8s_invalid", "{first}", {"first": exc.errors[0], "errors": exc.errors}
                ) from None
        return self

    @property
    def rolling(self) -> RollingUpdate:
        return self.rolling_update or RollingUpdate()

    @property
    def kubernetes(self) -> Strategy:
        """The Deployment's own ``spec.strategy``: this one when it is Recreate or
        RollingUpdate, else Kubernetes' default (RollingUpdate, 25% / 25%).

        A progressive block (Argo, Flagger, shadow) is not a Deployment strategy: Flagger's
        primary and a promoted shadow roll out with this, so a block behaves the same in
        ``service.strategy`` as in ``plan[].strategy``.
        """
        return self if self.type in ("Recreate", "RollingUpdate") else Strategy()

    @property
    def label(self) -> str:
        if self.type == "Recreate":
            return "Recreate"
        if self.type == "RollingUpdate":
            ru = self.rolling
            return f"RollingUpdate(maxSurge={ru.max_surge}, maxUnavailable={ru.max_unavailable})"
        if self.type == "Canary" and self.canary is not None:
            router = "traffic router" if self.canary.routed else "no traffic router"
            return f"Canary ({len(self.canary.steps)} steps, {router})"
        return self.type


def _block(type_: str) -> str:
    return next(k for k, v in BLOCKS.items() if v == type_)


def _field(type_: str) -> str:
    return _FIELD[type_]


#: Strategy type → its block's Python field name.
_FIELD = {"Canary": "canary", "BlueGreen": "blue_green", "Flagger": "flagger", "Shadow": "shadow"}


class Service(Strict):
    """The Deployment: replicas, the version running at t=0, its strategy and pod template."""

    version: str
    replicas: Annotated[int, Field(ge=0)] = 3
    min_ready_seconds: Duration = 0.0
    progress_deadline_seconds: Duration | None = 600.0
    revision_history_limit: Annotated[int, Field(ge=0)] = Field(
        10, description="old replica sets kept for rollout undo (apps/v1 default 10)"
    )
    autoscaler: Autoscaler | None = None
    strategy: Strategy = Strategy()
    pod: PodSpec = PodSpec()
    balancer: Balancer = Balancer()

    @model_validator(mode="after")
    def _deadline(self) -> Service:
        pds = self.progress_deadline_seconds
        if pds is not None and pds <= self.min_ready_seconds:
            raise ValueError(
                "progressDeadlineSeconds: Invalid value: must be greater than minReadySeconds"
            )
        return self
