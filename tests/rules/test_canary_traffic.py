"""Table tests for simdeploy.rules.canary_traffic (Argo's canary behind a traffic router).

Rows marked "upstream" are ported from argoproj/argo-rollouts (v1.10.0-rc1, commit 9f8d111):
``utils/replicaset/canary_test.go`` (TestCalculateReplicaCountsForCanary,
TestCalculateReplicaCountsForCanaryTrafficRouting,
TestCalculateReplicaCountsForCanaryTrafficRoutingDynamicScale, TestTrafficWeightToReplicas,
TestGetDesiredCanaryWeightOnAbortWithScaleDownDelay) and ``rollout/trafficrouting_test.go``
(TestDynamicScaling*WhenAborted, TestCheckReplicasAvailableWithReplicaProgressThreshold,
TestCheckReplicasAvailableWithCustomMaxTrafficWeight), the row id keeping the upstream test
name. Rows marked "research" pin the worked examples of /work/shared/research/argo_flagger.md
§3 and §7.
"""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules.canary_math import CanaryRS, ReplicaProgressThreshold
from simdeploy.rules.canary_traffic import (
    SetCanaryScale,
    calculate_desired_weight_on_abort,
    calculate_replica_counts_for_traffic_routed_canary,
    check_min_pods_per_replica_set,
    check_replicas_available,
    desired_canary_weight_on_abort,
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
            {
                "set_canary_scale": SetCanaryScale(replicas=1),
                "aborted": True,
                "abort_scale_down_delay_seconds": 0.0,
                "dynamic_stable_scale": True,
                "set_weights": [50],
                "stable": CanaryRS("stable", 1, 1),
                "canary": CanaryRS("canary", 1, 1),
            },
            (1, 1),
            id="aborted-delay-0-set-canary-scale-beats-the-ladder",
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
            1,
            100,
            {"min_pods_per_replica_set": 2, "promote_full": True},
            (1, 1),
            id="upstream-Cap MinPodsPerReplicaSet when it exceeds rollout replicas with "
            "trafficRouting",
        ),
        pytest.param(
            1, 20, {"min_pods_per_replica_set": 2}, (1, 1), id="min-pods-capped-at-replicas"
        ),
        pytest.param(
            3,
            10,
            {"min_pods_per_replica_set": 5, "dynamic_stable_scale": True},
            (3, 3),
            id="min-pods-capped-at-replicas-both-sides",
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
        pytest.param(10, 90, 10, False, (1, 9), id="upstream-Should scale down stable"),
        pytest.param(
            20,
            90,
            10,
            False,
            (2, 9),
            id="upstream-Should take max of desired canary (20) > actual (10)",
        ),
        pytest.param(
            20,
            80,
            20,
            True,
            (2, 10),
            id="upstream-Should leave canary scaled up if there is still traffic to it on abort",
        ),
        pytest.param(
            20,
            90,
            10,
            True,
            (1, 10),
            id="upstream-Should reduce canary when there is less traffic to it on abort",
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
    # No ReplicaSets passed: upstream's GetDesiredCanaryWeight needs both, so the abort weight
    # is GetCurrentSetWeight's 0.
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
    ("stable", "canary", "expected"),
    [
        # E.g. if next step is to scale canary down to 2 and we have 10 replicas, we should
        # scale stable up to 8: the ladder [20, 60] gives 20 (6 pods still serve, 60% would
        # need 6), so stable = ceil(10 * 80%) = 8; the canary keeps the 6 pods of its 60%.
        pytest.param(
            CanaryRS("stable", 4, 4),
            CanaryRS("canary", 6, 6),
            (6, 8),
            id="upstream-Should scale stable replica up depending on next expected canary "
            "downscale step, if abort is true",
        ),
        pytest.param(
            CanaryRS("stable", 4, 4),
            CanaryRS("canary", 1, 1),
            (6, 8),
            id="upstream-Should scale stable replica up depending on available canary replicas, "
            "if actual number of canaries is less than expected and abort is true",
        ),
        pytest.param(
            CanaryRS("stable", 8, 4),
            CanaryRS("canary", 2, 2),
            (6, 8),
            id="upstream-Should scale stable replica up depending on available stable replicas, "
            "if abort is true",
        ),
        pytest.param(
            None,
            None,
            (6, 10),
            id="upstream-Should scale stable up as if canaries are scaled down to 0 if stable "
            "and canary replicas not passed, and abort is true",
        ),
    ],
)
def test_traffic_routed_dynamic_stable_scale_abort_ladder(
    stable: CanaryRS | None, canary: CanaryRS | None, expected: tuple[int, int]
) -> None:
    # Upstream: R=10, steps [setWeight 20, setWeight 60], router at 60/40, aborted.
    result = calculate_replica_counts_for_traffic_routed_canary(
        10,
        60,
        None,
        True,
        40,
        60,
        aborted=True,
        set_weights=[20, 60],
        stable=stable,
        canary=canary,
    )
    assert result == expected


def test_abort_ladder_moves_stable_one_rung_at_a_time() -> None:
    # Not straight to full size: R=4, steps [25, 50, 75], aborted at 75 with stable 1/1 and
    # the canary 3/3. The ladder says 50 (3 pods still serve; 75% needs 3, 50% needs 2), so
    # stable goes to 2, not 4; once 2 are available and the canary is down to 2 → 25, stable 3.
    steps = [25, None, 50, None, 75, None]
    first = calculate_replica_counts_for_traffic_routed_canary(
        4, 75, None, True, 25, 75, aborted=True, set_weights=steps,
        stable=CanaryRS("s", 1, 1), canary=CanaryRS("c", 3, 3),
    )  # fmt: skip
    assert first == (3, 2)
    later = calculate_replica_counts_for_traffic_routed_canary(
        4, 75, None, True, 50, 50, aborted=True, set_weights=steps,
        stable=CanaryRS("s", 2, 2), canary=CanaryRS("c", 2, 2),
    )  # fmt: skip
    assert later == (2, 3)


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
    ("count", "minimum", "replicas", "expected"),
    [
        pytest.param(1, 2, 10, 2, id="raised"),
        pytest.param(0, 2, 10, 0, id="zero-stays-zero"),
        pytest.param(5, 2, 10, 5, id="above-minimum"),
        pytest.param(1, None, 10, 1, id="unset"),
        pytest.param(1, 2, 1, 1, id="minimum-capped-at-replicas"),
        pytest.param(2, 5, 3, 3, id="minimum-5-on-3-replicas-is-3"),
    ],
)
def test_check_min_pods_per_replica_set(
    count: int, minimum: int | None, replicas: int, expected: int
) -> None:
    assert check_min_pods_per_replica_set(count, minimum, replicas) == expected


