"""The HorizontalPodAutoscaler's arithmetic for a CPU utilisation target, as pure functions.

Every sync period (15 s) the HPA controller reads each pod's usage and request, and computes
``usageRatio = utilisation / target`` where utilisation is ``Σ usage × 100 / Σ request`` over the
pods it counts, truncated to a whole percent. Within the tolerance (``|1 − ratio| ≤ 0.1``) it
keeps the current count; otherwise it proposes ``ceil(ratio × ready pods)``. Pods it cannot
count shift the estimate towards "no change": missing metrics count as 100% of their request on
a scale-down and 0% on a scale-up, unready pods as 0% on a scale-up, and a proposal that would
reverse the direction is dropped. The proposal is then normalised: scale-down is stabilised (the
highest recommendation of the last 5 minutes wins), the result is clamped to
``[minReplicas, maxReplicas]``, and a scale-up is capped at ``max(2 × current, 4)``.

Worked example (TestReplicaCalcScaleUp): 3 pods with request 1 CPU using 300m, 500m, 700m,
target 30% → utilisation 1500 × 100 / 3000 = 50% → ratio 1.67 → ceil(1.67 × 3) = 5.

Modelled: ``GetResourceReplicas`` with ``groupPods`` (deleted and Failed pods ignored, Pending
ones unready, the CPU initialisation period and initial readiness delay), the tolerance, the
default (``behavior`` unset) normalisation ``normalizeDesiredReplicas``:
``stabilizeRecommendation`` over ``--horizontal-pod-autoscaler-downscale-stabilization`` and
``convertDesiredReplicasWithRules``, and ``reconcileAutoscaler``'s guards (target at 0 replicas:
scaling disabled; outside [min, max]: clamp at once). Not modelled: ``spec.behavior`` policies,
metrics other than CPU utilisation (memory, custom, object, external), several metrics at once,
per-direction tolerances (KEP-4951), scale to zero.

Ported from ``kubernetes/kubernetes``:

- ``pkg/controller/podautoscaler/replica_calculator.go`` (``GetResourceReplicas``, ``groupPods``)
- ``pkg/controller/podautoscaler/metrics/utilization.go`` (``GetResourceUtilizationRatio``)
- ``pkg/controller/podautoscaler/horizontal.go`` (``reconcileAutoscaler``,
  ``stabilizeRecommendation``, ``normalizeDesiredReplicas``, ``convertDesiredReplicasWithRules``,
  ``calculateScaleUpLimit``)
- ``cmd/kube-controller-manager`` defaults: sync period 15 s, tolerance 0.1, downscale
  stabilisation 5 min, CPU initialisation period 5 min, initial readiness delay 30 s

Pure: stdlib only. Times are seconds on the simulation clock; usage and requests are integers
(milli-units), as upstream's.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "DEFAULT_CPU_INITIALIZATION_PERIOD_S",
    "DEFAULT_DOWNSCALE_STABILIZATION_S",
    "DEFAULT_INITIAL_READINESS_DELAY_S",
    "DEFAULT_SYNC_PERIOD_S",
    "DEFAULT_TOLERANCE",
    "SCALE_UP_LIMIT_FACTOR",
    "SCALE_UP_LIMIT_MINIMUM",
    "HPAError",
    "PodGroups",
    "PodInfo",
    "PodMetric",
    "Recommendation",
    "ReplicaCalculation",
    "Rescale",
    "calculate_scale_up_limit",
    "convert_desired_replicas_with_rules",
    "get_resource_replicas",
    "get_resource_utilization_ratio",
    "group_pods",
    "metrics_needed",
    "reconcile",
    "stabilize_recommendation",
]

DEFAULT_SYNC_PERIOD_S = 15.0
DEFAULT_TOLERANCE = 0.1
DEFAULT_DOWNSCALE_STABILIZATION_S = 300.0
DEFAULT_CPU_INITIALIZATION_PERIOD_S = 300.0
DEFAULT_INITIAL_READINESS_DELAY_S = 30.0
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0


class HPAError(ValueError):
    """The replica calculator could not compute a count (upstream returns an error, records a
    ``FailedComputeMetricsReplicas`` event and leaves the scale alone)."""


@dataclass(frozen=True)
class PodInfo:
    """A pod as ``groupPods`` reads it.

    ``phase``: Pending, Running, Succeeded, Failed or Unknown. ``ready``: the Ready condition
    (None when the pod has none). ``start_time``: ``status.startTime`` (None when unset).
    ``ready_transition``: the Ready condition's lastTransitionTime. ``request``: the pod's CPU
    request in milli-CPU.
    """

    name: str
    phase: str = "Running"
    ready: bool | None = True
    start_time: float | None = None
    ready_transition: float | None = None
    deleting: bool = False
    request: int = 1000


@dataclass(frozen=True)
class PodMetric:
    """A pod's usage in milli-CPU, with the end and length of the window it was measured over."""

    value: int
    timestamp: float = 0.0
    window: float = 60.0


