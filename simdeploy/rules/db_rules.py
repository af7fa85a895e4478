"""PostgreSQL lock semantics, migration operations and expand-contract checks, as pure data.

This is the rule book behind the simulator's database: which table lock a statement takes,
which locks wait for which, what a migration operation costs, whether an app version can still
run against a schema, and a plan linter that flags the hazards squawk and strong_migrations
flag, plus the expand-contract ordering mistakes only a plan (not a single file) reveals.

Sources:

- PostgreSQL "Explicit Locking" (13.3.1, Table 13.2 "Conflicting Lock Modes"), the same table
  as ``LockConflicts[]`` in ``src/backend/storage/lmgr/lock.c``.
- PostgreSQL "ALTER TABLE": "An ACCESS EXCLUSIVE lock is acquired unless explicitly noted";
  ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables; VALIDATE CONSTRAINT takes SHARE
  UPDATE EXCLUSIVE (plus ROW SHARE on the referenced table for a foreign key); NOT VALID skips
  the scan; ADD COLUMN with a non-volatile DEFAULT is metadata only (PG 11+) while a volatile
  default rewrites the table and its indexes; SET NOT NULL scans the table unless a valid CHECK
  constraint proves no NULL can exist (PG 12+).
- PostgreSQL "CREATE INDEX": SHARE lock (blocks writes); CONCURRENTLY takes SHARE UPDATE
  EXCLUSIVE, "must perform two scans of the table" and waits for older transactions.
- squawk (``sbdchd/squawk``) rule names; strong_migrations (``ankane/strong_migrations``) advice.

Nothing here touches SimPy or a clock: schemas are immutable values and :func:`apply` returns a
new one. Every function is deterministic, so callers may cache results per schema version.

Example, the safe way to make ``users.email`` NOT NULL (squawk's "adding-not-nullable-field"):

>>> s = Schema.build({"users": ["id", "email"]})
>>> for op in (  # doctest: +ELLIPSIS
...     AddConstraint("users", "email_nn", ConstraintKind.CHECK, "email", not_valid=True),
...     ValidateConstraint("users", "email_nn"),
...     SetNotNull("users", "email"),
... ):
...     print(f"{lock_mode(op).sql}, {work(op, schema=s).value}: {describe(op)}")
...     s = apply(s, op)
ACCESS EXCLUSIVE, metadata: ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) ...
SHARE UPDATE EXCLUSIVE, scan: ALTER TABLE users VALIDATE CONSTRAINT email_nn
ACCESS EXCLUSIVE, metadata: ALTER TABLE users ALTER COLUMN email SET NOT NULL
"""

from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from functools import cached_property
from math import ceil

__all__ = [
    "BIG_TABLE_ROWS",
    "DEFAULT_PG_VERSION",
    "FAST_DEFAULT_PG_VERSION",
    "INDEX_CONCURRENTLY_FACTOR",
    "METADATA_COST_S",
    "RULE_ADDING_FIELD_WITH_DEFAULT",
    "RULE_ADDING_NOT_NULLABLE_FIELD",
    "RULE_BAN_DROP_COLUMN",
    "RULE_BAN_NEW_WRITE_RESTRICTION",
    "RULE_CHANGING_COLUMN_TYPE",
    "RULE_CONSTRAINT_MISSING_NOT_VALID",
    "RULE_INCOMPATIBLE_DEPLOY",
    "RULE_RENAMING_COLUMN",
    "RULE_REQUIRE_CONCURRENT_INDEX_CREATION",
    "RULE_REQUIRE_LOCK_TIMEOUT",
    "SCHEMA_ERROR",
    "SET_NOT_NULL_SKIPS_SCAN_PG_VERSION",
    "AddColumn",
    "AddConstraint",
    "AddTable",
    "AppVersion",
    "Backfill",
    "ChangeColumnType",
    "Column",
    "ColumnRef",
    "Constraint",
    "ConstraintKind",
    "CreateIndex",
    "Default",
    "DropColumn",
    "DualWrite",
    "Finding",
    "LockMode",
    "Operation",
    "Phase",
    "RenameColumn",
    "RequestError",
    "Retired",
    "Schema",
    "SchemaChangeError",
    "SetNotNull",
    "StartDualWrite",
    "StopDualWrite",
    "Table",
    "ValidateConstraint",
    "Work",
    "apply",
    "blocks_reads",
    "blocks_writes",
    "check_request",
    "conflicts",
    "cost_s",
    "describe",
    "is_additive",
    "is_destructive",
    "lint_plan",
    "lock_mode",
    "locks",
    "request_lock",
    "work",
]

# ---------------------------------------------------------------------------------------------
# Lock modes and the conflict table
# ---------------------------------------------------------------------------------------------


class LockMode(IntEnum):
    """The 8 table-level lock modes, numbered as in PostgreSQL's ``lockdefs.h`` (1-8).

    All are table locks, even those named "row"; the names are historical. The number is not a
    strength order for conflicts (use :func:`conflicts`), only PostgreSQL's enumeration.
    """

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def sql(self) -> str:
        """The name as SQL spells it: ``LockMode.ROW_EXCLUSIVE.sql == "ROW EXCLUSIVE"``."""
        return self.name.replace("_", " ")


