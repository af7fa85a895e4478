"""Table tests for simdeploy.rules.deployment_status.

Rows are ported from the upstream Kubernetes test tables where one exists (the row id says
which), plus edge cases the upstream tables do not pin. Upstream tables:
deployment_util_test.go (TestDeploymentComplete, TestDeploymentProgressing,
TestDeploymentTimedOut) and progress_test.go (TestRequeueStuckDeployment); IsPodAvailable
follows ``pkg/api/v1/pod/util.go`` on ``main`` (the ``<=`` boundary).
"""

import pytest

from simdeploy.rules.deployment_status import (
    MAX_INT32,
    DeploymentStatus,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    is_pod_available,
    requeue_stuck_deployment,
)

# --------------------------------------------------------------------------------------------
# is_pod_available (IsPodAvailable, main's <= boundary)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ready", "ready_since", "min_ready", "now", "expected"),
    [
        pytest.param(False, 0.0, 0, 100.0, False, id="not-ready-is-never-available"),
        pytest.param(True, 100.0, 0, 100.0, True, id="ready-with-zero-min-ready-is-available"),
        pytest.param(True, None, 0, 100.0, True, id="zero-min-ready-ignores-missing-time"),
        pytest.param(True, None, 5, 100.0, False, id="missing-ready-time-with-min-ready"),
        pytest.param(True, 100.0, 10, 110.0, True, id="exactly-min-ready-seconds-is-available-le"),
        pytest.param(True, 100.0, 10, 109.9, False, id="just-before-min-ready-seconds"),
        pytest.param(True, 100.0, 10, 200.0, True, id="long-after-min-ready-seconds"),
        pytest.param(False, 0.0, 10, 200.0, False, id="not-ready-even-after-min-ready"),
    ],
)
def test_is_pod_available(
    ready: bool, ready_since: float | None, min_ready: float, now: float, expected: bool
) -> None:
    assert is_pod_available(ready, ready_since, min_ready, now) is expected


# --------------------------------------------------------------------------------------------
# deployment_complete / deployment_progressing / deployment_timed_out / requeue
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("desired", "current", "updated", "available", "expected"),
    [
        pytest.param(5, 5, 5, 4, False, id="upstream-min-but-not-all-available"),
        pytest.param(5, 5, 5, 3, False, id="upstream-min-availability-not-honored"),
        pytest.param(5, 5, 5, 5, True, id="upstream-complete"),
        pytest.param(5, 5, 4, 5, False, id="upstream-all-available-not-all-updated"),
        pytest.param(1, 2, 1, 1, False, id="upstream-old-pods-still-running"),
        pytest.param(1, 1, 1, 0, False, id="upstream-single-replica-never-comes-up"),
        pytest.param(0, 0, 0, 0, True, id="scaled-to-zero-is-complete"),
    ],
)
def test_deployment_complete(
    desired: int, current: int, updated: int, available: int, expected: bool
) -> None:
    status = DeploymentStatus(current, updated, 0, available)
    assert deployment_complete(desired, status) is expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param((10, 4, 4, 4), (10, 6, 4, 4), True, id="upstream-more-updated-pods"),
        pytest.param((10, 4, 4, 4), (10, 4, 4, 4), False, id="upstream-nothing-changed"),
        pytest.param((10, 4, 6, 6), (8, 4, 6, 6), True, id="upstream-old-pods-removed"),
        pytest.param((10, 7, 3, 3), (10, 6, 3, 3), False, id="upstream-fewer-new-pods"),
        pytest.param((10, 4, 7, 7), (8, 8, 5, 5), True, id="upstream-fewer-overall-more-new"),
        pytest.param((10, 10, 9, 8), (10, 10, 10, 8), True, id="upstream-more-ready-pods"),
        pytest.param((10, 10, 10, 9), (10, 10, 10, 10), True, id="upstream-more-available-pods"),
        pytest.param((10, 10, 10, 10), (10, 10, 9, 9), False, id="losing-pods-is-not-progress"),
    ],
)
def test_deployment_progressing(
    old: tuple[int, int, int, int], new: tuple[int, int, int, int], expected: bool
) -> None:
    assert deployment_progressing(DeploymentStatus(*new), DeploymentStatus(*old)) is expected


@pytest.mark.parametrize(
    ("last", "deadline", "now", "complete", "already", "expected"),
    [
        pytest.param(69.0, None, 80.0, False, False, False, id="upstream-no-deadline-no-timeout"),
        pytest.param(69.0, 10, 80.0, False, False, True, id="upstream-11s-past-10s-deadline"),
        pytest.param(71.0, 10, 80.0, False, False, False, id="upstream-9s-within-10s-deadline"),
        pytest.param(0.0, 10, 80.0, True, False, False, id="upstream-complete-never-times-out"),
        pytest.param(70.0, 10, 80.0, False, False, False, id="exactly-at-deadline-strict-lt"),
        pytest.param(0.0, MAX_INT32, 1e12, False, False, False, id="maxint32-means-no-deadline"),
        pytest.param(79.0, 10, 80.0, False, True, True, id="already-timed-out-stays-timed-out"),
        pytest.param(0.0, 600, 601.0, False, False, True, id="default-600s-deadline"),
    ],
)
def test_deployment_timed_out(
    last: float, deadline: float | None, now: float, complete: bool, already: bool, expected: bool
) -> None:
    result = deployment_timed_out(last, deadline, now, complete, already_timed_out=already)
    assert result is expected


@pytest.mark.parametrize(
    ("deadline", "now", "complete", "already", "expected"),
    [
        pytest.param(None, 30.0, False, False, None, id="upstream-nil-deadline-no-requeue"),
        pytest.param(MAX_INT32, 30.0, False, False, None, id="upstream-infinite-deadline"),
        pytest.param(60, 30.0, True, False, None, id="upstream-complete-not-requeued"),
        pytest.param(60, 30.0, False, True, None, id="upstream-already-failed-not-requeued"),
        pytest.param(60, 30.0, False, False, 30.0, id="upstream-stuck-30s-left"),
        pytest.param(60, 59.0, False, False, 1.0, id="upstream-stuck-1s-left"),
        pytest.param(60, 59.000000001, False, False, 0.0, id="upstream-under-1s-left-is-now"),
        pytest.param(60, 60.0, False, False, 0.0, id="upstream-at-deadline-is-now"),
        pytest.param(60, 61.0, False, False, 0.0, id="upstream-1s-after-deadline-is-now"),
        pytest.param(60, 120.0, False, False, 0.0, id="upstream-60s-after-deadline-is-now"),
    ],
)
def test_requeue_stuck_deployment(
    deadline: float | None, now: float, complete: bool, already: bool, expected: float | None
) -> None:
    # Upstream's Progressing condition was last updated at 18:49:00, here t = 0.
    result = requeue_stuck_deployment(0.0, deadline, now, complete, already_timed_out=already)
    assert result == expected
