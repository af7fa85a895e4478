"""Argo Rollouts' canary behind a traffic router: pods follow the weight, traffic is set.

With a router (a mesh or ingress) the canary's share of traffic is the weight written to the
router, not its share of pods. Each ReplicaSet is set straight to the pods its weight needs
(maxSurge and maxUnavailable do not apply), setCanaryScale can size the canary apart from the
weight, and under dynamicStableScale the stable shrinks as traffic leaves it, so on abort the
router weight has to step back down as the stable grows again. Weights are out of
``max_weight`` (``trafficRouting.maxTrafficWeight``, 100 by default).

Ported from ``argoproj/argo-rollouts``:

- ``utils/replicaset/canary.go``: CalculateReplicaCountsForTrafficRoutedCanary,
  CheckMinPodsPerReplicaSet, trafficWeightToReplicas, GetCanaryReplicasOrWeight,
  UseSetCanaryScale
- ``rollout/trafficrouting.go``: calculateDesiredWeightOnAbortOrStableRollback (the abort weight
  under dynamicStableScale), plus the later step-down rule of PRs #4035 and #4900 (issue #4898)

Pure: stdlib only.
"""

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "SetCanaryScale",
    "abort_weight_with_dynamic_stable_scale",
    "calculate_replica_counts_for_traffic_routed_canary",
    "check_min_pods_per_replica_set",
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


def check_min_pods_per_replica_set(count: int, min_pods_per_replica_set: int | None) -> int:
    """Raise a non-zero pod count to ``minPodsPerReplicaSet`` (CheckMinPodsPerReplicaSet).

    0 stays 0 and None leaves the count alone. Upstream does not cap the result at
    ``spec.replicas``: 1 replica with minimum 2 gives 2.

    Example: (1, 2) → 2; (0, 2) → 0; (5, 2) → 5.
    """
    if count == 0 or min_pods_per_replica_set is None:
        return count
    return max(count, min_pods_per_replica_set)


def _set_canary_scale_in_force(
    set_canary_scale: SetCanaryScale | None,
    aborted: bool,
    abort_scale_down_delay_seconds: int | None,
) -> SetCanaryScale | None:
    """The setCanaryScale that applies now, if any (UseSetCanaryScale, router already known).

    On abort it is ignored unless ``abortScaleDownDelaySeconds`` is explicitly 0 (keep the
    canary up), so an aborted canary normally follows the weight back to 0.
    """
    if set_canary_scale is None or set_canary_scale.match_traffic_weight:
        return None
    if aborted and abort_scale_down_delay_seconds != 0:
        return None
    return set_canary_scale


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
    abort_scale_down_delay_seconds: int | None = None,
    promote_full: bool = False,
) -> tuple[int, int]:
    """Desired (canary, stable) pod counts of a canary behind a traffic router.

    ``weight`` is the setWeight in force, out of ``max_weight`` (trafficRouting.maxTrafficWeight).
    ``current_stable_weight`` / ``current_canary_weight`` are the weights last written to the
    router (``status.canary.weights``); None means none recorded. maxSurge and maxUnavailable do
    not apply: each RS is set straight to its count.

    - ``promote_full`` forces the weight to ``max_weight`` and ignores setCanaryScale.
      Otherwise ``aborted`` forces the weight to 0 (GetCurrentSetWeight).
    - Canary = ``set_canary_scale.replicas`` if in force; else ceil(R * weight / max_weight),
      where ``set_canary_scale.weight`` replaces the weight (it may exceed 100%); then raised
      to ``min_pods_per_replica_set`` when non-zero (the replicas override is not raised here).
    - Stable = R, unless ``dynamic_stable_scale``. Then stable = ceil(R * (max − w) / max),
      raised to the pods its current weight needs, so it never shrinks before traffic has left
      it; on abort the canary is likewise kept at the pods its current weight needs. Both are
      then raised to ``min_pods_per_replica_set`` when non-zero.

    Example: R=10, w=10 → (1, 10). R=10, w=20, dynamicStableScale, router at 10/90 → (2, 9):
    the canary is scaled ahead of the traffic, the stable still carries 90%.
    """
    scale = None
    if promote_full:
        weight = max_weight
    else:
        scale = _set_canary_scale_in_force(
            set_canary_scale, aborted, abort_scale_down_delay_seconds
        )
        if aborted:
            weight = 0
        if scale is not None and scale.replicas is not None:
            # GetCanaryReplicasOrWeight returns (replicas, 0): a dynamic stable stays at 100%.
            weight = 0
        elif scale is not None and scale.weight is not None:
            weight = scale.weight

    if scale is not None and scale.replicas is not None:
        canary_count = scale.replicas
    else:
        canary_count = check_min_pods_per_replica_set(
            traffic_weight_to_replicas(replicas, weight, max_weight), min_pods_per_replica_set
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
        check_min_pods_per_replica_set(canary_count, min_pods_per_replica_set),
        check_min_pods_per_replica_set(stable_count, min_pods_per_replica_set),
    )


