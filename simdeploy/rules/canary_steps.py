"""One reconcile of an Argo Rollouts canary step: weight in force, pod counts, step reached.

The canary controller reads the setWeight in force at the current step, computes the
(canary, stable) ``spec.replicas`` for it, with a traffic router (canary_traffic) or without
(canary_math), and advances to the next step only once both ReplicaSets are at those counts.
Weights are percent (or out of ``max_weight`` behind a router); counts are pods; pause
durations are whole seconds.

Ported from ``argoproj/argo-rollouts`` (read at v1.10.0-rc1, commit 9f8d111):
``utils/replicaset/canary.go``: GetCurrentSetWeight, GetCanaryReplicasOrWeight (the
promote-full and abort weights of a basic canary) and AtDesiredReplicaCountsForCanary (with
``replicaProgressThreshold``, PR #4341); ``pkg/apis/rollouts/v1alpha1/types.go``:
RolloutPause.DurationSeconds.

Pure: stdlib only.
"""

from collections.abc import Sequence

from simdeploy.rules.canary_math import (
    ReplicaProgressThreshold,
    RSLike,
    calculate_replica_counts_for_basic_canary,
    replica_progress_threshold_met,
)
from simdeploy.rules.canary_traffic import (
    SetCanaryScale,
    calculate_replica_counts_for_traffic_routed_canary,
)
from simdeploy.rules.go_duration import parse_go_duration
from simdeploy.rules.int_or_percent import IntOrPercent

__all__ = [
    "INT32_MAX",
    "ReplicaProgressThreshold",
    "at_desired_replica_counts_for_canary",
    "calculate_replica_counts_for_canary",
    "get_current_set_weight",
    "pause_duration_seconds",
]

INT32_MAX = 2**31 - 1
"""Largest pause in seconds: ``RolloutPause.duration`` is an int32 (or a string)."""


def pause_duration_seconds(duration: int | str | None) -> int:
    """Seconds a ``pause: {duration: ...}`` step waits (RolloutPause.DurationSeconds).

    - None (``pause: {}``) → 0 (the step waits for a promote instead);
    - an int → itself (the CRD holds an int32);
    - a string of digits within int32 (``"10"``) → that many seconds;
    - any other string → a Go duration (``"30s"``, ``"1h30m"``, ``"1.5s"``), truncated to
      whole seconds: ``"1ms"`` → 0, ``"1.5s"`` → 1, ``"-0.5s"`` → 0;
    - anything invalid (``"1z"``, ``"10 s"``, a number beyond int32 such as ``"20000000000"``,
      or a duration beyond int32 seconds) → -1.

    A negative result is invalid: the Rollout validation rejects it.

    Example: 10 → 10; "10" → 10; "1h" → 3600; "1ms" → 0; "1z" → -1.
    """
    if duration is None:
        return 0
    if isinstance(duration, int):
        return duration
    if _is_go_int32(duration):
        return int(duration)
    try:
        ns = parse_go_duration(duration)
    except ValueError:
        return -1
    seconds = int(ns / 1e9)  # d.Seconds() is a float64; int32() truncates toward zero
    if not -(2**31) <= seconds <= INT32_MAX:
        # Go's int32(float64) conversion of an out-of-range value is undefined; refuse it.
        return -1
    return seconds


def _is_go_int32(text: str) -> bool:
    """Whether ``strconv.ParseInt(text, 10, 32)`` succeeds: an optional sign, ASCII digits,
    within int32 ("+5", "-3", "007"; not " 5", "5.0", "1_000")."""
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    return -(2**31) <= int(text) <= INT32_MAX


def calculate_replica_counts_for_canary(
    replicas: int,
    weight: int,
    max_surge: IntOrPercent | None,
    max_unavailable: IntOrPercent | None,
    stable: RSLike | None,
    canary: RSLike | None,
    others: Sequence[RSLike | None] = (),
    *,
    traffic_routing: bool = False,
    set_canary_scale: SetCanaryScale | None = None,
    dynamic_stable_scale: bool = False,
    current_stable_weight: int | None = None,
    current_canary_weight: int | None = None,
    min_pods_per_replica_set: int | None = None,
    max_weight: int = 100,
    aborted: bool = False,
    abort_scale_down_delay_seconds: float | None = None,
    promote_full: bool = False,
    set_weights: Sequence[int | None] = (),
) -> tuple[int, int]:
    """(canary, stable) spec for the next reconcile, with or without a traffic router.

    Dispatches like the controller: :func:`calculate_replica_counts_for_traffic_routed_canary`
    when ``traffic_routing``, else :func:`calculate_replica_counts_for_basic_canary`. For the
    basic canary it applies GetCanaryReplicasOrWeight first: ``promote_full`` → weight 100,
    else ``aborted`` → weight 0; setCanaryScale, dynamicStableScale and minPodsPerReplicaSet are
    ignored without a router, as upstream ignores them. ``abort_scale_down_delay_seconds`` is the
    field as written (None = absent); ``set_weights`` (one entry per step, None for steps that
    are not setWeight) is the ladder an aborted dynamicStableScale canary walks back down.

    Example: R=4, w=1, surge 3, unavailable 0, promote_full, from stable 4/4 → (3, 4): the
    weight is taken as 100 but the move is still bounded by maxSurge.
    """
    if traffic_routing:
        return calculate_replica_counts_for_traffic_routed_canary(
            replicas,
            weight,
            set_canary_scale,
            dynamic_stable_scale,
            current_stable_weight,
            current_canary_weight,
            min_pods_per_replica_set=min_pods_per_replica_set,
            max_weight=max_weight,
            aborted=aborted,
            abort_scale_down_delay_seconds=abort_scale_down_delay_seconds,
            promote_full=promote_full,
            set_weights=set_weights,
            stable=stable,
            canary=canary,
        )
    if promote_full:
        weight = 100
    elif aborted:
        weight = 0
    return calculate_replica_counts_for_basic_canary(
        replicas, weight, max_surge, max_unavailable, stable, canary, others
    )


