"""Plan lint: an expand-contract migration plan checked phase by phase.

One concern: :func:`lint_plan` replays a plan of :class:`Phase` s through
:func:`simdeploy.rules.schema_changes.apply` and reports :class:`Finding` s: the hazards squawk
and strong_migrations flag on a single migration (long blocking work, a missing lock_timeout),
plus the expand-contract ordering mistakes only a plan reveals (an operation that breaks a
version still live or a rollback target, a deploy of a version the schema does not fit yet).

Sources: squawk (``sbdchd/squawk``) rule names; strong_migrations (``ankane/strong_migrations``)
advice.

Example, the safe way to make ``users.email`` NOT NULL (squawk's "adding-not-nullable-field"):

>>> from simdeploy.rules.migrations import ValidateConstraint
>>> from simdeploy.rules.schema import ConstraintKind
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

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from simdeploy.rules.compatibility import check_request, request_errors
from simdeploy.rules.migrations import (
    DEFAULT_PG_VERSION,
    AddColumn,
    AddConstraint,
    AddTable,
    ChangeColumnType,
    CreateIndex,
    DropColumn,
    Operation,
    RenameColumn,
    SetNotNull,
    Work,
    describe,
    is_destructive,
    lock_mode,
    work,
)
from simdeploy.rules.pg_locks import LockMode, blocks_reads, blocks_writes
from simdeploy.rules.schema import ColumnRef, Schema
from simdeploy.rules.schema_changes import SchemaChangeError, apply

__all__ = [
    "BIG_TABLE_ROWS",
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
    "AppVersion",
    "Finding",
    "Phase",
    "lint_plan",
]

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
        old = set(request_errors(before, v.reads, v.writes))
        new = [e for e in request_errors(after, v.reads, v.writes) if e not in old]
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
