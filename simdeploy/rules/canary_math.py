"""Argo Rollouts' canary without a traffic router: the split follows pod counts.

Pure functions: no SimPy, no clock, stdlib only. A ReplicaSet is anything with ``name``,
``spec_replicas`` and ``available_replicas`` (:class:`RSLike`), for example
replica_math's :class:`RSState` or this module's :class:`CanaryRS`. Every function that
"scales" returns the new ``spec.replicas`` values instead of mutating its input.

This module holds the ReplicaSet view every Argo canary function reads, ``maxSurge`` /
``maxUnavailable`` as Argo resolves them, and the basic canary: one Service selects both
ReplicaSets, so the canary's share of traffic is its share of available pods, and each
reconcile moves the pod counts one bounded step towards the setWeight. The canary behind a
traffic router is canary_traffic's concern; picking between the two per step is canary_steps'.

Ported from ``argoproj/argo-rollouts``:

- ``utils/replicaset/canary.go``: CalculateReplicaCountsForBasicCanary,
  approximateWeightedCanaryStableReplicaCounts, floorCeilingTied, weightDelta,
  calculateScaleDownReplicaCount, adjustReplicaWithinLimits, GetReplicasForScaleDown,
  CheckStableRSExists, allDesiredAreAvailable, ReplicaProgressThresholdMet (v1.9+, PR #4341)
- ``utils/replicaset/replicaset.go``: resolveFenceposts, MaxSurge, MaxUnavailable

Upstream computes ceilings, floors and the closest-ratio choice in float64. Where float rounding
can change a result (the tie test of the approximation) this module repeats the same float64
operations, so it agrees with upstream bit for bit; elsewhere integer arithmetic gives the same
numbers without float error.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from simdeploy.rules.int_or_percent import IntOrPercent, go_atoi, scale_percent

__all__ = [
    "ARGO_DEFAULT_MAX_SURGE",
    "ARGO_DEFAULT_MAX_UNAVAILABLE",
    "CanaryRS",
    "RSLike",
    "ReplicaProgressThreshold",
    "approximate_weighted_canary_stable_replica_counts",
    "argo_fenceposts",
    "argo_scaled_value",
    "calculate_replica_counts_for_basic_canary",
    "check_stable_rs_exists",
    "get_replicas_for_scale_down",
    "replica_progress_threshold_met",
    "served_weight",
]

ARGO_DEFAULT_MAX_SURGE: IntOrPercent = "25%"
"""Argo's default ``canary.maxSurge`` (upstream stores the string ``"25"``; both mean 25%)."""

ARGO_DEFAULT_MAX_UNAVAILABLE: IntOrPercent = "25%"
"""Argo's default ``canary.maxUnavailable`` (the string ``"25"`` upstream, i.e. 25%)."""


class RSLike(Protocol):
    """A ReplicaSet as the canary controller reads it.

    ``spec_replicas`` is ``spec.replicas``, ``available_replicas`` is
    ``status.availableReplicas``. replica_math's :class:`RSState` and :class:`CanaryRS`
    both qualify. Only canary_steps'
    :func:`~simdeploy.rules.canary_steps.at_desired_replica_counts_for_canary` also reads
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
class ReplicaProgressThreshold:
    """``canary.replicaProgressThreshold {type, value}``: when a ReplicaSet is available enough.

    ``type`` is ``"Percent"`` (available pods ≥ ``value`` % of the desired count) or a pod count:
    upstream's constant is ``"Pods"`` (``v1alpha1.ProgressTypePods``), its documentation spells
    it ``"Pod"``, and the controller treats every type other than ``"Percent"`` as a pod count,
    so both mean "at least ``value`` available pods". A negative ``value`` is ignored (100% of
    the desired pods must be available, as without a threshold).

    Example: ``ReplicaProgressThreshold("Percent", 80)`` accepts 4 of 5 canary pods available;
    ``ReplicaProgressThreshold("Pods", 9)`` accepts 9 of 10.
    """

    type: Literal["Percent", "Pods", "Pod"]
    value: int


def _all_desired_are_available(rs: RSLike | None, desired: int) -> bool:
    """``allDesiredAreAvailable``: spec and available pods both equal ``desired``."""
    return rs is not None and rs.spec_replicas == desired and rs.available_replicas == desired


def replica_progress_threshold_met(
    threshold: ReplicaProgressThreshold | None, rs: RSLike | None, desired: int
) -> bool:
    """Whether ``rs`` has enough available pods for ``desired`` (ReplicaProgressThresholdMet).

    Without a threshold (None, or a negative value), or without a ReplicaSet, every desired pod
    must be available *and* the spec must equal ``desired`` (allDesiredAreAvailable; no RS →
    False). With a threshold only available pods count, whatever the spec:

    - ``Percent``: available / desired * 100 ≥ value (True when ``desired`` is 0). Upstream
      compares floats with an epsilon of 1e-10; the integer test available * 100 ≥ value *
      desired is exact and gives the same answers;
    - a pod count: available ≥ value, whatever ``desired`` is. So a ``Pods`` threshold above
      a step's desired canary count is never met and the rollout waits at that step, as
      upstream does.

    Example: Percent 90, 9 of 10 available → True; Percent 90, 8 of 10 → False; no threshold,
    spec 5 and 10 available for desired 10 → False (the spec must match).
    """
    if threshold is None or rs is None or threshold.value < 0:
        return _all_desired_are_available(rs, desired)
    if threshold.type == "Percent":
        if desired == 0:
            return True
        return rs.available_replicas * 100 >= threshold.value * desired
    return rs.available_replicas >= threshold.value


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
    percent = go_atoi(value.replace("%", ""))
    if percent is None:
        raise ValueError(f"invalid value {value!r}: not an integer or percentage")
    return scale_percent(percent, total, round_up)


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
    :func:`~simdeploy.rules.canary_steps.calculate_replica_counts_for_canary`, which does it
    for you). ``max_surge`` and ``max_unavailable`` are the raw spec values (None = Argo's 25%
    default). ``others`` are the older ReplicaSets (neither stable nor canary); None entries
    are skipped.

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
# Traffic a basic canary actually serves
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
