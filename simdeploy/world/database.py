"""The shared database: schema state, table locks, migrations, data written.

Requests meet the database on the request path through three cheap calls:

- ``access(version, write, features)`` → an :class:`Access` (cached per schema epoch):
  the tables and lock mode the request takes, its schema error if any, the columns it
  reads and the columns its insert leaves empty;
- ``blocking(access)`` → the table lock queue that makes it wait, or None;
- ``finish(access, u)`` → ``schema_error``, ``data_incompatible`` or None, and for a
  successful write, its row counted.

The fluid data plane (:mod:`simdeploy.world.fluid`) counts whole intervals instead: it asks
``access(..., epoch=)`` for the schema a request met when it arrived, and
``incompatible_share`` / ``count_writes`` for many requests at once; ``before_change`` is
called before the locks, the schema, the phase or the data change (with what changes), so
it can count the traffic up to then with the state that held.

Locks follow PostgreSQL: a lock is granted when it conflicts neither with a held lock nor
with a lock queued ahead of it (``pg_locks.conflicts``), so an ``ACCESS EXCLUSIVE`` ALTER
waiting behind a long transaction blocks every later query on the table: the outage
that ``lock_timeout`` prevents. A request is a short transaction: it waits in the queue,
then holds its lock while in service (counted per mode), so a DDL also waits for the
requests already running.

Data: every table has a row count, and per column the number of rows where it was never
written (added without default and not yet backfilled, or inserted by a version that does
not write it and no dual write filled it). A read of a column fails with
``data_incompatible`` with probability (rows missing it) / (rows): after a rollback, the
old version reading rows the new one wrote only in its new column.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from simdeploy.rules import migrations as ops
from simdeploy.rules.compatibility import check_request
from simdeploy.rules.pg_locks import LockMode, conflicts, request_lock
from simdeploy.rules.schema import ConstraintKind, Schema
from simdeploy.rules.schema_changes import SchemaChangeError, apply
from simdeploy.spec.metrics import FIRST_PHASE
from simdeploy.world import recorder as rec

if TYPE_CHECKING:
    from simdeploy.spec.database import Database as DatabaseSpec
    from simdeploy.spec.plan import Action
    from simdeploy.spec.versions import Version

#: First back-off after a lock timeout; doubles per retry (1 s, 2 s, 4 s, ...).
RETRY_BACK_OFF_S = 1.0
READ, WRITE = request_lock("read"), request_lock("write")


class TableLocks:
    """Granted locks and the FIFO queue of waiting lock requests of one table."""

    def __init__(
        self,
        env: simpy.Environment,
        table: str,
        on_change: Callable[[str], None],
        before: Callable[[str], None] | None = None,
    ):
        self.env = env
        self.table = table
        self.held: list[tuple[object, LockMode]] = []
        self.queue: deque[tuple[object, LockMode, simpy.Event]] = deque()
        #: Locks held by requests in service, counted per mode (they are short and many).
        self.active: dict[LockMode, int] = {}
        self._on_change = on_change
        #: Called with "locks" before a lock is taken, queued, given up or released.
        self._before = before

    def _held_conflict(self, mode: LockMode) -> bool:
        return any(conflicts(mode, m) for _, m in self.held) or any(
            n > 0 and conflicts(mode, m) for m, n in self.active.items()
        )

    def blocks(self, mode: LockMode) -> bool:
        """Whether a new request for ``mode`` would have to wait."""
        return self._held_conflict(mode) or any(conflicts(mode, m) for _, m, _ in self.queue)

    def hold(self, mode: LockMode) -> None:
        """A request in service holds ``mode`` (its transaction) until :meth:`unhold`."""
        self.active[mode] = self.active.get(mode, 0) + 1

    def unhold(self, mode: LockMode) -> None:
        n = self.active.get(mode, 0) - 1
        self.active[mode] = max(0, n)
        if n <= 0 and self.queue:
            self._grant()

    def acquire(self, owner: object, mode: LockMode) -> simpy.Event:
        if self._before is not None:
            self._before("locks")
        ev = self.env.event()
        if not self.blocks(mode):
            self.held.append((owner, mode))
            ev.succeed()
        else:
            self.queue.append((owner, mode, ev))
            self._on_change(self.table)
        return ev

    def cancel(self, owner: object) -> None:
        """Give up waiting (lock_timeout): leave the queue, let the others through."""
        if self._before is not None:
            self._before("locks")
        self.queue = deque(q for q in self.queue if q[0] is not owner)
        self._grant()

    def release(self, owner: object) -> None:
        if self._before is not None:
            self._before("locks")
        self.held = [h for h in self.held if h[0] is not owner]
        self._grant()

    def _grant(self) -> None:
        waiting: deque[tuple[object, LockMode, simpy.Event]] = deque()
        for owner, mode, ev in self.queue:
            ahead = any(conflicts(mode, m) for _, m, _ in waiting)
            if not ahead and not self._held_conflict(mode):
                self.held.append((owner, mode))
                ev.succeed()
            else:
                waiting.append((owner, mode, ev))
        self.queue = waiting
        self._on_change(self.table)


@dataclass(frozen=True)
class Access:
    """What one kind of request of one version does to the database (cached)."""

    error: str | None
    tables: tuple[tuple[str, LockMode], ...]
    reads: tuple[tuple[str, str], ...]
    omitted: tuple[tuple[str, str], ...]
    written_tables: tuple[str, ...]


@dataclass
class Database:
    """Schema state, locks, migrations and data of one run."""

    env: simpy.Environment
    spec: DatabaseSpec
    versions: dict[str, Version]
    recorder: rec.Recorder
    schema: Schema = field(init=False)
    #: pgroll: app version → the schema version it sees (until ``complete``).
    views: dict[str, Schema] = field(default_factory=dict)
    view_default: Schema | None = None
    rows: dict[str, int] = field(default_factory=dict)
    missing: dict[tuple[str, str], int] = field(default_factory=dict)
    lock_wait_s: float = 0.0
    phase: str = FIRST_PHASE
    migrations: list[str] = field(default_factory=list)
    pending: tuple[Schema, Schema] | None = None
    #: Called before the database changes what requests meet, with what changes: "locks",
    #: "schema", "phase" or "data" (the fluid data plane; None on the request-level one).
    before_change: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self.schema = self.spec.schema()
        self.rows = {name: t.rows for name, t in self.spec.tables.items()}
        self.locks: dict[str, TableLocks] = {}
        self._parked: dict[str, list[Callable[[], None]]] = {}
        self._cache: dict[tuple[Any, ...], Access] = {}
        self.epoch = 0
        #: The schema state of each past epoch: (schema, views, view_default).
        self._past: dict[int, tuple[Schema, dict[str, Schema], Schema | None]] = {}

    def _before(self, what: str) -> None:
        if self.before_change is not None:
            self.before_change(what)

    def _next_epoch(self) -> None:
        """Keep the schema state requests met so far (a request keeps the access it was
        compiled with when it arrived), then start a new epoch. Call before the change."""
        self._past[self.epoch] = (self.schema, self.views, self.view_default)
        self.epoch += 1

    # -- request path --------------------------------------------------------------------
    def table_locks(self, table: str) -> TableLocks:
        t = self.locks.get(table)
        if t is None:
            t = self.locks[table] = TableLocks(self.env, table, self._changed, self._before)
        return t

    def schema_for(self, version: str, epoch: int | None = None) -> Schema:
        """The schema ``version`` sees now, or in a past ``epoch``."""
        if epoch is None or epoch == self.epoch:
            return self.views.get(version, self.view_default or self.schema)
        schema, views, default = self._past[epoch]
        return views.get(version, default or schema)

    def access(
        self, version: str, write: bool, extra: tuple[Any, ...] = (), epoch: int | None = None
    ) -> Access:
        """The cached :class:`Access` of a read or write request of ``version``;
        ``extra`` are the (reads, writes) of flagged code paths that run too; ``epoch``, a
        past schema state (a request that arrived then), the current one by default."""
        key = (self.epoch if epoch is None else epoch, version, write, extra)
        a = self._cache.get(key)
        if a is None:
            schema = self.schema_for(version, key[0])
            a = self._cache[key] = self._compile(version, write, extra, schema)
        return a

    def _compile(self, version: str, write: bool, extra: tuple[Any, ...], schema: Schema) -> Access:
        spec = self.versions[version]
        access = dict(spec.writes) if write else dict(spec.reads)
        for reads, writes in extra:
            for t, cols in writes if write else reads:
                access[t] = [*access.get(t, []), *cols]
        cols = frozenset((t, c) for t, cs in access.items() for c in cs)
        reads = () if write else tuple(sorted(cols))
        writes = tuple(sorted(cols)) if write else ()
        err = check_request(schema, reads, writes)
        mode = WRITE if write else READ
        tables = tuple(sorted((t, mode) for t in access))
        omitted: list[tuple[str, str]] = []
        if write and err is None:
            for t in sorted(access):
                written = {c for tt, c in cols if tt == t}
                for d in schema.dual_writes:
                    if d.table == t and written & {d.column, d.other}:
                        written |= {d.column, d.other}
                table = schema.table(t)
                for c in table.columns if table else ():
                    if c.name not in written and not c.has_default:
                        omitted.append((t, c.name))
        return Access(
            error=None if err is None else err.reason,
            tables=tables,
            reads=reads,
            omitted=tuple(omitted),
            written_tables=tuple(sorted(access)) if write else (),
        )

    def hold(self, a: Access) -> None:
        for table, mode in a.tables:
            self.table_locks(table).hold(mode)

    def unhold(self, a: Access) -> None:
        for table, mode in a.tables:
            self.table_locks(table).unhold(mode)

    def blocking(self, a: Access) -> TableLocks | None:
        for table, mode in a.tables:
            t = self.locks.get(table)
            if t is not None and t.blocks(mode):
                return t
        return None

    def park(self, locks: TableLocks, resume: Callable[[], None]) -> None:
        """Call ``resume`` once ``locks`` may have stopped blocking (the caller re-checks)."""
        self._parked.setdefault(locks.table, []).append(resume)

    def _changed(self, table: str) -> None:
        waiting = self._parked.pop(table, None)
        for resume in waiting or ():
            resume()

    def finish(self, a: Access, u: float) -> int:
        """Outcome index of a request that ran (``recorder.I_*``) and its data effect."""
        if a.error is not None:
            return rec.I_SCHEMA_ERROR
        if a.reads and u >= self._p_compatible(a):
            return rec.I_DATA_INCOMPATIBLE
        for t in a.written_tables:
            self.rows[t] = self.rows.get(t, 0) + 1
        for key in a.omitted:
            self.missing[key] = self.missing.get(key, 0) + 1
        return rec.I_OK

    def incompatible_share(self, a: Access) -> float:
        """The probability that a request with ``a`` (no schema error) reads a row lacking
        a column it reads: 1 - Π (1 - missing/rows) over its columns, as :meth:`finish`."""
        return 1.0 - self._p_compatible(a)

    def _p_compatible(self, a: Access) -> float:
        """Π (1 - missing/rows) over the columns ``a`` reads: the chance its row has them."""
        p_ok = 1.0
        for key in a.reads:
            m = self.missing.get(key, 0)
            if m:
                rows = self.rows.get(key[0], 0) or 1
                p_ok *= 1.0 - min(1.0, m / rows)
        return p_ok

    def count_writes(self, a: Access, n: int) -> None:
        """``n`` successful writes with ``a``: their rows, as :meth:`finish` counts one."""
        if n <= 0:
            return
        for t in a.written_tables:
            self.rows[t] = self.rows.get(t, 0) + n
        for key in a.omitted:
            self.missing[key] = self.missing.get(key, 0) + n

    # -- control plane -------------------------------------------------------------------
    def _check_rows(self, op: ops.Operation) -> None:
        """What PostgreSQL finds when it scans: NULLs make SET NOT NULL, a validated
        not-null CHECK and VALIDATE CONSTRAINT fail (the column stays as it was)."""
        column = None
        if isinstance(op, ops.SetNotNull) or (
            isinstance(op, ops.AddConstraint)
            and op.kind is ConstraintKind.CHECK
            and not op.not_valid
        ):
            column = op.column
        elif isinstance(op, ops.ValidateConstraint):
            t = self.schema.table(op.table)
            k = t.constraint(op.name) if t else None
            if k is not None and k.kind is ConstraintKind.CHECK:
                column = k.column
        if column is not None and self.missing.get((op.table, column), 0) > 0:
            n = self.missing[(op.table, column)]
            raise SchemaChangeError(
                f'column "{column}" of relation "{op.table}" contains null values '
                f"({n} rows): {ops.describe(op)} fails"
            )

    def _apply(self, op: ops.Operation) -> None:
        before = self.schema
        after = apply(before, op)
        self._before("schema")
        self._next_epoch()
        self.schema = after
        if isinstance(op, ops.AddColumn) and op.default is ops.Default.NONE:
            self.missing[(op.table, op.column)] = self.rows.get(op.table, 0)
        elif isinstance(op, ops.AddTable):
            self.rows.setdefault(op.table, 0)
        elif isinstance(op, ops.RenameColumn):
            m = self.missing.pop((op.table, op.column), 0)
            self.missing[(op.table, op.new_name)] = m
        elif isinstance(op, ops.DropColumn):
            self.missing.pop((op.table, op.column), None)

    def long_transaction(
        self, table: str, mode: LockMode, at: float, duration: float
    ) -> Generator[simpy.Event, Any, None]:
        """A transaction that holds ``mode`` on ``table`` for ``duration`` seconds."""
        env = self.env
        if at > env.now:
            yield env.timeout(at - env.now)
        owner = object()
        locks = self.table_locks(table)
        yield locks.acquire(owner, mode)
        self.recorder.event(
            env.now, "LongTransaction", table, "", f"holds {mode.sql} for {duration:g}s"
        )
        yield env.timeout(duration)
        locks.release(owner)
        self.recorder.event(env.now, "LongTransactionEnded", table)

    def migrate(self, action: Action) -> Generator[simpy.Event, Any, bool]:
        """Run a migration's operations in order, each under its lock and for its cost.

        With ``lockTimeout`` a lock not granted in time is given up (the queue behind it
        moves again) and retried after 1 s, 2 s, 4 s, ... up to ``retries`` times; when
        the retries run out the migration fails (the rest is not applied). Returns whether
        every operation was applied.
        """
        env, r = self.env, self.recorder
        name = action.phase_name
        self._before("phase")
        self.phase = name
        self.migrations.append(name)
        r.event(
            env.now,
            "MigrationStarted",
            name,
            action.version or "",
            _operations(len(action.operations)),
        )
        for spec_op in action.operations:
            op = spec_op.to_operation()
            ok = yield from self._run_op(name, op, action)
            if not ok:
                r.event(env.now, "MigrationFailed", name, "", ops.describe(op))
                return False
        r.event(env.now, "MigrationCompleted", name)
        return True

    def _run_op(
        self, name: str, op: ops.Operation, action: Action
    ) -> Generator[simpy.Event, Any, bool]:
        env, r = self.env, self.recorder
        try:
            needed = ops.locks(op, self.schema)
        except SchemaChangeError as exc:
            r.event(env.now, "MigrationError", name, "", str(exc))
            return False
        back_off = RETRY_BACK_OFF_S
        for attempt in range(action.retries + 1):
            owner = object()
            granted = yield from self._acquire_all(owner, needed, action.lock_timeout)
            if granted:
                break
            r.event(
                env.now,
                "LockTimeout",
                name,
                "",
                f"{ops.describe(op)}: lock_timeout {action.lock_timeout:g}s "
                f"(attempt {attempt + 1}/{action.retries + 1})",
            )
            if attempt < action.retries:
                yield env.timeout(back_off)
                back_off *= 2
        else:
            return False
        self._before("data")  # the rows written up to now
        rows = self.rows.get(op.table, 0)
        if isinstance(op, ops.Backfill):  # only the rows still missing the column
            rows = self.missing.get((op.table, op.column), 0)
        cost = ops.cost_s(
            op, rows, self.spec.rows_per_second, schema=self.schema, pg_version=self.spec.pg_version
        )
        r.event(env.now, "MigrationStep", name, "", f"{ops.describe(op)} ({cost:.3g}s)")
        if isinstance(op, ops.Backfill):
            yield from self._backfill(op)
        elif cost > 0:
            yield env.timeout(cost)
        try:
            self._before("data")
            self._check_rows(op)
            self._apply(op)
        except SchemaChangeError as exc:
            r.event(env.now, "MigrationError", name, "", str(exc))
            for table, _ in needed:
                self.table_locks(table).release(owner)
            return False
        for table, _ in needed:
            self.table_locks(table).release(owner)
        return True

    def _acquire_all(
        self, owner: object, needed: Iterable[tuple[str, LockMode]], timeout: float | None
    ) -> Generator[simpy.Event, Any, bool]:
        env = self.env
        taken: list[str] = []
        for table, mode in needed:
            locks = self.table_locks(table)
            start = env.now
            ev = locks.acquire(owner, mode)
            if not ev.triggered:
                if timeout is None:
                    yield ev
                else:
                    yield ev | env.timeout(timeout)
                if not ev.triggered:
                    locks.cancel(owner)
                    for t in taken:
                        self.table_locks(t).release(owner)
                    return False
            self.lock_wait_s += env.now - start
            taken.append(table)
        return True

    def _backfill(self, op: ops.Backfill) -> Generator[simpy.Event, Any, None]:
        """Batches of ``batch_size`` rows, each a short ROW EXCLUSIVE transaction."""
        env = self.env
        key = (op.table, op.column)
        batch_s = op.batch_size / self.spec.rows_per_second
        while self.missing.get(key, 0) > 0:
            yield env.timeout(batch_s)
            self._before("data")
            self.missing[key] = max(0, self.missing.get(key, 0) - op.batch_size)
            if op.batch_delay_s and self.missing.get(key, 0) > 0:
                yield env.timeout(op.batch_delay_s)
                self._before("data")

    # -- pgroll ----------------------------------------------------------------------------
    def pgroll_start(self, action: Action) -> bool:
        """pgroll start: the operations become a new schema version that only
        ``action.version`` sees (versioned views); every other version keeps the old one,
        and triggers keep both sides written (so nothing is left unwritten). Nothing is
        dropped or renamed physically until :meth:`complete`."""
        env, r = self.env, self.recorder
        name = action.phase_name
        before = self.schema
        after = before
        try:
            for spec_op in action.operations:
                after = apply(after, spec_op.to_operation())
        except SchemaChangeError as exc:
            r.event(env.now, "MigrationError", name, "", str(exc))
            return False
        self._before("schema")
        self._next_epoch()
        self.phase = name
        self.migrations.append(name)
        self.pending = (before, after)
        self.view_default = before
        self.views = {action.version or "": after}
        r.event(
            env.now,
            "PgrollStarted",
            name,
            action.version or "",
            f"{_operations(len(action.operations))}; old and new schema versions both live",
        )
        return True

    def complete(self) -> None:
        """pgroll complete: the old schema version is dropped; every version sees the new
        one (a version still reading the old structure now fails)."""
        if self.pending is None:
            return
        self._before("schema")
        self._next_epoch()
        self.schema = self.pending[1]
        self.pending = None
        self.views, self.view_default = {}, None
        self.recorder.event(self.env.now, "PgrollCompleted", self.phase)

    def pgroll_rollback(self) -> None:
        """pgroll rollback (only before complete): the new schema version is discarded."""
        if self.pending is None:
            return
        self._before("schema")
        self._next_epoch()
        self.schema = self.pending[0]
        self.pending = None
        self.views, self.view_default = {}, None
        self.recorder.event(self.env.now, "PgrollRolledBack", self.phase)


def _operations(n: int) -> str:
    """A migration's count of operations: "1 operation", "3 operations"."""
    return f"{n} operation{'s' if n != 1 else ''}"