_L = LockMode
# Row by row from lock.c LockConflicts[] / the docs' Table 13.2: the modes each mode waits for.
_CONFLICTS: dict[LockMode, frozenset[LockMode]] = {
    _L.ACCESS_SHARE: frozenset({_L.ACCESS_EXCLUSIVE}),
    _L.ROW_SHARE: frozenset({_L.EXCLUSIVE, _L.ACCESS_EXCLUSIVE}),
    _L.ROW_EXCLUSIVE: frozenset(
        {_L.SHARE, _L.SHARE_ROW_EXCLUSIVE, _L.EXCLUSIVE, _L.ACCESS_EXCLUSIVE}
    ),
    _L.SHARE_UPDATE_EXCLUSIVE: frozenset(
        {
            _L.SHARE_UPDATE_EXCLUSIVE,
            _L.SHARE,
            _L.SHARE_ROW_EXCLUSIVE,
            _L.EXCLUSIVE,
            _L.ACCESS_EXCLUSIVE,
        }
    ),
    _L.SHARE: frozenset(
        {
            _L.ROW_EXCLUSIVE,
            _L.SHARE_UPDATE_EXCLUSIVE,
            _L.SHARE_ROW_EXCLUSIVE,
            _L.EXCLUSIVE,
            _L.ACCESS_EXCLUSIVE,
        }
    ),
    _L.SHARE_ROW_EXCLUSIVE: frozenset(set(LockMode) - {_L.ACCESS_SHARE, _L.ROW_SHARE}),
    _L.EXCLUSIVE: frozenset(set(LockMode) - {_L.ACCESS_SHARE}),
    _L.ACCESS_EXCLUSIVE: frozenset(LockMode),
}


def conflicts(a: LockMode, b: LockMode) -> bool:
    """Whether two transactions can not hold ``a`` and ``b`` on the same table at once.

    Symmetric. A transaction never conflicts with itself; that is the caller's business.

    >>> conflicts(LockMode.ROW_EXCLUSIVE, LockMode.ROW_EXCLUSIVE)  # concurrent writers
    False
    >>> conflicts(LockMode.SHARE, LockMode.ROW_EXCLUSIVE)  # CREATE INDEX blocks writes
    True
    """
    return b in _CONFLICTS[a]


def blocks_reads(mode: LockMode) -> bool:
    """Whether holding (or queueing for) ``mode`` makes a plain SELECT wait."""
    return conflicts(mode, LockMode.ACCESS_SHARE)


def blocks_writes(mode: LockMode) -> bool:
    """Whether holding (or queueing for) ``mode`` makes INSERT/UPDATE/DELETE wait."""
    return conflicts(mode, LockMode.ROW_EXCLUSIVE)


_REQUEST_LOCKS: dict[str, LockMode] = {
    "read": LockMode.ACCESS_SHARE,
    "select": LockMode.ACCESS_SHARE,
    "write": LockMode.ROW_EXCLUSIVE,
    "insert": LockMode.ROW_EXCLUSIVE,
    "update": LockMode.ROW_EXCLUSIVE,
    "delete": LockMode.ROW_EXCLUSIVE,
}


