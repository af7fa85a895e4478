"""Migration operations as data, and what each does to its table: lock, row work, cost.

One concern: the operations (``ADD COLUMN``, ``CREATE INDEX [CONCURRENTLY]``, a batched
backfill, a dual-write switch, ...) and their PostgreSQL behaviour: :func:`lock_mode` /
:func:`locks` (which table locks), :func:`work` (metadata, scan, rewrite, index build,
batches), :func:`cost_s` (seconds once the lock is granted), :func:`describe` (the SQL), and
:func:`is_additive` / :func:`is_destructive` (expand or contract phase). How an operation
changes the schema is :func:`simdeploy.rules.schema_changes.apply`.

Sources:

- PostgreSQL "ALTER TABLE": "An ACCESS EXCLUSIVE lock is acquired unless explicitly noted";
  ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables; VALIDATE CONSTRAINT takes SHARE
  UPDATE EXCLUSIVE (plus ROW SHARE on the referenced table for a foreign key); NOT VALID skips
  the scan; ADD COLUMN with a non-volatile DEFAULT is metadata only (PG 11+) while a volatile
  default rewrites the table and its indexes; SET NOT NULL scans the table unless a valid CHECK
  constraint proves no NULL can exist (PG 12+).
- PostgreSQL "CREATE INDEX": SHARE lock (blocks writes); CONCURRENTLY takes SHARE UPDATE
  EXCLUSIVE, "must perform two scans of the table" and waits for older transactions.
- pgroll's backfill batching (``--backfill-batch-size``, ``--backfill-batch-delay``).

Pure: no SimPy, no clock; operations are frozen dataclasses.
"""

from dataclasses import dataclass
from enum import StrEnum
from math import ceil

from simdeploy.rules.pg_locks import LockMode
from simdeploy.rules.schema import Column, ConstraintKind, Schema

__all__ = [
    "DEFAULT_PG_VERSION",
    "FAST_DEFAULT_PG_VERSION",
    "INDEX_CONCURRENTLY_FACTOR",
    "METADATA_COST_S",
    "SET_NOT_NULL_SKIPS_SCAN_PG_VERSION",
    "AddColumn",
    "AddConstraint",
    "AddTable",
    "Backfill",
    "ChangeColumnType",
    "CreateIndex",
    "Default",
    "DropColumn",
    "Operation",
    "RenameColumn",
    "SetNotNull",
    "StartDualWrite",
    "StopDualWrite",
    "ValidateConstraint",
    "Work",
    "cost_s",
    "describe",
    "is_additive",
    "is_destructive",
    "lock_mode",
    "locks",
    "work",
]


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
    ``compatibility.check_request`` judges per version), backfills and dual-write switches
    (data).
    """
    return isinstance(op, DropColumn | RenameColumn | ChangeColumnType)
