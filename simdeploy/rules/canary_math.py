"""Replica and weight arithmetic of Argo Rollouts canaries and of Flagger's weight ladder.

Pure functions: no SimPy, no clock, stdlib only. A ReplicaSet is anything with ``name``,
``spec_replicas`` and ``available_replicas`` (:class:`RSLike`), for example
replica_math's :class:`RSState` or this module's :class:`CanaryRS`. Every function that
"scales" returns the new ``spec.replicas`` values instead of mutating its input.

Argo Rollouts (``argoproj/argo-rollouts``), ported from:

- ``utils/replicaset/canary.go``: CalculateReplicaCountsForBasicCanary,
  approximateWeightedCanaryStableReplicaCounts, floorCeilingTied, weightDelta,
  calculateScaleDownReplicaCount, adjustReplicaWithinLimits, GetReplicasForScaleDown,
  CheckStableRSExists, CalculateReplicaCountsForTrafficRoutedCanary, CheckMinPodsPerReplicaSet,
  trafficWeightToReplicas, GetCanaryReplicasOrWeight, UseSetCanaryScale, GetCurrentSetWeight,
  AtDesiredReplicaCountsForCanary
- ``utils/replicaset/replicaset.go``: resolveFenceposts, MaxSurge, MaxUnavailable
- ``rollout/trafficrouting.go``: calculateDesiredWeightOnAbortOrStableRollback (the abort weight
  under dynamicStableScale), plus the later step-down rule of PRs #4035 and #4900 (issue #4898)

Flagger (``fluxcd/flagger``), ported from ``pkg/controller/scheduler.go``: maxWeight,
nextStepWeight and the weight branch of runCanary.

Upstream computes ceilings, floors and the closest-ratio choice in float64. Where float rounding
can change a result (the tie test of the approximation) this module repeats the same float64
operations, so it agrees with upstream bit for bit; elsewhere integer arithmetic gives the same
numbers without float error.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from simdeploy.rules.replica_math import IntOrPercent

__all__ = [
    "ARGO_DEFAULT_MAX_SURGE",
    "ARGO_DEFAULT_MAX_UNAVAILABLE",
    "CanaryRS",
    "RSLike",
    "ReplicaProgressThreshold",
    "SetCanaryScale",
    "abort_weight_with_dynamic_stable_scale",
    "approximate_weighted_canary_stable_replica_counts",
    "argo_fenceposts",
    "argo_scaled_value",
    "at_desired_replica_counts_for_canary",
    "calculate_replica_counts_for_basic_canary",
    "calculate_replica_counts_for_canary",
    "calculate_replica_counts_for_traffic_routed_canary",
    "check_min_pods_per_replica_set",
    "check_stable_rs_exists",
    "flagger_max_weight",
    "flagger_next_step_weight",
    "flagger_next_weight",
    "flagger_promotion_ticks",
    "get_current_set_weight",
    "get_replicas_for_scale_down",
    "legacy_abort_weight_with_dynamic_stable_scale",
    "served_weight",
    "traffic_weight_to_replicas",
]

ARGO_DEFAULT_MAX_SURGE: IntOrPercent = "25%"
"""Argo's default ``canary.maxSurge`` (upstream stores the string ``"25"``; both mean 25%)."""

ARGO_DEFAULT_MAX_UNAVAILABLE: IntOrPercent = "25%"
"""Argo's default ``canary.maxUnavailable`` (the string ``"25"`` upstream, i.e. 25%)."""

_FLAGGER_TOTAL_WEIGHT = 100
# strconv.Atoi accepts an optional sign and decimal digits, nothing else.
_GO_ATOI_RE = re.compile(r"[+-]?[0-9]+")


