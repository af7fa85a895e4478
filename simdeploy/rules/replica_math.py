"""Replica arithmetic of the Kubernetes Deployment controller's RollingUpdate, as pure functions.

This module ports the numbers behind one sync of a RollingUpdate: how ``maxSurge`` and
``maxUnavailable`` resolve to pod counts, how far the new ReplicaSet may grow, and how far the
old ReplicaSets may shrink. Validating the spec is rolling_update_validation's concern; pod
availability and rollout progress are deployment_status's. It follows these upstream files of
``kubernetes/kubernetes``:

- ``pkg/controller/deployment/util/deployment_util.go`` (ResolveFenceposts, MaxUnavailable,
  MaxSurge, MinAvailable, NewRSNewReplicas)
- ``pkg/controller/deployment/rolling.go`` (reconcileNewReplicaSet, reconcileOldReplicaSets,
  cleanupUnhealthyReplicas, scaleDownOldReplicaSetsForRollingUpdate)
- ``staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go`` (GetScaledValueFromIntOrPercent)

Nothing here touches SimPy or any clock. A ReplicaSet is an immutable :class:`RSState`, and
every function that "scales" returns the new ``spec.replicas`` per ReplicaSet name instead of
mutating its input. Apply those results with :func:`apply_scale`.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from simdeploy.rules.int_or_percent import IntOrPercent, percent_value, scale_percent
from simdeploy.rules.rolling_update_validation import int_or_percent_error

__all__ = [
    "InvalidScaleDown",
    "RSState",
    "apply_scale",
    "cleanup_unhealthy_replicas",
    "max_surge",
    "max_unavailable",
    "min_available",
    "new_rs_new_replicas",
    "reconcile_new_replica_set",
    "reconcile_old_replica_sets",
    "resolve_fenceposts",
    "scale_down_old_replica_sets_for_rolling_update",
    "scaled_value",
    "sorted_by_creation",
]


class InvalidScaleDown(ValueError):
    """cleanupUnhealthyReplicas was asked to "scale down" to a larger size.

    This happens when an old RS reports more available pods than its spec, which means its
    status is stale (the RS controller has not yet caught up with a scale-down). Upstream returns
    an error there, and reconcileOldReplicaSets swallows it and reports "nothing scaled".
    ``changes`` and ``cleaned`` hold what was already written before the bad RS was reached.
    """

    def __init__(self, message: str, changes: Mapping[str, int], cleaned: int) -> None:
        self.changes: dict[str, int] = dict(changes)
        self.cleaned = cleaned
        super().__init__(message)


@dataclass(frozen=True)
class RSState:
    """A ReplicaSet as the Deployment controller sees it.

    ``spec_replicas`` is ``spec.replicas`` (the desired size, including pods not created yet).
    ``available_replicas`` is ``status.availableReplicas``. ``created`` is the creation time;
    the controller orders ReplicaSets oldest first and breaks ties by name.
    """

    name: str
    created: float
    spec_replicas: int
    available_replicas: int


# --------------------------------------------------------------------------------------------
# Int-or-percent resolution
# --------------------------------------------------------------------------------------------


def scaled_value(value: IntOrPercent, total: int, round_up: bool) -> int:
    """Resolve an int-or-percent against ``total`` (GetScaledValueFromIntOrPercent).

    An int is returned as is: not scaled and not capped. ``"N%"`` gives N*total/100 rounded up
    or down. Upstream computes this in float64; integer ceil/floor of ``N*total`` over 100 gives
    the same result without float error. A string that is not ``"N%"`` raises
    :class:`~simdeploy.rules.rolling_update_validation.InvalidRolloutSpec` (a bare ``"5"`` is
    an error, not 5).

    Example: 90% of 95 is 85.5, so ``scaled_value("90%", 95, True)`` → 86 and
    ``scaled_value("90%", 95, False)`` → 85; ``scaled_value(7, 95, True)`` → 7.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    percent = percent_value(value)
    if percent is None:
        raise int_or_percent_error(value)
    return scale_percent(percent, total, round_up)


