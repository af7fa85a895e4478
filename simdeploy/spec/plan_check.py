"""Check a scenario's plan for unsafe migration orderings before running it. Pure.

The plan is cut into phases: plan actions at the same time form one phase, so a
migration and the deploy that stops using a column, at the same moment, are one phase
(the "same phase" hazard). Each migration is linted by ``rules.plan_lint.lint_plan`` against
the versions *live* at that point: the version running, and the version it replaced
while that is still a rollback target (``database.rollbackWindow`` after the replacing
deploy). A pgroll migration is checked where it becomes destructive: at ``complete``.

Findings read like migration linters (squawk / strong_migrations):
``[contract@12m] ban-drop-column: dropping users.name breaks v2, which reads it``.
"""

from __future__ import annotations

from itertools import groupby

from simdeploy.rules.migrations import AddColumn, Backfill, Default, Operation
from simdeploy.rules.plan_lint import AppVersion, Finding, Phase, lint_plan
from simdeploy.rules.schema import Schema
from simdeploy.rules.schema_changes import SchemaChangeError, apply
from simdeploy.spec.plan import Action
from simdeploy.spec.scenario import Scenario


def app_version(sc: Scenario, name: str) -> AppVersion:
    v = sc.versions[name]
    reads = {(t, c) for t, cols in v.reads.items() for c in cols}
    writes = {(t, c) for t, cols in v.writes.items() for c in cols}
    return AppVersion(name, reads, writes)


def _phase_name(actions: list[Action]) -> str:
    mig = next((a for a in actions if a.action in ("migrate", "complete")), None)
    at = actions[0].at
    label = mig.name if mig is not None and mig.name else (mig.action if mig else "deploy")
    return f"{label}@{_fmt(at)}"


def _fmt(t: float) -> str:
    return f"{t / 60:g}m" if t >= 60 and t % 60 == 0 else f"{t:g}s"


def min_rollout_s(sc: Scenario, version: str) -> float:
    """A lower bound of how long the replaced version's pods keep running after a deploy:
    one wave of new pods must be scheduled, started, probed Ready and Available first.

    Example: scheduling 0.5 s, start-up 2-4 s (mean 3), probe initial delay 5 s,
    minReadySeconds 0 → 8.5 s.
    """
    pod = sc.service.pod
    startup = sc.versions[version].startup_delay or pod.startup_delay
    probe = pod.readiness_probe
    ready = (
        0.0
        if probe is None
        else (probe.initial_delay_seconds + (probe.success_threshold - 1) * probe.period_seconds)
    )
    return (
        pod.scheduling_delay.build().mean
        + startup.build().mean
        + ready
        + sc.service.min_ready_seconds
    )


def plan_phases(sc: Scenario) -> list[Phase]:
    """The plan's phases that touch the database, each with its live versions.

    The replaced version stays live for ``rollbackWindow`` after the deploy action, and in
    any case until a first wave of new pods could be available (:func:`min_rollout_s`):
    its pods cannot all be gone before that.
    """
    window = sc.database.rollback_window if sc.database else 600.0
    current, previous, replaced_at, min_wave = sc.service.version, None, 0.0, 0.0
    pending: Action | None = None  # a pgroll migration waiting for complete
    phases: list[Phase] = []
    for at, group in groupby(sorted(sc.plan, key=lambda a: a.at), key=lambda a: a.at):
        actions = list(group)
        live_names = [current]
        if previous is not None and at - replaced_at <= max(window, min_wave):
            live_names.append(previous)
        deploy = next((a for a in actions if a.action == "deploy"), None)
        ops: list[Operation] = []
        timeout: float | None = None
        for a in actions:
            if a.action == "migrate" and a.pgroll:
                pending = a
            elif a.action == "migrate":
                ops += [o.to_operation() for o in a.operations]
                timeout = a.lock_timeout
            elif a.action == "complete" and pending is not None:
                ops += [o.to_operation() for o in pending.operations]
                timeout = pending.lock_timeout
                pending = None
        if ops:
            phases.append(
                Phase(
                    name=_phase_name(actions),
                    ops=tuple(ops),
                    live=tuple(app_version(sc, n) for n in live_names),
                    deploy=app_version(sc, deploy.version) if deploy and deploy.version else None,
                    lock_timeout_s=timeout,
                )
            )
        if deploy is not None and deploy.version and deploy.version != current:
            previous, current, replaced_at = current, deploy.version, at
            min_wave = min_rollout_s(sc, deploy.version)
        if any(a.action == "rollback" for a in actions):
            pending = None  # a rollback also rolls a pending pgroll migration back
            if previous is not None:
                current, previous = previous, None
    return phases


RULE_ROLLBACK_INCOMPATIBLE_WRITES = "rollback-incompatible-writes"


