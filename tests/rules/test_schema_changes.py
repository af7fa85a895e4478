"""Table tests for simdeploy.rules.schema_changes: ``apply``, and what PostgreSQL refuses."""

import pytest

from simdeploy.rules.compatibility import check_request
from simdeploy.rules.migrations import (
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
)
from simdeploy.rules.schema import (
    Column,
    Constraint,
    ConstraintKind,
    DualWrite,
    Retired,
    Schema,
    Table,
)
from simdeploy.rules.schema_changes import SchemaChangeError, apply
from tests.conftest import BASE, CHECK_NOT_VALID, ID


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