def resolve_fenceposts(
    max_surge: IntOrPercent | None, max_unavailable: IntOrPercent | None, desired: int
) -> tuple[int, int]:
    """Resolve (maxSurge, maxUnavailable) to pod counts for ``desired`` replicas.

    Surge rounds up and unavailable rounds down. None (an unset field) counts as 0. If both
    resolve to 0, unavailable becomes 1: validation forbids an explicit 0/0, but rounding can
    still produce it (1% of 10), and upstream then assumes surge may be blocked by quota and
    allows one pod down instead.

    Example: 10 replicas at 25%/25% → (3, 2); 10 at 39%/39% → (4, 3);
    0 replicas at "0%"/"0%" → (0, 1); 10 at 0/"1%" → (0, 1).
    """
    surge = scaled_value(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _max_unavailable(
    replicas: int, surge_spec: IntOrPercent | None, unavailable_spec: IntOrPercent | None
) -> int:
    """Body of :func:`max_unavailable`, named apart so callers' parameters cannot shadow it."""
    if replicas == 0:
        return 0
    _, unavailable = resolve_fenceposts(surge_spec, unavailable_spec, replicas)
    return min(unavailable, replicas)


def max_unavailable(
    replicas: int, max_surge: IntOrPercent | None, max_unavailable: IntOrPercent | None
) -> int:
    """How many of ``replicas`` may be unavailable during a RollingUpdate (MaxUnavailable).

    0 when ``replicas`` is 0, otherwise the resolved value capped at ``replicas``. The cap
    matters for large ints: maxUnavailable 10 on a 5-replica Deployment gives 5. Recreate has
    no such budget (upstream returns 0 there); Recreate callers do not call this.

    Example: 10 replicas, 25%/25% → 2; 4 replicas, 25%/25% → 1; 5 replicas, surge 1,
    unavailable 10 → 5; 0 replicas → 0.
    """
    return _max_unavailable(replicas, max_surge, max_unavailable)


def max_surge(
    replicas: int, max_surge: IntOrPercent | None, max_unavailable: IntOrPercent | None
) -> int:
    """How many pods above ``replicas`` a RollingUpdate may run (MaxSurge). Not capped.

    Example: 10 replicas, 25%/25% → 3; 1 replica, 25%/25% → 1 (ceil of 0.25);
    3 replicas, 200%/0 → 6.
    """
    surge, _ = resolve_fenceposts(max_surge, max_unavailable, replicas)
    return surge


def min_available(
    replicas: int, max_surge: IntOrPercent | None, max_unavailable: IntOrPercent | None
) -> int:
    """Pods that must stay available during a RollingUpdate (MinAvailable).

    Example: 10 replicas, 25%/25% → 10 − 2 = 8; 3 replicas, surge 1, unavailable 0 → 3.
    """
    return replicas - _max_unavailable(replicas, max_surge, max_unavailable)


# --------------------------------------------------------------------------------------------
# ReplicaSet helpers
# --------------------------------------------------------------------------------------------


def sorted_by_creation(rs_list: Iterable[RSState]) -> list[RSState]:
    """Oldest first, ties by name (ReplicaSetsByCreationTimestamp).

    Example: [b@5, a@5, c@1] → [c@1, a@5, b@5].
    """
    return sorted(rs_list, key=lambda rs: (rs.created, rs.name))


def apply_scale(rs_list: Iterable[RSState], changes: Mapping[str, int]) -> list[RSState]:
    """A new list with ``spec_replicas`` replaced from ``changes``; inputs are not mutated.

    Status is left alone: the controller writes spec, and the RS controller updates status
    later. Example: [old(spec 10)] with {"old": 8} → [old(spec 8)], available unchanged.
    """
    return [
        replace(rs, spec_replicas=changes[rs.name]) if rs.name in changes else rs for rs in rs_list
    ]


def _spec_sum(rs_list: Iterable[RSState]) -> int:
    """Σ spec.replicas (GetReplicaCountForReplicaSets)."""
    return sum(rs.spec_replicas for rs in rs_list)


def _available_sum(rs_list: Iterable[RSState]) -> int:
    """Σ status.availableReplicas (GetAvailableReplicaCountForReplicaSets)."""
    return sum(rs.available_replicas for rs in rs_list)


# --------------------------------------------------------------------------------------------
# New ReplicaSet: scale up
# --------------------------------------------------------------------------------------------


def new_rs_new_replicas(
    replicas: int, max_surge: IntOrPercent, all_rs: Sequence[RSState], new_rs: RSState
) -> int:
    """The size the new RS may grow to in a RollingUpdate (NewRSNewReplicas).

    The budget is ``replicas + surge`` against Σ **spec** replicas of ``all_rs`` (which should
    include ``new_rs``), so pods that are desired but not yet created count too. The new RS
    never grows past ``replicas``. Surge is resolved on its own here, rounding up, without the
    both-zero rule (that rule only changes the unavailable side, so the results agree).

    Example: 10 replicas, maxSurge 25% → surge 3, budget 13. Old RS 10 + new RS 0 → Σ 10, so
    the new RS gets min(13 − 10, 10 − 0) = 3. With old 8 + new 3 → Σ 11 → 3 + min(2, 7) = 5.
    With Σ already 13 the new RS keeps its size.
    """
    surge = scaled_value(max_surge, replicas, True)
    current = _spec_sum(all_rs)
    max_total = replicas + surge
    if current >= max_total:
        return new_rs.spec_replicas
    scale_up = min(max_total - current, replicas - new_rs.spec_replicas)
    return new_rs.spec_replicas + scale_up


def reconcile_new_replica_set(
    all_rs: Sequence[RSState], new_rs: RSState, replicas: int, max_surge: IntOrPercent
) -> int | None:
    """The new RS's next ``spec.replicas``, or None if it stays (reconcileNewReplicaSet).

    Equal to ``replicas`` → None. Above ``replicas`` (the Deployment was scaled down) → shrink
    straight to ``replicas``. Below → :func:`new_rs_new_replicas`, None if that is no change.
    A non-None result means this sync scaled up and ends here: the old side waits for the next
    sync.

    Example: 10 replicas, maxSurge 2, old 10, new 0 → 2; old 5, new 0 → 7; old 10, new 2 →
    None (Σ 12 is the budget); new 11 → 10.
    """
    if new_rs.spec_replicas == replicas:
        return None
    if new_rs.spec_replicas > replicas:
        return replicas
    target = new_rs_new_replicas(replicas, max_surge, all_rs, new_rs)
    return None if target == new_rs.spec_replicas else target


# --------------------------------------------------------------------------------------------
# Old ReplicaSets: scale down
# --------------------------------------------------------------------------------------------


def cleanup_unhealthy_replicas(
    old_rs: Sequence[RSState], max_cleanup: int
) -> tuple[dict[str, int], int]:
    """Remove unavailable pods of old RSs, oldest RS first (cleanupUnhealthyReplicas).

    "Unhealthy" is ``spec − available``: desired pods that are not available, whatever the
    reason. Removing them does not lower availability, so up to ``max_cleanup`` go at once.
    Returns ({name: new spec} for the RSs that changed, total removed).

    Raises :class:`InvalidScaleDown` if an RS reports more available pods than its spec (stale
    status), as upstream returns an error there.

    Example: old RS spec 10 with 8 available, max_cleanup 1 → ({"old": 9}, 1); max_cleanup 3 →
    ({"old": 8}, 2); 10 of 10 available → ({}, 0).
    """
    changes: dict[str, int] = {}
    total = 0
    for rs in sorted_by_creation(old_rs):
        if total >= max_cleanup:
            break
        if rs.spec_replicas == 0 or rs.spec_replicas == rs.available_replicas:
            continue
        count = min(max_cleanup - total, rs.spec_replicas - rs.available_replicas)
        new_size = rs.spec_replicas - count
        if new_size > rs.spec_replicas:
            raise InvalidScaleDown(
                "when cleaning up unhealthy replicas, got invalid request to scale down "
                f"{rs.name} {rs.spec_replicas} -> {new_size}",
                changes,
                total,
            )
        changes[rs.name] = new_size
        total += count
    return changes, total


def scale_down_old_replica_sets_for_rolling_update(
    all_rs: Sequence[RSState],
    old_rs: Sequence[RSState],
    replicas: int,
    max_surge: IntOrPercent | None,
    max_unavailable: IntOrPercent | None,
) -> tuple[dict[str, int], int]:
    """Shrink old RSs while availability stays at or above minAvailable, oldest RS first.

    The budget is Σ **available** over ``all_rs`` minus minAvailable; nothing happens when that
    is ≤ 0 (scaleDownOldReplicaSetsForRollingUpdate). Returns ({name: new spec}, total removed).

    Example: 10 replicas, surge 0, unavailable 2 → minAvailable 8. One old RS spec 10 with 10
    available → budget 2 → ({"old": 8}, 2). With 8 available → ({}, 0). With surge 0 and
    unavailable 0 the both-zero rule gives minAvailable 9 → ({"old": 9}, 1).
    """
    minimum = replicas - _max_unavailable(replicas, max_surge, max_unavailable)
    available = _available_sum(all_rs)
    if available <= minimum:
        return {}, 0
    budget = available - minimum
    changes: dict[str, int] = {}
    total = 0
    for rs in sorted_by_creation(old_rs):
        if total >= budget:
            break
        if rs.spec_replicas == 0:
            continue
        count = min(rs.spec_replicas, budget - total)
        changes[rs.name] = rs.spec_replicas - count
        total += count
    return changes, total


def reconcile_old_replica_sets(
    all_rs: Sequence[RSState],
    old_rs: Sequence[RSState],
    new_rs: RSState,
    replicas: int,
    max_surge: IntOrPercent | None,
    max_unavailable: IntOrPercent | None,
) -> tuple[dict[str, int], int]:
    """The whole old-side pass of one sync (reconcileOldReplicaSets).

    ``old_rs`` should be the active old RSs (spec > 0), as upstream passes
    FilterActiveReplicaSets(oldRSs); ``all_rs`` is all old RSs plus the new one.

    1. maxScaledDown = Σspec(all) − minAvailable − (new.spec − new.available). The last term
       keeps old pods while new pods are not available, so a crash-looping new RS cannot drain
       the old one. If maxScaledDown ≤ 0, nothing happens.
    2. :func:`cleanup_unhealthy_replicas` removes up to maxScaledDown unavailable old pods.
    3. :func:`scale_down_old_replica_sets_for_rolling_update` then runs on the old RSs as
       step 2 left them, plus the new RS.

    Returns ({name: final new spec}, total removed). If step 2 meets a stale status
    (:class:`InvalidScaleDown`), upstream swallows the error and reports "not scaled": this
    returns the changes already written with a total of 0.

    Example (upstream's comment): 10 replicas, surge 3, unavailable 2 → minAvailable 8. Old RS
    8 of 8 available, new RS 5 crash-looping with 0 available → 13 − 8 − 5 = 0 → ({}, 0).
    After a rollback the old template is the new RS (8 spec, 7 available) and the crash-looping
    RS is old (5, 0) → 13 − 8 − 1 = 4 → its 4 unavailable pods go: ({"bad": 1}, 4).
    """
    if _spec_sum(old_rs) == 0:
        return {}, 0
    minimum = replicas - _max_unavailable(replicas, max_surge, max_unavailable)
    new_unavailable = new_rs.spec_replicas - new_rs.available_replicas
    max_scaled_down = _spec_sum(all_rs) - minimum - new_unavailable
    if max_scaled_down <= 0:
        return {}, 0
    try:
        cleanup, cleaned = cleanup_unhealthy_replicas(old_rs, max_scaled_down)
    except InvalidScaleDown as stale:
        return stale.changes, 0
    # Upstream rebuilds allRSs from the cleaned old RSs plus the new RS, so inactive old RSs
    # (spec 0) do not count toward availability in step 3.
    cleaned_old = apply_scale(old_rs, cleanup)
    scaled, scaled_count = scale_down_old_replica_sets_for_rolling_update(
        [*cleaned_old, new_rs], cleaned_old, replicas, max_surge, max_unavailable
    )
    return {**cleanup, **scaled}, cleaned + scaled_count