def request_lock(kind: str) -> LockMode:
    """The table lock a plain request takes: read/SELECT → ACCESS SHARE, write/INSERT/UPDATE/
    DELETE → ROW EXCLUSIVE (case-insensitive).

    Raises:
        ValueError: unknown request kind.
    """
    try:
        return _REQUEST_LOCKS[kind.lower()]
    except KeyError:
        raise ValueError(
            f"unknown request kind {kind!r}; expected one of {sorted(_REQUEST_LOCKS)}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------------

ColumnRef = tuple[str, str]
"""``(table, column)``."""

SCHEMA_ERROR = "schema_error"
"""The request outcome cause for schema mismatches (same string as ``recorder.SCHEMA_ERROR``)."""


class SchemaChangeError(ValueError):
    """An operation that PostgreSQL would refuse on this schema (missing table, duplicate
    column, unknown constraint...)."""


@dataclass(frozen=True)
class Column:
    """A column: nullable or not, with or without a default (which fills omitted writes)."""

    name: str
    nullable: bool = True
    has_default: bool = False


class ConstraintKind(StrEnum):
    """The constraint kinds that ``NOT VALID`` applies to."""

    CHECK = "check"
    FOREIGN_KEY = "foreign_key"


@dataclass(frozen=True)
class Constraint:
    """``CHECK (column IS NOT NULL)`` or ``FOREIGN KEY (column) REFERENCES references``.

    ``validated`` is False after ``ADD ... NOT VALID`` until ``VALIDATE CONSTRAINT``. A NOT
    VALID constraint is still enforced on new writes; only pre-existing rows are unchecked.
    """

    name: str
    kind: ConstraintKind
    column: str
    validated: bool
    references: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def constraint(self, name: str) -> Constraint | None:
        return next((c for c in self.constraints if c.name == name), None)


@dataclass(frozen=True)
class Retired:
    """A column that left the schema: renamed to ``renamed_to``, or dropped (None)."""

    table: str
    column: str
    renamed_to: str | None


@dataclass(frozen=True)
class DualWrite:
    """Writes to either column are mirrored into the other (app-level dual write).

    Modelled as applying to every app version's writes, as a shared data-access layer or a
    pair of pgroll-style up/down triggers would.
    """

    table: str
    column: str
    other: str


@dataclass(frozen=True)
class Schema:
    """One version of the shared schema. Immutable and hashable; :func:`apply` makes the next.

    ``retired`` remembers renamed and dropped columns, for error messages; ``dual_writes`` the
    active dual-write pairs.
    """

    tables: tuple[Table, ...] = ()
    retired: tuple[Retired, ...] = ()
    dual_writes: tuple[DualWrite, ...] = ()

    @classmethod
    def build(cls, tables: Mapping[str, Iterable[Column | str]]) -> "Schema":
        """A schema from ``{table: [Column | name, ...]}``; a bare name is a nullable column
        without default.

        >>> s = Schema.build({"users": [Column("id", nullable=False, has_default=True), "email"]})
        >>> s.column("users", "email")
        Column(name='email', nullable=True, has_default=False)
        """
        return cls(
            tables=tuple(
                Table(name, tuple(c if isinstance(c, Column) else Column(c) for c in cols))
                for name, cols in tables.items()
            )
        )

    @cached_property
    def _by_name(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    def table(self, name: str) -> Table | None:
        return self._by_name.get(name)

    def column(self, table: str, column: str) -> Column | None:
        t = self.table(table)
        return None if t is None else t.column(column)

    def has_valid_not_null_check(self, table: str, column: str) -> bool:
        """Whether a validated ``CHECK (column IS NOT NULL)`` exists (lets PG 12+ skip the
        SET NOT NULL scan)."""
        t = self.table(table)
        return t is not None and any(
            c.kind is ConstraintKind.CHECK and c.column == column and c.validated
            for c in t.constraints
        )

    def required_on_insert(self, table: str) -> tuple[str, ...]:
        """Columns an insert must write: no default, and NOT NULL or under a not-null CHECK
        (valid or NOT VALID: both reject new NULLs)."""
        t = self.table(table)
        if t is None:
            return ()
        checked = {c.column for c in t.constraints if c.kind is ConstraintKind.CHECK}
        return tuple(
            c.name for c in t.columns if not c.has_default and (not c.nullable or c.name in checked)
        )


# ---------------------------------------------------------------------------------------------
# Migration operations
# ---------------------------------------------------------------------------------------------


class Default(StrEnum):
    """The DEFAULT of an added column. ``constant`` covers any non-volatile expression
    (a literal, ``now()``); ``volatile`` is e.g. ``random()``, ``gen_random_uuid()``,
    ``clock_timestamp()``."""

    NONE = "none"
    CONSTANT = "constant"
    VOLATILE = "volatile"


@dataclass(frozen=True)
class AddTable:
    """``CREATE TABLE``. Locks no existing table."""

    table: str
    columns: tuple[Column, ...] = ()


@dataclass(frozen=True)
class AddColumn:
    """``ALTER TABLE t ADD COLUMN c [NOT NULL] [DEFAULT ...]``.

    NOT NULL requires a default (PostgreSQL rejects it on a non-empty table otherwise; squawk's
    "adding-required-field").
    """

    table: str
    column: str
    nullable: bool = True
    default: Default = Default.NONE

    def __post_init__(self) -> None:
        if not self.nullable and self.default is Default.NONE:
            raise ValueError(
                f"ADD COLUMN {self.table}.{self.column} NOT NULL needs a DEFAULT: existing "
                "rows would be NULL (add it nullable, backfill, then SET NOT NULL)"
            )


@dataclass(frozen=True)
class DropColumn:
    """``ALTER TABLE t DROP COLUMN c``: metadata only, but breaks every reader and writer."""

    table: str
    column: str


@dataclass(frozen=True)
class RenameColumn:
    """``ALTER TABLE t RENAME COLUMN c TO new_name``: metadata only, breaks old versions."""

    table: str
    column: str
    new_name: str


@dataclass(frozen=True)
class ChangeColumnType:
    """``ALTER TABLE t ALTER COLUMN c TYPE new_type``.

    ``rewrite=False`` for binary-coercible changes (``varchar`` → ``text``, a longer
    ``varchar``), which PostgreSQL does without rewriting the table.
    """

    table: str
    column: str
    new_type: str
    rewrite: bool = True


@dataclass(frozen=True)
class SetNotNull:
    """``ALTER TABLE t ALTER COLUMN c SET NOT NULL``: full scan under ACCESS EXCLUSIVE, unless
    a validated ``CHECK (c IS NOT NULL)`` exists (PG 12+), then metadata only."""

    table: str
    column: str


@dataclass(frozen=True)
class AddConstraint:
    """``ALTER TABLE t ADD CONSTRAINT name CHECK (column IS NOT NULL)`` or ``FOREIGN KEY
    (column) REFERENCES references`` [``NOT VALID``].

    Lock: ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE for FOREIGN KEY (on both tables).
    Without NOT VALID the table is scanned while that lock is held.
    """

    table: str
    name: str
    kind: ConstraintKind
    column: str
    not_valid: bool = False
    references: str | None = None

    def __post_init__(self) -> None:
        if (self.kind is ConstraintKind.FOREIGN_KEY) != (self.references is not None):
            raise ValueError("a FOREIGN KEY needs `references`; a CHECK must not have one")


@dataclass(frozen=True)
class ValidateConstraint:
    """``ALTER TABLE t VALIDATE CONSTRAINT name``: scans under SHARE UPDATE EXCLUSIVE, which
    blocks neither reads nor writes."""

    table: str
    name: str


@dataclass(frozen=True)
class CreateIndex:
    """``CREATE INDEX [CONCURRENTLY] name ON t (columns)``.

    Plain: SHARE lock, blocks writes for the whole build. CONCURRENTLY: SHARE UPDATE EXCLUSIVE,
    blocks no reads or writes, but scans twice and waits for older transactions, so it takes
    :data:`INDEX_CONCURRENTLY_FACTOR` times longer; cannot run inside a transaction block.
    """

    table: str
    name: str
    columns: tuple[str, ...]
    concurrently: bool = False


@dataclass(frozen=True)
class Backfill:
    """``UPDATE t SET column = ... `` in batches of ``batch_size`` rows, each its own short
    transaction under ROW EXCLUSIVE, with ``batch_delay_s`` between batches (pgroll's
    ``--backfill-batch-size`` (default 1000) and ``--backfill-batch-delay`` (default 0))."""

    table: str
    column: str
    batch_size: int = 1000
    batch_delay_s: float = 0.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.batch_delay_s >= 0:
            raise ValueError(f"batch_delay_s must be >= 0, got {self.batch_delay_s}")


@dataclass(frozen=True)
class StartDualWrite:
    """App-level switch: from now on writes to ``column`` or ``other`` go to both. No lock."""

    table: str
    column: str
    other: str


@dataclass(frozen=True)
class StopDualWrite:
    """App-level switch: stop mirroring writes between ``column`` and ``other``. No lock."""

    table: str
    column: str
    other: str


Operation = (
    AddTable
    | AddColumn
    | DropColumn
    | RenameColumn
    | ChangeColumnType
    | SetNotNull
    | AddConstraint
    | ValidateConstraint
    | CreateIndex
    | Backfill
    | StartDualWrite
    | StopDualWrite
)
"""Any migration operation. All are frozen dataclasses with a ``table`` field."""

DEFAULT_PG_VERSION = 16
FAST_DEFAULT_PG_VERSION = 11
"""From PG 11, ADD COLUMN with a non-volatile default is metadata only."""
SET_NOT_NULL_SKIPS_SCAN_PG_VERSION = 12
"""From PG 12, SET NOT NULL skips the scan when a valid CHECK proves no NULL exists."""

METADATA_COST_S = 0.005
"""Duration of a catalog-only change once its lock is granted (a few milliseconds)."""
INDEX_CONCURRENTLY_FACTOR = 2.5
"""CREATE INDEX CONCURRENTLY vs plain: two table scans plus waits (model constant; the docs say
only that it is slower)."""


def describe(op: Operation) -> str:
    """The operation as SQL (or a plain sentence for app-level steps).

    >>> describe(CreateIndex("orders", "orders_user_idx", ("user_id",), concurrently=True))
    'CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id)'
    """
    t = op.table
    match op:
        case AddTable(columns=cols):
            return f"CREATE TABLE {t} ({', '.join(c.name for c in cols)})"
        case AddColumn(column=c, nullable=nullable, default=default):
            text = f"ALTER TABLE {t} ADD COLUMN {c}"
            text += "" if nullable else " NOT NULL"
            return text if default is Default.NONE else f"{text} DEFAULT <{default.value}>"
        case DropColumn(column=c):
            return f"ALTER TABLE {t} DROP COLUMN {c}"
        case RenameColumn(column=c, new_name=new):
            return f"ALTER TABLE {t} RENAME COLUMN {c} TO {new}"
        case ChangeColumnType(column=c, new_type=new_type):
            return f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {new_type}"
        case SetNotNull(column=c):
            return f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL"
        case AddConstraint(name=name, kind=kind, column=c, not_valid=nv, references=ref):
            body = (
                f"CHECK ({c} IS NOT NULL)"
                if kind is ConstraintKind.CHECK
                else f"FOREIGN KEY ({c}) REFERENCES {ref}"
            )
            return f"ALTER TABLE {t} ADD CONSTRAINT {name} {body}" + (" NOT VALID" if nv else "")
        case ValidateConstraint(name=name):
            return f"ALTER TABLE {t} VALIDATE CONSTRAINT {name}"
        case CreateIndex(name=name, columns=cols, concurrently=conc):
            how = "CONCURRENTLY " if conc else ""
            return f"CREATE INDEX {how}{name} ON {t} ({', '.join(cols)})"
        case Backfill(column=c, batch_size=size):
            return f"backfill {t}.{c} in batches of {size}"
        case StartDualWrite(column=c, other=o):
            return f"start dual write {t}.{c} <-> {t}.{o}"
        case StopDualWrite(column=c, other=o):
            return f"stop dual write {t}.{c} <-> {t}.{o}"
    raise TypeError(f"not a migration operation: {op!r}")  # pragma: no cover


def lock_mode(op: Operation) -> LockMode | None:
    """The lock ``op`` takes on ``op.table``; None when it locks no existing table.

    AddTable and the dual-write switches lock nothing others can wait on. A backfill takes ROW
    EXCLUSIVE per batch, like any UPDATE. See :func:`locks` for the referenced table of a
    foreign key.
    """
    match op:
        case AddTable() | StartDualWrite() | StopDualWrite():
            return None
        case Backfill():
            return LockMode.ROW_EXCLUSIVE
        case ValidateConstraint():
            return LockMode.SHARE_UPDATE_EXCLUSIVE
        case CreateIndex(concurrently=True):
            return LockMode.SHARE_UPDATE_EXCLUSIVE
        case CreateIndex():
            return LockMode.SHARE
        case AddConstraint(kind=ConstraintKind.FOREIGN_KEY):
            return LockMode.SHARE_ROW_EXCLUSIVE
        case _:
            # ADD/DROP/RENAME COLUMN, ALTER TYPE, SET NOT NULL, ADD CHECK: the ALTER TABLE
            # default ("An ACCESS EXCLUSIVE lock is acquired unless explicitly noted").
            return LockMode.ACCESS_EXCLUSIVE


def locks(op: Operation, schema: Schema | None = None) -> tuple[tuple[str, LockMode], ...]:
    """Every ``(table, mode)`` the operation takes, the altered table first.

    A foreign key also locks the referenced table: SHARE ROW EXCLUSIVE to add it, ROW SHARE to
    validate it (the referenced table of a validated constraint is looked up in ``schema``).
    """
    mode = lock_mode(op)
    out: list[tuple[str, LockMode]] = [] if mode is None else [(op.table, mode)]
    match op:
        case AddConstraint(kind=ConstraintKind.FOREIGN_KEY, references=str(ref)):
            out.append((ref, LockMode.SHARE_ROW_EXCLUSIVE))
        case ValidateConstraint(name=name) if schema is not None:
            t = schema.table(op.table)
            con = None if t is None else t.constraint(name)
            if con is not None and con.references is not None:
                out.append((con.references, LockMode.ROW_SHARE))
    return tuple(out)


class Work(StrEnum):
    """What the operation does to the table's rows while it holds its lock."""

    NONE = "none"  # app-level switch, no database statement
    METADATA = "metadata"  # catalog change only, milliseconds
    SCAN = "scan"  # reads every row (constraint check)
    REWRITE = "rewrite"  # writes a new copy of the table and its indexes
    INDEX_BUILD = "index_build"  # reads every row and builds an index
    BATCHES = "batches"  # many short transactions (backfill)


def work(
    op: Operation, *, schema: Schema | None = None, pg_version: int = DEFAULT_PG_VERSION
) -> Work:
    """The row work ``op`` does.

    ``schema`` (the schema the operation runs against) is needed only for SET NOT NULL: without
    it a validated CHECK cannot be seen, so the scan is assumed.

    >>> work(AddColumn("users", "plan", default=Default.CONSTANT)).value
    'metadata'
    >>> work(AddColumn("users", "plan", default=Default.CONSTANT), pg_version=10).value
    'rewrite'
    """
    match op:
        case StartDualWrite() | StopDualWrite():
            return Work.NONE
        case Backfill():
            return Work.BATCHES
        case CreateIndex():
            return Work.INDEX_BUILD
        case ValidateConstraint():
            return Work.SCAN
        case AddConstraint(not_valid=not_valid):
            return Work.METADATA if not_valid else Work.SCAN
        case AddColumn(default=Default.VOLATILE):
            return Work.REWRITE
        case AddColumn(default=Default.CONSTANT) if pg_version < FAST_DEFAULT_PG_VERSION:
            return Work.REWRITE
        case ChangeColumnType(rewrite=True):
            return Work.REWRITE
        case SetNotNull(table=t, column=c):
            skip = (
                pg_version >= SET_NOT_NULL_SKIPS_SCAN_PG_VERSION
                and schema is not None
                and schema.has_valid_not_null_check(t, c)
            )
            return Work.METADATA if skip else Work.SCAN
        case _:
            return Work.METADATA


def cost_s(
    op: Operation,
    table_rows: int,
    rows_per_s: float,
    *,
    schema: Schema | None = None,
    pg_version: int = DEFAULT_PG_VERSION,
) -> float:
    """How long the operation runs once its lock is granted, in seconds.

    - none (app switch): 0
    - metadata: :data:`METADATA_COST_S`
    - scan / rewrite / index build: ``METADATA_COST_S + table_rows / rows_per_s``; a concurrent
      index build times :data:`INDEX_CONCURRENTLY_FACTOR`
    - backfill: ``table_rows / rows_per_s + (batches - 1) * batch_delay_s``

    ``rows_per_s`` is the rate at which this operation processes rows (a scan is faster than a
    rewrite on real hardware; pass the rate that fits).

    >>> cost_s(CreateIndex("orders", "i", ("user_id",)), 1_000_000, 100_000)
    10.005
    >>> round(cost_s(CreateIndex("orders", "i", ("user_id",), concurrently=True), 10**6, 10**5), 4)
    25.0125
    >>> cost_s(Backfill("orders", "c", batch_size=1000, batch_delay_s=0.1), 10_000, 5_000)
    2.9

    Raises:
        ValueError: negative ``table_rows`` or non-positive ``rows_per_s``.
    """
    if table_rows < 0:
        raise ValueError(f"table_rows must be >= 0, got {table_rows}")
    if not rows_per_s > 0:
        raise ValueError(f"rows_per_s must be > 0, got {rows_per_s}")
    kind = work(op, schema=schema, pg_version=pg_version)
    rows_s = table_rows / rows_per_s
    if kind is Work.NONE:
        return 0.0
    if kind is Work.METADATA:
        return METADATA_COST_S
    if kind is Work.BATCHES:
        assert isinstance(op, Backfill)
        batches = ceil(table_rows / op.batch_size)
        return rows_s + max(batches - 1, 0) * op.batch_delay_s
    if isinstance(op, CreateIndex) and op.concurrently:
        return (METADATA_COST_S + rows_s) * INDEX_CONCURRENTLY_FACTOR
    return METADATA_COST_S + rows_s


def is_additive(op: Operation) -> bool:
    """Adds something old app versions ignore: a table, a column (nullable or with a default),
    an index. Safe in an expand phase."""
    return isinstance(op, AddTable | AddColumn | CreateIndex)


def is_destructive(op: Operation) -> bool:
    """Removes or changes something an app version may use: DROP, RENAME or ALTER TYPE of a
    column. Belongs in a contract phase, after every version using it is gone for good.

    Neither additive nor destructive: constraints and SET NOT NULL (they restrict writes, which
    :func:`check_request` judges per version), backfills and dual-write switches (data).
    """
    return isinstance(op, DropColumn | RenameColumn | ChangeColumnType)


# ---------------------------------------------------------------------------------------------
# apply: the next schema
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# check_request: can an app version run against a schema?
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestError:
    """Why a request fails against a schema: ``cause`` is the outcome (``"schema_error"``)."""

    reason: str
    cause: str = SCHEMA_ERROR

    def __str__(self) -> str:
        return f"{self.cause}: {self.reason}"


def _missing(schema: Schema, verb: str, table: str, column: str) -> RequestError | None:
    if schema.table(table) is None:
        return RequestError(f"{verb} {table}.{column}, but table {table} does not exist")
    if schema.column(table, column) is not None:
        return None
    gone = next(
        (r for r in reversed(schema.retired) if (r.table, r.column) == (table, column)), None
    )
    if gone is not None and gone.renamed_to is not None:
        return RequestError(f"{verb} {table}.{column}, which was renamed to {gone.renamed_to}")
    if gone is not None:
        return RequestError(f"{verb} {table}.{column}, which was dropped")
    return RequestError(f"{verb} {table}.{column}, which does not exist")


def _problems(
    schema: Schema, reads: Iterable[ColumnRef], writes: Iterable[ColumnRef]
) -> Iterator[RequestError]:
    read_set, write_set = set(reads), set(writes)
    for verb, refs in (("reads", read_set), ("writes", write_set)):
        for table, column in sorted(refs):
            err = _missing(schema, verb, table, column)
            if err is not None:
                yield err
    for table in sorted({t for t, _ in write_set}):
        written = {c for t, c in write_set if t == table}
        for d in schema.dual_writes:
            if d.table == table and written & {d.column, d.other}:
                written |= {d.column, d.other}
        for column in schema.required_on_insert(table):
            if column not in written:
                col = schema.column(table, column)
                why = "NOT NULL" if col is not None and not col.nullable else "NOT NULL by CHECK"
                yield RequestError(
                    f"writes to {table} omit {column}, which is {why} without a default"
                )


def check_request(
    schema: Schema, reads: Iterable[ColumnRef], writes: Iterable[ColumnRef]
) -> RequestError | None:
    """Whether a request reading ``reads`` and writing ``writes`` works on ``schema``.

    Fails (``schema_error``) when a column read or written is missing (never added, dropped or
    renamed), or when a write to a table omits a column that is NOT NULL (or under a not-null
    CHECK, even NOT VALID) and has no default. A write is treated as an INSERT of the listed
    columns; active dual writes fill the mirrored column. Checks run in a fixed order (reads,
    then writes, each sorted) and the first failure is returned, so the reason is
    deterministic. Pure: cache it per ``(schema, version)`` rather than calling it per request.

    >>> s = Schema.build({"users": [Column("id", False, True), "name"]})
    >>> print(check_request(s, {("users", "email")}, set()))
    schema_error: reads users.email, which does not exist
    >>> check_request(s, {("users", "name")}, {("users", "name")}) is None
    True
    """
    return next(_problems(schema, reads, writes), None)


# ---------------------------------------------------------------------------------------------
# lint_plan: an expand-contract plan checked phase by phase
# ---------------------------------------------------------------------------------------------

RULE_ADDING_FIELD_WITH_DEFAULT = "adding-field-with-default"  # squawk
RULE_CHANGING_COLUMN_TYPE = "changing-column-type"  # squawk
RULE_ADDING_NOT_NULLABLE_FIELD = "adding-not-nullable-field"  # squawk (covers SET NOT NULL)
RULE_REQUIRE_CONCURRENT_INDEX_CREATION = "require-concurrent-index-creation"  # squawk
RULE_CONSTRAINT_MISSING_NOT_VALID = "constraint-missing-not-valid"  # squawk
RULE_BAN_DROP_COLUMN = "ban-drop-column"  # squawk
RULE_RENAMING_COLUMN = "renaming-column"  # squawk
RULE_BAN_NEW_WRITE_RESTRICTION = "ban-new-write-restriction"  # squawk (opt-in there)
RULE_REQUIRE_LOCK_TIMEOUT = "require-lock-timeout"  # squawk
RULE_INCOMPATIBLE_DEPLOY = "incompatible-deploy"  # simdeploy: no squawk equivalent

BIG_TABLE_ROWS = 100_000
"""Default size from which a scan or rewrite under a blocking lock is flagged."""


@dataclass(frozen=True)
class AppVersion:
    """An app version and the columns its requests read and write (stored as frozensets)."""

    name: str
    reads: AbstractSet[ColumnRef] = field(default_factory=frozenset)
    writes: AbstractSet[ColumnRef] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reads", frozenset(self.reads))
        object.__setattr__(self, "writes", frozenset(self.writes))

    def uses(self, table: str, column: str) -> bool:
        return (table, column) in self.reads or (table, column) in self.writes


@dataclass(frozen=True)
class Phase:
    """One step of a plan: ``ops`` run in order, then ``deploy`` (if any) rolls out.

    ``live`` are the versions that have pods or may be rolled back to while the phase runs
    (during a deploy that includes the version being replaced). ``lock_timeout_s`` is the
    ``SET lock_timeout`` the phase's DDL runs with (None: no timeout).
    """

    name: str
    ops: tuple[Operation, ...] = ()
    live: tuple[AppVersion, ...] = ()
    deploy: AppVersion | None = None
    lock_timeout_s: float | None = None


@dataclass(frozen=True)
class Finding:
    """One lint finding: where, which operation (None for a deploy), which rule, and why."""

    phase: str
    operation: Operation | None
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.phase}] {self.rule}: {self.reason}"


