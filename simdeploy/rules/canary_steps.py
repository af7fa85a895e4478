"""One reconcile of an Argo Rollouts canary step: weight in force, pod counts, step reached.

The canary controller reads the setWeight in force at the current step, computes the
(canary, stable) ``spec.replicas`` for it, with a traffic router (canary_traffic) or without
(canary_math), and advances to the next step only once both ReplicaSets are at those counts.
Weights are percent (or out of ``max_weight`` behind a router); counts are pods.

Ported from ``argoproj/argo-rollouts`` ``utils/replicaset/canary.go``: GetCurrentSetWeight,
GetCanaryReplicasOrWeight (the promote-full and abort weights of a basic canary) and
AtDesiredReplicaCountsForCanary, plus the documented ``replicaProgressThreshold``.

Pure: stdlib only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from simdeploy.rules.canary_math import RSLike, calculate_replica_counts_for_basic_canary
from simdeploy.rules.canary_traffic import (
    SetCanaryScale,
    calculate_replica_counts_for_traffic_routed_canary,
)
from simdeploy.rules.int_or_percent import IntOrPercent

__all__ = [
    "ReplicaProgressThreshold",
    "at_desired_replica_counts_for_canary",
    "calculate_replica_counts_for_canary",
    "get_current_set_weight",
]


@dataclass(frozen=True)
class ReplicaProgressThreshold:
    """``replicaProgressThreshold {type, value}``: when the canary counts as available enough.

    ``Percent``: available pods ≥ ``value`` % of the desired canary count. ``Pod``: at least
    ``value`` available pods. Upstream's code for this (newer than the canary.go read for this
    port) was not available; the rule here follows the documentation ("available replicas /
    desired replicas for the current step") and the upstream test "4/5 = 80% >= 80%".

    Example: ``ReplicaProgressThreshold("Percent", 80)`` accepts 4 of 5 canary pods available.
    """

    type: Literal["Percent", "Pod"]
    value: int


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
    abort_scale_down_delay_seconds: int | None = None,
    promote_full: bool = False,
) -> tuple[int, int]:
    """(canary, stable) spec for the next reconcile, with or without a traffic router.

    Dispatches like the controller: :func:`calculate_replica_counts_for_traffic_routed_canary`
    when ``traffic_routing``, else :func:`calculate_replica_counts_for_basic_canary`. For the
    basic canary it applies GetCanaryReplicasOrWeight first: ``promote_full`` → weight 100,
    else ``aborted`` → weight 0; setCanaryScale, dynamicStableScale and minPodsPerReplicaSet are
    ignored without a router, as upstream ignores them.

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


def _threshold_met(available: int, desired: int, threshold: ReplicaProgressThreshold) -> bool:
    """Whether ``available`` canary pods satisfy ``threshold`` for ``desired`` pods."""
    if threshold.type == "Pod":
        return available >= threshold.value
    # Integer form of available / desired * 100 >= value, safe for desired = 0.
    return available * 100 >= threshold.value * desired


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
    abort_scale_down_delay_seconds: int | None = None,
    promote_full: bool = False,
    replica_progress_threshold: ReplicaProgressThreshold | None = None,
) -> bool:
    """Whether a setWeight / setCanaryScale step has reached its replica counts.

    Arguments are those of :func:`calculate_replica_counts_for_canary`. With a basic canary the
    "desired" counts are the result of one more bounded move, so this is True only at a fixed
    point of that move. It is True when all of these hold:

    - the canary RS exists, its spec equals the desired canary count and that many pods are
      available (or, with ``replica_progress_threshold``, the threshold is met);
    - unless (traffic router and dynamicStableScale): the stable RS exists, its spec equals the
      desired stable count and that many pods *exist* (``status.replicas``; availability is not
      required);
    - basic canary only: older RSs have 0 available pods (they would still get traffic).

    Example: basic, R=4, w=75, surge 1, unavailable 1, canary 3/3 and stable at spec 1 with 0
    available → True (stable availability is not checked); the same with stable spec 2 → False.
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
    )
    if canary is None or canary.spec_replicas != desired_canary:
        return False
    if replica_progress_threshold is None:
        if canary.available_replicas != desired_canary:
            return False
    elif not _threshold_met(canary.available_replicas, desired_canary, replica_progress_threshold):
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
