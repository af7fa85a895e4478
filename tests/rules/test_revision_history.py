"""Table tests for simdeploy.rules.revision_history.

Rows of sync_test.go ``TestDeploymentController_cleanupDeployment`` (upstream logs them as
"scenario N") and ``TestDeploymentController_cleanupDeploymentOrder`` (named by their
comments), and of kubectl's ``deploymentRevision`` (rollback.go): undo goes to the
second-highest revision, or fails.
"""

import pytest

from simdeploy.rules.revision_history import (
    MAX_INT32,
    RevisionRS,
    cleanup_deployment,
    has_revision_history_limit,
    no_history_message,
    rollback_target,
    sorted_by_revision,
)


def with_status(name: str, spec: int, status: int, deleting: bool = False) -> RevisionRS:
    """``newRSWithStatus``: no revision annotation, no creation timestamp."""
    return RevisionRS(name, 0.0, spec, status, None, deleting)


CLEANUP_ROWS = [
    (
        "scenario 0",
        [with_status("foo-1", 0, 0), with_status("foo-2", 0, 0), with_status("foo-3", 0, 0)],
        1,
        2,
    ),
    (
        "scenario 1: only delete the replica set with Spec.Replicas = Status.Replicas = 0",
        [
            with_status("foo-1", 0, 0),
            with_status("foo-2", 0, 1),
            with_status("foo-3", 1, 0),
            with_status("foo-4", 1, 1),
        ],
        0,
        1,
    ),
    ("scenario 2", [with_status("foo-1", 0, 0), with_status("foo-2", 0, 0)], 0, 2),
    ("scenario 3", [with_status("foo-1", 1, 1), with_status("foo-2", 1, 1)], 0, 0),
    ("scenario 4: already deleted", [with_status("foo-1", 0, 0, deleting=True)], 0, 0),
    (
        "scenario 5: with unlimited revisionHistoryLimit",
        [with_status("foo-1", 0, 0), with_status("foo-2", 0, 0), with_status("foo-3", 0, 0)],
        MAX_INT32,
        0,
    ),
]


@pytest.mark.parametrize(
    ("old_rs", "limit", "deletions"), [pytest.param(*r[1:], id=r[0]) for r in CLEANUP_ROWS]
)
def test_cleanup_deployment_upstream_rows(
    old_rs: list[RevisionRS], limit: int, deletions: int
) -> None:
    assert len(cleanup_deployment(old_rs, limit)) == deletions


MINUTE = 60.0


def rev(name: str, replicas: int, created: float, revision: str) -> RevisionRS:
    """``newRSWithRevisionAndCreationTimestamp``: spec and status replicas equal."""
    return RevisionRS(name, created, replicas, replicas, int(revision) if revision else None)


ORDER_ROWS = [
    (
        "revision order: rs1 < rs2, delete rs1",
        [rev("foo-1", 0, -MINUTE, "1"), rev("foo-2", 0, 0, "2")],
        1,
        {"foo-1"},
    ),
    (
        "revision order: rs2 < rs1, delete rs2",
        [rev("foo-1", 0, -MINUTE, "2"), rev("foo-2", 0, 0, "1")],
        1,
        {"foo-2"},
    ),
    (
        "rs1 has revision but rs2 doesn't have revision, delete rs2",
        [rev("foo-1", 0, -MINUTE, "1"), rev("foo-2", 0, 0, "")],
        1,
        {"foo-2"},
    ),
    (
        "rs1 doesn't have revision while rs2 has revision, delete rs1",
        [rev("foo-1", 0, -MINUTE, ""), rev("foo-2", 0, 0, "2")],
        1,
        {"foo-1"},
    ),
    (
        "revision order: rs1 < rs2 < r3, but rs1 has replicas, delete rs2",
        [rev("foo-1", 1, -MINUTE, "1"), rev("foo-2", 0, 0, "2"), rev("foo-3", 0, MINUTE, "3")],
        1,
        {"foo-2"},
    ),
    (
        "revision order: rs1 < rs2 < r3, both rs1 && rs2 have replicas, don't delete",
        [rev("foo-1", 1, -MINUTE, "1"), rev("foo-2", 1, 0, "2"), rev("foo-3", 0, MINUTE, "3")],
        1,
        set(),
    ),
    (
        "revision order: rs2 < rs4 < rs1 < rs3, delete rs2 && rs4",
        [
            rev("foo-1", 0, -MINUTE, "3"),
            rev("foo-2", 0, 0, "1"),
            rev("foo-3", 0, MINUTE, "4"),
            rev("foo-4", 0, 2 * MINUTE, "2"),
        ],
        2,
        {"foo-2", "foo-4"},
    ),
]


@pytest.mark.parametrize(
    ("old_rs", "limit", "deleted"), [pytest.param(*r[1:], id=r[0]) for r in ORDER_ROWS]
)
def test_cleanup_deployment_order_upstream_rows(
    old_rs: list[RevisionRS], limit: int, deleted: set[str]
) -> None:
    assert set(cleanup_deployment(old_rs, limit)) == deleted


def test_cleanup_deletes_lowest_revisions_first_and_keeps_the_limit() -> None:
    """Default limit 10 keeps ten; limit 3 with five empty old RSs deletes revisions 1 and 2."""
    olds = [rev(f"v{i}", 0, float(i), str(i)) for i in range(1, 6)]
    assert cleanup_deployment(olds, 10) == []
    assert cleanup_deployment(olds, 3) == ["v1", "v2"]
    assert cleanup_deployment(olds, None) == []


def test_sorted_by_revision_missing_is_zero_then_creation_then_name() -> None:
    a = RevisionRS("a", 1.0, 0, 0, 3)
    b = RevisionRS("b", 2.0, 0, 0, 1)
    c = RevisionRS("c", 3.0, 0, 0, None)
    d = RevisionRS("d", 0.5, 0, 0, 1)
    assert [r.name for r in sorted_by_revision([a, b, c, d])] == ["c", "d", "b", "a"]


def test_has_revision_history_limit() -> None:
    assert has_revision_history_limit(0)
    assert has_revision_history_limit(10)
    assert not has_revision_history_limit(None)
    assert not has_revision_history_limit(MAX_INT32)


@pytest.mark.parametrize(
    ("revisions", "to_revision", "target", "error"),
    [
        pytest.param([1, 2, 3], 0, "rev2", None, id="undo-goes-to-second-highest"),
        pytest.param([3, 1, 2], 0, "rev2", None, id="order-of-listing-does-not-matter"),
        pytest.param([5], 0, None, no_history_message("app"), id="one-revision-no-history"),
        pytest.param([], 0, None, no_history_message("app"), id="no-revisions-no-history"),
        pytest.param([1, 2, 3], 1, "rev1", None, id="to-revision-kept"),
        pytest.param(
            [2, 3],
            1,
            None,
            "unable to find specified revision 1 in history",
            id="to-revision-cleaned-up",
        ),
    ],
)
def test_rollback_target(
    revisions: list[int], to_revision: int, target: str | None, error: str | None
) -> None:
    rss = [RevisionRS(f"rev{r}", float(r), 0, 0, r) for r in revisions]
    got, message = rollback_target(rss, to_revision, "app")
    assert (got.name if got else None, message) == (target, error)


def test_no_history_message_is_kubectls() -> None:
    assert no_history_message("web") == 'no rollout history found for deployment "web"'
