"""Table tests for simdeploy.rules.canary_math.

Rows marked "upstream" are ported from argoproj/argo-rollouts ``utils/replicaset/canary_test.go``
(TestCalculateReplicaCountsForCanary, TestApproximateWeightedNewStableReplicaCounts,
TestCalculateReplicaCountsForNewDeployment, TestCalculateReplicaCountsForCanaryTrafficRouting,
TestCalculateReplicaCountsForCanaryTrafficRoutingDynamicScale,
TestCalculateReplicaCountsForCanaryStableRSdEdgeCases, TestTrafficWeightToReplicas,
TestGetCurrentSetWeight, TestAtDesiredReplicaCountsForCanary, TestGetReplicasForScaleDown), the
row id keeping the upstream test name. Rows marked "research" pin the worked examples of
/work/shared/research/argo_flagger.md §3 and §7. Flagger rows follow fluxcd/flagger
``pkg/controller/scheduler.go`` (maxWeight, nextStepWeight, runCanary).
"""

import itertools
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules.canary_math import (
    ARGO_DEFAULT_MAX_SURGE,
    ARGO_DEFAULT_MAX_UNAVAILABLE,
    CanaryRS,
    ReplicaProgressThreshold,
    SetCanaryScale,
    abort_weight_with_dynamic_stable_scale,
    approximate_weighted_canary_stable_replica_counts,
    argo_fenceposts,
    argo_scaled_value,
    at_desired_replica_counts_for_canary,
    calculate_replica_counts_for_basic_canary,
    calculate_replica_counts_for_canary,
    calculate_replica_counts_for_traffic_routed_canary,
    check_min_pods_per_replica_set,
    check_stable_rs_exists,
    flagger_max_weight,
    flagger_next_step_weight,
    flagger_next_weight,
    flagger_promotion_ticks,
    get_current_set_weight,
    get_replicas_for_scale_down,
    legacy_abort_weight_with_dynamic_stable_scale,
    served_weight,
    traffic_weight_to_replicas,
)
from simdeploy.rules.replica_math import IntOrPercent, RSState


def stable_rs(spec: int, available: int, replicas: int | None = None) -> CanaryRS:
    return CanaryRS("stable", spec, available, replicas)


def canary_rs(spec: int, available: int, replicas: int | None = None) -> CanaryRS:
    return CanaryRS("canary", spec, available, replicas)


# --------------------------------------------------------------------------------------------
# maxSurge / maxUnavailable resolution
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        pytest.param("25", 10, True, 3, id="bare-string-is-a-percent-rounded-up"),
        pytest.param("25%", 10, False, 2, id="percent-rounded-down"),
        pytest.param("20%", 10, True, 2, id="exact-percent"),
        pytest.param(4, 10, True, 4, id="int-unscaled"),
        pytest.param(15, 10, False, 15, id="int-not-capped"),
        pytest.param("0%", 10, True, 0, id="zero-percent"),
        pytest.param("1%", 10, True, 1, id="one-percent-of-ten-rounds-up-to-one"),
    ],
)
def test_argo_scaled_value(value: IntOrPercent, total: int, round_up: bool, expected: int) -> None:
    assert argo_scaled_value(value, total, round_up) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("abc", id="not-a-number"),
        pytest.param("2.5%", id="decimal"),
        pytest.param("", id="empty"),
    ],
)
def test_argo_scaled_value_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        argo_scaled_value(value, 10, True)


def test_argo_scaled_value_rejects_bool() -> None:
    with pytest.raises(TypeError):
        argo_scaled_value(True, 10, True)


@pytest.mark.parametrize(
    ("max_surge", "max_unavailable", "replicas", "expected"),
    [
        pytest.param(None, None, 10, (3, 2), id="research-defaults-25-percent"),
        pytest.param("0%", "0%", 10, (0, 1), id="upstream-both-zero-gives-one-unavailable"),
        pytest.param(1, 10, 4, (1, 4), id="research-unavailable-capped-at-replicas"),
        pytest.param(2, 1, 10, (2, 1), id="ints"),
        pytest.param("20%", 0, 10, (2, 0), id="upstream-max-surge-percentage"),
        pytest.param(0, "20%", 10, (0, 2), id="upstream-max-unavailable-percentage"),
        pytest.param(1, 1, 0, (1, 0), id="zero-replicas-zero-unavailable-surge-kept"),
        pytest.param("1%", "1%", 10, (1, 0), id="surge-rounds-up-unavailable-down"),
    ],
)
def test_argo_fenceposts(
    max_surge: IntOrPercent | None,
    max_unavailable: IntOrPercent | None,
    replicas: int,
    expected: tuple[int, int],
) -> None:
    assert argo_fenceposts(max_surge, max_unavailable, replicas) == expected


