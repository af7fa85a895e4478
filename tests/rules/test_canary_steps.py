"""Table tests for simdeploy.rules.canary_steps (one reconcile of an Argo canary step).

Rows marked "upstream" are ported from argoproj/argo-rollouts (v1.10.0-rc1, commit 9f8d111):
``utils/replicaset/canary_test.go`` (TestCalculateReplicaCountsForCanary,
TestGetCurrentSetWeight, TestAtDesiredReplicaCountsForCanary, TestAllDesiredAreAvailable,
TestAllReplicaProgressThresholdMet), ``rollout/sync_test.go``
(TestShouldFullPromoteWithReplicaProgressThreshold) and
``pkg/apis/rollouts/v1alpha1/types_test.go`` (TestRolloutPauseDuration), the row id keeping
the upstream test name.
"""

from collections.abc import Sequence
from typing import Any

import pytest

from simdeploy.rules.canary_math import CanaryRS, replica_progress_threshold_met
from simdeploy.rules.canary_steps import (
    INT32_MAX,
    ReplicaProgressThreshold,
    at_desired_replica_counts_for_canary,
    calculate_replica_counts_for_canary,
    get_current_set_weight,
    pause_duration_seconds,
)
from simdeploy.rules.canary_traffic import SetCanaryScale
from simdeploy.rules.replica_math import RSState
from tests.conftest import canary_rs, stable_rs

# --------------------------------------------------------------------------------------------
# CalculateReplicaCountsForCanary: promote-full, abort and dispatch
# --------------------------------------------------------------------------------------------


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


def test_dispatcher_routes_to_traffic_routed() -> None:
    result = calculate_replica_counts_for_canary(
        10, 10, 0, 1, stable_rs(10, 10), canary_rs(0, 0), traffic_routing=True
    )
    assert result == (1, 10)


# --------------------------------------------------------------------------------------------
# GetCurrentSetWeight
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
            True,
            id="threshold-counts-available-pods-whatever-the-spec",
        ),
        pytest.param(
            {"traffic_routing": True},
            canary_rs(3, 3),
            stable_rs(4, 4),
            [],
            False,
            id="no-threshold-spec-must-equal-desired",
        ),
        pytest.param(
            {
                "traffic_routing": True,
                "replica_progress_threshold": ReplicaProgressThreshold("Pods", 3),
            },
            canary_rs(2, 2),
            stable_rs(4, 4),
            [],
            False,
            id="threshold-pods-above-the-step-count-is-never-met",
        ),
        pytest.param(
            {
                "traffic_routing": True,
                "replica_progress_threshold": ReplicaProgressThreshold("Pods", -1),
            },
            canary_rs(2, 1),
            stable_rs(4, 4),
            [],
            False,
            id="threshold-negative-value-is-ignored",
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
# ReplicaProgressThresholdMet
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "rs", "desired", "expected"),
    [
        pytest.param(
            ReplicaProgressThreshold("Percent", 90),
            CanaryRS("rs", 0, 9),
            10,
            True,
            id="upstream-test using percentage that 90% availability of pods passes",
        ),
        pytest.param(
            ReplicaProgressThreshold("Pods", 9),
            CanaryRS("rs", 0, 9),
            10,
            True,
            id="upstream-test using pod values that 90% availability of pods correctly passes",
        ),
        pytest.param(
            ReplicaProgressThreshold("Percent", 90),
            CanaryRS("rs", 0, 8),
            10,
            False,
            id="upstream-test using percentage that under 90% availability of pods correctly fails",
        ),
        pytest.param(
            ReplicaProgressThreshold("Pods", 8),
            CanaryRS("rs", 0, 7),
            10,
            False,
            id="upstream-test using pod values that under 8 pods correctly fails",
        ),
        pytest.param(
            ReplicaProgressThreshold("Pods", -100),
            CanaryRS("rs", 10, 10),
            10,
            True,
            id="upstream-test that when threshold is under 0, it defaults to 100% of pods being "
            "available to return true",
        ),
        pytest.param(
            None,
            CanaryRS("rs", 5, 10),
            10,
            False,
            id="upstream-test that when threshold is nil, it defaults to 100% of pods being "
            "available to return true",
        ),
        pytest.param(
            ReplicaProgressThreshold("Pods", 5),
            None,
            10,
            False,
            id="upstream-test that when the replicaset is nil, it always returns false",
        ),
        pytest.param(
            ReplicaProgressThreshold("Percent", 100),
            CanaryRS("rs", 0, 100),
            10,
            True,
            id="upstream-test that percentages well above the required threshold correctly pass",
        ),
        pytest.param(
            ReplicaProgressThreshold("Percent", 90),
            CanaryRS("rs", 0, 0),
            0,
            True,
            id="upstream-test that when desired is 0, threshold is always met (percentage type "
            "only)",
        ),
        pytest.param(
            ReplicaProgressThreshold("Pod", 9),
            CanaryRS("rs", 0, 9),
            10,
            True,
            id="docs-spelling-Pod-is-a-pod-count",
        ),
        pytest.param(
            ReplicaProgressThreshold("Percent", 33),
            CanaryRS("rs", 3, 1),
            3,
            True,
            id="percent-exact-at-one-third-33-percent",
        ),
        pytest.param(
            None,
            CanaryRS("rs", 10, 10),
            10,
            True,
            id="upstream-TestAllDesiredAreAvailable-all-desired-pods-available",
        ),
        pytest.param(
            None,
            CanaryRS("rs", 10, 9),
            10,
            False,
            id="upstream-TestAllDesiredAreAvailable-not-all-desired-pods-available",
        ),
    ],
)
def test_replica_progress_threshold_met(
    threshold: ReplicaProgressThreshold | None, rs: CanaryRS | None, desired: int, expected: bool
) -> None:
    assert replica_progress_threshold_met(threshold, rs, desired) is expected


