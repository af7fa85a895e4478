"""Table tests for simdeploy.rules.db_rules.

The conflict matrix is PostgreSQL's "Explicit Locking" Table 13.2 (identical to
``LockConflicts[]`` in ``src/backend/storage/lmgr/lock.c``). Lock and cost rows follow the
"ALTER TABLE" and "CREATE INDEX" reference pages; rule ids are squawk's.
"""

import doctest

import pytest

from simdeploy.rules import db_rules
from simdeploy.rules.db_rules import (
    INDEX_CONCURRENTLY_FACTOR,
    METADATA_COST_S,
    AddColumn,
    AddConstraint,
    AddTable,
    AppVersion,
    Backfill,
    ChangeColumnType,
    Column,
    Constraint,
    ConstraintKind,
    CreateIndex,
    Default,
    DropColumn,
    DualWrite,
    Finding,
    LockMode,
    Operation,
    Phase,
    RenameColumn,
    Retired,
    Schema,
    SchemaChangeError,
    SetNotNull,
    StartDualWrite,
    StopDualWrite,
    Table,
    ValidateConstraint,
    Work,
    apply,
    blocks_reads,
    blocks_writes,
    check_request,
    conflicts,
    cost_s,
    describe,
    is_additive,
    is_destructive,
    lint_plan,
    lock_mode,
    locks,
    request_lock,
    work,
)

M = LockMode
ID = Column("id", nullable=False, has_default=True)

# users.email is NOT NULL without default; users.name nullable; orders references users.
BASE = Schema.build(
    {
        "users": [ID, Column("email", nullable=False), "name"],
        "orders": [ID, Column("user_id", nullable=False), "total"],
    }
)

# ---------------------------------------------------------------------------------------------
# Lock modes
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Operations: lock, work, cost, classification
# ---------------------------------------------------------------------------------------------

FK = AddConstraint(
    "orders", "orders_user_fk", ConstraintKind.FOREIGN_KEY, "user_id", False, "users"
)
FK_NOT_VALID = AddConstraint(
    "orders", "orders_user_fk", ConstraintKind.FOREIGN_KEY, "user_id", True, "users"
)
CHECK = AddConstraint("users", "name_nn", ConstraintKind.CHECK, "name")
CHECK_NOT_VALID = AddConstraint("users", "name_nn", ConstraintKind.CHECK, "name", not_valid=True)

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


# ---------------------------------------------------------------------------------------------
# apply
# ---------------------------------------------------------------------------------------------


def users(*columns: Column | str, constraints: tuple[Constraint, ...] = ()) -> Table:
    cols = tuple(c if isinstance(c, Column) else Column(c) for c in columns)
    return Table("users", cols, constraints)


EMAIL = Column("email", nullable=False)
NAME_NN_NV = Constraint("name_nn", ConstraintKind.CHECK, "name", validated=False)