def test_argo_defaults_are_25_percent() -> None:
    assert argo_scaled_value(ARGO_DEFAULT_MAX_SURGE, 100, True) == 25
    assert argo_scaled_value(ARGO_DEFAULT_MAX_UNAVAILABLE, 100, False) == 25


# --------------------------------------------------------------------------------------------
# approximateWeightedCanaryStableReplicaCounts
# --------------------------------------------------------------------------------------------

# (replicas, weight, maxSurge, canary, stable): every row of upstream's
# TestApproximateWeightedNewStableReplicaCounts, in upstream order.
_APPROX_ROWS = [
    (0, 0, 0, 0, 0),
    (0, 50, 0, 0, 0),
    (0, 100, 0, 0, 0),
    (0, 0, 1, 0, 0),
    (0, 50, 1, 0, 0),
    (0, 100, 1, 0, 0),
    (1, 0, 0, 0, 1),
    (1, 1, 0, 0, 1),
    (1, 49, 0, 0, 1),
    (1, 50, 0, 1, 0),
    (1, 99, 0, 1, 0),
    (1, 100, 0, 1, 0),
    (1, 0, 1, 0, 1),
    (1, 1, 1, 1, 1),
    (1, 49, 1, 1, 1),
    (1, 50, 1, 1, 1),
    (1, 99, 1, 1, 1),
    (1, 100, 1, 1, 0),
    (2, 0, 0, 0, 2),
    (2, 1, 0, 1, 1),
    (2, 50, 0, 1, 1),
    (2, 99, 0, 1, 1),
    (2, 100, 0, 2, 0),
    (2, 0, 1, 0, 2),
    (2, 1, 1, 1, 2),
    (2, 50, 1, 1, 1),
    (2, 99, 1, 2, 1),
    (2, 100, 1, 2, 0),
    (3, 10, 0, 1, 2),
    (3, 25, 0, 1, 2),
    (3, 33, 0, 1, 2),
    (3, 34, 0, 1, 2),
    (3, 49, 0, 1, 2),
    (3, 50, 0, 2, 1),
    (3, 10, 1, 1, 3),
    (3, 25, 1, 1, 3),
    (3, 33, 1, 1, 2),
    (3, 34, 1, 1, 2),
    (3, 49, 1, 2, 2),
    (3, 50, 1, 2, 2),
    (10, 0, 1, 0, 10),
    (10, 1, 0, 1, 9),
    (10, 14, 0, 1, 9),
    (10, 15, 0, 2, 8),
    (10, 16, 0, 2, 8),
    (10, 99, 0, 9, 1),
    (10, 100, 1, 10, 0),
    (10, 0, 1, 0, 10),
    (10, 1, 1, 1, 10),
    (10, 18, 1, 2, 9),
    (10, 19, 1, 2, 9),
    (10, 20, 1, 2, 8),
    (10, 23, 1, 2, 8),
    (10, 24, 1, 3, 8),
    (10, 25, 1, 3, 8),
    (10, 99, 1, 10, 1),
    (10, 100, 1, 10, 0),
]


@pytest.mark.parametrize(
    ("replicas", "weight", "max_surge", "canary", "stable"),
    [
        pytest.param(*row, id=f"upstream-approx-R{row[0]}-w{row[1]}-surge{row[2]}-#{i}")
        for i, row in enumerate(_APPROX_ROWS)
    ]
    + [
        pytest.param(10, 1, 1, 1, 10, id="research-R10-w1-surge-9.1-percent"),
        pytest.param(3, 50, 0, 2, 1, id="research-R3-w50-no-surge-tie-rounds-up"),
        pytest.param(1, 5, 1, 1, 1, id="research-R1-surge-any-weight-one-each"),
        pytest.param(1, 95, 1, 1, 1, id="research-R1-surge-w95-one-each"),
        pytest.param(1, 49, 0, 0, 1, id="research-R1-no-surge-below-50-no-canary"),
        pytest.param(1, 50, 0, 1, 0, id="research-R1-no-surge-50-all-canary"),
        pytest.param(5, 50, 0, 3, 2, id="tie-2.5-rounds-up-without-surge"),
        pytest.param(50, 7, 0, 4, 46, id="float64-misses-the-3.5-tie-ceil-still-wins"),
        pytest.param(2, 75, 0, 0, 2, id="upstream-quirk-R2-w75-no-surge-falls-back-to-no-canary"),
        pytest.param(10, 95, 0, 0, 10, id="upstream-quirk-R10-w95-no-surge-falls-back"),
        pytest.param(10, 95, 1, 10, 1, id="R10-w95-with-surge-uses-R-plus-1"),
        pytest.param(2, 70, 1, 2, 1, id="R2-w70-surge-serves-two-thirds"),
    ],
)
def test_approximate_weighted_canary_stable_replica_counts(
    replicas: int, weight: int, max_surge: int, canary: int, stable: int
) -> None:
    result = approximate_weighted_canary_stable_replica_counts(replicas, weight, max_surge)
    assert result == (canary, stable)


