"""The Deployment object and its controller loop (control plane).

Like ``syncDeployment`` in kube-controller-manager: the controller wakes on any change
it watches (pods, replica sets, template, timers), and each pass calls the strategy's
``sync`` (``strategies/recreate.py`` or ``strategies/rolling.py``), which performs at
most one scale action and returns whether it did. A pass that changed something is
followed at once by another (the replica set update would re-queue the deployment), so
a simulated instant sees the same sequence of scale actions as the real controller.
Then status is synced: progress, completion, ``progressDeadlineSeconds``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simdeploy.rules.deployment_status import (
    DeploymentStatus,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
)
from simdeploy.rules.replica_math import RSState
from simdeploy.spec.service import Strategy
from simdeploy.world.cluster import GONE, Cluster, ReplicaSet

#: One reconcile pass of a Kubernetes strategy: at most one scale action; True if it did.
Sync = Callable[["Deployment"], bool]

#: Owner name of the Deployment's replica sets (``app-<version>``).
OWNER = "app"

#: Bound on sync passes in one instant; a pass performs one scale action, so a rollout
#: needs only a handful — hitting this would mean a controller bug, not a slow rollout.
MAX_PASSES = 64


@dataclass
class StatusRow:
    """Deployment status after a sync that changed it (``kubectl get deploy -w``)."""

    t: float
    spec_total: int
    replicas: int
    updated: int
    ready: int
    available: int
    pods: int
    template: str


class Deployment:
    """``spec.replicas``, the pod template (a version) and the strategy; status and conditions."""

    def __init__(
        self,
        env: simpy.Environment,
        cluster: Cluster,
        replicas: int,
        version: str,
        strategy: Strategy,
        progress_deadline_s: float | None,
        sync_for: Callable[[str], Sync | None],
    ) -> None:
        """``sync_for(strategy type)`` is the strategy's reconcile pass, or None for a
        progressive strategy that drives the pods itself (the registry is handed in, so
        this module never names the strategies that build on it)."""
        self.env = env
        self.sync_for = sync_for
        self.cluster = cluster
        self.replicas = replicas
        self.template = version
        self.strategy = strategy
        self.min_ready_s = cluster.min_ready_s
        self.progress_deadline_s = progress_deadline_s
        self.status = DeploymentStatus(0, 0, 0, 0)
        self.complete = True
        self.timed_out = False
        self.last_progress = 0.0
        self.status_log: list[StatusRow] = []
        #: True while another controller (Argo Rollouts, Flagger, a shadow) owns the pods.
        self.suspended = False
        self._wake = env.event()
        self._complete_event = env.event()
        self._deadline_event = env.event()
        cluster.on_change.append(self.wake)
        env.process(self._controller())

    # -- queries ----------------------------------------------------------------------
    def owned(self) -> list[ReplicaSet]:
        """Replica sets of this Deployment (not Flagger's canary, not a shadow)."""
        return [rs for rs in self.cluster.replica_sets if rs.owner == OWNER]

    def new_rs(self) -> ReplicaSet | None:
        """The RS whose template equals the deployment's (oldest first), if any."""
        for rs in self.owned():
            if rs.version == self.template:
                return rs
        return None

    def old_rss(self) -> list[ReplicaSet]:
        return [rs for rs in self.owned() if rs.version != self.template]

    def rs_state(self, rs: ReplicaSet) -> RSState:
        _, _, available = rs.counts(self.min_ready_s, self.env.now)
        return RSState(rs.name, rs.created_at, rs.spec_replicas, available)

    def old_pods_running(self) -> bool:
        """Recreate's wait: any pod not of the new RS that is not yet gone."""
        return any(p.phase != GONE for rs in self.old_rss() for p in rs.pods)

    # -- actions ----------------------------------------------------------------------
    def set_template(self, version: str, strategy: Strategy | None = None) -> None:
        """A template change (a deploy, or ``rollout undo`` back to an old version)."""
        if strategy is not None:
            self.strategy = strategy
        if version == self.template:
            return
        self.template = version
        existing = self.new_rs()
        if existing is not None:
            self.cluster.bump_revision(existing)
        self.complete = False
        self.timed_out = False
        self.last_progress = self.env.now
        self._complete_event = self.env.event()
        self._deadline_event = self.env.event()
        self._arm_deadline()
        self.wake()

    def until_complete(self) -> simpy.Event:
        """An event that succeeds when the current template's rollout is complete
        (already succeeded when it is complete now)."""
        if self.complete and not self._complete_event.triggered:
            self._complete_event.succeed(self.env.now)
        return self._complete_event

    def until_timed_out(self) -> simpy.Event:
        return self._deadline_event

    def wake(self) -> None:
        if not self._wake.triggered:
            self._wake.succeed()

    # -- controller -------------------------------------------------------------------
    def _controller(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self._wake
            self._wake = self.env.event()
            if self.suspended:
                continue
            sync = self.sync_for(self.strategy.type)
            if sync is None:  # a progressive strategy drives the pods itself
                continue
            for _ in range(MAX_PASSES):
                if not sync(self):
                    break
            self._sync_status()

    def _sync_status(self) -> None:
        """progress.go's syncRolloutStatus: progress, completion, deadline."""
        now = self.env.now
        old = self.status
        new = self._calculate_status()
        self.status = new
        pods = self.cluster.pod_count
        total = sum(rs.spec_replicas for rs in self.owned())
        row = StatusRow(
            now,
            total,
            new.replicas,
            new.updated_replicas,
            new.ready_replicas,
            new.available_replicas,
            pods,
            self.template,
        )
        if not self.status_log or _row_key(self.status_log[-1]) != _row_key(row):
            self.status_log.append(row)
        if self.complete:
            return
        if deployment_complete(self.replicas, new):
            self.complete = True
            self.cluster.recorder.event(
                now, "NewReplicaSetAvailable", "deployment", self.template, "rollout complete"
            )
            self._complete_event.succeed(now)
        elif deployment_progressing(new, old):
            self.last_progress = now
            self._arm_deadline()
        elif not self.timed_out and deployment_timed_out(
            self.last_progress, self.progress_deadline_s, now, False
        ):
            self.timed_out = True
            self.cluster.recorder.event(
                now, "ProgressDeadlineExceeded", "deployment", self.template
            )
            self._deadline_event.succeed(now)

    def _calculate_status(self) -> DeploymentStatus:
        now = self.env.now
        replicas = ready = available = 0
        updated = 0
        for rs in self.owned():
            r, rd, av = rs.counts(self.min_ready_s, now)
            replicas, ready, available = replicas + r, ready + rd, available + av
            if rs.version == self.template:
                updated = r
        return DeploymentStatus(replicas, updated, ready, available)

    def _arm_deadline(self) -> None:
        # Re-check just after the deadline (the comparison is strict, as upstream).
        if self.progress_deadline_s is not None:
            delay = self.progress_deadline_s + 1e-6
            self.env.timeout(delay).callbacks.append(lambda _e: self.wake())


def _row_key(row: StatusRow) -> tuple[int, ...]:
    return (row.spec_total, row.replicas, row.updated, row.ready, row.available, row.pods)
