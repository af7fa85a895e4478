"""Table tests for simdeploy.rules.recreate_wait: recreate_test.go ``TestOldPodsRunning``.

Upstream's ``podMapWithUIDs`` pods have an empty status (phase ""), which is not terminal, so
they count as running.
"""

import pytest

from simdeploy.rules.recreate_wait import old_pods_running

TWO_PODS_WITHOUT_STATUS = ["", ""]

ROWS = [
    ("no old RSs", None, [], {}, False),
    (
        "old RSs with running pods",
        None,
        [0, 0],
        {"some-uid": TWO_PODS_WITHOUT_STATUS, "other-uid": TWO_PODS_WITHOUT_STATUS},
        True,
    ),
    ("old RSs without pods but with non-zero status replicas", None, [1], {}, True),
    ("old RSs without pods or non-zero status replicas", None, [0], {}, False),
    (
        "old RSs with zero status replicas but pods in terminal state are present",
        None,
        [0],
        {"uid-1": ["Failed", "Succeeded"]},
        False,
    ),
    (
        "old RSs with zero status replicas but pod in unknown phase present",
        None,
        [0],
        {"uid-1": ["Unknown"]},
        True,
    ),
    (
        "old RSs with zero status replicas with pending pod present",
        None,
        [0],
        {"uid-1": ["Pending"]},
        True,
    ),
    (
        "old RSs with zero status replicas with running pod present",
        None,
        [0],
        {"uid-1": ["Running"]},
        True,
    ),
    (
        "old RSs with zero status replicas but pods in terminal state and pending are present",
        None,
        [0],
        {"uid-1": ["Failed", "Succeeded"], "uid-2": [], "uid-3": ["Pending"]},
        True,
    ),
]


@pytest.mark.parametrize(
    ("new_rs", "old_status", "pods", "expected"), [pytest.param(*r[1:], id=r[0]) for r in ROWS]
)
def test_old_pods_running_upstream_rows(
    new_rs: str | None, old_status: list[int], pods: dict[str, list[str]], expected: bool
) -> None:
    assert old_pods_running(new_rs, old_status, pods) is expected


def test_pods_of_the_new_replica_set_do_not_count() -> None:
    """A rollout that already has new pods (a rollover) is not held up by them."""
    assert old_pods_running("new", [0], {"new": ["Running"], "old": ["Succeeded"]}) is False
    assert old_pods_running(None, [0], {"new": ["Running"]}) is True
