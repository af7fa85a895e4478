"""Table tests for simdeploy.rules.pg_locks.

The conflict matrix is PostgreSQL's "Explicit Locking" Table 13.2 (identical to
``LockConflicts[]`` in ``src/backend/storage/lmgr/lock.c``).
"""

import pytest

from simdeploy.rules.pg_locks import LockMode, blocks_reads, blocks_writes, conflicts, request_lock

M = LockMode

# Table 13.2, "Conflicting Lock Modes": row = requested, column = existing, in the docs' order
# ACCESS SHARE, ROW SHARE, ROW EXCL., SHARE UPDATE EXCL., SHARE, SHARE ROW EXCL., EXCL.,
# ACCESS EXCL.; "X" = conflicts.
DOCS_TABLE = {
    M.ACCESS_SHARE: ".......X",
    M.ROW_SHARE: "......XX",
    M.ROW_EXCLUSIVE: "....XXXX",
    M.SHARE_UPDATE_EXCLUSIVE: "...XXXXX",
    M.SHARE: "..XX.XXX",
    M.SHARE_ROW_EXCLUSIVE: "..XXXXXX",
    M.EXCLUSIVE: ".XXXXXXX",
    M.ACCESS_EXCLUSIVE: "XXXXXXXX",
}
MATRIX = [
    pytest.param(requested, existing, row[i] == "X", id=f"{requested.name}-vs-{existing.name}")
    for requested, row in DOCS_TABLE.items()
    for i, existing in enumerate(LockMode)
]


@pytest.mark.parametrize(("requested", "existing", "expected"), MATRIX)
def test_conflict_matrix(requested: LockMode, existing: LockMode, expected: bool) -> None:
    assert conflicts(requested, existing) is expected


@pytest.mark.parametrize(("a", "b", "_"), MATRIX)
def test_conflicts_is_symmetric(a: LockMode, b: LockMode, _: bool) -> None:
    assert conflicts(a, b) == conflicts(b, a)


def test_lock_mode_numbers_and_names_follow_postgres() -> None:
    assert [m.value for m in LockMode] == list(range(1, 9))
    assert M.SHARE_UPDATE_EXCLUSIVE.sql == "SHARE UPDATE EXCLUSIVE"


def test_what_blocks_plain_requests() -> None:
    assert {m for m in LockMode if blocks_reads(m)} == {M.ACCESS_EXCLUSIVE}
    assert {m for m in LockMode if blocks_writes(m)} == {
        M.SHARE,
        M.SHARE_ROW_EXCLUSIVE,
        M.EXCLUSIVE,
        M.ACCESS_EXCLUSIVE,
    }


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param("read", M.ACCESS_SHARE, id="read"),
        pytest.param("SELECT", M.ACCESS_SHARE, id="select"),
        pytest.param("write", M.ROW_EXCLUSIVE, id="write"),
        pytest.param("insert", M.ROW_EXCLUSIVE, id="insert"),
        pytest.param("update", M.ROW_EXCLUSIVE, id="update"),
        pytest.param("DELETE", M.ROW_EXCLUSIVE, id="delete"),
    ],
)
def test_request_lock(kind: str, expected: LockMode) -> None:
    assert request_lock(kind) is expected


def test_request_lock_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown request kind"):
        request_lock("merge")
