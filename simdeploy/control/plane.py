"""The control plane of one run: the Deployment controller and the rollouts it went through."""

from __future__ import annotations

from dataclasses import dataclass, field

from simdeploy.control.autoscaler import HorizontalPodAutoscaler
from simdeploy.control.deployment import Deployment
from simdeploy.control.rollback import Rollout
from simdeploy.world.world import World


@dataclass(eq=False)
class ControlPlane:
    """The Deployment (``spec.replicas``, template, status) and one :class:`Rollout` per
    deploy action, oldest first, acting on ``world``; the HorizontalPodAutoscaler when
    ``service.autoscaler`` is set."""

    world: World
    deployment: Deployment
    rollouts: list[Rollout] = field(default_factory=list)
    autoscaler: HorizontalPodAutoscaler | None = None

    @property
    def rollout(self) -> Rollout | None:
        """The latest rollout (the one a rollback or promote action applies to)."""
        return self.rollouts[-1] if self.rollouts else None