def rollback_findings(sc: Scenario) -> list[Finding]:
    """Deploys after which a rollback would meet rows the old version cannot read.

    ``v2`` inserts rows without ``name`` (no dual write fills it) while ``v1``, its
    rollback target, reads ``name``: once rolled back, v1's reads of those rows fail with
    ``data_incompatible`` (the blue/green caveat of the reference article).
    """
    assert sc.database is not None
    schema = sc.database.schema()
    current = sc.service.version
    pending: Action | None = None
    out: list[Finding] = []
    for at, group in groupby(sorted(sc.plan, key=lambda a: a.at), key=lambda a: a.at):
        actions = list(group)
        for a in actions:
            ops = []
            if a.action == "migrate" and not a.pgroll:
                ops = a.operations
            elif a.action == "migrate":
                pending = a
            elif a.action == "complete" and pending is not None:
                ops, pending = pending.operations, None
            for o in ops:
                try:
                    schema = apply(schema, o.to_operation())
                except SchemaChangeError:
                    return out  # lint() reports the invalid operation
        deploy = next((a for a in actions if a.action == "deploy"), None)
        if deploy is None or not deploy.version or deploy.version == current:
            continue
        if pending is not None:  # pgroll's triggers write both sides until complete
            current = deploy.version
            continue
        old, new = app_version(sc, current), app_version(sc, deploy.version)
        for table in sorted({t for t, _ in new.writes}):
            written = {c for t, c in new.writes if t == table}
            for d in schema.dual_writes:
                if d.table == table and written & {d.column, d.other}:
                    written |= {d.column, d.other}
            for t, c in sorted(old.reads):
                col = schema.column(t, c)
                if t == table and c not in written and col is not None and not col.has_default:
                    out.append(
                        Finding(
                            f"deploy@{_fmt(at)}",
                            None,
                            RULE_ROLLBACK_INCOMPATIBLE_WRITES,
                            f"{new.name} inserts {table} rows without {c}, which {old.name} reads: "
                            f"after a rollback to {old.name} those rows fail (data_incompatible); "
                            f"keep writing {c}, or dual-write it, while {old.name} can be rolled "
                            "back to",
                        )
                    )
        current = deploy.version
    return out


RULE_READ_BEFORE_BACKFILL = "read-before-backfill"


def _omits(v: AppVersion, schema: Schema, table: str, column: str) -> bool:
    """Whether ``v`` inserts ``table`` rows without ``column`` (no dual write fills it)."""
    written = {c for t, c in v.writes if t == table}
    if not written:
        return False
    for d in schema.dual_writes:
        if d.table == table and written & {d.column, d.other}:
            written |= {d.column, d.other}
    return column not in written


def backfill_findings(sc: Scenario) -> list[Finding]:
    """Deploys of a version that reads a column some rows do not have yet.

    A column added without a default is empty in every existing row until a backfill
    fills it, and every row inserted by a running version that does not write it (and no
    dual write fills) is empty too. A backfill that runs while such a writer still runs
    leaves holes behind it. Running versions here: the current one, and the one it
    replaced until a first wave of new pods could be ready (:func:`min_rollout_s`).
    """
    assert sc.database is not None
    schema = sc.database.schema()
    holes: set[tuple[str, str]] = set()
    current, previous, replaced_at, min_wave = sc.service.version, None, 0.0, 0.0
    out: list[Finding] = []
    for at, group in groupby(sorted(sc.plan, key=lambda a: a.at), key=lambda a: a.at):
        actions = list(group)
        running = [current] + (
            [previous] if previous is not None and at - replaced_at <= min_wave else []
        )
        writers = [app_version(sc, n) for n in running]
        for a in actions:
            if a.action != "migrate" or a.pgroll:
                continue
            for o in a.operations:
                op = o.to_operation()
                try:
                    schema = apply(schema, op)
                except SchemaChangeError:
                    return out
                if isinstance(op, AddColumn) and op.default is Default.NONE:
                    holes.add((op.table, op.column))
                elif isinstance(op, Backfill) and not any(
                    _omits(w, schema, op.table, op.column) for w in writers
                ):
                    holes.discard((op.table, op.column))
        deploy = next((a for a in actions if a.action == "deploy"), None)
        if deploy is not None and deploy.version and deploy.version != current:
            new = app_version(sc, deploy.version)
            for t, c in sorted(new.reads & holes):
                out.append(
                    Finding(
                        f"deploy@{_fmt(at)}",
                        None,
                        RULE_READ_BEFORE_BACKFILL,
                        f"{new.name} reads {t}.{c}, but some rows have none yet: it was added "
                        f"without a default and not backfilled after the last version that "
                        f"inserts rows without it ({', '.join(running)}) stopped running; "
                        "backfill (or dual-write) first",
                    )
                )
            previous, current, replaced_at = current, deploy.version, at
            min_wave = min_rollout_s(sc, deploy.version)
        if any(a.action == "rollback" for a in actions) and previous is not None:
            current, previous = previous, None
        # Rows inserted from now on by running versions that omit a column have holes.
        still = previous is not None and at - replaced_at <= min_wave
        for name in {current} | ({previous} if still and previous else set()):
            v = app_version(sc, name)
            for t in {tt for tt, _ in v.writes}:
                table = schema.table(t)
                for col in table.columns if table else ():
                    if not col.has_default and _omits(v, schema, t, col.name):
                        holes.add((t, col.name))
    return out


def lint(sc: Scenario) -> list[Finding]:
    """Unsafe orderings in the plan, as findings (empty without a database section).

    A plan that PostgreSQL itself would refuse (dropping a missing column...) yields one
    finding with rule ``invalid-operation``.
    """
    if sc.database is None:
        return []
    rows = {name: t.rows for name, t in sc.database.tables.items()}
    try:
        found = lint_plan(
            plan_phases(sc),
            sc.database.schema(),
            table_rows=rows,
            big_table_rows=sc.database.big_table_rows,
            pg_version=sc.database.pg_version,
        )
    except SchemaChangeError as exc:
        return [Finding("plan", None, "invalid-operation", str(exc))]
    return found + rollback_findings(sc) + backfill_findings(sc)
