"""``service.autoscaler``: a HorizontalPodAutoscaler on the Deployment (CPU-like target).

Spelled as ``autoscaling/v1`` spells it (``minReplicas``, ``maxReplicas``,
``targetCPUUtilizationPercentage``) and validated as the API server validates an HPA; the
kube-controller-manager flags that shape its behaviour (sync period, tolerance, downscale
stabilisation, CPU initialisation period, initial readiness delay) can be set here too, with
their upstream defaults. The arithmetic is :mod:`simdeploy.rules.hpa`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from simdeploy.rules.hpa import (
    DEFAULT_CPU_INITIALIZATION_PERIOD_S,
    DEFAULT_DOWNSCALE_STABILIZATION_S,
    DEFAULT_INITIAL_READINESS_DELAY_S,
    DEFAULT_SYNC_PERIOD_S,
    DEFAULT_TOLERANCE,
)
from simdeploy.spec.base import Duration, Strict, problem, raise_problems


class Autoscaler(Strict):
    """A HorizontalPodAutoscaler targeting the Deployment.

    The "CPU" of a pod is its busy workers over ``pod.concurrency`` (request = all workers),
    averaged over the sync period; the HPA sets the Deployment's ``replicas``, which the
    Deployment controller scales proportionally across replica sets during a rollout.
    """

    min_replicas: int = Field(1, description="HPA spec.minReplicas (default 1)")
    max_replicas: int = Field(description="HPA spec.maxReplicas")
    target_cpu_utilization_percentage: int = Field(
        80,
        alias="targetCPUUtilizationPercentage",
        description="percent of each pod's workers busy, averaged over the sync period",
    )
    sync_period: Annotated[Duration, Field(gt=0)] = Field(
        DEFAULT_SYNC_PERIOD_S, description="--horizontal-pod-autoscaler-sync-period"
    )
    tolerance: Annotated[float, Field(ge=0, lt=1)] = Field(
        DEFAULT_TOLERANCE, description="--horizontal-pod-autoscaler-tolerance"
    )
    downscale_stabilization: Duration = Field(
        DEFAULT_DOWNSCALE_STABILIZATION_S,
        description="--horizontal-pod-autoscaler-downscale-stabilization",
    )
    cpu_initialization_period: Duration = Field(
        DEFAULT_CPU_INITIALIZATION_PERIOD_S,
        description="--horizontal-pod-autoscaler-cpu-initialization-period",
    )
    initial_readiness_delay: Duration = Field(
        DEFAULT_INITIAL_READINESS_DELAY_S,
        description="--horizontal-pod-autoscaler-initial-readiness-delay",
    )

    @model_validator(mode="after")
    def _api_validation(self) -> Autoscaler:
        """validateHorizontalPodAutoscalerSpec (pkg/apis/autoscaling/validation), every error."""
        problems = []
        if self.min_replicas < 1:
            problems.append(
                problem(
                    ("minReplicas",),
                    f"Invalid value: {self.min_replicas}: must be greater than or equal to 1",
                    self.min_replicas,
                )
            )
        if self.max_replicas < 1:
            problems.append(
                problem(
                    ("maxReplicas",),
                    f"Invalid value: {self.max_replicas}: must be greater than 0",
                    self.max_replicas,
                )
            )
        if self.max_replicas < self.min_replicas:
            problems.append(
                problem(
                    ("maxReplicas",),
                    f"Invalid value: {self.max_replicas}: "
                    "must be greater than or equal to `minReplicas`",
                    self.max_replicas,
                )
            )
        if self.target_cpu_utilization_percentage < 1:
            problems.append(
                problem(
                    ("targetCPUUtilizationPercentage",),
                    f"Invalid value: {self.target_cpu_utilization_percentage}: "
                    "must be greater than 0",
                    self.target_cpu_utilization_percentage,
                )
            )
        raise_problems(type(self).__name__, problems)
        return self
