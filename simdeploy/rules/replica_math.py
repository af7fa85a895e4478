"""Replica arithmetic of the Kubernetes Deployment controller, as pure functions.

This module ports the numbers behind a RollingUpdate: how ``maxSurge`` and ``maxUnavailable``
resolve to pod counts, how far the new ReplicaSet may grow, how far the old ReplicaSets may
shrink, when a pod counts as available, and when a rollout is complete, progressing or past its
deadline. It follows these upstream files of ``kubernetes/kubernetes``:

- ``pkg/controller/deployment/util/deployment_util.go`` (ResolveFenceposts, MaxUnavailable,
  MaxSurge, MinAvailable, NewRSNewReplicas, DeploymentComplete, DeploymentProgressing,
  DeploymentTimedOut)
- ``pkg/controller/deployment/rolling.go`` (reconcileNewReplicaSet, reconcileOldReplicaSets,
  cleanupUnhealthyReplicas, scaleDownOldReplicaSetsForRollingUpdate)
- ``pkg/controller/deployment/progress.go`` (requeueStuckDeployment)
- ``staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go`` (GetScaledValueFromIntOrPercent)
- ``pkg/apis/apps/validation/validation.go`` (ValidateRollingUpdateDeployment)
- ``pkg/api/v1/pod/util.go`` (IsPodAvailable, current ``main``)

Nothing here touches SimPy or any clock. A ReplicaSet is an immutable :class:`RSState`, and
every function that "scales" returns the new ``spec.replicas`` per ReplicaSet name instead of
mutating its input. Apply those results with :func:`apply_scale`.
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "BOTH_ZERO_MSG",
    "MAX_INT32",
    "NEGATIVE_MSG",
    "OVER_100_PERCENT_MSG",
    "PERCENT_MSG",
    "DeploymentStatus",
    "IntOrPercent",
    "InvalidRolloutSpec",
    "InvalidScaleDown",
    "RSState",
    "apply_scale",
    "cleanup_unhealthy_replicas",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "is_pod_available",
    "max_surge",
    "max_unavailable",
    "min_available",
    "new_rs_new_replicas",
    "reconcile_new_replica_set",
    "reconcile_old_replica_sets",
    "requeue_stuck_deployment",
    "resolve_fenceposts",
    "scale_down_old_replica_sets_for_rolling_update",
    "scaled_value",
    "sorted_by_creation",
    "validate_rolling_update",
]

IntOrPercent = int | str
"""An ``intstr.IntOrString`` as the Deployment API uses it: ``3`` or ``"25%"``."""

MAX_INT32 = 2**31 - 1
"""``math.MaxInt32``. Upstream treats a progressDeadlineSeconds of this value as "no deadline"."""

_FIELD_PATH = "spec.strategy.rollingUpdate"

# Upstream validation messages, verbatim. PERCENT_MSG is what apimachinery's IsValidPercent
# builds with RegexError(msg, "[0-9]+%", "1%", "93%"); the double space before "or" is upstream's.
PERCENT_MSG = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)
NEGATIVE_MSG = "must be greater than or equal to 0"
BOTH_ZERO_MSG = "may not be 0 when `maxSurge` is 0"
OVER_100_PERCENT_MSG = "must not be greater than 100%"
# The doubled "%%" is upstream's too: the string is never passed through a formatter.
_NOT_INT_OR_PERCENT_MSG = "must be an integer or percentage (e.g '5%%')"

_PERCENT_RE = re.compile(r"[0-9]+%")
_GO_ATOI_RE = re.compile(r"[+-]?[0-9]+")


class InvalidRolloutSpec(ValueError):
    """A rolling-update spec that the Kubernetes API server would reject.

    ``errors`` holds one line per problem, each formatted like ``field.Invalid``:
    ``<path>: Invalid value: <value>: <detail>``. ``str(exc)`` is the line itself when there is
    one problem, and ``[first, second]`` when there are several, as ``ErrorList.ToAggregate()``
    prints them.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        super().__init__(_aggregate(self.errors))


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


@dataclass(frozen=True)
class DeploymentStatus:
    """The counters of ``Deployment.status`` that the progress checks read."""

    replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int


# --------------------------------------------------------------------------------------------
# Validation and int-or-percent resolution
# --------------------------------------------------------------------------------------------


def _aggregate(errors: Sequence[str]) -> str:
    """Join messages the way ``utilerrors.NewAggregate(...).Error()`` does.

    One message is returned as is; several are de-duplicated and wrapped in brackets.
    Example: ``["a"]`` → ``"a"``; ``["a", "b", "a"]`` → ``"[a, b]"``.
    """
    unique = list(dict.fromkeys(errors))
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"


def _render(value: object) -> str:
    """Render a value the way ``field.Invalid`` prints it: ints bare, strings Go-quoted.

    Example: ``0`` → ``0``; ``"0%"`` → ``"0%"`` (with the double quotes).
    """
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(value)


def _invalid(field: str, value: object, detail: str) -> str:
    """Format one ``field.Invalid`` line.

    Example: ``_invalid("maxSurge", -1, NEGATIVE_MSG)`` →
    ``spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0``.
    """
    prefix = f"{_FIELD_PATH}.{field}: " if field else ""
    return f"{prefix}Invalid value: {_render(value)}: {detail}"