# --------------------------------------------------------------------------------------------
# CalculateReplicaCountsForBasicCanary
# --------------------------------------------------------------------------------------------

_OLDER = CanaryRS("older", 3, 3)

# fmt: off
# (R, weight, maxSurge, maxUnavailable, stable (spec, avail), canary (spec, avail), older,
#  expected canary, expected stable)
_BASIC_ROWS = [
    pytest.param(
        10, 100, 3, 0, (7, 8), (6, 3), None, 6, 7,
        id="upstream-do-not-add-extra-RSs-when-spec-below-available",
    ),
    pytest.param(10, 20, 2, 0, (10, 10), (0, 0), None, 2, 10, id="upstream-max-surge-int-up"),
    pytest.param(
        10, 20, "20%", 0, (10, 10), (0, 0), None, 2, 10, id="upstream-max-surge-percentage-up"
    ),
    pytest.param(
        10, 20, "20%", 0, (10, 10), (2, 2), None, 2, 8, id="upstream-scale-down-extra-stable"
    ),
    pytest.param(10, 30, 2, 0, (10, 10), (0, 0), None, 2, 10, id="upstream-do-not-pass-surge"),
    pytest.param(
        10, 20, 0, 2, (10, 10), (0, 0), None, 0, 8, id="upstream-max-unavailable-int-down"
    ),
    pytest.param(
        10, 20, 0, "20%", (10, 10), (0, 0), None, 0, 8,
        id="upstream-max-unavailable-percentage-down",
    ),
    pytest.param(
        10, 30, 0, 2, (10, 10), (0, 0), None, 0, 8,
        id="upstream-research-do-not-pass-max-unavailable",
    ),
    pytest.param(
        10, 50, 2, 1, (10, 10), (0, 0), None, 2, 9,
        id="upstream-research-surge-and-unavailable-one-pass",
    ),
    pytest.param(10, 0, 1, 1, (10, 10), (1, 1), None, 0, 10, id="upstream-weight-0-canary-to-0"),
    pytest.param(
        10, 100, 1, 1, (1, 1), (10, 10), None, 10, 0, id="upstream-weight-100-stable-to-0"
    ),
    pytest.param(
        1, 20, 1, 0, (1, 1), (0, 0), None, 1, 1, id="upstream-R1-no-zero-canary-non-zero-weight"
    ),
    pytest.param(
        1, 90, 1, 0, (1, 1), (0, 0), None, 1, 1, id="upstream-R1-no-zero-canary-non-100-weight"
    ),
    pytest.param(
        10, 30, 1, 0, (1, 1), (0, 0), _OLDER, 1, 7, id="upstream-scale-up-stable-before-canary"
    ),
    pytest.param(
        10, 30, 0, 3, (8, 5), (4, 4), None, 3, 7, id="upstream-scale-down-canary-and-stable"
    ),
    pytest.param(
        10, 100, 1, 0, (10, 2), (10, 8), None, 9, 2,
        id="upstream-scale-down-stable-and-canary-available",
    ),
    pytest.param(
        10, 30, 0, 1, (8, 6), (4, 2), _OLDER, 4, 8,
        id="upstream-older-RS-blocks-scale-down",
    ),
    pytest.param(
        10, 5, 0, 1, (10, 10), (0, 0), None, 0, 9, id="upstream-uneven-weight-no-round-past-surge"
    ),
    pytest.param(
        10, 5, 0, 1, (9, 9), (0, 0), None, 1, 9,
        id="upstream-uneven-weight-no-round-past-surge-part-2",
    ),
    pytest.param(
        10, 10, "0%", "0%", (10, 10), (0, 0), None, 0, 9,
        id="upstream-zero-percent-fenceposts-give-one-unavailable",
    ),
    pytest.param(
        4, 100, 1, 0, (4, 1), (0, 0), None, 1, 4, id="upstream-honor-surge-stable-unavailable"
    ),
    pytest.param(
        3, 99, 0, 2, (3, 3), (0, 0), None, 0, 1, id="upstream-down-to-max-unavailable-no-surge"
    ),
    pytest.param(
        3, 99, 0, 2, (1, 1), (0, 0), None, 2, 1,
        id="upstream-down-to-max-unavailable-no-surge-part-2",
    ),
    pytest.param(
        4, 100, 1, 0, (4, 1), (1, 1), None, 1, 3,
        id="upstream-honor-unavailable-stable-unavailable",
    ),
    pytest.param(
        4, 0, 1, 0, (0, 0), (4, 4), None, 4, 1, id="upstream-research-abort-part-1-surge-stable"
    ),
    pytest.param(
        4, 0, 1, 0, (1, 0), (4, 4), None, 4, 1,
        id="upstream-research-abort-part-2-wait-for-stable",
    ),
    pytest.param(
        4, 0, 1, 0, (1, 1), (4, 4), None, 3, 1,
        id="upstream-research-abort-part-3-drop-one-canary",
    ),
    pytest.param(
        10, 20, "20%", 0, (10, 10), (0, 0), None, 2, 10,
        id="upstream-ignore-set-canary-scale-without-router",
    ),
]
# fmt: on


