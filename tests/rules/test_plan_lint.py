"""Table tests for simdeploy.rules.plan_lint: an expand-contract plan, phase by phase.

Rule ids are squawk's (``sbdchd/squawk``), plus simdeploy's ``incompatible-deploy``.
"""

import pytest

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
from simdeploy.rules.plan_lint import AppVersion, Finding, Phase, lint_plan
from simdeploy.rules.schema import Column, ConstraintKind
from simdeploy.rules.schema_changes import SchemaChangeError, apply
from tests.conftest import BASE, CHECK, CHECK_NOT_VALID, FK, FK_NOT_VALID, ID

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