# --------------------------------------------------------------------------------------------
# The router weight on abort under dynamicStableScale
# --------------------------------------------------------------------------------------------


def abort_weight_with_dynamic_stable_scale(
    replicas: int,
    steps_weights: Sequence[int],
    current_weight: int | None,
    stable_available: int,
    canary_available: int,
    abort_scale_down_delay_explicit: bool,
    *,
    max_weight: int = 100,
) -> int:
    """Canary router weight for one reconcile of an aborted dynamicStableScale rollout.

    Instead of jumping to 0 (which the shrunken stable could not carry), the weight steps down
    the setWeight ladder as the canary drains:

    - pods still to drain = R − stable available, raised to the canary's available pods unless
      ``abort_scale_down_delay_explicit`` (abortScaleDownDelaySeconds set to a non-zero value).
      With an explicit delay the canary is only scaled down once the weight is 0, so bounding
      by its size deadlocked (issue #4898, fixed by PR #4900);
    - the new weight is the first setWeight, walking ``steps_weights`` from the end, whose
      ceil(R * w / max) is below the pods still to drain; 0 if none;
    - it never rises above ``current_weight`` (the weight last written to the router), so a
      flapping stable pod cannot push traffic back to the canary (PR #1794).

    This follows research §3.4 and the issue/PR texts; the upstream source of these PRs was not
    available to read (the stored trafficrouting.go predates them, see
    :func:`legacy_abort_weight_with_dynamic_stable_scale`).

    Example: R=10, steps [10, 25, 50, 75], aborted at 50 with stable 5/5 and canary 5/5:
    5 to drain → 25 (3 pods < 5). Once stable has 8 available and the canary 3: 3 to drain →
    10. With stable 9 and canary 1: 1 to drain → 0.
    """
    to_drain = replicas - stable_available
    if not abort_scale_down_delay_explicit:
        to_drain = max(to_drain, canary_available)
    desired = 0
    for step_weight in reversed(steps_weights):
        if traffic_weight_to_replicas(replicas, step_weight, max_weight) < to_drain:
            desired = step_weight
            break
    if current_weight is not None:
        desired = min(desired, current_weight)
    return desired


def legacy_abort_weight_with_dynamic_stable_scale(
    replicas: int, current_weight: int | None, stable_available: int
) -> int:
    """Abort weight under dynamicStableScale before PR #4035 (Argo ≤ 1.8).

    100 − (100 * stable available) // R, never above ``current_weight``: the canary keeps
    whatever share the stable cannot yet carry. This is the code in the trafficrouting.go read
    for this port.

    Example: R=10, stable 6 available, router at 50 → 40; stable 10 → 0.
    """
    desired = 100 - (100 * stable_available) // replicas
    if current_weight is not None:
        desired = min(desired, current_weight)
    return desired