class RSLike(Protocol):
    """A ReplicaSet as the canary controller reads it.

    ``spec_replicas`` is ``spec.replicas``, ``available_replicas`` is
    ``status.availableReplicas``. replica_math's :class:`RSState` and :class:`CanaryRS`
    both qualify. Only :func:`at_desired_replica_counts_for_canary` also reads
    ``status.replicas``; see :class:`CanaryRS`.
    """

    @property
    def name(self) -> str: ...

    @property
    def spec_replicas(self) -> int: ...

    @property
    def available_replicas(self) -> int: ...


@dataclass(frozen=True)
class CanaryRS:
    """A ReplicaSet with the three counters Argo's canary code reads.

    ``replicas`` is ``status.replicas``: pods that exist, ready or not. Upstream compares it with
    the desired stable count in AtDesiredReplicaCountsForCanary. None means "not tracked" and is
    read as ``spec_replicas`` (every requested pod exists at once).

    Example: a canary asked for 3 pods, 2 created, 1 available is
    ``CanaryRS("canary", spec_replicas=3, available_replicas=1, replicas=2)``.
    """

    name: str
    spec_replicas: int
    available_replicas: int
    replicas: int | None = None


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


# --------------------------------------------------------------------------------------------
# maxSurge / maxUnavailable as Argo resolves them
# --------------------------------------------------------------------------------------------


