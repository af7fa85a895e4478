"""Table tests for simdeploy.rules.hpa, rows named as upstream names them.

replica_calculator_test.go: the CPU ``TestReplicaCalc*`` cases (each pod has two containers
with the same request and usage, which cancels out of the ratio, so one value per pod is
used here) and ``TestGroupPods``; horizontal_test.go: ``TestConvertDesiredReplicasWithRules``
and ``TestNormalizeDesiredReplicas``. Upstream's test clock: CPU initialisation period 2 min,
initial readiness delay 10 s, metric window 1 min; a pod with no start time set there starts
at the zero time, long before ``now``, with a Ready condition whose transition is also at the
zero time. The ``HotCpu`` rows depend on how old harnesses set those times and are not ported.
"""

import math

import pytest

from simdeploy.rules.hpa import (
    HPAError,
    PodInfo,
    PodMetric,
    Recommendation,
    calculate_scale_up_limit,
    convert_desired_replicas_with_rules,
    get_resource_replicas,
    group_pods,
    metrics_needed,
    reconcile,
    stabilize_recommendation,
)

NOW = 10_000.0
INIT = 120.0  # defaultTestingCPUInitializationPeriod
DELAY = 10.0  # defaultTestingDelayOfInitialReadinessStatus
ZERO = 0.0  # Go's zero time, long before NOW


def case(
    current: int,
    requests: list[int],
    levels: list[int],
    target: int,
    readiness: list[bool] | None = None,
    phases: list[str] | None = None,
    deleting: list[bool] | None = None,
) -> tuple[int, list[PodInfo], dict[str, PodMetric], int]:
    """The harness of ``replicaCalcTestCase``: as many pods as ``max(current, len(phases))``,
    Ready unless told, Running unless told; ``levels[i]`` is pod i's usage (milli-CPU)."""
    count = max(current, len(phases or []))

    def nth(values: list | None, i: int, default: object) -> object:
        return values[i] if values is not None and i < len(values) else default

    pods = [
        PodInfo(
            f"test-pod-{i}",
            str(nth(phases, i, "Running")),
            bool(nth(readiness, i, True)),
            ZERO,
            ZERO,
            bool(nth(deleting, i, False)),
            requests[i] if i < len(requests) else 0,
        )
        for i in range(count)
    ]
    metrics = {f"test-pod-{i}": PodMetric(v, NOW, 60.0) for i, v in enumerate(levels)}
    return current, pods, metrics, target


CALC_ROWS = [
    ("TestReplicaCalcScaleUp", case(3, [1000] * 3, [300, 500, 700], 30), 5, 50, 500),
    (
        "TestReplicaCalcScaleUpUnreadyLessScale",
        case(3, [1000] * 3, [300, 500, 700], 30, readiness=[False, True, True]),
        4,
        60,
        600,
    ),
    (
        "TestReplicaCalcScaleUpUnreadyNoScale",
        case(3, [1000] * 3, [400, 500, 700], 30, readiness=[True, False, False]),
        3,
        40,
        400,
    ),
    (
        "TestReplicaCalcScaleUpIgnoresFailedPods",
        case(
            2,
            [1000] * 4,
            [500, 700],
            30,
            readiness=[True, True, False, False],
            phases=["Running", "Running", "Failed", "Failed"],
        ),
        4,
        60,
        600,
    ),
    (
        "TestReplicaCalcScaleUpIgnoresDeletionPods",
        case(
            2,
            [1000] * 4,
            [500, 700],
            30,
            readiness=[True, True, False, False],
            phases=["Running"] * 4,
            deleting=[False, False, True, True],
        ),
        4,
        60,
        600,
    ),
    ("TestReplicaCalcScaleDown", case(5, [1000] * 5, [100, 300, 500, 250, 250], 50), 3, 28, 280),
    (
        "TestReplicaCalcScaleDownIncludeUnreadyPods",
        case(
            5, [1000] * 5, [100, 300, 500, 250, 250], 50, readiness=[True, True, True, False, False]
        ),
        2,
        30,
        300,
    ),
    (
        "TestReplicaCalcScaleDownExcludeUnscheduledPods",
        case(
            5,
            [1000] * 5,
            [100],
            50,
            readiness=[True, False, False, False, False],
            phases=["Running", "Pending", "Pending", "Pending", "Pending"],
        ),
        1,
        10,
        100,
    ),
    (
        "TestReplicaCalcScaleDownIgnoresFailedPods",
        case(
            5,
            [1000] * 7,
            [100, 300, 500, 250, 250],
            50,
            readiness=[True] * 5 + [False] * 2,
            phases=["Running"] * 5 + ["Failed"] * 2,
        ),
        3,
        28,
        280,
    ),
    (
        "TestReplicaCalcScaleDownIgnoresDeletionPods",
        case(
            5,
            [1000] * 7,
            [100, 300, 500, 250, 250],
            50,
            readiness=[True] * 5 + [False] * 2,
            phases=["Running"] * 7,
            deleting=[False] * 5 + [True] * 2,
        ),
        3,
        28,
        280,
    ),
    ("TestReplicaCalcTolerance", case(3, [900, 1000, 1100], [1010, 1030, 1020], 100), 3, 102, 1020),
    (
        "TestReplicaCalcSuperfluousMetrics",
        case(4, [1000] * 4, [4000, 9500, 3000, 7000, 3200, 2000], 100),
        24,
        587,
        5875,
    ),
    ("TestReplicaCalcMissingMetrics", case(4, [1000] * 4, [400, 95], 100), 3, 24, 247),
    ("TestReplicaCalcMissingMetricsNoChangeEq", case(2, [1000] * 2, [1000], 100), 2, 100, 1000),
    ("TestReplicaCalcMissingMetricsNoChangeGt", case(2, [1000] * 2, [1900], 100), 2, 190, 1900),
    ("TestReplicaCalcMissingMetricsNoChangeLt", case(2, [1000] * 2, [600], 100), 2, 60, 600),
    (
        "TestReplicaCalcMissingMetricsUnreadyChange",
        case(3, [1000] * 3, [100, 450], 50, readiness=[False, True, True]),
        3,
        45,
        450,
    ),
    (
        "TestReplicaCalcMissingMetricsUnreadyScaleUp",
        case(3, [1000] * 3, [100, 2000], 50, readiness=[False, True, True]),
        4,
        200,
        2000,
    ),
    (
        "TestReplicaCalcMissingMetricsUnreadyScaleDown",
        case(4, [1000] * 4, [100, 100, 100], 50, readiness=[False, True, True, True]),
        3,
        10,
        100,
    ),
]