@dataclass(frozen=True)
class PodGroups:
    """``groupPods``' result."""

    ready_pod_count: int
    unready: frozenset[str]
    missing: frozenset[str]
    ignored: frozenset[str]


@dataclass(frozen=True)
class ReplicaCalculation:
    """``GetResourceReplicas``' result: the proposal and the utilisation it came from."""

    replicas: int
    utilization: int
    raw_utilization: int


def group_pods(
    pods: Sequence[PodInfo],
    metrics: Mapping[str, PodMetric],
    now: float,
    cpu: bool = True,
    cpu_initialization_period_s: float = DEFAULT_CPU_INITIALIZATION_PERIOD_S,
    initial_readiness_delay_s: float = DEFAULT_INITIAL_READINESS_DELAY_S,
) -> PodGroups:
    """``groupPods``: sort the pods into ready (counted), unready, missing metrics and ignored.

    Deleted and Failed pods are ignored; Pending ones are unready; a pod without a metric is
    missing. For CPU, a pod is also unready when it has no Ready condition or start time; within
    the CPU initialisation period after its start, when it is not Ready or has been Ready for
    less than one metric window (the sample may cover its start-up burst); after it, when it is
    not Ready and never was (its readiness last changed within the initial readiness delay of
    its start).

    Example (TestGroupPods): started 1 min ago, Ready 30 s ago, metric window 30 s → counted;
    with a 60 s window → unready.
    """
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        if pod.deleting or pod.phase == "Failed":
            ignored.add(pod.name)
            continue
        if pod.phase == "Pending":
            unready.add(pod.name)
            continue
        metric = metrics.get(pod.name)
        if metric is None:
            missing.add(pod.name)
            continue
        if cpu:
            if pod.ready is None or pod.start_time is None:
                is_unready = True
            else:
                transition = pod.ready_transition if pod.ready_transition is not None else 0.0
                if pod.start_time + cpu_initialization_period_s > now:
                    is_unready = (not pod.ready) or (metric.timestamp < transition + metric.window)
                else:
                    is_unready = (not pod.ready) and (
                        pod.start_time + initial_readiness_delay_s > transition
                    )
            if is_unready:
                unready.add(pod.name)
                continue
        ready += 1
    return PodGroups(ready, frozenset(unready), frozenset(missing), frozenset(ignored))


def get_resource_utilization_ratio(
    metrics: Mapping[str, PodMetric], requests: Mapping[str, int], target_utilization: int
) -> tuple[float, int, int]:
    """``GetResourceUtilizationRatio``: (ratio, utilisation %, average usage) over the pods that
    have both a metric and a request; the utilisation is truncated to a whole percent before the
    ratio is taken.

    Example: usage 300 + 500 + 700 of 3 × 1000 → 50%, ratio to a 30% target 1.667, average 500.
    Raises :class:`HPAError` when no metric matches a known pod.
    """
    metrics_total = requests_total = entries = 0
    for name, metric in metrics.items():
        request = requests.get(name)
        if request is None:
            continue
        metrics_total += metric.value
        requests_total += request
        entries += 1
    if requests_total == 0:
        raise HPAError("no metrics returned matched known pods")
    utilization = (metrics_total * 100) // requests_total
    return utilization / target_utilization, utilization, metrics_total // entries


def _within(ratio: float, tolerance: float) -> bool:
    # tolerances.isWithin with equal scale-up and scale-down tolerances: |1 − ratio| ≤ tolerance.
    return (1.0 - tolerance) <= ratio <= (1.0 + tolerance)