def get_current_set_weight(
    set_weights: Sequence[int | None],
    current_step_index: int | None,
    aborted: bool = False,
    max_weight: int = 100,
) -> int:
    """The setWeight in force at ``current_step_index`` (GetCurrentSetWeight).

    ``set_weights`` has one entry per step: its setWeight, or None for any other kind of step.
    An aborted rollout is at 0. With no steps, or an index past the last step, the weight is
    ``max_weight``. Otherwise the last setWeight at or before the index, or 0 if none.

    Example: steps [10, pause] at index 0 → 10, at index 1 → 10, at index 2 → 100;
    [pause, 20] at index 0 → 0.
    """
    if aborted:
        return 0
    index = 0 if current_step_index is None else current_step_index
    if not set_weights or index >= len(set_weights):
        return max_weight
    for step_weight in reversed(set_weights[: index + 1]):
        if step_weight is not None:
            return step_weight
    return 0


def _created_replicas(rs: RSLike) -> int:
    """``status.replicas`` of ``rs``: its ``replicas`` attribute, else its spec."""
    created = getattr(rs, "replicas", None)
    return rs.spec_replicas if created is None else int(created)


def at_desired_replica_counts_for_canary(
    replicas: int,
    weight: int,
    max_surge: IntOrPercent | None,
    max_unavailable: IntOrPercent | None,
    stable: RSLike | None,
    canary: RSLike | None,
    others: Sequence[RSLike | None] = (),
    *,
    traffic_routing: bool = False,
    set_canary_scale: SetCanaryScale | None = None,
    dynamic_stable_scale: bool = False,
    current_stable_weight: int | None = None,
    current_canary_weight: int | None = None,
    min_pods_per_replica_set: int | None = None,
    max_weight: int = 100,
    aborted: bool = False,
    abort_scale_down_delay_seconds: float | None = None,
    promote_full: bool = False,
    set_weights: Sequence[int | None] = (),
    replica_progress_threshold: ReplicaProgressThreshold | None = None,
) -> bool:
    """Whether a setWeight / setCanaryScale step has reached its replica counts.

    Arguments are those of :func:`calculate_replica_counts_for_canary`. With a basic canary the
    "desired" counts are the result of one more bounded move, so this is True only at a fixed
    point of that move. It is True when all of these hold:

    - the canary RS exists, its spec equals the desired canary count and that many pods are
      available; with ``replica_progress_threshold``, only the threshold counts: enough
      *available* pods, whatever the spec (canary_math's ``replica_progress_threshold_met``);
    - unless (traffic router and dynamicStableScale): the stable RS exists, its spec equals the
      desired stable count and that many pods *exist* (``status.replicas``; availability is not
      required);
    - basic canary only: older RSs have 0 available pods (they would still get traffic).

    Example: basic, R=4, w=75, surge 1, unavailable 1, canary 3/3 and stable at spec 1 with 0
    available → True (stable availability is not checked); the same with stable spec 2 → False.
    Routed, R=5, w=100, a Percent 80 threshold: canary spec 5 with 4 available → True.
    """
    desired_canary, desired_stable = calculate_replica_counts_for_canary(
        replicas,
        weight,
        max_surge,
        max_unavailable,
        stable,
        canary,
        others,
        traffic_routing=traffic_routing,
        set_canary_scale=set_canary_scale,
        dynamic_stable_scale=dynamic_stable_scale,
        current_stable_weight=current_stable_weight,
        current_canary_weight=current_canary_weight,
        min_pods_per_replica_set=min_pods_per_replica_set,
        max_weight=max_weight,
        aborted=aborted,
        abort_scale_down_delay_seconds=abort_scale_down_delay_seconds,
        promote_full=promote_full,
        set_weights=set_weights,
    )
    if not replica_progress_threshold_met(replica_progress_threshold, canary, desired_canary):
        return False
    if not (traffic_routing and dynamic_stable_scale):
        # With dynamicStableScale the stable size follows the router weight, which changes only
        # after this check passes; requiring it here would deadlock.
        if stable is None or stable.spec_replicas != desired_stable:
            return False
        if _created_replicas(stable) != desired_stable:
            return False
    # Without a router every available pod of every RS receives traffic, so older RSs must be
    # empty; behind a router they get no traffic and may still be scaling down.
    others_available = sum(rs.available_replicas for rs in others if rs is not None)
    return traffic_routing or others_available == 0