@pytest.mark.parametrize(
    ("before", "op", "users_after", "extra"),
    [
        pytest.param(
            BASE, AddColumn("users", "nick"), users(ID, EMAIL, "name", "nick"), {}, id="add"
        ),
        pytest.param(
            BASE,
            AddColumn("users", "plan", nullable=False, default=Default.CONSTANT),
            users(ID, EMAIL, "name", Column("plan", nullable=False, has_default=True)),
            {},
            id="add-not-null-with-default",
        ),
        pytest.param(
            BASE,
            DropColumn("users", "name"),
            users(ID, EMAIL),
            {"retired": (Retired("users", "name", None),)},
            id="drop",
        ),
        pytest.param(
            BASE,
            RenameColumn("users", "name", "full_name"),
            users(ID, EMAIL, "full_name"),
            {"retired": (Retired("users", "name", "full_name"),)},
            id="rename",
        ),
        pytest.param(
            BASE,
            SetNotNull("users", "name"),
            users(ID, EMAIL, Column("name", nullable=False)),
            {},
            id="set_not_null",
        ),
        pytest.param(
            BASE, CHECK_NOT_VALID, users(ID, EMAIL, "name", constraints=(NAME_NN_NV,)), {}, id="nv"
        ),
        pytest.param(
            apply(BASE, CHECK_NOT_VALID),
            ValidateConstraint("users", "name_nn"),
            users(
                ID,
                EMAIL,
                "name",
                constraints=(Constraint("name_nn", ConstraintKind.CHECK, "name", True),),
            ),
            {},
            id="validate",
        ),
        pytest.param(
            apply(BASE, CHECK_NOT_VALID),
            DropColumn("users", "name"),
            users(ID, EMAIL),
            {"retired": (Retired("users", "name", None),)},
            id="drop-takes-its-constraints",
        ),
        pytest.param(
            apply(BASE, CHECK_NOT_VALID),
            RenameColumn("users", "name", "nm"),
            users(
                ID,
                EMAIL,
                "nm",
                constraints=(Constraint("name_nn", ConstraintKind.CHECK, "nm", False),),
            ),
            {"retired": (Retired("users", "name", "nm"),)},
            id="rename-carries-constraints",
        ),
        pytest.param(
            BASE,
            StartDualWrite("users", "name", "email"),
            users(ID, EMAIL, "name"),
            {"dual_writes": (DualWrite("users", "name", "email"),)},
            id="start_dual_write",
        ),
        pytest.param(
            apply(BASE, StartDualWrite("users", "name", "email")),
            StopDualWrite("users", "email", "name"),
            users(ID, EMAIL, "name"),
            {},
            id="stop_dual_write-either-order",
        ),
        pytest.param(
            apply(BASE, StartDualWrite("users", "name", "email")),
            DropColumn("users", "name"),
            users(ID, EMAIL),
            {"retired": (Retired("users", "name", None),)},
            id="drop-ends-dual-write",
        ),
        pytest.param(
            BASE, CreateIndex("users", "i", ("email",)), users(ID, EMAIL, "name"), {}, id="index"
        ),
        pytest.param(BASE, Backfill("users", "name"), users(ID, EMAIL, "name"), {}, id="backfill"),
        pytest.param(
            BASE, ChangeColumnType("users", "name", "text"), users(ID, EMAIL, "name"), {}, id="type"
        ),
    ],
)
def test_apply(before: Schema, op: Operation, users_after: Table, extra: dict[str, object]) -> None:
    after = apply(before, op)
    assert after.table("users") == users_after
    assert after.table("orders") == BASE.table("orders")
    assert after.retired == extra.get("retired", ())
    assert after.dual_writes == extra.get("dual_writes", ())


def test_apply_is_pure_and_add_table_appends() -> None:
    snapshot = Schema.build({"users": [ID, EMAIL, "name"]})
    after = apply(snapshot, AddTable("events", (ID, Column("kind"))))
    assert snapshot == Schema.build({"users": [ID, EMAIL, "name"]})
    assert [t.name for t in after.tables] == ["users", "events"]
    assert hash(after) == hash(apply(snapshot, AddTable("events", (ID, Column("kind")))))


def test_re_adding_a_dropped_name_clears_its_history() -> None:
    s = apply(apply(BASE, DropColumn("users", "name")), AddColumn("users", "name"))
    assert s.retired == ()
    assert check_request(s, {("users", "name")}, ()) is None


