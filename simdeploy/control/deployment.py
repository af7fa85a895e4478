"""The Deployment object and its controller loop (control plane).

Like ``syncDeployment`` in kube-controller-manager: the controller wakes on any change
it watches (pods, replica sets, template, replicas, timers), and each pass either handles a
scaling event (``spec.replicas`` changed: :mod:`simdeploy.rules.proportional_scaling`) or
calls the strategy's ``sync`` (``strategies/recreate.py`` or ``strategies/rolling.py``),
which performs at most one scale action and returns whether it did; a pass that scaled
nothing on a complete rollout cleans up old replica sets beyond ``revisionHistoryLimit``
(:mod:`simdeploy.rules.revision_history`). A pass that changed something is followed at
once by another (the replica set update would re-queue the deployment), so a simulated
instant sees the same sequence of scale actions as the real controller. Then status is
synced: progress, completion, ``progressDeadlineSeconds``.
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
from simdeploy.rules.proportional_scaling import (
    ScalingRS,
    is_scaling_event,
    replicas_annotations,
)
from simdeploy.rules.proportional_scaling import scale as proportional_scale
from simdeploy.rules.recreate_wait import old_pods_running
from simdeploy.rules.replica_math import RSState, max_surge
from simdeploy.rules.revision_history import RevisionRS, cleanup_deployment, rollback_target
from simdeploy.spec.service import Strategy
from simdeploy.world.cluster import Cluster
from simdeploy.world.pod import PENDING, RUNNING, ReplicaSet

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
        revision_history_limit: int | None = 10,
    ) -> None:
        """``sync_for(strategy type)`` is the strategy's reconcile pass, or None for a
        progressive strategy that drives the pods itself (the registry is handed in, so
        this module never names the strategies that build on it). Replica sets running at
        t=0 get the annotations the controller would have written when it sized them."""
        self.env = env
        self.sync_for = sync_for
        self.cluster = cluster
        self.replicas = replicas
        #: (time, ``spec.replicas``) at the start and at each change: the capacity the
        #: Deployment asks for over time (``extra_cost`` and the rollback's "back at full
        #: capacity" compare with it).
        self.replicas_log: list[tuple[float, int]] = [(env.now, replicas)]
        self.template = version
        self.strategy = strategy
        self.min_ready_s = cluster.min_ready_s
        self.progress_deadline_s = progress_deadline_s
        self.revision_history_limit = revision_history_limit
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
        for rs in self.owned():
            if rs.spec_replicas > 0:
                self._annotate(rs)
        cluster.on_change.append(self.wake)
        env.process(self._controller())

    # -- queries ----------------------------------------------------------------------
    def owned(self) -> list[ReplicaSet]:
        """Replica sets of this Deployment (not Flagger's canary, not a shadow, not deleted)."""
        return [rs for rs in self.cluster.replica_sets if rs.owner == OWNER and not rs.deleted]

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

    def max_surge(self) -> int:
        """``MaxSurge(d)``: maxSurge resolved against ``replicas``; 0 for Recreate."""
        if self.strategy.type != "RollingUpdate":
            return 0
        ru = self.strategy.rolling
        return max_surge(self.replicas, ru.max_surge, ru.max_unavailable)

    def old_pods_running(self) -> bool:
        """Recreate's wait (``oldPodsRunning``): an old replica set still counts pods, or a
        pod not of the new replica set is not yet gone (terminating pods included)."""
        new = self.new_rs()
        olds = self.old_rss()
        # A pod in rs.pods is never in a terminal phase (gone pods leave the list), so one
        # pod per replica set decides as well as all of them, and a pass costs no pod scan.
        phases = {
            rs.name + ("#deleted" if rs.deleted else ""): [
                _PHASES.get(p.phase, "Running") for p in rs.pods[:1]
            ]
            for rs in self.cluster.replica_sets
            if rs.owner == OWNER
        }
        return old_pods_running(
            new.name if new is not None else None, [rs.n_active for rs in olds], phases
        )

    def _scaling_state(self, rs: ReplicaSet) -> ScalingRS:
        _, _, available = rs.counts(self.min_ready_s, self.env.now)
        return ScalingRS(
            rs.name,
            rs.created_at,
            rs.spec_replicas,
            available,
            rs.desired_replicas_annotation,
            rs.max_replicas_annotation,
        )

    def is_scaling_event(self) -> bool:
        """``isScalingEvent``: an active replica set was sized for another ``replicas`` (read
        from spec and annotations only: it runs on every pass, so it counts no pods)."""
        return is_scaling_event(
            self.replicas,
            [
                ScalingRS(
                    rs.name, rs.created_at, rs.spec_replicas, 0, rs.desired_replicas_annotation
                )
                for rs in self.owned()
            ],
        )

    # -- actions ----------------------------------------------------------------------
    def _annotate(self, rs: ReplicaSet) -> None:
        """``SetReplicasAnnotations``: desired-replicas and max-replicas for the current spec."""
        desired, most = replicas_annotations(self.replicas, self.max_surge())
        rs.desired_replicas_annotation, rs.max_replicas_annotation = desired, most

    def scale(self, rs: ReplicaSet, replicas: int, reason: str = "") -> None:
        """``scaleReplicaSet``: size ``rs`` and refresh its replicas annotations."""
        self._annotate(rs)
        self.cluster.scale(rs, replicas, reason)

    def new_rs_or_create(self) -> ReplicaSet:
        """The new replica set, created at 0 (annotated, as ``getNewReplicaSet`` creates it)
        when the template has none."""
        rs = self.new_rs()
        if rs is None:
            rs = self.cluster.replica_set(self.template)
            self._annotate(rs)
        return rs

    def set_replicas(self, replicas: int) -> None:
        """A change of ``spec.replicas`` (``kubectl scale``, the HPA): the next sync sees a
        scaling event and scales the replica sets proportionally."""
        if replicas != self.replicas:
            self.replicas = replicas
            self.replicas_log.append((self.env.now, replicas))
            self.wake()

    def undo_target(self, previous: str) -> tuple[str | None, str | None]:
        """What ``kubectl rollout undo`` rolls back to: (version, None), or (None, the error
        kubectl prints) when no previous revision is kept (``revisionHistoryLimit``).

        ``previous`` is the template the rollout replaced; while its replica set is kept it is
        the previous revision (cleanup deletes the lowest revisions first, so once it is gone
        so are all older ones, and kubectl finds none)."""
        owned = self.owned()
        if any(rs.version == previous for rs in owned):
            return previous, None
        target, error = rollback_target(
            [RevisionRS(rs.name, rs.created_at, rs.spec_replicas, 0, rs.revision) for rs in owned],
            deployment=OWNER,
        )
        if target is None:
            return None, error
        return next(rs.version for rs in owned if rs.name == target.name), None

    def set_template(self, version: str, strategy: Strategy | None = None) -> None:
        """A template change (a deploy, or ``rollout undo`` back to an old version)."""
        if version == self.template:
            if strategy is not None and strategy != self.strategy:
                # Any spec change re-queues the Deployment (updateDeployment): a new
                # strategy for the same template takes effect at once, not at the next
                # pod or replica set change.
                self.strategy = strategy
                self.wake()
            return
        if strategy is not None:
            self.strategy = strategy
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
                if not self._sync_pass(sync):
                    break
            self._sync_status()

    def _sync_pass(self, sync: Sync) -> bool:
        """One ``syncDeployment``: a scaling event is handled by ``scale`` (sync.go), anything
        else by the strategy's rollout pass; a complete rollout that scaled nothing cleans up
        old replica sets (``cleanupDeployment``). True when something was written."""
        if self.is_scaling_event():
            return self._scale_proportionally()
        if sync(self):
            return True
        limit = self.revision_history_limit
        if (
            limit is not None
            and len(self.old_rss()) > limit  # nothing to clean up otherwise: skip the status
            and deployment_complete(self.replicas, self._calculate_status())
        ):
            self._cleanup()
        return False

    def _scale_proportionally(self) -> bool:
        """sync.go's ``scale``: every replica set it writes gets its size and annotations."""
        new = self.new_rs()
        sizes = proportional_scale(
            self.replicas,
            self.max_surge(),
            self.strategy.type == "RollingUpdate",
            self._scaling_state(new) if new is not None else None,
            [self._scaling_state(rs) for rs in self.old_rss()],
            self.status.replicas,
        )
        by_name = {rs.name: rs for rs in self.owned()}
        for name, size in sizes.items():
            self.scale(by_name[name], size, f"proportional scaling to {self.replicas} replicas")
        return bool(sizes)

    def _cleanup(self) -> None:
        """``cleanupDeployment``: delete empty old replica sets beyond revisionHistoryLimit."""
        olds = self.old_rss()
        doomed = cleanup_deployment(
            [
                RevisionRS(rs.name, rs.created_at, rs.spec_replicas, rs.n_active, rs.revision)
                for rs in olds
            ],
            self.revision_history_limit,
        )
        by_name = {rs.name: rs for rs in olds}
        for name in doomed:
            rs = by_name[name]
            self.cluster.delete_replica_set(
                rs,
                f"revision {rs.revision}: beyond revisionHistoryLimit "
                f"{self.revision_history_limit}",
            )

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


#: Our pod phases as the Pod API names them (a terminating pod is still Running).
_PHASES = {PENDING: "Pending", RUNNING: "Running"}


def _row_key(row: StatusRow) -> tuple[int, ...]:
    return (row.spec_total, row.replicas, row.updated, row.ready, row.available, row.pods)
