"""Pods and replica sets: their state, the counts a ReplicaSet keeps and the order in which
Kubernetes deletes pods (``ActivePodsWithRanks``). The processes that move a pod through its
lifecycle live in :mod:`simdeploy.world.cluster`.

Times are simulated seconds; ``None`` means "not yet".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import simpy

from simdeploy.rules.deployment_status import is_pod_available
from simdeploy.rules.restart_backoff import BackoffEntry
from simdeploy.world.pod_index import IndexState, PodIndex, indexed

if TYPE_CHECKING:
    from simdeploy.world.versions import VersionModel

PENDING, RUNNING, TERMINATING, GONE = "Pending", "Running", "Terminating", "Gone"


@dataclass(eq=False)
class Pod:
    """One pod. Times are simulated seconds; ``None`` means "not yet"."""

    name: str
    version: str
    vidx: int
    model: VersionModel
    rs: ReplicaSet
    created_at: float
    concurrency: int = 1
    phase: str = PENDING
    scheduled: bool = False
    #: When the current container started (moves on each restart).
    started_at: float | None = None
    #: ``status.startTime``: the first container start (kept across restarts).
    start_time: float | None = None
    warm_at: float = float("inf")
    unhealthy_at: float = float("inf")
    bug_from: float = float("inf")
    ready: bool = False
    ready_since: float | None = None
    #: When the Ready condition last flipped (its lastTransitionTime), for the autoscaler.
    ready_changed_at: float | None = None
    accepting: bool = False
    #: The container is running (False before it starts and while it waits to restart).
    container_running: bool = False
    #: The container's ``started`` status: its startup probe passed (True at once without one).
    #: Until then the readiness and liveness probers skip their ticks.
    started: bool = False
    restarts: int = 0
    #: The kubelet's restart back-off for this pod's container (liveness restarts).
    back_off: BackoffEntry | None = None
    deleted_at: float | None = None
    # data plane state: busy workers, queued requests, requests in service. The fluid
    # data plane keeps ``busy`` as an expected count and its backlog in ``waiting``.
    busy: float = 0
    waiting: int = 0
    queue: deque[Any] = field(default_factory=deque)
    in_flight: set[Any] = field(default_factory=set)
    drained: simpy.Event | None = None
    #: Creation order in the cluster (the pod list's order, the deletion rank's last rule).
    serial: int = 0
    #: Called before ``accepting``, ``warm_at``, ``unhealthy_at`` or ``bug_from`` changes
    #: (a :class:`WatchedPod` only).
    watch: Callable[[Pod, str, object], None] | None = None

    @property
    def terminating(self) -> bool:
        return self.deleted_at is not None

    @property
    def outstanding(self) -> float:
        """Requests accepted and not yet answered (the request-level plane's count)."""
        return self.busy + len(self.queue)

    def can_serve(self, now: float) -> bool:
        """Accepting connections, warmed up and healthy: a request would succeed."""
        return self.accepting and self.warm_at <= now < self.unhealthy_at

    def available(self, min_ready_s: float, now: float) -> bool:
        return is_pod_available(self.ready, self.ready_since, min_ready_s, now)


def index_state(pod: Pod) -> IndexState:
    """(active, Ready, rank key) for the replica set's :class:`PodIndex`; the key of a
    scheduled, running, Ready pod sorts in the reverse of :func:`_deletion_rank`'s order."""
    active, ready, since = pod.deleted_at is None, pod.ready, pod.ready_since
    if active and ready and since is not None and pod.scheduled and pod.phase == RUNNING:
        return active, ready, (since, pod.restarts, pod.created_at, -pod.serial)
    return active, ready, None


def watched(name: str) -> property:
    """A pod attribute whose assignment first calls ``pod.watch(pod, name, value)`` when a
    watcher is set (the fluid data plane counts the traffic the old state served);
    stored as ``_<name>``, read at C speed."""
    slot = f"_{name}"

    def set_(pod: Any, value: Any) -> None:
        watch = pod.watch
        if watch is not None:
            watch(pod, name, value)
        setattr(pod, slot, value)

    return property(attrgetter(slot), set_)


class WatchedPod(Pod):
    """A pod whose ``accepting``, ``warm_at``, ``unhealthy_at`` and ``bug_from`` call
    ``watch`` before they change: the fluid data plane's pods. (The request-level plane reads
    them on every request, as plain attributes.)"""

    @property
    def outstanding(self) -> float:
        """Expected in service plus the backlog (the fluid data plane keeps both)."""
        return self.busy + self.waiting


for _name in ("accepting", "warm_at", "unhealthy_at", "bug_from"):
    setattr(WatchedPod, _name, watched(_name))

#: The pod state that replica set counts and the deletion order depend on.
for _name in ("phase", "scheduled", "ready", "ready_since", "restarts", "deleted_at", "created_at"):
    setattr(Pod, _name, indexed(_name, index_state))


@dataclass(eq=False)
class ReplicaSet:
    """A replica set of one version. ``pods`` holds every pod not yet gone."""

    name: str
    version: str
    revision: int
    created_at: float
    spec_replicas: int = 0
    pods: list[Pod] = field(default_factory=list)
    owner: str = "app"
    #: ``deployment.kubernetes.io/desired-replicas`` and ``max-replicas``: the Deployment's
    #: replicas and replicas + maxSurge when its controller last sized this replica set.
    desired_replicas_annotation: int | None = None
    max_replicas_annotation: int | None = None
    #: Deleted (revision history cleanup); kept only until its last pod is gone.
    deleted: bool = False
    #: Argo's ``scale-down-deadline`` annotation (simulated seconds): when an old replica set
    #: of a rollout is due to go after ``scaleDownDelaySeconds``; a rollout that takes it up
    #: again (as its new or stable side) removes it, and it stays up.
    scale_down_deadline: float | None = None
    #: Counts and deletion order of ``pods``, kept up to date as they change.
    index: PodIndex = field(default_factory=PodIndex, repr=False)

    def active(self) -> list[Pod]:
        """Pods the RS controller counts: not terminating (deletion frees budget at once)."""
        return [p for p in self.pods if not p.terminating]

    def counts(self, min_ready_s: float, now: float) -> tuple[int, int, int]:
        """(replicas, ready, available) over active pods, as in ReplicaSet status."""
        index = self._index()
        avail = index.count_available(min_ready_s, now)
        if avail is None:
            avail = sum(1 for p in self.active() if p.available(min_ready_s, now))
        return index.active, index.active_ready, avail

    @property
    def n_active(self) -> int:
        """``len(self.active())``, counted as pods change."""
        return self._index().active

    @property
    def n_ready(self) -> int:
        """Pods of ``pods`` that are Ready (terminating ones included)."""
        return self._index().ready

    def deletion_order(self, k: int, now: float) -> list[Pod]:
        """The ``k`` active pods Kubernetes deletes first, in that order."""
        return self._index().deletion_order(k, now, _deletion_rank, self.active)

    def _index(self) -> PodIndex:
        """The index, rebuilt if ``pods`` was changed behind its back."""
        if len(self.index) != len(self.pods):
            self.index = PodIndex()
            for pod in self.pods:
                self.index.update(pod, *index_state(pod))
        return self.index


def _deletion_rank(pod: Pod, now: float) -> tuple[float, ...]:
    """Sort key: the pod Kubernetes deletes first sorts first (ActivePodsWithRanks).

    Unscheduled before scheduled; not running before running; not ready before ready;
    ready for less time before longer; more restarts first; newer before older.
    """
    ready_for = (now - pod.ready_since) if pod.ready and pod.ready_since is not None else 0.0
    return (
        1.0 if pod.scheduled else 0.0,
        1.0 if pod.phase == RUNNING else 0.0,
        1.0 if pod.ready else 0.0,
        ready_for,
        -float(pod.restarts),
        -pod.created_at,
    )