# --------------------------------------------------------------------------------------------
# Abort weights under dynamicStableScale
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("abort_delay", "stable_available", "expected"),
    [
        pytest.param(
            None,
            9,
            10,
            id="upstream-no explicit delay: weight is held up by canary size (progressive drain "
            "unchanged)",
        ),
        pytest.param(
            30,
            5,
            10,
            id="upstream-explicit delay: weight steps down gradually while stable is scaling up",
        ),
        pytest.param(
            30,
            9,
            0,
            id="upstream-explicit delay: weight reaches zero once stable nearly covers "
            "spec.Replicas (deadlock case)",
        ),
        pytest.param(
            0,
            9,
            10,
            id="upstream-explicit zero delay (leave canary up indefinitely): weight is held up "
            "by canary size",
        ),
        pytest.param(
            30.0,
            9,
            0,
            id="explicit-means-present-not-different-from-the-default-30",
        ),
    ],
)
def test_desired_canary_weight_on_abort(
    abort_delay: float | None, stable_available: int, expected: int
) -> None:
    # TestGetDesiredCanaryWeightOnAbortWithScaleDownDelay: R=10, steps [10, 50], canary 5/5.
    result = desired_canary_weight_on_abort(10, [10, 50], stable_available, 5, abort_delay)
    assert result == expected


def test_desired_canary_weight_walks_steps_from_the_end() -> None:
    # Steps need not be sorted: the first match from the end wins; other steps are skipped.
    assert desired_canary_weight_on_abort(10, [60, None, 20], 5, 5) == 20
    assert desired_canary_weight_on_abort(10, [20, None, 60], 5, 5) == 20
    assert desired_canary_weight_on_abort(10, [None], 5, 5) == 0
    assert desired_canary_weight_on_abort(10, [], 5, 5) == 0