@pytest.mark.parametrize(
    (
        "replicas",
        "weight",
        "max_surge",
        "max_unavailable",
        "stable",
        "canary",
        "older",
        "expected_canary",
        "expected_stable",
    ),
    _BASIC_ROWS,
)
def test_calculate_replica_counts_for_basic_canary(
    replicas: int,
    weight: int,
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    stable: tuple[int, int],
    canary: tuple[int, int],
    older: CanaryRS | None,
    expected_canary: int,
    expected_stable: int,
) -> None:
    result = calculate_replica_counts_for_basic_canary(
        replicas,
        weight,
        max_surge,
        max_unavailable,
        stable_rs(*stable),
        canary_rs(*canary),
        [older],
    )
    assert result == (expected_canary, expected_stable)


def test_basic_canary_ignores_set_canary_scale_without_router() -> None:
    """upstream: "Ignore setCanaryScale when trafficRouting is missing and use setWeight"."""
    result = calculate_replica_counts_for_canary(
        10,
        20,
        "20%",
        0,
        stable_rs(10, 10),
        canary_rs(0, 0),
        [None],
        set_canary_scale=SetCanaryScale(replicas=9, weight=100),
    )
    assert result == (2, 10)


@pytest.mark.parametrize(
    ("max_surge", "expected_canary", "expected_stable"),
    [
        pytest.param(4, 4, 0, id="upstream-promote-full-does-not-consider-weight"),
        pytest.param(3, 3, 4, id="upstream-promote-full-still-honors-surge-and-unavailable"),
    ],
)
def test_promote_full_basic(max_surge: int, expected_canary: int, expected_stable: int) -> None:
    max_unavailable = 4 if max_surge == 4 else 0
    result = calculate_replica_counts_for_canary(
        4,
        1,
        max_surge,
        max_unavailable,
        stable_rs(4, 4),
        canary_rs(0, 0),
        promote_full=True,
    )
    assert result == (expected_canary, expected_stable)


def test_aborted_basic_canary_uses_weight_zero() -> None:
    """GetCurrentSetWeight is 0 when aborted: same as upstream's abort part 3 row."""
    result = calculate_replica_counts_for_canary(
        4, 75, 1, 0, stable_rs(1, 1), canary_rs(4, 4), aborted=True
    )
    assert result == (3, 1)


@pytest.mark.parametrize(
    ("stable", "canary", "expected"),
    [
        pytest.param(
            CanaryRS("stable", 10, 0),
            CanaryRS("stable", 10, 0),
            (10, 0),
            id="upstream-new-deployment-stable-is-canary",
        ),
        pytest.param(
            None, CanaryRS("stable", 9, 9), (10, 0), id="upstream-edge-no-stable-goes-to-100"
        ),
        pytest.param(
            CanaryRS("stable", 9, 9),
            CanaryRS("stable", 9, 9),
            (10, 0),
            id="upstream-edge-stable-equals-canary-goes-to-100",
        ),
    ],
)
def test_basic_canary_without_distinct_stable(
    stable: CanaryRS | None, canary: CanaryRS, expected: tuple[int, int]
) -> None:
    assert calculate_replica_counts_for_basic_canary(10, 10, 0, 1, stable, canary, []) == expected


def test_basic_canary_accepts_replica_math_rs_state() -> None:
    stable = RSState("stable", 0.0, 10, 10)
    canary = RSState("canary", 1.0, 0, 0)
    assert calculate_replica_counts_for_basic_canary(10, 50, 2, 1, stable, canary) == (2, 9)


def test_basic_canary_no_canary_rs_yet_only_drains_stable() -> None:
    # The canary RS does not exist yet: nothing to scale up, the stable may lose one pod.
    assert calculate_replica_counts_for_basic_canary(10, 50, 2, 1, stable_rs(10, 10), None) == (
        0,
        9,
    )


def _converge(
    replicas: int,
    weight: int,
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    canary: int,
    stable: int,
    passes: int = 100,
) -> list[tuple[int, int]]:
    """Apply the bounded move until it stops changing; pods become available at once."""
    states = [(canary, stable)]
    for _ in range(passes):
        following = calculate_replica_counts_for_basic_canary(
            replicas,
            weight,
            max_surge,
            max_unavailable,
            stable_rs(stable, stable),
            canary_rs(canary, canary),
        )
        if following == (canary, stable):
            return states
        canary, stable = following
        states.append(following)
    raise AssertionError(f"no fixed point after {passes} passes: {states}")