@pytest.mark.parametrize(
    ("available", "threshold", "expected"),
    [
        pytest.param(
            9,
            ReplicaProgressThreshold("Percent", 90),
            True,
            id="upstream-threshold met - 90% available with 90% threshold",
        ),
        pytest.param(
            8,
            ReplicaProgressThreshold("Percent", 90),
            False,
            id="upstream-threshold not met - 80% available with 90% threshold",
        ),
        pytest.param(9, None, False, id="upstream-nil threshold - requires 100% availability"),
    ],
)
def test_full_promotion_waits_for_the_threshold(
    available: int, threshold: ReplicaProgressThreshold | None, expected: bool
) -> None:
    """shouldFullPromote: after the last step the canary (spec 10) must meet the threshold
    against all 10 replicas. The simulator's full promotion is the step at weight 100, whose
    canary count is R behind a router, so AtDesiredReplicaCountsForCanary asks the same."""
    result = at_desired_replica_counts_for_canary(
        10,
        100,
        1,
        0,
        stable_rs(10, 10),
        canary_rs(10, available),
        traffic_routing=True,
        replica_progress_threshold=threshold,
    )
    assert result is expected


# --------------------------------------------------------------------------------------------
# RolloutPause.DurationSeconds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        # upstream TestRolloutPauseDuration, in order
        pytest.param(None, 0, id="upstream-no-duration-is-0"),
        pytest.param(10, 10, id="upstream-int-10"),
        pytest.param("10", 10, id="upstream-string-10"),
        pytest.param("10s", 10, id="upstream-string-10s"),
        pytest.param("1h", 3600, id="upstream-string-1h"),
        pytest.param("1ms", 0, id="upstream-string-1ms-is-0"),
        pytest.param("1z", -1, id="upstream-string-1z-invalid"),
        pytest.param("20000000000", -1, id="upstream-string-out-of-int32"),
        # Go's time.ParseDuration, truncated toward zero
        pytest.param("1.5s", 1, id="fraction-truncated"),
        pytest.param("1m30s", 90, id="two-units"),
        pytest.param("-0.5s", 0, id="negative-fraction-truncates-to-0"),
        pytest.param("-2s", -2, id="negative-duration"),
        pytest.param("+5", 5, id="signed-digits-parse-as-int"),
        pytest.param("2147483647", INT32_MAX, id="int32-max"),
        pytest.param("10 s", -1, id="space-is-not-a-unit"),
        pytest.param("1d", -1, id="no-day-unit"),
        pytest.param("700000h", -1, id="beyond-int32-seconds"),
    ],
)
def test_pause_duration_seconds(duration: int | str | None, expected: int) -> None:
    assert pause_duration_seconds(duration) == expected
