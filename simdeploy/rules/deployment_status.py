"""Pod availability and Deployment progress, as the Kubernetes Deployment controller judges them.

When a pod counts as available (Ready for minReadySeconds), when a rollout is complete, when it
has made progress, when it is past ``progressDeadlineSeconds``, and when the controller looks at
the deadline again. Times are seconds on the simulation clock; nothing here reads a clock
itself. Upstream files of ``kubernetes/kubernetes``:

- ``pkg/api/v1/pod/util.go`` (IsPodAvailable, current ``main``)
- ``pkg/controller/deployment/util/deployment_util.go`` (DeploymentComplete,
  DeploymentProgressing, DeploymentTimedOut, HasProgressDeadline)
- ``pkg/controller/deployment/progress.go`` (requeueStuckDeployment)

Pure: stdlib only.
"""

from dataclasses import dataclass

__all__ = [
    "MAX_INT32",
    "DeploymentStatus",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "is_pod_available",
    "requeue_stuck_deployment",
]

MAX_INT32 = 2**31 - 1
"""``math.MaxInt32``. Upstream treats a progressDeadlineSeconds of this value as "no deadline"."""


@dataclass(frozen=True)
class DeploymentStatus:
    """The counters of ``Deployment.status`` that the progress checks read."""

    replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int


# --------------------------------------------------------------------------------------------
# Pod availability
# --------------------------------------------------------------------------------------------


def is_pod_available(
    ready: bool, ready_since: float | None, min_ready_seconds: float, now: float
) -> bool:
    """Whether a pod counts as available (IsPodAvailable, current ``main``).

    A pod is available when it is Ready and has been Ready for at least minReadySeconds,
    measured from the Ready condition's last transition. ``main`` uses ``<=`` at the boundary;
    older releases used a strict ``<``. With minReadySeconds 0, Ready alone is enough.

    Example: minReadySeconds 10, Ready since t=100 → available at t=110 (boundary) and after,
    not at t=109.9; not Ready → never available.
    """
    if not ready:
        return False
    if min_ready_seconds == 0:
        return True
    if ready_since is None:
        return False
    return ready_since + min_ready_seconds <= now


# --------------------------------------------------------------------------------------------
# Deployment progress
# --------------------------------------------------------------------------------------------


def deployment_complete(desired_replicas: int, status: DeploymentStatus) -> bool:
    """All desired replicas are updated and available and no old pods remain (DeploymentComplete).

    Upstream also requires observedGeneration ≥ generation; that is ignored here.

    Example: desired 5 with status (replicas 5, updated 5, available 5) → True; available 4 →
    False; replicas 2, updated 1, available 1 for desired 1 (an old pod still runs) → False.
    """
    return (
        status.updated_replicas == desired_replicas
        and status.replicas == desired_replicas
        and status.available_replicas == desired_replicas
    )


def deployment_progressing(new_status: DeploymentStatus, old_status: DeploymentStatus) -> bool:
    """Whether the rollout moved since ``old_status`` (DeploymentProgressing).

    Progress is any of: more updated replicas, fewer old replicas (replicas − updated), more
    ready replicas, or more available replicas.

    Example: (replicas 10, updated 4, ready 4, available 4) → (10, 6, 4, 4) is progress (more
    updated); (10, 4, 6, 6) → (8, 4, 6, 6) is progress (old pods 6 → 4); (10, 7, 3, 3) →
    (10, 6, 3, 3) is not.
    """
    old_old = old_status.replicas - old_status.updated_replicas
    new_old = new_status.replicas - new_status.updated_replicas
    return (
        new_status.updated_replicas > old_status.updated_replicas
        or new_old < old_old
        or new_status.ready_replicas > old_status.ready_replicas
        or new_status.available_replicas > old_status.available_replicas
    )


def deployment_timed_out(
    last_progress_time: float,
    progress_deadline_seconds: float | None,
    now: float,
    complete: bool,
    *,
    already_timed_out: bool = False,
) -> bool:
    """Whether the rollout is past its progress deadline (DeploymentTimedOut).

    ``last_progress_time`` is the Progressing condition's lastUpdateTime: the last observed
    progress, not the rollout start. The comparison is strict: ``last + deadline < now``.
    No deadline (None or MaxInt32) never times out. ``complete`` stands for a Progressing
    reason of NewReplicaSetAvailable, which never times out. ``already_timed_out`` stands for a
    reason of ProgressDeadlineExceeded, which stays timed out.

    Example: deadline 10 s, last progress at 69 s → timed out at 80 s (11 s passed); last
    progress at 71 s → not at 80 s (9 s); last progress at 70 s → not at 80 s (exactly 10 s).
    """
    # HasProgressDeadline: MaxInt32 is how the API spells "no deadline".
    if progress_deadline_seconds is None or progress_deadline_seconds == MAX_INT32 or complete:
        return False
    if already_timed_out:
        return True
    return last_progress_time + progress_deadline_seconds < now


def requeue_stuck_deployment(
    last_progress_time: float,
    progress_deadline_seconds: float | None,
    now: float,
    complete: bool,
    *,
    already_timed_out: bool = False,
) -> float | None:
    """When the controller checks the deadline again without an event (requeueStuckDeployment).

    None when there is nothing to wait for: no deadline, a complete rollout, or one that has
    already timed out. Otherwise the time left, ``last + deadline − now``, or 0.0 ("now",
    rate-limited) when less than a second is left. This is upstream's return value; upstream
    enqueues the Deployment one second later than that (``after + 1s``) to absorb clock skew.

    Example: deadline 60 s, last progress at 0 s: at 30 s → 30.0; at 59 s → 1.0; at
    59.000000001 s → 0.0; at 120 s → 0.0.
    """
    if progress_deadline_seconds is None or progress_deadline_seconds == MAX_INT32:
        return None
    if complete or already_timed_out:
        return None
    after = last_progress_time + progress_deadline_seconds - now
    if after < 1:
        return 0.0
    return after
