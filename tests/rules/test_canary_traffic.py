"""Table tests for simdeploy.rules.canary_traffic (Argo's canary behind a traffic router).

Rows marked "upstream" are ported from argoproj/argo-rollouts ``utils/replicaset/canary_test.go``
(TestCalculateReplicaCountsForCanaryTrafficRouting,
TestCalculateReplicaCountsForCanaryTrafficRoutingDynamicScale, TestTrafficWeightToReplicas),
the row id keeping the upstream test name. Rows marked "research" pin the worked examples of
/work/shared/research/argo_flagger.md §3 and §7; the abort-weight rows follow §3.4 and the
texts of issue #4898 and PRs #1794, #4035 and #4900.
"""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules.canary_traffic import (
    SetCanaryScale,
    abort_weight_with_dynamic_stable_scale,
    calculate_replica_counts_for_traffic_routed_canary,
    check_min_pods_per_replica_set,
    legacy_abort_weight_with_dynamic_stable_scale,
    traffic_weight_to_replicas,
)

# --------------------------------------------------------------------------------------------
# CalculateReplicaCountsForTrafficRoutedCanary
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replicas", "weight", "kwargs", "expected"),
    [
        pytest.param(
            1,
            100,
            {"set_canary_scale": SetCanaryScale(replicas=9)},
            (9, 1),
            id="upstream-set-canary-scale-replicas-ignores-set-weight",
        ),
        pytest.param(
            4,
            100,
            {"set_canary_scale": SetCanaryScale(weight=200)},
            (8, 4),
            id="upstream-research-set-canary-scale-weight-200-on-4",
        ),
        pytest.param(
            10,
            20,
            {"set_canary_scale": SetCanaryScale(replicas=9, weight=100, match_traffic_weight=True)},
            (2, 10),
            id="upstream-match-traffic-weight-ignores-replicas-and-weight",
        ),
        pytest.param(
            1,
            0,
            {
                "set_canary_scale": SetCanaryScale(replicas=1),
                "aborted": True,
                "abort_scale_down_delay_seconds": 0,
            },
            (1, 1),
            id="upstream-aborted-delay-0-keeps-set-canary-scale",
        ),
        pytest.param(
            1,
            0,
            {
                "set_canary_scale": SetCanaryScale(replicas=1),
                "aborted": True,
                "abort_scale_down_delay_seconds": 30,
            },
            (0, 1),
            id="upstream-aborted-delay-30-drops-set-canary-scale",
        ),
        pytest.param(
            1,
            0,
            {"set_canary_scale": SetCanaryScale(replicas=1), "aborted": True},
            (0, 1),
            id="aborted-default-delay-drops-set-canary-scale",
        ),
        pytest.param(
            10,
            5,
            {"min_pods_per_replica_set": 2},
            (2, 10),
            id="upstream-min-pods-per-replica-set-starting-canary",
        ),
        pytest.param(10, 10, {}, (1, 10), id="upstream-traffic-routing-R10-w10"),
        pytest.param(10, 0, {"min_pods_per_replica_set": 2}, (0, 10), id="min-pods-keeps-zero"),
        pytest.param(
            1, 20, {"min_pods_per_replica_set": 2}, (2, 1), id="min-pods-not-capped-at-replicas"
        ),
        pytest.param(10, 33, {}, (4, 10), id="canary-is-ceil-of-weight"),
        pytest.param(
            10, 50, {"aborted": True}, (0, 10), id="aborted-without-dynamic-scale-canary-to-0"
        ),
        pytest.param(
            10,
            50,
            {"promote_full": True, "aborted": True},
            (10, 10),
            id="promote-full-beats-abort",
        ),
        pytest.param(10, 300, {"max_weight": 1000}, (3, 10), id="max-traffic-weight-1000"),
        pytest.param(
            10,
            300,
            {"max_weight": 1000, "dynamic_stable_scale": True},
            (3, 7),
            id="max-traffic-weight-1000-dynamic-stable",
        ),
        pytest.param(
            10,
            20,
            {"set_canary_scale": SetCanaryScale(replicas=3), "dynamic_stable_scale": True},
            (3, 10),
            id="set-canary-scale-replicas-means-weight-0-for-dynamic-stable",
        ),
        pytest.param(
            10,
            20,
            {"set_canary_scale": SetCanaryScale(weight=50), "dynamic_stable_scale": True},
            (5, 5),
            id="set-canary-scale-weight-drives-dynamic-stable-too",
        ),
        pytest.param(
            10,
            90,
            {"dynamic_stable_scale": True, "min_pods_per_replica_set": 2},
            (9, 2),
            id="min-pods-raises-dynamic-stable",
        ),
    ],
)
def test_calculate_replica_counts_for_traffic_routed_canary(
    replicas: int, weight: int, kwargs: dict[str, Any], expected: tuple[int, int]
) -> None:
    result = calculate_replica_counts_for_traffic_routed_canary(replicas, weight, **kwargs)
    assert result == expected


@pytest.mark.parametrize(
    ("weight", "stable_weight", "canary_weight", "aborted", "expected"),
    [
        pytest.param(10, 90, 10, False, (1, 9), id="upstream-dynamic-scale-down-stable"),
        pytest.param(20, 90, 10, False, (2, 9), id="upstream-dynamic-desired-canary-above-actual"),
        pytest.param(
            20, 80, 20, True, (2, 10), id="upstream-dynamic-abort-keeps-canary-with-traffic"
        ),
        pytest.param(
            20, 90, 10, True, (1, 10), id="upstream-dynamic-abort-reduces-canary-with-traffic"
        ),
        pytest.param(
            20, None, None, False, (2, 8), id="research-dynamic-no-router-weights-recorded"
        ),
        pytest.param(
            50, 100, 0, False, (5, 10), id="research-dynamic-stable-keeps-current-traffic-pods"
        ),
    ],
)
def test_traffic_routed_dynamic_stable_scale(
    weight: int,
    stable_weight: int | None,
    canary_weight: int | None,
    aborted: bool,
    expected: tuple[int, int],
) -> None:
    result = calculate_replica_counts_for_traffic_routed_canary(
        10,
        weight,
        None,
        True,
        stable_weight,
        canary_weight,
        aborted=aborted,
    )
    assert result == expected


