"""Table tests for simdeploy.rules.canary_math (Argo's canary without a traffic router).

Rows marked "upstream" are ported from argoproj/argo-rollouts ``utils/replicaset/canary_test.go``
(TestCalculateReplicaCountsForCanary, TestApproximateWeightedNewStableReplicaCounts,
TestCalculateReplicaCountsForNewDeployment, TestCalculateReplicaCountsForCanaryStableRSdEdgeCases,
TestGetReplicasForScaleDown), the row id keeping the upstream test name. Rows marked "research"
pin the worked examples of /work/shared/research/argo_flagger.md §3 and §7.
"""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules.canary_math import (
    ARGO_DEFAULT_MAX_SURGE,
    ARGO_DEFAULT_MAX_UNAVAILABLE,
    CanaryRS,
    approximate_weighted_canary_stable_replica_counts,
    argo_fenceposts,
    argo_scaled_value,
    calculate_replica_counts_for_basic_canary,
    check_stable_rs_exists,
    get_replicas_for_scale_down,
    served_weight,
)
from simdeploy.rules.int_or_percent import IntOrPercent
from simdeploy.rules.replica_math import RSState
from tests.conftest import canary_rs, stable_rs

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
# GetReplicasForScaleDown, CheckStableRSExists
# --------------------------------------------------------------------------------------------


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
# Served weight
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