def _percent_value(value: object) -> int | None:
    """The N of a valid ``"N%"`` string, else None (validation's getPercentValue).

    Example: ``"25%"`` → 25; ``"007%"`` → 7 (the regex allows leading zeros); ``"5"`` → None.
    """
    if isinstance(value, str) and _PERCENT_RE.fullmatch(value):
        return int(value[:-1])
    return None


def _validation_number(value: object) -> int:
    """The number validation compares with zero (validation's getIntOrPercentValue).

    A valid percent gives N; any other string goes through Go's ``strconv.Atoi``, and a parse
    failure counts as 0. Example: ``"0%"`` → 0; ``"5"`` → 5; ``"abc%"`` → 0; ``3`` → 3.
    """
    percent = _percent_value(value)
    if percent is not None:
        return percent
    if isinstance(value, str):
        return int(value) if _GO_ATOI_RE.fullmatch(value) else 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return 0


def _validate_int_or_percent(field: str, value: object) -> list[str]:
    """ValidatePositiveIntOrPercent: a non-negative int or a ``"N%"`` string.

    Example: ``("maxSurge", "5")`` → one PERCENT_MSG line; ``("maxSurge", 2)`` → no lines.
    """
    if isinstance(value, str):
        return [] if _PERCENT_RE.fullmatch(value) else [_invalid(field, value, PERCENT_MSG)]
    if isinstance(value, int) and not isinstance(value, bool):
        return [_invalid(field, value, NEGATIVE_MSG)] if value < 0 else []
    return [_invalid(field, value, _NOT_INT_OR_PERCENT_MSG)]


def validate_rolling_update(max_surge: IntOrPercent, max_unavailable: IntOrPercent) -> None:
    """Raise :class:`InvalidRolloutSpec` where ValidateRollingUpdateDeployment would fail.

    Checks, in upstream order: maxUnavailable's format, maxSurge's format, "both zero", and
    maxUnavailable above 100%. Both zero compares the raw numbers, so ``0`` and ``"0%"`` count
    as zero, while ``"1%"`` passes even though it later resolves to 0 pods for small
    Deployments. maxSurge has no upper bound.

    Example: ``(0, "0%")`` raises
    ``spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when
    `maxSurge` is 0``; ``("25%", "25%")``, ``("200%", 0)`` and ``("1%", 0)`` pass.
    """
    errors = _validate_int_or_percent("maxUnavailable", max_unavailable)
    errors += _validate_int_or_percent("maxSurge", max_surge)
    if _validation_number(max_unavailable) == 0 and _validation_number(max_surge) == 0:
        errors.append(_invalid("maxUnavailable", max_unavailable, BOTH_ZERO_MSG))
    percent = _percent_value(max_unavailable)
    if percent is not None and percent > 100:
        errors.append(_invalid("maxUnavailable", max_unavailable, OVER_100_PERCENT_MSG))
    if errors:
        raise InvalidRolloutSpec(errors)


def scaled_value(value: IntOrPercent, total: int, round_up: bool) -> int:
    """Resolve an int-or-percent against ``total`` (GetScaledValueFromIntOrPercent).

    An int is returned as is: not scaled and not capped. ``"N%"`` gives N*total/100 rounded up
    or down. Upstream computes this in float64; integer ceil/floor of ``N*total`` over 100 gives
    the same result without float error. A string that is not ``"N%"`` raises
    :class:`InvalidRolloutSpec` (a bare ``"5"`` is an error, not 5).

    Example: 90% of 95 is 85.5, so ``scaled_value("90%", 95, True)`` → 86 and
    ``scaled_value("90%", 95, False)`` → 85; ``scaled_value(7, 95, True)`` → 7.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    percent = _percent_value(value)
    if percent is None:
        detail = PERCENT_MSG if isinstance(value, str) else _NOT_INT_OR_PERCENT_MSG
        raise InvalidRolloutSpec([_invalid("", value, detail)])
    numerator = percent * total
    return -(-numerator // 100) if round_up else numerator // 100


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


# --------------------------------------------------------------------------------------------
# Pod availability and Deployment progress
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


# --------------------------------------------------------------------------------------------
# Argo Rollouts' canary arithmetic: kept in canary_math.py (Argo's controller, not the
# Deployment controller), re-exported here so all replica arithmetic is reachable from one
# module under the upstream names.
# --------------------------------------------------------------------------------------------

from simdeploy.rules.canary_math import (  # noqa: E402  (canary_math imports IntOrPercent above)
    approximate_weighted_canary_stable_replica_counts,
    at_desired_replica_counts_for_canary,
    calculate_replica_counts_for_basic_canary,
    calculate_replica_counts_for_canary,
    calculate_replica_counts_for_traffic_routed_canary,
)

__all__ += [
    "approximate_weighted_canary_stable_replica_counts",
    "at_desired_replica_counts_for_canary",
    "calculate_replica_counts_for_basic_canary",
    "calculate_replica_counts_for_canary",
    "calculate_replica_counts_for_traffic_routed_canary",
]