@pytest.mark.parametrize(
    ("op", "message"),
    [
        pytest.param(AddTable("users"), '"users" already exists', id="table-exists"),
        pytest.param(AddColumn("nope", "c"), '"nope" does not exist', id="no-table"),
        pytest.param(AddColumn("users", "email"), '"email" of relation', id="column-exists"),
        pytest.param(DropColumn("users", "x"), '"x" of relation "users" does not', id="no-col"),
        pytest.param(RenameColumn("users", "name", "email"), "already exists", id="rename-onto"),
        pytest.param(SetNotNull("users", "x"), "does not exist", id="not-null-no-col"),
        pytest.param(ValidateConstraint("users", "k"), 'constraint "k"', id="no-constraint"),
        pytest.param(
            AddConstraint("orders", "fk", ConstraintKind.FOREIGN_KEY, "user_id", references="x"),
            '"x" does not exist',
            id="fk-target-missing",
        ),
        pytest.param(CreateIndex("users", "i", ("x",)), '"x"', id="index-no-col"),
        pytest.param(Backfill("users", "x"), '"x"', id="backfill-no-col"),
        pytest.param(StartDualWrite("users", "name", "x"), '"x"', id="dual-write-no-col"),
        pytest.param(StopDualWrite("users", "name", "email"), "no dual write", id="stop-unstarted"),
    ],
)
def test_apply_refuses_what_postgres_refuses(op: Operation, message: str) -> None:
    with pytest.raises(SchemaChangeError, match=message):
        apply(BASE, op)


def test_apply_refuses_a_duplicate_constraint() -> None:
    with pytest.raises(SchemaChangeError, match="already exists"):
        apply(apply(BASE, CHECK_NOT_VALID), CHECK_NOT_VALID)


# ---------------------------------------------------------------------------------------------
# check_request
# ---------------------------------------------------------------------------------------------

RENAMED = apply(BASE, RenameColumn("users", "name", "full_name"))
DROPPED = apply(BASE, DropColumn("users", "name"))
NN_CHECK = apply(BASE, CHECK_NOT_VALID)
FULL_NAME_NN_DUAL = apply(
    apply(BASE, AddColumn("users", "full_name", nullable=False, default=Default.CONSTANT)),
    StartDualWrite("users", "name", "full_name"),
)


@pytest.mark.parametrize(
    ("schema", "reads", "writes", "expected"),
    [
        pytest.param(
            BASE,
            {("users", "id"), ("users", "email"), ("users", "name")},
            {("users", "email"), ("users", "name")},
            None,
            id="fine",
        ),
        pytest.param(
            BASE,
            {("users", "phone")},
            set(),
            "reads users.phone, which does not exist",
            id="read-missing",
        ),
        pytest.param(
            BASE,
            {("invoices", "id")},
            set(),
            "reads invoices.id, but table invoices does not exist",
            id="read-missing-table",
        ),
        pytest.param(
            RENAMED,
            set(),
            {("users", "email"), ("users", "name")},
            "writes users.name, which was renamed to full_name",
            id="write-renamed",
        ),
        pytest.param(
            DROPPED,
            {("users", "name")},
            set(),
            "reads users.name, which was dropped",
            id="read-dropped",
        ),
        pytest.param(
            BASE,
            set(),
            {("users", "name")},
            "writes to users omit email, which is NOT NULL without a default",
            id="not-null-omitted",
        ),
        pytest.param(BASE, set(), {("users", "email")}, None, id="id-has-default"),
        pytest.param(
            NN_CHECK,
            set(),
            {("users", "email")},
            "writes to users omit name, which is NOT NULL by CHECK without a default",
            id="not-valid-check-still-enforced",
        ),
        pytest.param(
            FULL_NAME_NN_DUAL,
            set(),
            {("users", "email"), ("users", "name")},
            None,
            id="default-fills-new-not-null",
        ),
        pytest.param(
            BASE,
            {("users", "phone")},
            {("users", "name")},
            "reads users.phone, which does not exist",
            id="reads-reported-before-writes",
        ),
        pytest.param(BASE, set(), set(), None, id="no-columns"),
    ],
)
def test_check_request(
    schema: Schema, reads: set[tuple[str, str]], writes: set[tuple[str, str]], expected: str | None
) -> None:
    err = check_request(schema, reads, writes)
    if expected is None:
        assert err is None
    else:
        assert err is not None
        assert (err.cause, err.reason) == ("schema_error", expected)
        assert str(err) == f"schema_error: {expected}"


