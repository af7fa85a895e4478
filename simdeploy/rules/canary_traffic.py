"""Argo Rollouts' canary behind a traffic router: pods follow the weight, traffic is set.

With a router (a mesh or ingress) the canary's share of traffic is the weight written to the
router, not its share of pods. Each ReplicaSet is set straight to the pods its weight needs
(maxSurge and maxUnavailable do not apply), setCanaryScale can size the canary apart from the
weight, and under dynamicStableScale the stable shrinks as traffic leaves it, so on abort the
weight has to step back down the setWeight ladder as the stable grows again: the replica
counts follow that stepped-down weight (v1.9+), and the router weight follows them once the
stable can carry it. Weights are out of ``max_weight`` (``trafficRouting.maxTrafficWeight``,
100 by default).

Ported from ``argoproj/argo-rollouts`` (read at v1.10.0-rc1, commit 9f8d111):

- ``utils/replicaset/canary.go``: CalculateReplicaCountsForTrafficRoutedCanary,
  CheckMinPodsPerReplicaSet (capped at ``spec.replicas`` since v1.10), trafficWeightToReplicas,
  GetCanaryReplicasOrWeight, GetDesiredCanaryWeight (the abort ladder, with the #4898 fix of
  PR #4900), UseSetCanaryScale
- ``rollout/trafficrouting.go``: calculateDesiredWeightOnAbortOrStableRollback (the router
  weight on abort), checkReplicasAvailable (may the router take a weight yet?)

Pure: stdlib only.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from simdeploy.rules.argo_abort import (
    abort_scale_down_delay_seconds as _abort_delay,
)
from simdeploy.rules.argo_abort import has_explicit_abort_scale_down_delay
from simdeploy.rules.canary_math import (
    ReplicaProgressThreshold,
    RSLike,
    replica_progress_threshold_met,
)

__all__ = [
    "SetCanaryScale",
    "calculate_desired_weight_on_abort",
    "calculate_replica_counts_for_traffic_routed_canary",
    "check_min_pods_per_replica_set",
    "check_replicas_available",
    "desired_canary_weight_on_abort",
    "legacy_abort_weight_with_dynamic_stable_scale",
    "traffic_weight_to_replicas",
]


@dataclass(frozen=True)
class SetCanaryScale:
    """The ``setCanaryScale`` step in force (the last one at or before the current step).

    ``replicas`` wins over ``weight``. ``match_traffic_weight=True`` cancels any earlier
    setCanaryScale, so the canary follows setWeight again. Only honoured with a traffic router.

    Example: ``SetCanaryScale(weight=200)`` on 4 replicas asks for 8 canary pods.
    """

    replicas: int | None = None
    weight: int | None = None
    match_traffic_weight: bool = False


# --------------------------------------------------------------------------------------------
# Pod counts that follow the router weight
# --------------------------------------------------------------------------------------------


def traffic_weight_to_replicas(replicas: int, weight: int, max_weight: int = 100) -> int:
    """Pods needed to carry ``weight`` out of ``max_weight``, rounded up (trafficWeightToReplicas).

    Example: 10 replicas at 25 → 3; at 33 → 4; at 99 → 10; 10 replicas at 500 of 1000 → 5.
    """
    return -(-weight * replicas // max_weight)


def check_min_pods_per_replica_set(
    count: int, min_pods_per_replica_set: int | None, replicas: int
) -> int:
    """Raise a non-zero pod count to ``minPodsPerReplicaSet`` (CheckMinPodsPerReplicaSet).

    0 stays 0 and None leaves the count alone. The minimum is capped at ``replicas``
    (``spec.replicas``, since v1.10: a minimum above it made the controller scale in a loop),
    so it never asks for more pods than the rollout has.

    Example: (1, 2, 10) → 2; (0, 2, 10) → 0; (5, 2, 10) → 5; (1, 2, 1) → 1 (capped at 1 replica).
    """
    if count == 0 or min_pods_per_replica_set is None:
        return count
    return max(count, min(min_pods_per_replica_set, replicas))


def _set_canary_scale_in_force(
    set_canary_scale: SetCanaryScale | None,
    aborted: bool,
    abort_scale_down_delay_seconds: float | None,
) -> SetCanaryScale | None:
    """The setCanaryScale that applies now, if any (UseSetCanaryScale, router already known).

    On abort it is ignored unless ``abortScaleDownDelaySeconds`` is 0 (keep the canary up), so
    an aborted canary normally follows the weight back to 0.
    """
    if set_canary_scale is None or set_canary_scale.match_traffic_weight:
        return None
    if aborted:
        delay, _ = _abort_delay(abort_scale_down_delay_seconds, traffic_routing=True)
        if delay is not None:
            return None
    return set_canary_scale


def desired_canary_weight_on_abort(
    replicas: int,
    set_weights: Sequence[int | None],
    stable_available: int,
    canary_available: int,
    abort_scale_down_delay_seconds: float | None = None,
    *,
    max_weight: int = 100,
) -> int:
    """The canary weight an aborted dynamicStableScale rollout scales towards (v1.9+).

    GetDesiredCanaryWeight's abort branch. Instead of 0 (stable straight to full size), the
    weight walks back down the setWeight ladder as the canary drains:

    - canary pods still serving = R − stable available, raised to the canary's available pods
      unless the abort delay is explicit (given and not 0). An explicit delay keeps the canary
      at full size until its deadline, which is only set once stable is full, so bounding by the
      canary's size deadlocked the abort (issue #4898, PR #4900);
    - the weight is the first setWeight, walking ``set_weights`` (one entry per step, None for
      steps that are not setWeight) from the end, whose ceil(R * w / max) is below that count;
      0 if none.

    ``abort_scale_down_delay_seconds`` is the field as written (None = absent).

    Example: R=10, steps [10, 50], canary 5 available: stable 9 available and no delay given →
    10 (5 pods still serve, 50% would need 5, 10% needs 1); with an explicit 30 → 0 (only 1
    pod's worth is left); stable 5 and explicit 30 → 10.
    """
    to_drain = replicas - stable_available
    if not has_explicit_abort_scale_down_delay(
        abort_scale_down_delay_seconds, traffic_routing=True
    ):
        to_drain = max(to_drain, canary_available)
    for step_weight in reversed(set_weights):
        if step_weight is None:
            continue
        if traffic_weight_to_replicas(replicas, step_weight, max_weight) < to_drain:
            return step_weight
    return 0


def calculate_replica_counts_for_traffic_routed_canary(
    replicas: int,
    weight: int,
    set_canary_scale: SetCanaryScale | None = None,
    dynamic_stable_scale: bool = False,
    current_stable_weight: int | None = None,
    current_canary_weight: int | None = None,
    *,
    min_pods_per_replica_set: int | None = None,
    max_weight: int = 100,
    aborted: bool = False,
    abort_scale_down_delay_seconds: float | None = None,
    promote_full: bool = False,
    set_weights: Sequence[int | None] = (),
    stable: RSLike | None = None,
    canary: RSLike | None = None,
) -> tuple[int, int]:
    """Desired (canary, stable) pod counts of a canary behind a traffic router.

    ``weight`` is the setWeight in force, out of ``max_weight`` (trafficRouting.maxTrafficWeight).
    ``current_stable_weight`` / ``current_canary_weight`` are the weights last written to the
    router (``status.canary.weights``); None means none recorded. maxSurge and maxUnavailable do
    not apply: each RS is set straight to its count. ``abort_scale_down_delay_seconds`` is the
    field as written (None = absent). ``set_weights`` (one entry per step, None for other
    steps), ``stable`` and ``canary`` (the ReplicaSets, for their available pods) are only read
    on an abort under dynamicStableScale.

    The weight, as GetCanaryReplicasOrWeight: ``promote_full`` → ``max_weight`` (setCanaryScale
    ignored); else a setCanaryScale in force (on abort only with a delay of 0) → its replicas
    (weight 0 for the stable side) or its weight (may exceed 100%); else on abort → 0, or under
    dynamicStableScale with both ReplicaSets known, :func:`desired_canary_weight_on_abort`.

    - Canary = setCanaryScale's replicas if in force, else ceil(R * weight / max) raised to
      ``min_pods_per_replica_set`` (capped at R) when non-zero.
    - Stable = R, unless ``dynamic_stable_scale``. Then stable = ceil(R * (max − w) / max),
      raised to the pods its current weight needs, so it never shrinks before traffic has left
      it; on abort the canary is likewise kept at the pods its current weight needs. Both are
      then raised to ``min_pods_per_replica_set`` (capped at R) when non-zero.

    Example: R=10, w=10 → (1, 10). R=10, w=20, dynamicStableScale, router at 10/90 → (2, 9):
    the canary is scaled ahead of the traffic, the stable still carries 90%. Aborted at 60
    (router 60/40) with steps [20, 60], stable 4/4 and canary 6/6 → (6, 8): the ladder gives
    20, so stable grows to 8 while the canary keeps the 6 pods its traffic needs.
    """
    scale = None
    if promote_full:
        weight = max_weight
    else:
        scale = _set_canary_scale_in_force(
            set_canary_scale, aborted, abort_scale_down_delay_seconds
        )
        if scale is not None and scale.replicas is not None:
            # GetCanaryReplicasOrWeight returns (replicas, 0): a dynamic stable stays at 100%.
            weight = 0
        elif scale is not None and scale.weight is not None:
            weight = scale.weight
        elif aborted:
            weight = 0
            if dynamic_stable_scale and stable is not None and canary is not None:
                weight = desired_canary_weight_on_abort(
                    replicas,
                    set_weights,
                    stable.available_replicas,
                    canary.available_replicas,
                    abort_scale_down_delay_seconds,
                    max_weight=max_weight,
                )

    if scale is not None and scale.replicas is not None:
        canary_count = scale.replicas
    else:
        canary_count = check_min_pods_per_replica_set(
            traffic_weight_to_replicas(replicas, weight, max_weight),
            min_pods_per_replica_set,
            replicas,
        )

    if not dynamic_stable_scale:
        # Stable stays at 100% so an abort can move all traffic back at once.
        return canary_count, replicas

    stable_count = traffic_weight_to_replicas(replicas, max_weight - weight, max_weight)
    if current_stable_weight is not None:
        # Going up, the stable must keep the pods for the traffic it still has; going down, it
        # scales up ahead of the traffic it is about to get.
        stable_count = max(
            stable_count, traffic_weight_to_replicas(replicas, current_stable_weight, max_weight)
        )
    if aborted and current_canary_weight is not None:
        # Do not remove canary pods before the router has moved their traffic away.
        canary_count = max(
            traffic_weight_to_replicas(replicas, current_canary_weight, max_weight), canary_count
        )
    return (
        check_min_pods_per_replica_set(canary_count, min_pods_per_replica_set, replicas),
        check_min_pods_per_replica_set(stable_count, min_pods_per_replica_set, replicas),
    )


# --------------------------------------------------------------------------------------------
# The router weight
# --------------------------------------------------------------------------------------------


def check_replicas_available(
    rs: RSLike | None,
    replicas: int,
    weight: int,
    max_weight: int = 100,
    threshold: ReplicaProgressThreshold | None = None,
) -> bool:
    """Whether ``rs`` can carry ``weight`` yet (checkReplicasAvailable).

    The router is only given a new weight once the stable ReplicaSet has floor(weight * R /
    max) available pods for the stable share ``weight`` (rounded *down*, unlike the scaling
    arithmetic), or meets ``replicaProgressThreshold`` for that count. No ReplicaSet → False.

    Example: R=10, stable share 50 → 5 pods needed: 4 available → False, or True with a Percent
    80 threshold (4/5 = 80%); R=2 at 50000000 of 100000000 → 1 pod needed.
    """
    if rs is None:
        return False
    desired = weight * replicas // max_weight
    return rs.available_replicas >= desired or replica_progress_threshold_met(
        threshold, rs, desired
    )


def calculate_desired_weight_on_abort(
    replicas: int,
    set_weights: Sequence[int | None],
    current_weight: int | None,
    stable_available: int,
    canary_available: int,
    abort_scale_down_delay_seconds: float | None = None,
    *,
    max_weight: int = 100,
) -> int:
    """Canary router weight for one reconcile of an aborted dynamicStableScale rollout.

    calculateDesiredWeightOnAbortOrStableRollback. ``current_weight`` is the canary weight last
    written to the router (None = none recorded); ``abort_scale_down_delay_seconds`` the field
    as written (None = absent). With desired = :func:`desired_canary_weight_on_abort` and
    expected = max − floor(max * stable available / R), the canary share the stable cannot
    carry yet:

    - 0 replicas → 0;
    - no weight recorded → max(expected, desired);
    - desired 0 → min(expected, current): traffic leaves as fast as stable pods come back, and
      never flows back to the canary if a stable pod flaps;
    - the stable's available share below max − desired → current (hold until it can carry it);
    - otherwise min(desired, current).

    The router takes the result only once :func:`check_replicas_available` passes for the
    stable share max − result.

    Example (upstream rows, R=5, steps [50, pause]): stable 3 available, canary 4, router at 100
    → 50; no setWeight steps, stable 1 available, router at 100 → 80 (the stable carries 20%);
    stable 4 available, canary 0, router at 0 → 0 (never back up to 20).
    """
    if replicas == 0:
        return 0
    desired = desired_canary_weight_on_abort(
        replicas,
        set_weights,
        stable_available,
        canary_available,
        abort_scale_down_delay_seconds,
        max_weight=max_weight,
    )
    expected = max(0, max_weight - (max_weight * stable_available) // replicas)
    if current_weight is None:
        return max(expected, desired)
    if desired <= 0:
        return min(expected, current_weight)
    stable_share = (max_weight * stable_available) // replicas
    if stable_share < max_weight - desired:
        # Stable is still scaling up: keep the canary weight as it is.
        return current_weight
    return min(desired, current_weight)


def legacy_abort_weight_with_dynamic_stable_scale(
    replicas: int, current_weight: int | None, stable_available: int
) -> int:
    """Abort weight under dynamicStableScale before PR #4035 (Argo ≤ 1.8).

    100 − (100 * stable available) // R, never above ``current_weight``: the canary keeps
    whatever share the stable cannot yet carry. Today's
    :func:`calculate_desired_weight_on_abort` still falls back to this once the ladder is at 0.

    Example: R=10, stable 6 available, router at 50 → 40; stable 10 → 0.
    """
    desired = 100 - (100 * stable_available) // replicas
    if current_weight is not None:
        desired = min(desired, current_weight)
    return desired