_COMPAT_RULES: dict[type, str] = {
    DropColumn: RULE_BAN_DROP_COLUMN,
    RenameColumn: RULE_RENAMING_COLUMN,
    ChangeColumnType: RULE_CHANGING_COLUMN_TYPE,
}
_LOCK_RULES: dict[type, str] = {
    AddColumn: RULE_ADDING_FIELD_WITH_DEFAULT,
    ChangeColumnType: RULE_CHANGING_COLUMN_TYPE,
    SetNotNull: RULE_ADDING_NOT_NULLABLE_FIELD,
    CreateIndex: RULE_REQUIRE_CONCURRENT_INDEX_CREATION,
    AddConstraint: RULE_CONSTRAINT_MISSING_NOT_VALID,
}
_HEAVY = (Work.SCAN, Work.REWRITE, Work.INDEX_BUILD)


def _blocking(op: Operation) -> LockMode | None:
    mode = lock_mode(op)
    return mode if mode is not None and (blocks_reads(mode) or blocks_writes(mode)) else None


def _compat_findings(phase: Phase, op: Operation, before: Schema, after: Schema) -> list[Finding]:
    broken: list[tuple[AppVersion, str]] = []
    for v in phase.live:
        if isinstance(op, ChangeColumnType) and v.uses(op.table, op.column):
            broken.append((v, f"uses {op.table}.{op.column}"))
            continue
        # Only what this op newly breaks: earlier breakage was reported at its own op.
        old = set(_problems(before, v.reads, v.writes))
        new = [e for e in _problems(after, v.reads, v.writes) if e not in old]
        if new:
            broken.append((v, new[0].reason))
    if not broken:
        return []
    names = ", ".join(v.name for v, _ in broken)
    why = broken[0][1]
    dep = phase.deploy
    col = getattr(op, "column", None)
    if is_destructive(op) and dep is not None and col is not None and not dep.uses(op.table, col):
        reason = (
            f"{describe(op)} runs in the same phase as the deploy of {dep.name}, which stops "
            f"using it, but {names} still {'serves' if len(broken) == 1 else 'serve'} or can be "
            f"rolled back to ({why}); move it to a later phase"
        )
    else:
        reason = f"{describe(op)} breaks {names} (running or a rollback target): {why}"
    rule = _COMPAT_RULES.get(type(op), RULE_BAN_NEW_WRITE_RESTRICTION)
    return [Finding(phase.name, op, rule, reason)]