# fmt: off
_MULTI_PASS_ROWS = [
    pytest.param(
        10, 50, 2, 1, (0, 10), [(0, 10), (2, 9), (3, 7), (5, 6), (5, 5)],
        id="research-R10-w50-surge2-unavail1-to-5-5",
    ),
    pytest.param(
        10, 30, 0, 2, (0, 10), [(0, 10), (0, 8), (2, 8), (2, 7), (3, 7)],
        id="research-R10-w30-no-surge-canary-created-in-a-later-pass",
    ),
    pytest.param(
        4, 0, 1, 0, (4, 0),
        [(4, 0), (4, 1), (3, 1), (3, 2), (2, 2), (2, 3), (1, 3), (1, 4), (0, 4)],
        id="research-abort-surge1-unavail0-one-pod-at-a-time",
    ),
]
# fmt: on


@pytest.mark.parametrize(
    ("replicas", "weight", "max_surge", "max_unavailable", "start", "expected_path"),
    _MULTI_PASS_ROWS,
)
def test_basic_canary_multi_pass(
    replicas: int,
    weight: int,
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    start: tuple[int, int],
    expected_path: list[tuple[int, int]],
) -> None:
    path = _converge(replicas, weight, max_surge, max_unavailable, *start)
    assert path == expected_path


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


def test_dispatcher_routes_to_traffic_routed() -> None:
    result = calculate_replica_counts_for_canary(
        10, 10, 0, 1, stable_rs(10, 10), canary_rs(0, 0), traffic_routing=True
    )
    assert result == (1, 10)


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
# GetCurrentSetWeight, GetReplicasForScaleDown, CheckStableRSExists
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_weights", "index", "aborted", "expected"),
    [
        pytest.param([10], 1, False, 100, id="upstream-past-last-step-is-100"),
        pytest.param([10], 0, False, 10, id="upstream-current-set-weight"),
        pytest.param([10], 0, True, 0, id="upstream-aborted-is-0"),
        pytest.param([10, None], 1, False, 10, id="weight-carries-over-a-pause"),
        pytest.param([None, 20], 0, False, 0, id="no-set-weight-yet-is-0"),
        pytest.param([], None, False, 100, id="no-steps-is-100"),
        pytest.param([5, None, 50], None, False, 5, id="nil-index-means-0"),
    ],
)
def test_get_current_set_weight(
    set_weights: Sequence[int | None], index: int | None, aborted: bool, expected: int
) -> None:
    assert get_current_set_weight(set_weights, index, aborted) == expected


@pytest.mark.parametrize(
    ("rs", "ignore", "expected"),
    [
        pytest.param(None, False, 0, id="upstream-rs-is-nil"),
        pytest.param(CanaryRS("a", 3, 5), False, 3, id="upstream-spec-below-available"),
        pytest.param(CanaryRS("a", 3, 2), True, 3, id="upstream-ignore-availability"),
        pytest.param(CanaryRS("a", 3, 2), False, 2, id="upstream-not-ignore-availability"),
    ],
)
def test_get_replicas_for_scale_down(rs: CanaryRS | None, ignore: bool, expected: int) -> None:
    assert get_replicas_for_scale_down(rs, ignore) == expected


@pytest.mark.parametrize(
    ("canary", "stable", "expected"),
    [
        pytest.param(CanaryRS("a", 1, 1), None, False, id="no-stable"),
        pytest.param(None, CanaryRS("b", 1, 1), True, id="no-canary"),
        pytest.param(CanaryRS("a", 1, 1), CanaryRS("a", 1, 1), False, id="same-rs"),
        pytest.param(CanaryRS("a", 1, 1), CanaryRS("b", 1, 1), True, id="distinct"),
    ],
)
def test_check_stable_rs_exists(
    canary: CanaryRS | None, stable: CanaryRS | None, expected: bool
) -> None:
    assert check_stable_rs_exists(canary, stable) is expected


# --------------------------------------------------------------------------------------------
# AtDesiredReplicaCountsForCanary
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "canary", "stable", "expected"),
    [
        pytest.param(
            50,
            canary_rs(2, 2, 2),
            stable_rs(2, 2, 2),
            True,
            id="upstream-at-desired-counts-and-availability",
        ),
        pytest.param(
            50,
            canary_rs(2, 1, 2),
            stable_rs(2, 2, 2),
            False,
            id="upstream-canary-not-available",
        ),
        pytest.param(
            75,
            canary_rs(3, 3, 3),
            stable_rs(2, 2, 2),
            False,
            id="upstream-stable-not-at-desired-count",
        ),
        pytest.param(
            75,
            canary_rs(3, 3, 1),
            stable_rs(1, 0, 1),
            True,
            id="upstream-stable-unavailable-but-created-is-enough",
        ),
        pytest.param(
            50,
            canary_rs(2, 2, 2),
            stable_rs(2, 2, 3),
            False,
            id="upstream-stable-status-replicas-lags-spec",
        ),
    ],
)
def test_at_desired_replica_counts_for_canary_upstream(
    weight: int, canary: CanaryRS, stable: CanaryRS, expected: bool
) -> None:
    # Upstream builds these rollouts without a traffic router: basic canary, R=4, 1/1.
    result = at_desired_replica_counts_for_canary(
        4,
        weight,
        1,
        1,
        stable,
        canary,
        [],
        set_canary_scale=SetCanaryScale(replicas=2, weight=2),
    )
    assert result is expected