def get_resource_replicas(
    current_replicas: int,
    target_utilization: int,
    pods: Sequence[PodInfo],
    metrics: Mapping[str, PodMetric],
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
    cpu_initialization_period_s: float = DEFAULT_CPU_INITIALIZATION_PERIOD_S,
    initial_readiness_delay_s: float = DEFAULT_INITIAL_READINESS_DELAY_S,
) -> ReplicaCalculation:
    """``GetResourceReplicas`` for CPU: the replica count the metric asks for.

    ``metrics`` may hold pods that no longer exist (they have no request and do not count in
    the utilisation, but do count in ``len(metrics)`` on the rebalanced path, as upstream).
    Raises :class:`HPAError` with upstream's message when there are no pods or no usable
    metrics.

    Example (TestReplicaCalcScaleUpUnreadyNoScale): pods Ready, not Ready, not Ready using 400m,
    500m, 700m of 1 CPU, target 30% → counted: 40% → ratio 1.33 (scale up); the unready pods
    count as 0 → 13% → ratio 0.43, the direction would flip → keep 3.
    """
    if not pods:
        raise HPAError("no pods returned by selector while calculating replica count")
    groups = group_pods(
        pods, metrics, now, True, cpu_initialization_period_s, initial_readiness_delay_s
    )
    usable = {
        name: m
        for name, m in metrics.items()
        if name not in groups.ignored and name not in groups.unready
    }
    if not usable:
        raise HPAError("did not receive metrics for targeted pods (pods might be unready)")
    requests = {pod.name: pod.request for pod in pods}
    ratio, utilization, raw = get_resource_utilization_ratio(usable, requests, target_utilization)

    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if _within(ratio, tolerance):
            return ReplicaCalculation(current_replicas, utilization, raw)
        return ReplicaCalculation(math.ceil(ratio * groups.ready_pod_count), utilization, raw)

    if groups.missing:
        if ratio < 1.0:
            fallback = max(100, target_utilization)
            for name in groups.missing:
                usable[name] = PodMetric(requests[name] * fallback // 100)
        elif ratio > 1.0:
            for name in groups.missing:
                usable[name] = PodMetric(0)
    if scale_up_with_unready:
        for name in groups.unready:
            usable[name] = PodMetric(0)

    new_ratio, _, _ = get_resource_utilization_ratio(usable, requests, target_utilization)
    if (
        _within(new_ratio, tolerance)
        or (ratio < 1.0 and new_ratio > 1.0)
        or (ratio > 1.0 and new_ratio < 1.0)
    ):
        return ReplicaCalculation(current_replicas, utilization, raw)
    new_replicas = math.ceil(new_ratio * len(usable))
    if (new_ratio < 1.0 and new_replicas > current_replicas) or (
        new_ratio > 1.0 and new_replicas < current_replicas
    ):
        return ReplicaCalculation(current_replicas, utilization, raw)
    return ReplicaCalculation(new_replicas, utilization, raw)


@dataclass(frozen=True)
class Recommendation:
    """One entry of the HPA's recommendation log (``timestampedRecommendation``)."""

    replicas: int
    at: float


def stabilize_recommendation(
    log: Sequence[Recommendation], proposal: int, now: float, window_s: float
) -> tuple[int, list[Recommendation]]:
    """``stabilizeRecommendation``: the highest recommendation of the last ``window_s`` seconds
    (the proposal included), and the log with the proposal recorded (replacing one entry older
    than the window, if there is one, else appended).

    Example (TestNormalizeDesiredReplicas "stabilize"): log 4 (2 min ago), 5 (1 min ago),
    proposal 3, window 5 min → 5, log length 3.
    """
    cutoff = now - window_s
    best = proposal
    old_index: int | None = None
    for i, rec in enumerate(log):
        if rec.at < cutoff:
            old_index = i
        elif rec.replicas > best:
            best = rec.replicas
    new_log = list(log)
    if old_index is not None:
        new_log[old_index] = Recommendation(proposal, now)
    else:
        new_log.append(Recommendation(proposal, now))
    return best, new_log


def calculate_scale_up_limit(current_replicas: int) -> int:
    """``calculateScaleUpLimit``: at most double, and at least 4, in one step.

    Example: 3 → 6; 1 → 4; 100 → 200.
    """
    return int(max(SCALE_UP_LIMIT_FACTOR * current_replicas, SCALE_UP_LIMIT_MINIMUM))


def convert_desired_replicas_with_rules(
    current_replicas: int, desired_replicas: int, min_replicas: int, max_replicas: int
) -> tuple[int, str]:
    """``convertDesiredReplicasWithRules``: clamp to min, and to the lower of max and the
    scale-up limit. Returns (replicas, condition reason).

    Example: current 3, desired 1000, min 1, max 2000 → (6, "ScaleUpLimit"); current 20, desired
    1000, max 10 → (10, "TooManyReplicas"); current 3, desired 1, min 2 → (2, "TooFewReplicas").
    """
    scale_up_limit = calculate_scale_up_limit(current_replicas)
    if max_replicas > scale_up_limit:
        maximum, condition = scale_up_limit, "ScaleUpLimit"
    else:
        maximum, condition = max_replicas, "TooManyReplicas"
    if desired_replicas < min_replicas:
        return min_replicas, "TooFewReplicas"
    if desired_replicas > maximum:
        return maximum, condition
    return desired_replicas, "DesiredWithinRange"


@dataclass(frozen=True)
class Rescale:
    """One ``reconcileAutoscaler`` decision: the new scale (equal to the current one when it does
    not rescale), why, and the recommendation log to keep."""

    replicas: int
    rescale: bool
    reason: str
    log: list[Recommendation]


def metrics_needed(current_replicas: int, min_replicas: int, max_replicas: int) -> bool:
    """Whether ``reconcileAutoscaler`` reads the metrics at all: not for a target at 0
    replicas (scaling disabled), nor for a count outside [min, max] (clamped at once).

    Example: (0, 1, 5) → False; (7, 1, 5) → False; (3, 1, 5) → True.
    """
    if current_replicas == 0 and min_replicas != 0:
        return False
    return min_replicas <= current_replicas <= max_replicas


def reconcile(
    current_replicas: int,
    min_replicas: int,
    max_replicas: int,
    metric_replicas: int | None,
    log: Sequence[Recommendation],
    now: float,
    stabilization_window_s: float = DEFAULT_DOWNSCALE_STABILIZATION_S,
    metric_name: str = "cpu resource utilization (percentage of request)",
) -> Rescale:
    """``reconcileAutoscaler`` with ``spec.behavior`` unset, given the metric's proposal.

    A target at 0 replicas is left alone (scaling disabled); a current count above max or below
    min is clamped at once; otherwise the proposal (None: the metric could not be computed, no
    change) is stabilised and clamped by :func:`convert_desired_replicas_with_rules`. The log is
    started with the current count on the first call (``recordInitialRecommendation``), so for
    the first 5 minutes the HPA does not scale below the count it found.

    Example: current 4, min 2, max 10, log [4 @ 0 s], proposal 2 at 60 s → stabilised to 4, no
    rescale; the same proposal at 301 s → 2, "All metrics below target".
    """
    log = list(log) if log else [Recommendation(current_replicas, now)]
    if current_replicas == 0 and min_replicas != 0:
        return Rescale(
            0, False, "scaling is disabled since the replica count of the target is zero", log
        )
    if current_replicas > max_replicas:
        return Rescale(max_replicas, True, "Current number of replicas above Spec.MaxReplicas", log)
    if current_replicas < min_replicas:
        return Rescale(min_replicas, True, "Current number of replicas below Spec.MinReplicas", log)
    if metric_replicas is None:
        return Rescale(current_replicas, False, "", log)
    desired = max(metric_replicas, 0)
    reason = ""
    if desired > current_replicas:
        reason = f"{metric_name} above target"
    elif desired < current_replicas:
        reason = "All metrics below target"
    stabilized, log = stabilize_recommendation(log, desired, now, stabilization_window_s)
    desired, _ = convert_desired_replicas_with_rules(
        current_replicas, stabilized, min_replicas, max_replicas
    )
    return Rescale(desired, desired != current_replicas, reason, log)
