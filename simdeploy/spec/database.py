"""Scenario models for the shared database: tables, long transactions, migration operations.

```yaml
database:
  tables:
    users: {rows: 1000000, columns: [{name: id, nullable: false, default: true}, name, email]}
  rowsPerSecond: 100000        # how fast scans, rewrites and backfills go
  longTransactions:            # e.g. a report holding ACCESS SHARE for 90 s
    - {at: 2m, duration: 90s, table: users, lock: ACCESS SHARE}
  rollbackWindow: 10m          # how long a replaced version stays a rollback target (lint)
versions:
  v1: {reads: {users: [id, name]}, writes: {users: [id, name]}}
plan:
  - at: 1m
    action: migrate
    name: expand
    lockTimeout: 2s            # SET lock_timeout (null: wait forever)
    retries: 5                 # on lock timeout, retry after 1 s, 2 s, 4 s, ...
    operations:
      - addColumn: {table: users, column: full_name}
      - startDualWrite: {table: users, column: name, other: full_name}
      - backfill: {table: users, column: full_name, batchSize: 1000}
```

Pure: pydantic only. The operations become ``rules.migrations`` dataclasses (``to_operation``).
Feature flags (``flags:``) are in :mod:`simdeploy.spec.flags`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from simdeploy.rules import migrations as ops
from simdeploy.rules.pg_locks import LockMode
from simdeploy.rules.schema import Column, ConstraintKind, Schema
from simdeploy.spec.base import Duration, Strict

LOCK_NAMES = {m.sql: m for m in LockMode}


class ColumnSpec(Strict):
    name: str
    nullable: bool = True
    default: bool = False


def _column(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


#: A column, or its bare name (a nullable column); the schema accepts both forms.
Col = Annotated[ColumnSpec, BeforeValidator(_column, json_schema_input_type=ColumnSpec | str)]


class TableSpec(Strict):
    """A table: its size in rows and its columns (a bare name is a nullable column)."""

    rows: Annotated[int, Field(ge=0)] = 100_000
    columns: list[Col] = Field(default_factory=list)

    @model_validator(mode="after")
    def _columns(self) -> TableSpec:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("columns: duplicate column name")
        return self


class LongTransaction(Strict):
    """A transaction holding a table lock for a while (a report, a pg_dump, an idle tx)."""

    at: Duration
    duration: Annotated[Duration, Field(gt=0)]
    table: str
    lock: str = "ACCESS SHARE"

    @model_validator(mode="after")
    def _lock(self) -> LongTransaction:
        if self.lock.upper() not in LOCK_NAMES:
            raise ValueError(
                f"lock: unknown lock mode '{self.lock}'; known: " + ", ".join(LOCK_NAMES)
            )
        return self


class Database(Strict):
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    rows_per_second: Annotated[float, Field(gt=0)] = 100_000.0
    pg_version: Annotated[int, Field(ge=9)] = 16
    long_transactions: list[LongTransaction] = Field(default_factory=list)
    rollback_window: Duration = 600.0
    big_table_rows: Annotated[int, Field(ge=0)] = 100_000

    def schema(self) -> Schema:
        return Schema.build(
            {
                name: [Column(c.name, c.nullable, c.default) for c in t.columns]
                for name, t in self.tables.items()
            }
        )


# --- migration operations -------------------------------------------------------------------


class AddColumnOp(Strict):
    table: str
    column: str
    nullable: bool = True
    default: Literal["none", "constant", "volatile"] = "none"

    @model_validator(mode="after")
    def _not_null_needs_default(self) -> AddColumnOp:
        if not self.nullable and self.default == "none":
            raise ValueError(
                f"nullable: false needs a default: existing rows of {self.table} would be "
                f"NULL (add {self.column} nullable, backfill, then setNotNull)"
            )
        return self


class ColumnOp(Strict):
    table: str
    column: str


class RenameColumnOp(Strict):
    table: str
    column: str
    new_name: str


class ChangeColumnTypeOp(Strict):
    table: str
    column: str
    new_type: str
    rewrite: bool = True


class AddConstraintOp(Strict):
    """``check: col`` is ``CHECK (col IS NOT NULL)``; ``foreignKey: col`` needs ``references``."""

    table: str
    name: str
    check: str | None = None
    foreign_key: str | None = None
    references: str | None = None
    not_valid: bool = False

    @model_validator(mode="after")
    def _one(self) -> AddConstraintOp:
        if (self.check is None) == (self.foreign_key is None):
            raise ValueError("give exactly one of check or foreignKey")
        if self.foreign_key is not None and self.references is None:
            raise ValueError("foreignKey needs references (the referenced table)")
        if self.check is not None and self.references is not None:
            raise ValueError("references belongs to foreignKey, not to check")
        return self


class ValidateConstraintOp(Strict):
    table: str
    name: str


class CreateIndexOp(Strict):
    table: str
    name: str
    columns: Annotated[list[str], Field(min_length=1)]
    concurrently: bool = False


class BackfillOp(Strict):
    table: str
    column: str
    batch_size: Annotated[int, Field(ge=1)] = 1000
    batch_delay: Duration = 0.0


class AddTableOp(Strict):
    table: str
    columns: list[Col] = Field(default_factory=list)


class DualWriteOp(Strict):
    table: str
    column: str
    other: str


class Operation(Strict):
    """Exactly one migration operation."""

    add_table: AddTableOp | None = None
    add_column: AddColumnOp | None = None
    drop_column: ColumnOp | None = None
    rename_column: RenameColumnOp | None = None
    change_column_type: ChangeColumnTypeOp | None = None
    set_not_null: ColumnOp | None = None
    add_constraint: AddConstraintOp | None = None
    validate_constraint: ValidateConstraintOp | None = None
    create_index: CreateIndexOp | None = None
    backfill: BackfillOp | None = None
    start_dual_write: DualWriteOp | None = None
    stop_dual_write: DualWriteOp | None = None

    @model_validator(mode="after")
    def _one(self) -> Operation:
        kinds = [k for k, v in self if v is not None]
        if len(kinds) != 1:
            raise ValueError("an operation has exactly one kind (addColumn, dropColumn, ...)")
        self.to_operation()  # the operation's own rules (a FOREIGN KEY needs references, ...)
        return self

    def to_operation(self) -> ops.Operation:
        """The ``rules.migrations`` operation this stands for."""
        kind, o = next((k, v) for k, v in self if v is not None)
        if kind == "add_table":
            cols = tuple(Column(c.name, c.nullable, c.default) for c in o.columns)
            return ops.AddTable(o.table, cols)
        if kind == "add_column":
            return ops.AddColumn(o.table, o.column, o.nullable, ops.Default(o.default))
        if kind == "drop_column":
            return ops.DropColumn(o.table, o.column)
        if kind == "rename_column":
            return ops.RenameColumn(o.table, o.column, o.new_name)
        if kind == "change_column_type":
            return ops.ChangeColumnType(o.table, o.column, o.new_type, o.rewrite)
        if kind == "set_not_null":
            return ops.SetNotNull(o.table, o.column)
        if kind == "add_constraint":
            if o.check is not None:
                return ops.AddConstraint(
                    o.table, o.name, ConstraintKind.CHECK, o.check, o.not_valid
                )
            return ops.AddConstraint(
                o.table,
                o.name,
                ConstraintKind.FOREIGN_KEY,
                o.foreign_key,
                o.not_valid,
                o.references,
            )
        if kind == "validate_constraint":
            return ops.ValidateConstraint(o.table, o.name)
        if kind == "create_index":
            return ops.CreateIndex(o.table, o.name, tuple(o.columns), o.concurrently)
        if kind == "backfill":
            return ops.Backfill(o.table, o.column, o.batch_size, o.batch_delay)
        if kind == "start_dual_write":
            return ops.StartDualWrite(o.table, o.column, o.other)
        return ops.StopDualWrite(o.table, o.column, o.other)