@pytest.mark.parametrize(
    ("kwargs", "canary", "stable", "others", "expected"),
    [
        pytest.param(
            {},
            canary_rs(2, 2),
            stable_rs(2, 2),
            [CanaryRS("older", 0, 1)],
            False,
            id="basic-older-rs-still-has-available-pods",
        ),
        pytest.param(
            {"traffic_routing": True},
            canary_rs(2, 2),
            stable_rs(4, 4),
            [CanaryRS("older", 0, 1)],
            True,
            id="router-older-rs-pods-get-no-traffic",
        ),
        pytest.param(
            {"traffic_routing": True, "dynamic_stable_scale": True},
            canary_rs(2, 2),
            stable_rs(4, 1),
            [],
            True,
            id="router-dynamic-stable-not-checked",
        ),
        pytest.param(
            {"traffic_routing": True},
            canary_rs(2, 2),
            stable_rs(3, 3),
            [],
            False,
            id="router-stable-must-be-at-R",
        ),
        pytest.param(
            {"traffic_routing": True}, None, stable_rs(4, 4), [], False, id="no-canary-rs"
        ),
        pytest.param(
            {"traffic_routing": True}, canary_rs(2, 2), None, [], False, id="no-stable-rs"
        ),
        pytest.param(
            {
                "traffic_routing": True,
                "replica_progress_threshold": ReplicaProgressThreshold("Pod", 1),
            },
            canary_rs(2, 1),
            stable_rs(4, 4),
            [],
            True,
            id="threshold-pods-met",
        ),
        pytest.param(
            {
                "traffic_routing": True,
                "replica_progress_threshold": ReplicaProgressThreshold("Percent", 50),
            },
            canary_rs(2, 1),
            stable_rs(4, 4),
            [],
            True,
            id="threshold-percent-met",
        ),
        pytest.param(
            {
                "traffic_routing": True,
                "replica_progress_threshold": ReplicaProgressThreshold("Percent", 80),
            },
            canary_rs(2, 1),
            stable_rs(4, 4),
            [],
            False,
            id="threshold-percent-not-met",
        ),
        pytest.param(
            {
                "traffic_routing": True,
                "replica_progress_threshold": ReplicaProgressThreshold("Pod", 1),
            },
            canary_rs(3, 3),
            stable_rs(4, 4),
            [],
            False,
            id="threshold-still-needs-spec-at-desired",
        ),
    ],
)
def test_at_desired_replica_counts_for_canary(
    kwargs: dict[str, Any],
    canary: CanaryRS | None,
    stable: CanaryRS | None,
    others: list[CanaryRS],
    expected: bool,
) -> None:
    result = at_desired_replica_counts_for_canary(4, 50, 1, 1, stable, canary, others, **kwargs)
    assert result is expected


def test_at_desired_threshold_from_upstream_docs_example() -> None:
    """upstream rollout test: 4 of 5 available meets an 80% threshold."""
    assert at_desired_replica_counts_for_canary(
        5,
        100,
        1,
        1,
        stable_rs(5, 5),
        canary_rs(5, 4),
        traffic_routing=True,
        replica_progress_threshold=ReplicaProgressThreshold("Percent", 80),
    )


def test_at_desired_reads_rs_state_status_replicas_as_spec() -> None:
    stable = RSState("stable", 0.0, 2, 0)
    canary = RSState("canary", 1.0, 2, 2)
    assert at_desired_replica_counts_for_canary(4, 50, 1, 1, stable, canary)