def test_dual_write_fills_a_not_null_column_without_default() -> None:
    s = apply(
        apply(BASE, AddColumn("users", "full_name")), StartDualWrite("users", "name", "full_name")
    )
    s = apply(s, SetNotNull("users", "full_name"))
    old_writer = ({("users", "email"), ("users", "name")},)
    assert check_request(s, set(), *old_writer) is None
    s = apply(s, StopDualWrite("users", "name", "full_name"))
    err = check_request(s, set(), *old_writer)
    assert err is not None and "omit full_name" in err.reason


# ---------------------------------------------------------------------------------------------
# lint_plan
# ---------------------------------------------------------------------------------------------

U = "users"
V1 = AppVersion(
    "v1", reads={(U, "id"), (U, "email"), (U, "name")}, writes={(U, "email"), (U, "name")}
)
V2 = AppVersion(
    "v2", reads={(U, "id"), (U, "email"), (U, "full_name")}, writes={(U, "email"), (U, "full_name")}
)
V_EMAIL = AppVersion("v0", reads={(U, "email")}, writes={(U, "email")})
BIG = {"users": 5_000_000, "orders": 20_000_000}
SMALL = {"users": 1_000, "orders": 1_000}
T = 0.5  # lock_timeout_s


def phase(*ops: Operation, live: tuple[AppVersion, ...] = (V1,), **kw: object) -> Phase:
    return Phase("p", ops, live, **kw)  # type: ignore[arg-type]