def _lock_finding(
    phase: Phase, op: Operation, before: Schema, rows: int | None, big: int, pg_version: int
) -> Finding | None:
    mode = _blocking(op)
    kind = work(op, schema=before, pg_version=pg_version)
    small = rows is not None and rows < big
    if mode is None or kind not in _HEAVY or small or type(op) not in _LOCK_RULES:
        return None
    blocked = "reads and writes" if blocks_reads(mode) else "writes"
    size = "size unknown" if rows is None else f"{rows:,} rows"
    reason = (
        f"{describe(op)} does a full-table {kind.value.replace('_', ' ')} of {op.table} ({size}) "
        f"holding {mode.sql}, which blocks {blocked} until it ends"
    )
    return Finding(phase.name, op, _LOCK_RULES[type(op)], reason)


def lint_plan(
    phases: Iterable[Phase],
    schema: Schema,
    *,
    table_rows: Mapping[str, int] | None = None,
    big_table_rows: int = BIG_TABLE_ROWS,
    pg_version: int = DEFAULT_PG_VERSION,
) -> list[Finding]:
    """Lint an expand-contract plan that starts from ``schema``; findings in plan order.

    Per operation, replaying the plan through :func:`apply`:

    - compatibility: an operation after which a ``live`` version's requests fail
      :func:`check_request` (or, for ALTER TYPE, that touches a column a live version uses):
      ``ban-drop-column``, ``renaming-column``, ``changing-column-type``, or
      ``ban-new-write-restriction`` (SET NOT NULL, a not-null CHECK, stopping a dual write);
      the reason says when the deploy of the same phase is the one that stopped using it;
    - long blocking work: a scan, rewrite or index build under a lock that blocks reads or
      writes, on a table of at least ``big_table_rows`` rows (unknown size counts as big;
      tables created in the plan start empty): ``adding-field-with-default``,
      ``changing-column-type``, ``adding-not-nullable-field``,
      ``require-concurrent-index-creation``, ``constraint-missing-not-valid``. A lock_timeout
      does not help here: it bounds the wait for the lock, not the time it is held;
    - ``require-lock-timeout``: the first operation per phase whose lock blocks reads or writes
      on a table that exists before the phase, when the phase has no ``lock_timeout_s`` (a DDL
      waiting behind a long transaction queues every later request behind it).

    After the operations, ``incompatible-deploy`` when the deployed version fails
    :func:`check_request` (e.g. it reads a column a later phase adds).

    Raises:
        SchemaChangeError: an operation PostgreSQL would refuse, naming the phase.
    """
    rows_of = dict(table_rows or {})
    findings: list[Finding] = []
    for phase in phases:
        created_here: set[str] = set()
        timeout_reported = False
        for op in phase.ops:
            try:
                after = apply(schema, op)
            except SchemaChangeError as e:
                raise SchemaChangeError(f"phase {phase.name!r}: {describe(op)}: {e}") from e
            if isinstance(op, AddTable):
                created_here.add(op.table)
                rows_of.setdefault(op.table, 0)
            findings += _compat_findings(phase, op, schema, after)
            rows = rows_of.get(op.table)
            heavy = _lock_finding(phase, op, schema, rows, big_table_rows, pg_version)
            if heavy is not None:
                findings.append(heavy)
            mode = _blocking(op)
            if (
                mode is not None
                and phase.lock_timeout_s is None
                and not timeout_reported
                and op.table not in created_here
            ):
                timeout_reported = True
                findings.append(
                    Finding(
                        phase.name,
                        op,
                        RULE_REQUIRE_LOCK_TIMEOUT,
                        f"{describe(op)} requests {mode.sql} on {op.table} without a "
                        "lock_timeout; queued behind a long transaction, it makes every later "
                        f"request on {op.table} queue behind it",
                    )
                )
            schema = after
        if phase.deploy is not None:
            err = check_request(schema, phase.deploy.reads, phase.deploy.writes)
            if err is not None:
                findings.append(
                    Finding(
                        phase.name,
                        None,
                        RULE_INCOMPATIBLE_DEPLOY,
                        f"{phase.deploy.name} is deployed but its requests fail: {err.reason}",
                    )
                )
    return findings
