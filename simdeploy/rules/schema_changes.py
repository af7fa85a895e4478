"""Applying a migration operation to a schema: the next schema, or why PostgreSQL refuses.

One concern: :func:`apply`, the schema after one operation. It refuses what PostgreSQL would
refuse (missing table or column, duplicate name, unknown constraint) with
:class:`SchemaChangeError`, and keeps the history the error messages of
:mod:`simdeploy.rules.compatibility` need (renamed and dropped columns, active dual writes).

Pure: the schema passed in is never changed; a new immutable value is returned.
"""

from dataclasses import replace

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
from simdeploy.rules.schema import Column, Constraint, DualWrite, Retired, Schema, Table

__all__ = ["SchemaChangeError", "apply"]


class SchemaChangeError(ValueError):
    """An operation that PostgreSQL would refuse on this schema (missing table, duplicate
    column, unknown constraint...)."""


def _table(schema: Schema, name: str) -> Table:
    t = schema.table(name)
    if t is None:
        raise SchemaChangeError(f'relation "{name}" does not exist')
    return t


def _existing_column(schema: Schema, table: str, column: str) -> Table:
    t = _table(schema, table)
    if t.column(column) is None:
        raise SchemaChangeError(f'column "{column}" of relation "{table}" does not exist')
    return t


def _with_table(schema: Schema, table: Table, **changes: object) -> Schema:
    tables = tuple(table if t.name == table.name else t for t in schema.tables)
    return replace(schema, tables=tables, **changes)  # type: ignore[arg-type]


def _set_column(table: Table, name: str, new: Column | None) -> Table:
    cols = tuple(
        new if c.name == name else c for c in table.columns if c.name != name or new is not None
    )
    return replace(table, columns=cols)


def apply(schema: Schema, op: Operation) -> Schema:
    """The schema after ``op``; ``schema`` itself is not changed.

    DROP COLUMN also drops the constraints on the column (as PostgreSQL does) and ends its dual
    writes; RENAME carries them over. Index builds and backfills validate their columns and
    return the schema unchanged.

    Raises:
        SchemaChangeError: PostgreSQL would refuse the operation here.
    """
    match op:
        case AddTable(table=name, columns=cols):
            if schema.table(name) is not None:
                raise SchemaChangeError(f'relation "{name}" already exists')
            return replace(schema, tables=(*schema.tables, Table(name, cols)))
        case AddColumn(table=tn, column=c, nullable=nullable, default=default):
            t = _table(schema, tn)
            if t.column(c) is not None:
                raise SchemaChangeError(f'column "{c}" of relation "{tn}" already exists')
            col = Column(c, nullable=nullable, has_default=default is not Default.NONE)
            return _with_table(
                schema,
                replace(t, columns=(*t.columns, col)),
                retired=_not_retired(schema.retired, tn, c),
            )
        case DropColumn(table=tn, column=c):
            t = _existing_column(schema, tn, c)
            t = replace(_set_column(t, c, None), constraints=_without(t.constraints, c))
            return _with_table(
                schema,
                t,
                retired=(*_not_retired(schema.retired, tn, c), Retired(tn, c, None)),
                dual_writes=tuple(d for d in schema.dual_writes if not _touches(d, tn, c)),
            )
        case RenameColumn(table=tn, column=c, new_name=new):
            t = _existing_column(schema, tn, c)
            if t.column(new) is not None:
                raise SchemaChangeError(f'column "{new}" of relation "{tn}" already exists')
            old = t.column(c)
            assert old is not None
            t = _set_column(t, c, replace(old, name=new))
            t = replace(t, constraints=tuple(_renamed(k, c, new) for k in t.constraints))
            return _with_table(
                schema,
                t,
                retired=(*_not_retired(schema.retired, tn, new), Retired(tn, c, new)),
                dual_writes=tuple(_renamed_dw(d, tn, c, new) for d in schema.dual_writes),
            )
        case ChangeColumnType(table=tn, column=c):
            _existing_column(schema, tn, c)
            return schema
        case SetNotNull(table=tn, column=c):
            t = _existing_column(schema, tn, c)
            col = t.column(c)
            assert col is not None
            return _with_table(schema, _set_column(t, c, replace(col, nullable=False)))
        case AddConstraint(table=tn, name=name, kind=kind, column=c, references=ref):
            t = _existing_column(schema, tn, c)
            if t.constraint(name) is not None:
                raise SchemaChangeError(f'constraint "{name}" for relation "{tn}" already exists')
            if ref is not None:
                _table(schema, ref)
            con = Constraint(name, kind, c, validated=not op.not_valid, references=ref)
            return _with_table(schema, replace(t, constraints=(*t.constraints, con)))
        case ValidateConstraint(table=tn, name=name):
            t = _table(schema, tn)
            con = t.constraint(name)
            if con is None:
                raise SchemaChangeError(f'constraint "{name}" of relation "{tn}" does not exist')
            cons = tuple(replace(k, validated=True) if k is con else k for k in t.constraints)
            return _with_table(schema, replace(t, constraints=cons))
        case CreateIndex(table=tn, columns=cols):
            for c in cols:
                _existing_column(schema, tn, c)
            return schema
        case Backfill(table=tn, column=c):
            _existing_column(schema, tn, c)
            return schema
        case StartDualWrite(table=tn, column=c, other=o):
            _existing_column(schema, tn, c)
            _existing_column(schema, tn, o)
            if _find_dual_write(schema, tn, c, o) is not None:
                return schema
            return replace(schema, dual_writes=(*schema.dual_writes, DualWrite(tn, c, o)))
        case StopDualWrite(table=tn, column=c, other=o):
            found = _find_dual_write(schema, tn, c, o)
            if found is None:
                raise SchemaChangeError(f"no dual write between {tn}.{c} and {tn}.{o}")
            return replace(schema, dual_writes=tuple(d for d in schema.dual_writes if d != found))
    raise TypeError(f"not a migration operation: {op!r}")  # pragma: no cover


def _without(constraints: tuple[Constraint, ...], column: str) -> tuple[Constraint, ...]:
    return tuple(k for k in constraints if k.column != column)


def _renamed(k: Constraint, old: str, new: str) -> Constraint:
    return replace(k, column=new) if k.column == old else k


def _touches(d: DualWrite, table: str, column: str) -> bool:
    return d.table == table and column in (d.column, d.other)


def _renamed_dw(d: DualWrite, table: str, old: str, new: str) -> DualWrite:
    if d.table != table:
        return d
    return DualWrite(
        table, new if d.column == old else d.column, new if d.other == old else d.other
    )


def _not_retired(retired: tuple[Retired, ...], table: str, column: str) -> tuple[Retired, ...]:
    # A name that comes back (re-added, or renamed onto) is no longer "retired".
    return tuple(r for r in retired if (r.table, r.column) != (table, column))


def _find_dual_write(schema: Schema, table: str, a: str, b: str) -> DualWrite | None:
    return next(
        (d for d in schema.dual_writes if d.table == table and {d.column, d.other} == {a, b}),
        None,
    )