@pytest.mark.parametrize(
    ("replicas", "weight", "max_weight", "expected"),
    [
        pytest.param(10, 0, 100, 0, id="upstream-weight-0"),
        pytest.param(10, 20, 100, 2, id="upstream-weight-20"),
        pytest.param(10, 25, 100, 3, id="upstream-weight-25-rounds-up"),
        pytest.param(10, 33, 100, 4, id="upstream-weight-33-rounds-up"),
        pytest.param(10, 99, 100, 10, id="upstream-weight-99"),
        pytest.param(10, 100, 100, 10, id="upstream-weight-100"),
        pytest.param(10, 500, 1000, 5, id="max-traffic-weight-1000"),
    ],
)
def test_traffic_weight_to_replicas(
    replicas: int, weight: int, max_weight: int, expected: int
) -> None:
    assert traffic_weight_to_replicas(replicas, weight, max_weight) == expected


@pytest.mark.parametrize(
    ("count", "minimum", "expected"),
    [
        pytest.param(1, 2, 2, id="raised"),
        pytest.param(0, 2, 0, id="zero-stays-zero"),
        pytest.param(5, 2, 5, id="above-minimum"),
        pytest.param(1, None, 1, id="unset"),
    ],
)
def test_check_min_pods_per_replica_set(count: int, minimum: int | None, expected: int) -> None:
    assert check_min_pods_per_replica_set(count, minimum) == expected


# --------------------------------------------------------------------------------------------
# Abort weights under dynamicStableScale
# --------------------------------------------------------------------------------------------


_STEPS = [10, 25, 50, 75]


@pytest.mark.parametrize(
    ("current", "stable_available", "canary_available", "explicit", "expected"),
    [
        pytest.param(50, 5, 5, False, 25, id="stable-5-canary-5-steps-down-to-25"),
        pytest.param(25, 8, 3, False, 10, id="stable-8-canary-3-steps-down-to-10"),
        pytest.param(10, 9, 1, False, 0, id="stable-9-canary-1-reaches-0"),
        pytest.param(50, 10, 0, False, 0, id="stable-full-canary-empty-is-0"),
        pytest.param(
            25,
            8,
            5,
            False,
            25,
            id="canary-not-drained-holds-weight-deadlock-shape-of-4898",
        ),
        pytest.param(25, 8, 5, True, 10, id="explicit-delay-ignores-canary-size-pr-4900"),
        pytest.param(25, 10, 5, True, 0, id="explicit-delay-stable-full-reaches-0"),
        pytest.param(10, 5, 5, False, 10, id="never-above-current-weight-flapping-stable"),
        pytest.param(None, 5, 5, False, 25, id="no-router-weight-recorded"),
        pytest.param(75, 0, 10, False, 75, id="stable-empty-canary-full-keeps-top-step"),
    ],
)
def test_abort_weight_with_dynamic_stable_scale(
    current: int | None,
    stable_available: int,
    canary_available: int,
    explicit: bool,
    expected: int,
) -> None:
    result = abort_weight_with_dynamic_stable_scale(
        10, _STEPS, current, stable_available, canary_available, explicit
    )
    assert result == expected


def test_abort_weight_walks_steps_from_the_end() -> None:
    # Steps need not be sorted: the first match from the end wins.
    assert abort_weight_with_dynamic_stable_scale(10, [60, 20], 100, 5, 5, False) == 20
    assert abort_weight_with_dynamic_stable_scale(10, [20, 60], 100, 5, 5, False) == 20
    assert abort_weight_with_dynamic_stable_scale(10, [], 100, 5, 5, False) == 0


@pytest.mark.parametrize(
    ("current", "stable_available", "expected"),
    [
        pytest.param(50, 6, 40, id="stable-6-of-10-leaves-40"),
        pytest.param(50, 10, 0, id="stable-full-is-0"),
        pytest.param(30, 5, 30, id="never-above-current"),
        pytest.param(None, 3, 70, id="no-router-weight-recorded"),
    ],
)
def test_legacy_abort_weight_with_dynamic_stable_scale(
    current: int | None, stable_available: int, expected: int
) -> None:
    assert legacy_abort_weight_with_dynamic_stable_scale(10, current, stable_available) == expected


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@given(
    replicas=st.integers(min_value=1, max_value=50),
    steps=st.lists(st.integers(min_value=1, max_value=100), min_size=0, max_size=6),
    current=st.integers(min_value=0, max_value=100),
    stable_available=st.integers(min_value=0, max_value=50),
    canary_available=st.integers(min_value=0, max_value=50),
    explicit=st.booleans(),
)
def test_abort_weight_never_rises_and_is_a_step_or_zero(
    replicas: int,
    steps: list[int],
    current: int,
    stable_available: int,
    canary_available: int,
    explicit: bool,
) -> None:
    stable_available = min(stable_available, replicas)
    weight = abort_weight_with_dynamic_stable_scale(
        replicas, steps, current, stable_available, canary_available, explicit
    )
    assert weight <= current
    assert weight == 0 or weight in steps or weight == current
    if stable_available == replicas and explicit:
        assert weight == 0