def argo_scaled_value(value: IntOrPercent, total: int, round_up: bool) -> int:
    """Resolve an Argo int-or-string against ``total`` (intstr.GetValueFromIntOrPercent).

    Unlike the Deployment API, Argo reads *every* string as a percentage: all ``%`` signs are
    removed and the rest is parsed as an integer, so ``"25"`` and ``"25%"`` both mean 25%. An
    int is returned unscaled. A string that is not a number raises ValueError.

    Example: ``argo_scaled_value("25", 10, True)`` → 3; ``argo_scaled_value("25%", 10, False)``
    → 2; ``argo_scaled_value(4, 10, True)`` → 4.
    """
    if isinstance(value, bool):
        raise TypeError(f"maxSurge/maxUnavailable must be an int or a string, not {value!r}")
    if isinstance(value, int):
        return value
    digits = value.replace("%", "")
    if not _GO_ATOI_RE.fullmatch(digits):
        raise ValueError(f"invalid value {value!r}: not an integer or percentage")
    numerator = int(digits) * total
    return -(-numerator // 100) if round_up else numerator // 100


def argo_fenceposts(
    max_surge: IntOrPercent | None, max_unavailable: IntOrPercent | None, replicas: int
) -> tuple[int, int]:
    """(MaxSurge, MaxUnavailable) of a canary Rollout with ``replicas`` desired pods.

    None means the field is unset, which Argo defaults to 25%. Surge rounds up, unavailable
    rounds down. If both come out 0, unavailable becomes 1 (surge might be blocked by quota, so
    allow one pod down instead). Unavailable is then capped at ``replicas``, and is 0 when
    ``replicas`` is 0. Surge is never capped.

    Example: 10 replicas, defaults → (3, 2); 10 at "0%"/"0%" → (0, 1); 4 at 1/10 → (1, 4).
    """
    surge_spec = ARGO_DEFAULT_MAX_SURGE if max_surge is None else max_surge
    unavailable_spec = ARGO_DEFAULT_MAX_UNAVAILABLE if max_unavailable is None else max_unavailable
    surge = argo_scaled_value(surge_spec, replicas, True)
    unavailable = argo_scaled_value(unavailable_spec, replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    if replicas == 0:
        return surge, 0
    return surge, min(unavailable, replicas)


# --------------------------------------------------------------------------------------------
# Basic canary (no traffic router): the split follows pod counts
# --------------------------------------------------------------------------------------------


def _floor_ceiling_tied(weight: int, total: int) -> bool:
    """True when ``total*weight/100`` ends in exactly .5 (floorCeilingTied).

    Done in float64 like upstream: ``50*(7/100)`` is 3.5000000000000004 in float64, so upstream
    does not see that tie, and neither does this function.
    """
    fraction, _ = math.modf(float(total) * (float(weight) / 100))
    return fraction == 0.5


def _weight_delta(weight: int, canary: int, total: int) -> float:
    """How far ``canary/total`` is from ``weight`` in percentage points (weightDelta)."""
    return abs(float(canary * 100) / float(total) - float(weight))


def approximate_weighted_canary_stable_replica_counts(
    replicas: int, weight: int, max_surge: int
) -> tuple[int, int]:
    """Target (canary, stable) pod counts whose ratio best matches ``weight`` percent.

    Candidates, in this order: ceil(R*w/100) of R, floor(R*w/100) of R, and if ``max_surge`` (a
    resolved pod count) is > 0 the same two canary counts out of R+1. The candidate whose
    canary share is closest to ``weight`` wins; on equal distance the earlier one wins (so ceil
    beats floor and R beats R+1). A floor candidate is dropped when R*w/100 (or (R+1)*w/100)
    ends in exactly .5, so such ties round up. Candidates with 0 canary pods (floor) or 0 stable
    pods (ceil of R) are dropped unless w is 0 or 100, or R is 1 with no surge.

    Upstream quirk, kept: with no surge and R*w/100 = R-0.5 (R=2, w=75; R=10, w=95) every
    candidate is dropped and upstream falls back to (0, R), i.e. no canary pod at all.

    Example: R=10, w=1, surge 1 → (1, 10) (1/11 = 9.1% beats 1/10 = 10%); R=3, w=50, no surge
    → (2, 1); R=1, w=5, surge 1 → (1, 1); R=1, w=49, no surge → (0, 1).
    """
    if replicas == 0:
        return 0, 0
    ceil_canary = -(-replicas * weight // 100)
    floor_canary = replicas * weight // 100
    # A 0-pod side is only acceptable when the weight asks for it, or when one pod and no surge
    # leave no other way to express the weight.
    zero_allowed = weight in (0, 100) or (replicas == 1 and max_surge == 0)

    options: list[tuple[int, int]] = []
    if ceil_canary < replicas or zero_allowed:
        options.append((ceil_canary, replicas))
    if not _floor_ceiling_tied(weight, replicas) and (floor_canary != 0 or zero_allowed):
        options.append((floor_canary, replicas))
    if max_surge > 0:
        # One surge pod can bring the ratio closer: 1 of 11 is nearer 1% than 1 of 10.
        options.append((ceil_canary, replicas + 1))
        if not _floor_ceiling_tied(weight, replicas + 1) and (floor_canary != 0 or zero_allowed):
            options.append((floor_canary, replicas + 1))
    if not options:
        return 0, replicas

    best = options[0]
    best_delta = _weight_delta(weight, *best)
    for option in options[1:]:
        delta = _weight_delta(weight, *option)
        if delta < best_delta:  # strict: the earlier option wins a tie
            best, best_delta = option, delta
    canary, total = best
    return canary, total - canary


def check_stable_rs_exists(canary: RSLike | None, stable: RSLike | None) -> bool:
    """True when a stable RS exists and is not the canary RS itself (CheckStableRSExists).

    When it is False the controller ignores the steps and drives the canary to all replicas.

    Example: ``check_stable_rs_exists(CanaryRS("a", 1, 1), CanaryRS("a", 1, 1))`` → False.
    """
    if stable is None:
        return False
    if canary is None:
        return True
    return canary.name != stable.name


def get_replicas_for_scale_down(rs: RSLike | None, ignore_availability: bool) -> int:
    """Pods of ``rs`` counted as serving when deciding how far to scale down.

    An RS whose spec is below its available count is counted at its spec: the extra pods are
    already going away and must not be spent twice. With ``ignore_availability`` the spec is
    counted even if pods are not available, so a crash-looping RS can still be scaled down.

    Example: spec 3 / available 5 → 3; spec 3 / available 2 → 2, or 3 when ignoring
    availability; None → 0.
    """
    if rs is None:
        return 0
    if rs.spec_replicas < rs.available_replicas:
        return rs.spec_replicas
    if ignore_availability:
        return rs.spec_replicas
    return rs.available_replicas


def _calculate_scale_down_replica_count(
    drain_rs: RSLike | None, desired: int, scale_down: int, current: int
) -> int:
    """New spec of the RS being drained: down by ``scale_down``, never below ``desired``."""
    if drain_rs is not None and drain_rs.spec_replicas > desired:
        return max(desired, drain_rs.spec_replicas - scale_down)
    return current


def _adjust_replica_within_limits(
    drain_rs: RSLike | None,
    adjust_rs: RSLike | None,
    drain_count: int,
    adjust_count: int,
    max_allowed: int,
    min_available: int,
) -> tuple[int, int]:
    """Fit (drain, adjust) counts back inside maxSurge and maxUnavailable (adjustReplica...).

    The drained RS is the one whose availability was ignored when computing the scale-down.
    First the other RS (``adjust_rs``) gives back anything above ``max_allowed``. If that would
    remove available pods and push availability under ``min_available``, those pods are given
    back to it, and the drained RS shrinks instead to stay under ``max_allowed``.
    Returns (drain_count, adjust_count).
    """
    total_available = 0
    over_limit = max(0, adjust_count + drain_count - max_allowed)
    if drain_rs is not None:
        total_available += min(drain_rs.available_replicas, drain_count)
    if adjust_rs is not None:
        adjust_count -= over_limit
        total_available += min(adjust_rs.available_replicas, adjust_count)
        lost_available = max(0, adjust_rs.available_replicas - adjust_count)
        still_needed = max(0, min_available - total_available)
        adjust_count += min(lost_available, still_needed)
        # Upstream argues the drained RS can always absorb this: the caller only scales down
        # when the counted pods exceed min_available.
        over_limit = max(0, adjust_count + drain_count - max_allowed)
        drain_count -= over_limit
    return drain_count, adjust_count


def calculate_replica_counts_for_basic_canary(
    replicas: int,
    weight: int,
    max_surge: IntOrPercent | None,
    max_unavailable: IntOrPercent | None,
    stable: RSLike | None,
    canary: RSLike | None,
    others: Sequence[RSLike | None] = (),
) -> tuple[int, int]:
    """New (canary spec, stable spec) after one reconcile of a canary without traffic router.

    ``weight`` is the setWeight in force (0..100); pass 100 for promote-full and 0 when
    aborted, as GetCanaryReplicasOrWeight / GetCurrentSetWeight do (or use
    :func:`calculate_replica_counts_for_canary`, which does it for you). ``max_surge`` and
    ``max_unavailable`` are the raw spec values (None = Argo's 25% default). ``others`` are the
    older ReplicaSets (neither stable nor canary); None entries are skipped.

    One pass, in upstream's order:

    1. The target is :func:`approximate_weighted_canary_stable_replica_counts`. Without a
       stable RS, or when the stable RS is the canary RS, the target is (R, 0) instead.
    2. Scale-up budget = R + maxSurge − Σspec of all RSs. The stable RS takes it first, then
       the canary, each up to its target.
    3. If any older RS still has spec > 0, stop: older RSs are drained first (elsewhere).
    4. minAvailable = R − maxUnavailable. If the canary target is ≥ the canary spec
       ("increasing"), count canary *available* + stable *spec* and drain the stable RS;
       otherwise (lower weight, abort) count canary *spec* + stable *available* and drain the
       canary RS. An RS with spec < available counts at its spec. The drained RS shrinks by
       (counted − minAvailable), not below its target, then both are fitted back inside the
       surge and unavailability limits.

    Example: R=10, w=50, surge 2, unavailable 1, from stable 10/10 and no canary pods →
    canary 2, stable 9 in one pass (target 5/5; scale-up budget 2 goes to the canary; counted
    0 + 10 > 9 lets the stable lose one pod).
    """
    surge, unavailable = argo_fenceposts(max_surge, max_unavailable, replicas)
    desired_canary, desired_stable = approximate_weighted_canary_stable_replica_counts(
        replicas, weight, surge
    )
    canary_count = canary.spec_replicas if canary is not None else 0
    stable_count = 0
    scale_stable = check_stable_rs_exists(canary, stable)
    if scale_stable:
        assert stable is not None  # narrowed by check_stable_rs_exists
        stable_count = stable.spec_replicas
    else:
        # No distinct stable: the steps do not apply, the canary simply goes to 100%.
        desired_canary, desired_stable = replicas, 0

    live_others = [rs for rs in others if rs is not None]
    others_spec = sum(rs.spec_replicas for rs in live_others)
    max_allowed = replicas + surge
    total_spec = others_spec + canary_count + (stable_count if scale_stable else 0)
    scale_up = max_allowed - total_spec

    # Stable first: it carries production traffic, so it is restored before the canary grows.
    if (
        scale_stable
        and stable is not None
        and stable.spec_replicas < desired_stable
        and scale_up > 0
    ):
        if stable.spec_replicas + scale_up < desired_stable:
            stable_count = stable.spec_replicas + scale_up
            scale_up = 0
        else:
            stable_count = desired_stable
            scale_up -= desired_stable - stable.spec_replicas

    if canary is not None and canary.spec_replicas < desired_canary and scale_up > 0:
        canary_count = min(canary.spec_replicas + scale_up, desired_canary)

    if others_spec > 0:
        # Older RSs still hold pods: they are scaled down before the stable or canary.
        return canary_count, stable_count

    min_available = replicas - unavailable
    # Rising weight: stable pods may be unavailable (crash-looping) and must still be drained,
    # so count stable spec. Falling weight (abort): the same holds for canary pods.
    increasing = canary is None or desired_canary >= canary.spec_replicas
    counted = get_replicas_for_scale_down(canary, not increasing) + get_replicas_for_scale_down(
        stable, increasing
    )
    if counted <= min_available:
        return canary_count, stable_count

    scale_down = counted - min_available
    if not increasing:
        canary_count = _calculate_scale_down_replica_count(
            canary, desired_canary, scale_down, canary_count
        )
        canary_count, stable_count = _adjust_replica_within_limits(
            canary, stable, canary_count, stable_count, max_allowed, min_available
        )
    elif scale_stable:
        stable_count = _calculate_scale_down_replica_count(
            stable, desired_stable, scale_down, stable_count
        )
        stable_count, canary_count = _adjust_replica_within_limits(
            stable, canary, stable_count, canary_count, max_allowed, min_available
        )
    return canary_count, stable_count


# --------------------------------------------------------------------------------------------
# Canary with a traffic router: pods follow the weight, traffic is set explicitly
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


# --------------------------------------------------------------------------------------------
# Traffic actually served, and the abort weight under dynamicStableScale
# --------------------------------------------------------------------------------------------


def served_weight(canary_available: int, stable_available: int, others_available: int = 0) -> float:
    """Percent of traffic the canary gets when one Service selects every pod (basic canary).

    canary available / all available * 100, or 0.0 when nothing is available. Older RSs'
    available pods, if any, also share the traffic.

    Example: canary 1, stable 10 → 9.09... (R=10, setWeight 1, with surge); canary 2, stable 1
    → 66.7 (R=2, setWeight 70, surge 1: small R makes the served share coarse, Argo #2281);
    nothing available → 0.0.
    """
    total = canary_available + stable_available + others_available
    if total <= 0:
        return 0.0
    return canary_available * 100 / total


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


# --------------------------------------------------------------------------------------------
# Flagger: the weight ladder of a progressive canary
# --------------------------------------------------------------------------------------------


def flagger_max_weight(
    max_weight: int | None = None, step_weights: Sequence[int] | None = None
) -> int:
    """The weight at which Flagger stops increasing and promotes (Controller.maxWeight).

    With ``stepWeights`` it is the last entry, capped at 100 (``maxWeight`` is then ignored).
    Otherwise ``maxWeight`` if > 0, else 100.

    Example: (50, None) → 50; (None, None) → 100; (50, [1, 5, 80]) → 80; (None, [10, 150]) → 100.
    """
    if step_weights:
        return min(_FLAGGER_TOTAL_WEIGHT, step_weights[-1])
    if max_weight is not None and max_weight > 0:
        return max_weight
    return _FLAGGER_TOTAL_WEIGHT


def flagger_next_step_weight(
    current: int, step_weight: int | None = None, step_weights: Sequence[int] | None = None
) -> int:
    """The increment Flagger adds to ``current`` on the next advancing tick (nextStepWeight).

    ``stepWeight`` wins when > 0, and is used as is (possibly 0) when there are no
    ``stepWeights``. With ``stepWeights``: from 0 the first entry; from an entry the gap to the
    next entry; from anything else (or the last entry) the rest up to 100. Every step is capped
    so the weight cannot pass 100; at exactly 100 the step is 1, which only serves to trigger
    promotion.

    Example: (20, 20) → 20; (0, None, [1, 10, 50]) → 1; (10, None, [1, 10, 50]) → 40;
    (30, None, [1, 10, 50]) → 70.
    """
    if (step_weight is not None and step_weight > 0) or not step_weights:
        return step_weight or 0
    max_step = _FLAGGER_TOTAL_WEIGHT - current
    if max_step == 0:
        return 1
    if current == 0:
        return min(max_step, step_weights[0])
    for index in range(len(step_weights) - 1):
        if step_weights[index] == current:
            return min(max_step, step_weights[index + 1] - current)
    return max_step


def flagger_next_weight(
    current: int,
    step_weight: int | None = None,
    step_weights: Sequence[int] | None = None,
    max_weight: int | None = 100,
) -> int:
    """Canary weight after one successful Flagger tick (runCanary's weight branch).

    While ``current`` is below :func:`flagger_max_weight` the weight grows by
    :func:`flagger_next_step_weight`, capped at 100; it may overshoot ``maxWeight``. At or above
    the max weight the tick promotes instead and the weight is unchanged; it is also unchanged
    when the step is 0 (Flagger then never advances). ``max_weight`` None or ≤ 0 means unset.

    Example: stepWeight 20, maxWeight 50: 0 → 20 → 40 → 60, then 60 stays (promotion).
    stepWeights [5, 10, 50]: 0 → 5 → 10 → 50.
    """
    if current >= flagger_max_weight(max_weight, step_weights):
        return current
    step = flagger_next_step_weight(current, step_weight, step_weights)
    if step <= 0:
        return current
    return min(_FLAGGER_TOTAL_WEIGHT, current + step)


def flagger_promotion_ticks(
    max_weight: int | None = None,
    step_weight: int | None = None,
    step_weights: Sequence[int] | None = None,
    *,
    mirror: bool = False,
) -> int:
    """Weight-advancing ticks from weight 0 until the tick that promotes.

    Counts successful analysis ticks that change the weight (plus the single mirrored tick at
    weight 0 when ``mirror``). The promotion tick itself, the first pre-rollout tick and the
    Promoting/Finalising ticks are not counted. Raises ValueError when the ladder stalls (a step
    of 0), since Flagger would then never promote.

    Example: stepWeight 20, maxWeight 50 → 3 (20, 40, 60); stepWeight 10, maxWeight 50 → 5;
    stepWeights [1, 5, 10, 20, 50] → 5; with mirror one more.
    """
    target = flagger_max_weight(max_weight, step_weights)
    current = 0
    ticks = 1 if mirror else 0
    while current < target:
        following = flagger_next_weight(current, step_weight, step_weights, max_weight)
        if following == current:
            raise ValueError(f"the Flagger weight ladder stalls at {current}: no promotion")
        current = following
        ticks += 1
    return ticks
