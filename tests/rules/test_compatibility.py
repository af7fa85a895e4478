"""Table tests for simdeploy.rules.compatibility: ``check_request`` against a schema."""

import pytest

from simdeploy.rules.compatibility import check_request
from simdeploy.rules.migrations import (
    AddColumn,
    Default,
    DropColumn,
    RenameColumn,
    SetNotNull,
    StartDualWrite,
    StopDualWrite,
)
from simdeploy.rules.schema import Schema
from simdeploy.rules.schema_changes import apply
from tests.conftest import BASE, CHECK_NOT_VALID

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