@pytest.mark.parametrize(
    ("set_weights", "current", "stable_available", "canary_available", "expected"),
    [
        pytest.param(
            [50, None],
            0,
            4,
            0,
            0,
            id="upstream-TestDynamicScalingDontIncreaseWeightWhenAborted",
        ),
        pytest.param(
            [50, None],
            100,
            3,
            4,
            50,
            id="upstream-TestDynamicScalingDecreaseWeightAccordingToStepWeightsAvailabilityWhen"
            "Aborted",
        ),
        pytest.param(
            [None],
            100,
            1,
            4,
            80,
            id="upstream-TestDynamicScalingDecreaseWeightAccordingToStableAvailabilityWhenAborted",
        ),
        pytest.param(
            [50, None], None, 3, 4, 50, id="no-weight-recorded-max-of-expected-and-ladder"
        ),
        pytest.param([50, None], None, 1, 4, 80, id="no-weight-recorded-stable-short-gives-80"),
        pytest.param([20, 60, None], 60, 2, 3, 60, id="stable-not-yet-able-holds-the-weight"),
        pytest.param([20, 60, None], 60, 4, 3, 20, id="stable-carries-80-steps-to-20"),
        pytest.param([20, 60, None], 20, 5, 0, 0, id="stable-full-reaches-0"),
    ],
)
def test_calculate_desired_weight_on_abort(
    set_weights: list[int | None],
    current: int | None,
    stable_available: int,
    canary_available: int,
    expected: int,
) -> None:
    # Upstream rows: R=5, maxSurge 1, maxUnavailable 1, SMI router, dynamicStableScale.
    result = calculate_desired_weight_on_abort(
        5, set_weights, current, stable_available, canary_available
    )
    assert result == expected


def test_calculate_desired_weight_on_abort_zero_replicas() -> None:
    """TestDynamicScalingAbortWithZeroReplicas: 0 replicas abort at once to weight 0."""
    assert calculate_desired_weight_on_abort(0, [50], 100, 0, 0) == 0


@pytest.mark.parametrize(
    ("rs", "replicas", "weight", "max_weight", "threshold", "expected"),
    [
        pytest.param(
            CanaryRS("s", 5, 4),
            10,
            50,
            100,
            ReplicaProgressThreshold("Percent", 80),
            True,
            id="upstream-threshold met - 80% available with 80% threshold",
        ),
        pytest.param(
            CanaryRS("s", 5, 3),
            10,
            50,
            100,
            ReplicaProgressThreshold("Percent", 80),
            False,
            id="upstream-threshold not met - 60% available with 80% threshold",
        ),
        pytest.param(
            CanaryRS("s", 5, 4),
            10,
            50,
            100,
            None,
            False,
            id="upstream-nil threshold - requires 100% availability",
        ),
        pytest.param(
            CanaryRS("s", 2, 1),
            2,
            50000000,
            100000000,
            None,
            True,
            id="upstream-custom maxTrafficWeight - replicas available",
        ),
        pytest.param(
            CanaryRS("s", 2, 0),
            2,
            50000000,
            100000000,
            None,
            False,
            id="upstream-custom maxTrafficWeight - replicas not available",
        ),
        pytest.param(
            CanaryRS("s", 2, 2),
            2,
            100000000,
            100000000,
            None,
            True,
            id="upstream-custom maxTrafficWeight - high weight needs all replicas",
        ),
        pytest.param(
            CanaryRS("s", 2, 0),
            2,
            0,
            100000000,
            None,
            True,
            id="upstream-custom maxTrafficWeight - low weight needs zero replicas",
        ),
        pytest.param(
            CanaryRS("s", 10, 5),
            10,
            50,
            100,
            None,
            True,
            id="upstream-default maxTrafficWeight - same behavior as before",
        ),
        pytest.param(None, 10, 0, 100, None, False, id="no-replica-set"),
        pytest.param(CanaryRS("s", 10, 7), 10, 75, 100, None, True, id="rounds-down-7.5-to-7"),
    ],
)
def test_check_replicas_available(
    rs: CanaryRS | None,
    replicas: int,
    weight: int,
    max_weight: int,
    threshold: ReplicaProgressThreshold | None,
    expected: bool,
) -> None:
    assert check_replicas_available(rs, replicas, weight, max_weight, threshold) is expected


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
    steps=st.lists(
        st.one_of(st.none(), st.integers(min_value=0, max_value=100)), min_size=0, max_size=6
    ),
    current=st.integers(min_value=0, max_value=100),
    stable_available=st.integers(min_value=0, max_value=50),
    canary_available=st.integers(min_value=0, max_value=50),
    delay=st.one_of(st.none(), st.sampled_from([0, 30, 60])),
)
def test_abort_weight_never_rises(
    replicas: int,
    steps: list[int | None],
    current: int,
    stable_available: int,
    canary_available: int,
    delay: int | None,
) -> None:
    stable_available = min(stable_available, replicas)
    weight = calculate_desired_weight_on_abort(
        replicas, steps, current, stable_available, canary_available, delay
    )
    # Never above the weight the router has: a flapping stable pod cannot send traffic back.
    assert 0 <= weight <= current
    if stable_available == replicas and delay not in (None, 0):
        # An explicit delay ignores the canary's size: a full stable takes all traffic.
        assert weight == 0
