"""Table tests for simdeploy.rules.migrations: lock, work, cost, classification, SQL.

Lock and cost rows follow the PostgreSQL "ALTER TABLE" and "CREATE INDEX" reference pages.
"""

import pytest

from simdeploy.rules.migrations import (
    INDEX_CONCURRENTLY_FACTOR,
    METADATA_COST_S,
    AddColumn,
    AddConstraint,
    AddTable,
    Backfill,
    ChangeColumnType,
    CreateIndex,
    Default,
    DropColumn,
    Operation,
    RenameColumn,
    SetNotNull,
    StartDualWrite,
    StopDualWrite,
    ValidateConstraint,
    Work,
    cost_s,
    describe,
    is_additive,
    is_destructive,
    lock_mode,
    locks,
    work,
)
from simdeploy.rules.pg_locks import LockMode, conflicts, request_lock
from simdeploy.rules.schema import ConstraintKind, Schema
from simdeploy.rules.schema_changes import apply
from tests.conftest import BASE, CHECK, CHECK_NOT_VALID, FK, FK_NOT_VALID, ID

M = LockMode

OPS_LOCKS = [
    pytest.param(AddTable("events", (ID,)), None, id="add_table-no-existing-table"),
    pytest.param(AddColumn("users", "nick"), M.ACCESS_EXCLUSIVE, id="add_column"),
    pytest.param(
        AddColumn("users", "tok", default=Default.VOLATILE), M.ACCESS_EXCLUSIVE, id="add_volatile"
    ),
    pytest.param(DropColumn("users", "name"), M.ACCESS_EXCLUSIVE, id="drop_column"),
    pytest.param(RenameColumn("users", "name", "nm"), M.ACCESS_EXCLUSIVE, id="rename_column"),
    pytest.param(ChangeColumnType("users", "name", "text"), M.ACCESS_EXCLUSIVE, id="alter_type"),
    pytest.param(SetNotNull("users", "name"), M.ACCESS_EXCLUSIVE, id="set_not_null"),
    pytest.param(CHECK, M.ACCESS_EXCLUSIVE, id="add_check"),
    pytest.param(CHECK_NOT_VALID, M.ACCESS_EXCLUSIVE, id="add_check_not_valid-brief-AEL"),
    pytest.param(FK, M.SHARE_ROW_EXCLUSIVE, id="add_foreign_key"),
    pytest.param(FK_NOT_VALID, M.SHARE_ROW_EXCLUSIVE, id="add_foreign_key_not_valid"),
    pytest.param(ValidateConstraint("users", "c"), M.SHARE_UPDATE_EXCLUSIVE, id="validate"),
    pytest.param(CreateIndex("orders", "i", ("user_id",)), M.SHARE, id="create_index"),
    pytest.param(
        CreateIndex("orders", "i", ("user_id",), concurrently=True),
        M.SHARE_UPDATE_EXCLUSIVE,
        id="create_index_concurrently",
    ),
    pytest.param(Backfill("users", "name"), M.ROW_EXCLUSIVE, id="backfill-per-batch"),
    pytest.param(StartDualWrite("users", "name", "nm"), None, id="start_dual_write-app"),
    pytest.param(StopDualWrite("users", "name", "nm"), None, id="stop_dual_write-app"),
]


@pytest.mark.parametrize(("op", "expected"), OPS_LOCKS)
def test_lock_mode(op: Operation, expected: LockMode | None) -> None:
    assert lock_mode(op) is expected


def test_foreign_key_locks_both_tables() -> None:
    assert locks(FK) == (("orders", M.SHARE_ROW_EXCLUSIVE), ("users", M.SHARE_ROW_EXCLUSIVE))


def test_validating_a_foreign_key_takes_row_share_on_the_referenced_table() -> None:
    s = apply(BASE, FK_NOT_VALID)
    op = ValidateConstraint("orders", "orders_user_fk")
    assert locks(op, s) == (("orders", M.SHARE_UPDATE_EXCLUSIVE), ("users", M.ROW_SHARE))
    assert locks(op) == (("orders", M.SHARE_UPDATE_EXCLUSIVE),)


def test_plain_requests_wait_behind_the_right_ddl() -> None:
    # CREATE INDEX blocks writers but not readers; CIC blocks neither; ADD COLUMN blocks both.
    read, write = request_lock("read"), request_lock("write")
    index = lock_mode(CreateIndex("t", "i", ("c",)))
    cic = lock_mode(CreateIndex("t", "i", ("c",), concurrently=True))
    add = lock_mode(AddColumn("t", "c"))
    assert index is not None and cic is not None and add is not None
    assert (conflicts(index, read), conflicts(index, write)) == (False, True)
    assert (conflicts(cic, read), conflicts(cic, write)) == (False, False)
    assert (conflicts(add, read), conflicts(add, write)) == (True, True)