LINT_ROWS = [
    pytest.param(
        [phase(DropColumn(U, "name"), lock_timeout_s=T)],
        SMALL,
        16,
        [("ban-drop-column", "breaks v1 (running or a rollback target): reads users.name")],
        id="ban-drop-column-while-v1-live",
    ),
    pytest.param(
        [
            phase(
                DropColumn(U, "name"),
                deploy=AppVersion("v3", reads={(U, "email")}, writes={(U, "email")}),
                lock_timeout_s=T,
            )
        ],
        SMALL,
        16,
        [
            (
                "ban-drop-column",
                "same phase as the deploy of v3, which stops using it, but v1 still serves",
            )
        ],
        id="ban-drop-column-same-phase-as-deploy",
    ),
    pytest.param(
        [phase(RenameColumn(U, "name", "full_name"), lock_timeout_s=T)],
        SMALL,
        16,
        [("renaming-column", "which was renamed to full_name")],
        id="renaming-column",
    ),
    pytest.param(
        [phase(ChangeColumnType(U, "name", "text", rewrite=False), lock_timeout_s=T)],
        SMALL,
        16,
        [("changing-column-type", "breaks v1 (running or a rollback target): uses users.name")],
        id="changing-column-type-compat",
    ),
    pytest.param(
        [phase(ChangeColumnType("orders", "total", "numeric"), lock_timeout_s=T)],
        BIG,
        16,
        [("changing-column-type", "full-table rewrite of orders (20,000,000 rows)")],
        id="changing-column-type-rewrite",
    ),
    pytest.param(
        [phase(AddColumn(U, "token", default=Default.VOLATILE), lock_timeout_s=T)],
        BIG,
        16,
        [("adding-field-with-default", "rewrite of users (5,000,000 rows) holding ACCESS")],
        id="adding-field-with-default-volatile",
    ),
    pytest.param(
        [phase(AddColumn(U, "plan", default=Default.CONSTANT), lock_timeout_s=T)],
        BIG,
        10,
        [("adding-field-with-default", "blocks reads and writes")],
        id="adding-field-with-default-pg10",
    ),
    pytest.param(
        [phase(AddColumn(U, "plan", default=Default.CONSTANT), lock_timeout_s=T)],
        BIG,
        11,
        [],
        id="constant-default-pg11-ok",
    ),
    pytest.param(
        [phase(AddColumn(U, "token", default=Default.VOLATILE), lock_timeout_s=T)],
        SMALL,
        16,
        [],
        id="volatile-default-small-table-ok",
    ),
    pytest.param(
        [phase(SetNotNull(U, "name"), lock_timeout_s=T)],
        BIG,
        16,
        [("adding-not-nullable-field", "full-table scan of users")],
        id="adding-not-nullable-field",
    ),
    pytest.param(
        [
            phase(
                CHECK_NOT_VALID,
                ValidateConstraint(U, "name_nn"),
                SetNotNull(U, "name"),
                lock_timeout_s=T,
            )
        ],
        BIG,
        12,
        [],
        id="set-not-null-after-validated-check-pg12-ok",
    ),
    pytest.param(
        [
            phase(
                CHECK_NOT_VALID,
                ValidateConstraint(U, "name_nn"),
                SetNotNull(U, "name"),
                lock_timeout_s=T,
            )
        ],
        BIG,
        11,
        [("adding-not-nullable-field", "full-table scan")],
        id="set-not-null-after-validated-check-pg11-scans",
    ),
    pytest.param(
        [phase(CreateIndex("orders", "orders_user_idx", ("user_id",)), lock_timeout_s=T)],
        BIG,
        16,
        [("require-concurrent-index-creation", "holding SHARE, which blocks writes")],
        id="require-concurrent-index-creation",
    ),
    pytest.param(
        [phase(CreateIndex("orders", "orders_user_idx", ("user_id",), concurrently=True))],
        BIG,
        16,
        [],
        id="concurrent-index-ok-without-timeout",
    ),
    pytest.param(
        [phase(FK, lock_timeout_s=T)],
        BIG,
        16,
        [("constraint-missing-not-valid", "SHARE ROW EXCLUSIVE, which blocks writes")],
        id="constraint-missing-not-valid-fk",
    ),
    pytest.param(
        [phase(CHECK, lock_timeout_s=T)],
        BIG,
        16,
        [("constraint-missing-not-valid", "ACCESS EXCLUSIVE, which blocks reads and writes")],
        id="constraint-missing-not-valid-check",
    ),
    pytest.param(
        [phase(FK_NOT_VALID, ValidateConstraint("orders", "orders_user_fk"), lock_timeout_s=T)],
        BIG,
        16,
        [],
        id="fk-not-valid-then-validate-ok",
    ),
    pytest.param(
        [phase(AddColumn(U, "nick"), AddColumn(U, "bio"))],
        SMALL,
        16,
        [("require-lock-timeout", "ADD COLUMN nick requests ACCESS EXCLUSIVE")],
        id="require-lock-timeout-once-per-phase",
    ),
    pytest.param(
        [phase(AddTable("events", (ID, Column("kind"))), CreateIndex("events", "i", ("kind",)))],
        {},
        16,
        [],
        id="new-table-needs-no-timeout-nor-cic",
    ),
    pytest.param(
        [phase(CreateIndex("orders", "i", ("user_id",)))],
        {},
        16,
        [
            ("require-concurrent-index-creation", "(size unknown)"),
            ("require-lock-timeout", "requests SHARE on orders"),
        ],
        id="unknown-size-counts-as-big",
    ),
    pytest.param(
        [phase(SetNotNull(U, "name"), live=(V_EMAIL,), lock_timeout_s=T)],
        SMALL,
        16,
        [("ban-new-write-restriction", "breaks v0 (running or a rollback target): writes to")],
        id="ban-new-write-restriction-set-not-null",
    ),
    pytest.param(
        [phase(CHECK_NOT_VALID, live=(V_EMAIL,), lock_timeout_s=T)],
        SMALL,
        16,
        [("ban-new-write-restriction", "omit name, which is NOT NULL by CHECK")],
        id="ban-new-write-restriction-not-valid-check",
    ),
    pytest.param(
        [phase(deploy=V2)],
        SMALL,
        16,
        [("incompatible-deploy", "v2 is deployed but its requests fail: reads users.full_name")],
        id="incompatible-deploy-before-expand",
    ),
]