# --------------------------------------------------------------------------------------------
# Served weight and abort weights
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("canary", "stable", "others", "expected"),
    [
        pytest.param(1, 1, 0, 50.0, id="one-pod-each-serves-50"),
        pytest.param(2, 1, 0, 200 / 3, id="R2-setWeight-70-surge-1-target-2-1-serves-66.7"),
        pytest.param(1, 10, 0, 100 / 11, id="research-R10-w1-surge-serves-9.1"),
        pytest.param(0, 0, 0, 0.0, id="nothing-available"),
        pytest.param(5, 5, 0, 50.0, id="even-split"),
        pytest.param(2, 0, 0, 100.0, id="only-canary"),
        pytest.param(1, 2, 1, 25.0, id="older-rs-pods-share-traffic"),
    ],
)
def test_served_weight(canary: int, stable: int, others: int, expected: float) -> None:
    assert served_weight(canary, stable, others) == pytest.approx(expected)


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
# Flagger
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_weight", "step_weights", "expected"),
    [
        pytest.param(None, None, 100, id="default-100"),
        pytest.param(0, None, 100, id="zero-is-unset"),
        pytest.param(50, None, 50, id="max-weight"),
        pytest.param(50, [1, 5, 80], 80, id="step-weights-last-entry-wins-over-max-weight"),
        pytest.param(None, [10, 150], 100, id="step-weights-capped-at-100"),
        pytest.param(30, [], 30, id="empty-step-weights-ignored"),
    ],
)
def test_flagger_max_weight(
    max_weight: int | None, step_weights: list[int] | None, expected: int
) -> None:
    assert flagger_max_weight(max_weight, step_weights) == expected


@pytest.mark.parametrize(
    ("current", "step_weight", "step_weights", "expected"),
    [
        pytest.param(20, 20, None, 20, id="step-weight"),
        pytest.param(20, 20, [1, 2], 20, id="step-weight-wins-over-step-weights"),
        pytest.param(0, None, None, 0, id="nothing-set-is-0"),
        pytest.param(0, None, [1, 10, 50], 1, id="step-weights-first-entry"),
        pytest.param(10, None, [1, 10, 50], 40, id="step-weights-gap-to-next"),
        pytest.param(30, None, [1, 10, 50], 70, id="step-weights-unknown-weight-rest-to-100"),
        pytest.param(50, None, [1, 10, 50], 50, id="step-weights-last-entry-rest-to-100"),
        pytest.param(80, None, [10, 80, 150], 20, id="step-weights-capped-at-100"),
        pytest.param(100, None, [10, 150], 1, id="step-weights-at-100-step-1"),
    ],
)
def test_flagger_next_step_weight(
    current: int, step_weight: int | None, step_weights: list[int] | None, expected: int
) -> None:
    assert flagger_next_step_weight(current, step_weight, step_weights) == expected


def _ladder(
    step_weight: int | None, step_weights: list[int] | None, max_weight: int | None
) -> list[int]:
    weights = [0]
    while True:
        following = flagger_next_weight(weights[-1], step_weight, step_weights, max_weight)
        if following == weights[-1]:
            return weights
        weights.append(following)


@pytest.mark.parametrize(
    ("step_weight", "step_weights", "max_weight", "expected"),
    [
        pytest.param(20, None, 50, [0, 20, 40, 60], id="research-overshoot-20-to-max-50"),
        pytest.param(10, None, 50, [0, 10, 20, 30, 40, 50], id="exact-max-50"),
        pytest.param(30, None, None, [0, 30, 60, 90, 100], id="capped-at-100"),
        pytest.param(None, [5, 10, 50], 100, [0, 5, 10, 50], id="research-step-weights-exact"),
        pytest.param(
            None, [1, 5, 10, 20, 50], None, [0, 1, 5, 10, 20, 50], id="step-weights-ignore-max"
        ),
        pytest.param(None, [10, 150], None, [0, 10, 100], id="step-weights-last-capped"),
        pytest.param(None, None, 50, [0], id="no-step-no-advance"),
    ],
)
def test_flagger_next_weight_ladder(
    step_weight: int | None,
    step_weights: list[int] | None,
    max_weight: int | None,
    expected: list[int],
) -> None:
    assert _ladder(step_weight, step_weights, max_weight) == expected


def test_flagger_next_weight_at_max_promotes_without_change() -> None:
    assert flagger_next_weight(60, step_weight=20, max_weight=50) == 60
    assert flagger_next_weight(50, step_weight=10, max_weight=50) == 50


@pytest.mark.parametrize(
    ("max_weight", "step_weight", "step_weights", "mirror", "expected"),
    [
        pytest.param(50, 20, None, False, 3, id="research-stepWeight-20-maxWeight-50"),
        pytest.param(50, 10, None, False, 5, id="docs-interval-times-max-over-step"),
        pytest.param(None, 25, None, False, 4, id="default-max-100"),
        pytest.param(None, None, [1, 5, 10, 20, 50], False, 5, id="step-weights-count"),
        pytest.param(50, 10, None, True, 6, id="mirror-adds-one-tick"),
        pytest.param(100, 30, None, False, 4, id="last-step-capped-at-100"),
    ],
)
def test_flagger_promotion_ticks(
    max_weight: int | None,
    step_weight: int | None,
    step_weights: list[int] | None,
    mirror: bool,
    expected: int,
) -> None:
    assert flagger_promotion_ticks(max_weight, step_weight, step_weights, mirror=mirror) == expected