WITH_VALID_CHECK = apply(apply(BASE, CHECK_NOT_VALID), ValidateConstraint("users", "name_nn"))


@pytest.mark.parametrize(
    ("op", "schema", "pg", "expected"),
    [
        pytest.param(AddColumn("users", "c"), None, 16, Work.METADATA, id="add_nullable"),
        pytest.param(
            AddColumn("users", "c", default=Default.CONSTANT), None, 11, Work.METADATA, id="pg11"
        ),
        pytest.param(
            AddColumn("users", "c", default=Default.CONSTANT), None, 10, Work.REWRITE, id="pg10"
        ),
        pytest.param(
            AddColumn("users", "c", default=Default.VOLATILE), None, 16, Work.REWRITE, id="volat"
        ),
        pytest.param(DropColumn("users", "name"), None, 16, Work.METADATA, id="drop"),
        pytest.param(RenameColumn("users", "name", "n"), None, 16, Work.METADATA, id="rename"),
        pytest.param(ChangeColumnType("users", "name", "int"), None, 16, Work.REWRITE, id="type"),
        pytest.param(
            ChangeColumnType("users", "name", "text", rewrite=False),
            None,
            16,
            Work.METADATA,
            id="type-binary-coercible",
        ),
        pytest.param(SetNotNull("users", "name"), None, 16, Work.SCAN, id="not_null-no-schema"),
        pytest.param(SetNotNull("users", "name"), BASE, 16, Work.SCAN, id="not_null-no-check"),
        pytest.param(
            SetNotNull("users", "name"),
            apply(BASE, CHECK_NOT_VALID),
            16,
            Work.SCAN,
            id="not_null-check-not-validated",
        ),
        pytest.param(
            SetNotNull("users", "name"), WITH_VALID_CHECK, 12, Work.METADATA, id="not_null-pg12"
        ),
        pytest.param(
            SetNotNull("users", "name"), WITH_VALID_CHECK, 11, Work.SCAN, id="not_null-pg11"
        ),
        pytest.param(CHECK, None, 16, Work.SCAN, id="add_check"),
        pytest.param(CHECK_NOT_VALID, None, 16, Work.METADATA, id="add_check_not_valid"),
        pytest.param(FK, None, 16, Work.SCAN, id="add_fk"),
        pytest.param(ValidateConstraint("users", "c"), None, 16, Work.SCAN, id="validate"),
        pytest.param(CreateIndex("t", "i", ("c",)), None, 16, Work.INDEX_BUILD, id="index"),
        pytest.param(Backfill("users", "name"), None, 16, Work.BATCHES, id="backfill"),
        pytest.param(StartDualWrite("users", "a", "b"), None, 16, Work.NONE, id="dual-write"),
        pytest.param(AddTable("t"), None, 16, Work.METADATA, id="add_table"),
    ],
)
def test_work(op: Operation, schema: Schema | None, pg: int, expected: Work) -> None:
    assert work(op, schema=schema, pg_version=pg) is expected


ROWS, RATE = 1_000_000, 100_000.0  # 10 s of row work
FULL = METADATA_COST_S + 10.0