@pytest.mark.parametrize(
    ("tc", "replicas", "utilization", "raw"), [pytest.param(*r[1:], id=r[0]) for r in CALC_ROWS]
)
def test_replica_calc_upstream_rows(
    tc: tuple[int, list[PodInfo], dict[str, PodMetric], int],
    replicas: int,
    utilization: int,
    raw: int,
) -> None:
    current, pods, metrics, target = tc
    out = get_resource_replicas(current, target, pods, metrics, NOW, 0.1, INIT, DELAY)
    assert (out.replicas, out.utilization, out.raw_utilization) == (replicas, utilization, raw)


def test_replica_calc_computed_tolerance_alg_implementation() -> None:
    """TestReplicaCalcComputedToleranceAlgImplementation: requests twice the usage, a target
    just past the tolerance scales down to ceil(usedRatio × 10); just inside it, no change."""
    start_pods, used = 10, 10 * 150
    requested = 2 * used
    per_pod = requested // start_pods
    requests = [
        per_pod + 100, per_pod - 100, per_pod + 10, per_pod - 10, per_pod + 2,
        per_pod - 2, per_pod + 1, per_pod - 1, per_pod, per_pod,
    ]  # fmt: skip
    levels = [used // 10] * 10
    requested_to_used = float(requested // used)
    target = abs(1 / (requested_to_used * (1 - 0.1))) + 0.01
    final_target = int(target * 100)
    used_ratio = used / (requested * target)
    current, pods, metrics, _ = case(start_pods, requests, levels, final_target)
    out = get_resource_replicas(current, final_target, pods, metrics, NOW, 0.1, INIT, DELAY)
    assert out.replicas == math.ceil(used_ratio * start_pods)
    assert out.utilization == used * 100 // requested
    target = abs(1 / (requested_to_used * (1 - 0.1))) + 0.004
    out = get_resource_replicas(current, int(target * 100), pods, metrics, NOW, 0.1, INIT, DELAY)
    assert out.replicas == start_pods


@pytest.mark.parametrize(
    ("tc", "message"),
    [
        pytest.param(
            (1, [PodInfo("test-pod-0", start_time=ZERO, ready_transition=ZERO)],
             {"an-older-pod-name": PodMetric(100, NOW)}, 100),
            "no metrics returned matched known pods",
            id="TestReplicaCalcDisjointResourcesMetrics",
        ),
        pytest.param(
            (4, [], {}, 100),
            "no pods returned by selector while calculating replica count",
            id="no-pods",
        ),
        pytest.param(
            case(3, [1000] * 3, [100, 100, 100], 50, readiness=[False] * 3),
            "did not receive metrics for targeted pods (pods might be unready)",
            id="only-unready-pods",
        ),
    ],
)  # fmt: skip
def test_replica_calc_errors(
    tc: tuple[int, list[PodInfo], dict[str, PodMetric], int], message: str
) -> None:
    current, pods, metrics, target = tc
    with pytest.raises(HPAError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_resource_replicas(current, target, pods, metrics, NOW, 0.1, INIT, DELAY)


# --------------------------------------------------------------------------------------------
# TestGroupPods (upstream's "ignored" set of those rows is today's unready set)
# --------------------------------------------------------------------------------------------


def pod(name: str, start: float | None, ready: bool | None = None, transition: float = ZERO,
        phase: str = "Succeeded") -> PodInfo:  # fmt: skip
    return PodInfo(name, phase, ready, start, transition)


GROUP_ROWS = [
    ("void", [], {}, True, 0, set(), set()),
    (
        "count in a ready pod - memory",
        [pod("bentham", None)],
        {"bentham": PodMetric(1, NOW, 60)},
        False,
        1,
        set(),
        set(),
    ),
    (
        "ignore a pod without ready condition - CPU",
        [pod("lucretius", NOW)],
        {"lucretius": PodMetric(1)},
        True,
        0,
        {"lucretius"},
        set(),
    ),
    (
        "count in a ready pod with fresh metrics during initialization period - CPU",
        [pod("bentham", NOW - 60, True, NOW - 30)],
        {"bentham": PodMetric(1, NOW, 30)},
        True,
        1,
        set(),
        set(),
    ),
    (
        "ignore a ready pod without fresh metrics during initialization period - CPU",
        [pod("bentham", NOW - 60, True, NOW - 30)],
        {"bentham": PodMetric(1, NOW, 60)},
        True,
        0,
        {"bentham"},
        set(),
    ),
    (
        "ignore an unready pod during initialization period - CPU",
        [pod("lucretius", NOW - 600, False, NOW - 594)],
        {"lucretius": PodMetric(1)},
        True,
        0,
        {"lucretius"},
        set(),
    ),
    (
        "count in a ready pod without fresh metrics after initialization period - CPU",
        [pod("bentham", NOW - 180, True, NOW - 180)],
        {"bentham": PodMetric(1, NOW - 120, 60)},
        True,
        1,
        set(),
        set(),
    ),
    (
        "count in an unready pod that was ready after initialization period - CPU",
        [pod("lucretius", NOW - 600, False, NOW - 540)],
        {"lucretius": PodMetric(1)},
        True,
        1,
        set(),
        set(),
    ),
    (
        "ignore pod that has never been ready after initialization period - CPU",
        [pod("lucretius", NOW - 600, False, NOW - 590)],
        {"lucretius": PodMetric(1)},
        True,
        1,
        set(),
        set(),
    ),
    ("a missing pod", [pod("epicurus", NOW - 180)], {}, True, 0, set(), {"epicurus"}),
    (
        "several pods",
        [
            pod("lucretius", NOW),
            pod("niccolo", NOW - 180, True, NOW - 180),
            pod("epicurus", NOW - 180),
        ],
        {"lucretius": PodMetric(1), "niccolo": PodMetric(1)},
        True,
        1,
        {"lucretius"},
        {"epicurus"},
    ),
    (
        "pending pods are ignored",
        [pod("unscheduled", None, phase="Pending")],
        {},
        True,
        0,
        {"unscheduled"},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("pods", "metrics", "cpu", "ready", "unready", "missing"),
    [pytest.param(*r[1:], id=r[0]) for r in GROUP_ROWS],
)
def test_group_pods_upstream_rows(
    pods: list[PodInfo],
    metrics: dict[str, PodMetric],
    cpu: bool,
    ready: int,
    unready: set[str],
    missing: set[str],
) -> None:
    groups = group_pods(pods, metrics, NOW, cpu, INIT, DELAY)
    assert (groups.ready_pod_count, set(groups.unready), set(groups.missing)) == (
        ready,
        unready,
        missing,
    )


def test_group_pods_ignores_deleted_and_failed_pods() -> None:
    pods = [PodInfo("gone", deleting=True), PodInfo("dead", phase="Failed")]
    groups = group_pods(pods, {}, NOW, True, INIT, DELAY)
    assert set(groups.ignored) == {"gone", "dead"}


# --------------------------------------------------------------------------------------------
# horizontal.go: normalisation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "desired", "lo", "hi", "expected", "condition"),
    [
        pytest.param(5, 7, 3, 8, 7, "DesiredWithinRange",
                     id="prenormalized desired replicas within range"),
        pytest.param(3, 1, 2, 8, 2, "TooFewReplicas",
                     id="prenormalized desired replicas < minReplicas"),
        pytest.param(20, 1000, 1, 10, 10, "TooManyReplicas",
                     id="maxReplicas is the limit because maxReplicas < scaleUpLimit"),
        pytest.param(3, 1000, 1, 2000, calculate_scale_up_limit(3), "ScaleUpLimit",
                     id="scaleUpLimit is the limit because scaleUpLimit < maxReplicas"),
    ],
)  # fmt: skip
def test_convert_desired_replicas_with_rules_upstream_rows(
    current: int, desired: int, lo: int, hi: int, expected: int, condition: str
) -> None:
    """TestConvertDesiredReplicasWithRules (its row for minReplicas 0 predates scale to zero
    and is gone from upstream; the API here requires minReplicas ≥ 1)."""
    assert convert_desired_replicas_with_rules(current, desired, lo, hi) == (expected, condition)


def test_calculate_scale_up_limit() -> None:
    assert [calculate_scale_up_limit(n) for n in (1, 2, 3, 100)] == [4, 4, 6, 200]


MIN = 60.0
NORMALIZE_ROWS = [
    ("empty log", [], 5, 5, 1),
    ("stabilize", [(4, -2 * MIN), (5, -1 * MIN)], 3, 5, 3),
    ("no stabilize", [(1, -2 * MIN), (2, -1 * MIN)], 3, 3, 3),
    ("no stabilize - old recommendations", [(10, -10 * MIN), (9, -9 * MIN)], 3, 3, 2),
    (
        "stabilize - old recommendations",
        [(10, -10 * MIN), (4, -1 * MIN), (5, -2 * MIN), (9, -9 * MIN)],
        3,
        5,
        4,
    ),
]


@pytest.mark.parametrize(
    ("log", "proposal", "stabilized", "length"),
    [pytest.param(*r[1:], id=r[0]) for r in NORMALIZE_ROWS],
)
def test_normalize_desired_replicas_upstream_rows(
    log: list[tuple[int, float]], proposal: int, stabilized: int, length: int
) -> None:
    """TestNormalizeDesiredReplicas: stabilizeRecommendation with a 5-minute window."""
    recs = [Recommendation(n, NOW + dt) for n, dt in log]
    got, new_log = stabilize_recommendation(recs, proposal, NOW, 5 * MIN)
    assert (got, len(new_log)) == (stabilized, length)


def test_reconcile_holds_scale_down_for_the_stabilization_window() -> None:
    """The first sync records the current count; a lower proposal within 5 minutes of a higher
    recommendation is held, then applied."""
    r = reconcile(4, 2, 10, 2, [], 0.0, 300.0)
    assert (r.replicas, r.rescale) == (4, False)
    r = reconcile(4, 2, 10, 2, r.log, 299.0, 300.0)
    assert (r.replicas, r.rescale) == (4, False)
    r = reconcile(4, 2, 10, 2, r.log, 301.0, 300.0)
    assert (r.replicas, r.rescale, r.reason) == (2, True, "All metrics below target")


def test_reconcile_scales_up_at_once_capped_at_double() -> None:
    r = reconcile(3, 1, 20, 24, [], 15.0, 300.0)
    assert (r.replicas, r.rescale) == (6, True)
    assert r.reason.endswith("above target")


@pytest.mark.parametrize(
    ("current", "proposal", "expected", "rescale"),
    [
        pytest.param(12, 12, 10, True, id="above-max-clamped-without-metrics"),
        pytest.param(1, None, 2, True, id="below-min-clamped-without-metrics"),
        pytest.param(0, 5, 0, False, id="scaled-to-zero-disables-autoscaling"),
        pytest.param(5, None, 5, False, id="no-metric-no-change"),
    ],
)
def test_reconcile_guards(current: int, proposal: int | None, expected: int, rescale: bool) -> None:
    r = reconcile(current, 2, 10, proposal, [], 0.0, 300.0)
    assert (r.replicas, r.rescale) == (expected, rescale)


@pytest.mark.parametrize(
    ("current", "needed"),
    [pytest.param(0, False, id="disabled"), pytest.param(7, False, id="above-max"),
     pytest.param(0 + 1, True, id="at-min"), pytest.param(5, True, id="at-max")],
)  # fmt: skip
def test_metrics_needed(current: int, needed: bool) -> None:
    assert metrics_needed(current, 1, 5) is needed