@pytest.mark.parametrize(
    ("step_weight", "step_weights"),
    [
        pytest.param(None, None, id="no-step-weight"),
        pytest.param(None, [10, 10, 20], id="repeated-entry-gives-step-0"),
    ],
)
def test_flagger_promotion_ticks_stalls(
    step_weight: int | None, step_weights: list[int] | None
) -> None:
    with pytest.raises(ValueError, match="stalls"):
        flagger_promotion_ticks(50, step_weight, step_weights)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_surge_or_unavailable = st.one_of(
    st.integers(min_value=0, max_value=5),
    st.sampled_from(["0%", "10%", "25%", "50%", "100%"]),
)


@given(
    replicas=st.integers(min_value=2, max_value=60),
    weight=st.integers(min_value=1, max_value=99),
    max_surge=st.integers(min_value=1, max_value=10),
)
def test_approximation_keeps_a_pod_each_side_with_surge(
    replicas: int, weight: int, max_surge: int
) -> None:
    canary, stable = approximate_weighted_canary_stable_replica_counts(replicas, weight, max_surge)
    assert canary >= 1
    assert stable >= 1
    assert canary + stable in (replicas, replicas + 1)


@given(
    replicas=st.integers(min_value=2, max_value=60),
    weight=st.integers(min_value=1, max_value=99),
)
def test_approximation_keeps_a_pod_each_side_without_surge(replicas: int, weight: int) -> None:
    canary, stable = approximate_weighted_canary_stable_replica_counts(replicas, weight, 0)
    if replicas * weight % 100 == 50 and -(-replicas * weight // 100) == replicas:
        # Upstream's fallback: R*w/100 = R - 0.5 leaves no candidate (R=2 w=75, R=10 w=95).
        assert (canary, stable) == (0, replicas)
        return
    assert canary >= 1
    assert stable >= 1
    assert canary + stable == replicas


@given(
    replicas=st.integers(min_value=0, max_value=12),
    weight=st.integers(min_value=0, max_value=100),
    max_surge=_surge_or_unavailable,
    max_unavailable=_surge_or_unavailable,
    stable_spec=st.integers(min_value=0, max_value=15),
    canary_spec=st.integers(min_value=0, max_value=15),
    stable_gap=st.integers(min_value=-1, max_value=15),
    canary_gap=st.integers(min_value=-1, max_value=15),
)
def test_bounded_move_never_exceeds_surge(
    replicas: int,
    weight: int,
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    stable_spec: int,
    canary_spec: int,
    stable_gap: int,
    canary_gap: int,
) -> None:
    # Available may trail the spec (pods starting) or exceed it by one (scale-down not seen yet).
    stable = stable_rs(stable_spec, max(0, stable_spec - stable_gap))
    canary = canary_rs(canary_spec, max(0, canary_spec - canary_gap))
    surge, _ = argo_fenceposts(max_surge, max_unavailable, replicas)
    canary_count, stable_count = calculate_replica_counts_for_basic_canary(
        replicas, weight, max_surge, max_unavailable, stable, canary
    )
    assert canary_count >= 0
    assert stable_count >= 0
    if stable_spec + canary_spec <= replicas + surge:
        assert canary_count + stable_count <= replicas + surge


@given(
    replicas=st.integers(min_value=1, max_value=12),
    weight=st.integers(min_value=0, max_value=100),
    max_surge=_surge_or_unavailable,
    max_unavailable=_surge_or_unavailable,
    from_canary=st.booleans(),
)
def test_bounded_moves_reach_the_target_within_limits(
    replicas: int,
    weight: int,
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    from_canary: bool,
) -> None:
    """With pods ready at once, repeated passes reach the target and never dip below
    R − maxUnavailable available (counting a removed pod as gone and an added one as not yet
    ready), starting from all-stable (rollout) or all-canary (abort)."""
    surge, unavailable = argo_fenceposts(max_surge, max_unavailable, replicas)
    target = approximate_weighted_canary_stable_replica_counts(replicas, weight, surge)
    start = (replicas, 0) if from_canary else (0, replicas)
    path = _converge(replicas, weight, max_surge, max_unavailable, *start)
    assert path[-1] == target
    for (canary, stable), (next_canary, next_stable) in itertools.pairwise(path):
        assert next_canary + next_stable <= replicas + surge
        assert min(canary, next_canary) + min(stable, next_stable) >= replicas - unavailable


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


@given(
    max_weight=st.one_of(st.none(), st.integers(min_value=1, max_value=100)),
    step_weight=st.integers(min_value=1, max_value=100),
)
def test_flagger_step_weight_ticks_match_ceiling(max_weight: int | None, step_weight: int) -> None:
    target = flagger_max_weight(max_weight, None)
    assert flagger_promotion_ticks(max_weight, step_weight) == -(-target // step_weight)