@pytest.mark.parametrize(
    ("op", "schema", "expected"),
    [
        pytest.param(AddColumn("users", "c"), None, METADATA_COST_S, id="add_column-ms"),
        pytest.param(
            AddColumn("users", "c", default=Default.CONSTANT), None, METADATA_COST_S, id="fast"
        ),
        pytest.param(
            AddColumn("users", "c", default=Default.VOLATILE), None, FULL, id="volatile-rewrite"
        ),
        pytest.param(DropColumn("users", "name"), None, METADATA_COST_S, id="drop-ms"),
        pytest.param(RenameColumn("users", "name", "n"), None, METADATA_COST_S, id="rename-ms"),
        pytest.param(ChangeColumnType("users", "name", "int"), None, FULL, id="type-rewrite"),
        pytest.param(SetNotNull("users", "name"), BASE, FULL, id="set_not_null-scan"),
        pytest.param(
            SetNotNull("users", "name"), WITH_VALID_CHECK, METADATA_COST_S, id="set_not_null-ms"
        ),
        pytest.param(CHECK_NOT_VALID, None, METADATA_COST_S, id="not_valid-ms"),
        pytest.param(FK, None, FULL, id="fk-validated-scan"),
        pytest.param(ValidateConstraint("users", "c"), None, FULL, id="validate-scan"),
        pytest.param(CreateIndex("t", "i", ("c",)), None, FULL, id="index"),
        pytest.param(
            CreateIndex("t", "i", ("c",), concurrently=True),
            None,
            FULL * INDEX_CONCURRENTLY_FACTOR,
            id="index-concurrently-2.5x",
        ),
        pytest.param(Backfill("t", "c", batch_size=1000), None, 10.0, id="backfill-no-delay"),
        pytest.param(
            Backfill("t", "c", batch_size=10_000, batch_delay_s=0.5),
            None,
            10.0 + 99 * 0.5,
            id="backfill-100-batches-99-delays",
        ),
        pytest.param(StartDualWrite("t", "a", "b"), None, 0.0, id="dual-write-free"),
        pytest.param(AddTable("t"), None, METADATA_COST_S, id="add_table-ms"),
    ],
)
def test_cost_s(op: Operation, schema: Schema | None, expected: float) -> None:
    assert cost_s(op, ROWS, RATE, schema=schema) == pytest.approx(expected)


def test_cost_of_a_backfill_on_an_empty_table_is_zero() -> None:
    assert cost_s(Backfill("t", "c", batch_delay_s=5.0), 0, RATE) == 0.0


@pytest.mark.parametrize(("rows", "rate"), [(-1, 1.0), (1, 0.0), (1, -2.0)])
def test_cost_s_rejects_bad_inputs(rows: int, rate: float) -> None:
    with pytest.raises(ValueError):
        cost_s(DropColumn("t", "c"), rows, rate)


@pytest.mark.parametrize(
    ("op", "additive", "destructive"),
    [
        pytest.param(AddTable("t"), True, False, id="add_table"),
        pytest.param(AddColumn("t", "c"), True, False, id="add_column"),
        pytest.param(CreateIndex("t", "i", ("c",)), True, False, id="create_index"),
        pytest.param(DropColumn("t", "c"), False, True, id="drop_column"),
        pytest.param(RenameColumn("t", "c", "d"), False, True, id="rename_column"),
        pytest.param(ChangeColumnType("t", "c", "int"), False, True, id="alter_type"),
        pytest.param(SetNotNull("t", "c"), False, False, id="set_not_null-restriction"),
        pytest.param(CHECK_NOT_VALID, False, False, id="add_constraint-restriction"),
        pytest.param(ValidateConstraint("t", "c"), False, False, id="validate"),
        pytest.param(Backfill("t", "c"), False, False, id="backfill-data"),
        pytest.param(StartDualWrite("t", "a", "b"), False, False, id="dual-write-app"),
    ],
)
def test_classification(op: Operation, additive: bool, destructive: bool) -> None:
    assert (is_additive(op), is_destructive(op)) == (additive, destructive)


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        pytest.param(AddTable("t", (ID,)), "CREATE TABLE t (id)", id="add_table"),
        pytest.param(
            AddColumn("t", "c", nullable=False, default=Default.CONSTANT),
            "ALTER TABLE t ADD COLUMN c NOT NULL DEFAULT <constant>",
            id="add_column",
        ),
        pytest.param(RenameColumn("t", "a", "b"), "ALTER TABLE t RENAME COLUMN a TO b", id="ren"),
        pytest.param(
            FK_NOT_VALID,
            "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
            "REFERENCES users NOT VALID",
            id="fk",
        ),
        pytest.param(Backfill("t", "c", 500), "backfill t.c in batches of 500", id="backfill"),
    ],
)
def test_describe(op: Operation, expected: str) -> None:
    assert describe(op) == expected


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: AddColumn("t", "c", nullable=False), id="not-null-without-default"),
        pytest.param(lambda: Backfill("t", "c", batch_size=0), id="batch-size-0"),
        pytest.param(lambda: Backfill("t", "c", batch_delay_s=-1), id="negative-delay"),
        pytest.param(
            lambda: AddConstraint("t", "k", ConstraintKind.FOREIGN_KEY, "c"), id="fk-no-target"
        ),
        pytest.param(
            lambda: AddConstraint("t", "k", ConstraintKind.CHECK, "c", references="u"),
            id="check-with-target",
        ),
    ],
)
def test_invalid_operations_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]