@pytest.mark.parametrize(("phases", "rows", "pg", "expected"), LINT_ROWS)
def test_lint_rules(
    phases: list[Phase], rows: dict[str, int], pg: int, expected: list[tuple[str, str]]
) -> None:
    findings = lint_plan(phases, BASE, table_rows=rows, pg_version=pg)
    assert [f.rule for f in findings] == [rule for rule, _ in expected]
    for f, (_, fragment) in zip(findings, expected, strict=True):
        assert fragment in f.reason, f.reason
        assert f.phase == "p"


def test_a_finding_names_its_operation() -> None:
    op = DropColumn(U, "name")
    [f] = lint_plan([Phase("contract", (op,), (V1,), lock_timeout_s=T)], BASE)
    assert f == Finding("contract", op, "ban-drop-column", f.reason)
    assert str(f).startswith("[contract] ban-drop-column: ALTER TABLE users DROP COLUMN name")


def test_stopping_a_dual_write_too_early_is_a_write_restriction() -> None:
    s = apply(BASE, AddColumn(U, "full_name"))
    plan = [
        Phase("dual", (StartDualWrite(U, "name", "full_name"),), (V1,)),
        Phase("nn", (SetNotNull(U, "full_name"),), (V1,), lock_timeout_s=T),
        Phase("stop", (StopDualWrite(U, "name", "full_name"),), (V1,)),
    ]
    [f] = lint_plan(plan, s, table_rows=SMALL)
    assert (f.phase, f.rule) == ("stop", "ban-new-write-restriction")
    assert "omit full_name" in f.reason


def test_lint_names_the_phase_of_an_impossible_operation() -> None:
    with pytest.raises(SchemaChangeError, match=r"phase 'bad'.*DROP COLUMN nope"):
        lint_plan([Phase("bad", (DropColumn(U, "nope"),))], BASE)


def clean_expand_contract() -> list[Phase]:
    """Rename users.name → full_name (NOT NULL) the expand-contract way, 5M rows."""
    return [
        Phase("expand", (AddColumn(U, "full_name"),), live=(V1,), lock_timeout_s=T),
        Phase(
            "dual-write-and-backfill",
            (StartDualWrite(U, "name", "full_name"), Backfill(U, "full_name", 1000, 0.05)),
            live=(V1,),
            deploy=V2,
        ),
        Phase(
            "not-null-and-index",
            (
                AddConstraint(U, "full_name_nn", ConstraintKind.CHECK, "full_name", not_valid=True),
                ValidateConstraint(U, "full_name_nn"),
                SetNotNull(U, "full_name"),
                CreateIndex(U, "users_full_name_idx", ("full_name",), concurrently=True),
            ),
            live=(V1, V2),
            lock_timeout_s=T,
        ),
        Phase(
            "contract",
            (StopDualWrite(U, "name", "full_name"), DropColumn(U, "name")),
            live=(V2,),
            lock_timeout_s=T,
        ),
    ]


def test_clean_expand_contract_plan_has_no_findings() -> None:
    assert lint_plan(clean_expand_contract(), BASE, table_rows=BIG) == []


def test_the_same_plan_contracting_early_is_caught() -> None:
    plan = clean_expand_contract()
    early = Phase("contract", plan[3].ops, live=(V1, V2), lock_timeout_s=T)
    findings = lint_plan([*plan[:3], early], BASE, table_rows=BIG)
    assert [(f.phase, f.rule) for f in findings] == [
        ("contract", "ban-new-write-restriction"),
        ("contract", "ban-drop-column"),
    ]


def test_docstring_examples() -> None:
    assert doctest.testmod(db_rules).failed == 0
