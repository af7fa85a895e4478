"""The database on the fluid data plane: schema errors, incompatible reads, lock waits,
duplicate writes, each with numbers worked out from the scenario and checked on both planes
(the request-level plane decides per request what the fluid plane counts per interval);
and the request-level plane's own database tests, run again on the fluid plane.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
import simpy

from simdeploy import Result, Scenario, simulate
from simdeploy.experiments.agreement import agreement, on_plane
from simdeploy.rules.pg_locks import LockMode
from simdeploy.world.database import Database
from simdeploy.world.recorder import Recorder
from tests.world import test_database, test_lock_queue_requests, test_long_transactions

PLANES = ["requests", "fluid"]
ID = {"name": "id", "nullable": False, "default": True}
USES_NAME = {"reads": {"users": ["id", "name"]}, "writes": {"users": ["id", "name"]}}


def one_pod(plane: str, plan: list[dict[str, Any]], **over: Any) -> Scenario:
    """One pod of 2 workers, 20 req/s of 10 ms each (no queueing to speak of), a 5 s client
    timeout, v1 reading and writing users.name; 1 s buckets."""
    data: dict[str, Any] = {
        "service": {"version": "v1", "replicas": 1, "pod": {"concurrency": 2}},
        "traffic": {"rate": 20, "users": 500, "timeout": "5s", "writeRatio": 0.3},
        "database": {"tables": {"users": {"rows": 1000, "columns": [ID, "name"]}}},
        "versions": {"v1": {"serviceTime": "10ms", **USES_NAME}},
        "plan": plan,
        "simulation": {"duration": "40s", "seed": 5, "dataPlane": plane},
    }
    data.update(over)
    return Scenario.parse(data)


def buckets(r: Result, t0: float, t1: float) -> pd.DataFrame:
    """Timeline rows of the requests that arrived in [t0, t1)."""
    tl = r.timeline
    return tl[(tl["t"] >= t0) & (tl["t"] < t1)]


def migrate(at: str, name: str, op: dict[str, Any]) -> dict[str, Any]:
    return {"at": at, "action": "migrate", "name": name, "operations": [op]}


@pytest.mark.parametrize("plane", PLANES)
def test_every_request_of_a_version_reading_a_dropped_column_is_a_schema_error(
    plane: str,
) -> None:
    # v1 reads and writes users.name; DROP COLUMN name at 20 s (its ACCESS EXCLUSIVE waits
    # for the requests in service, milliseconds). From the next bucket on, every arrival
    # of v1 fails with schema_error: the count is the arrivals, reads and writes alike.
    r = simulate(
        one_pod(
            plane, [migrate("20s", "drop", {"dropColumn": {"table": "users", "column": "name"}})]
        )
    )
    before, after = buckets(r, 0, 20), buckets(r, 21, 40)
    assert before["errors"].sum() == 0 and before["requests"].sum() > 300  # 20 s · 20/s
    assert (after["errors_schema_error"] == after["requests"]).all()
    assert after["requests"].sum() > 300
    assert r.record["errors"] == r.record["schema_errors"]
    assert r.record["errors_by_phase"] == {"before": 0, "drop": r.record["schema_errors"]}


@pytest.mark.parametrize("plane", PLANES)
def test_a_lock_held_8s_times_out_what_arrives_more_than_the_5s_timeout_before_its_end(
    plane: str,
) -> None:
    # A transaction takes ACCESS EXCLUSIVE on users at 10 s for L = 8 s (after the requests
    # in service end: under 10 ms). The 2 workers of the pod take the first 2 arrivals and
    # wait with them (parked); what comes next queues behind. At 18 s the lock goes: every
    # request that arrived before 18 - T = 13 s has waited more than T = 5 s and times out,
    # those after are served: the backlog of 5 s · 20/s = 100 requests drains at 2 workers
    # / 10 ms = 200/s, half a second, so none of them reaches 5 s.
    lt = {"at": "10s", "duration": "8s", "table": "users", "lock": "ACCESS EXCLUSIVE"}
    db = {"tables": {"users": {"rows": 1000, "columns": [ID, "name"]}}, "longTransactions": [lt]}
    r = simulate(one_pod(plane, [], database=db))
    held, late, served = buckets(r, 10, 13), buckets(r, 14, 18), buckets(r, 18, 40)
    assert (held["errors_timeout"] == held["requests"]).all() and held["requests"].sum() > 40
    assert late["errors"].sum() == 0 and late["requests"].sum() > 60
    assert buckets(r, 0, 10)["errors"].sum() == 0 and served["errors"].sum() == 0
    assert r.record["errors"] == r.record["errors_by_cause"]["timeout"]
    # Only the 2 parked requests waited for the lock itself, each from its arrival (the
    # first two after 10 s: within half a second at 20/s, all but surely) to 18 s.
    assert 2 * (8 - 0.5) <= r.record["lock_wait_s"] <= 2 * 8.02


@pytest.mark.parametrize("plane", PLANES)
def test_an_alter_waits_for_the_transactions_of_the_requests_in_service(plane: str) -> None:
    # Requests of a constant 2 s at 20/s: 40 in service at any time, each holding its lock
    # on users, each with a remainder uniform on [0, 2 s]. An ADD COLUMN at 10 s is granted
    # when the last of them ends: on average 2·40/41 ≈ 1.95 s later, and after 1.5 s
    # unless all 40 remainders are under it (0.75^40 ≈ 1e-5).
    add = migrate("10s", "add", {"addColumn": {"table": "users", "column": "email"}})
    sc = one_pod(
        plane,
        [add],
        service={"version": "v1", "replicas": 1, "pod": {"concurrency": 100}},
        versions={"v1": {"serviceTime": "2s", **USES_NAME}},
    )
    r = simulate(sc)
    step = r.events[r.events["reason"] == "MigrationStep"]["t"]
    assert 11.5 <= float(step.iloc[0]) <= 12.0


@pytest.mark.parametrize("plane", PLANES)
def test_a_pod_killed_while_its_workers_wait_for_a_lock_kills_its_whole_queue(
    plane: str,
) -> None:
    # ACCESS EXCLUSIVE on users from 10 s to 40 s. The one v1 pod parks 2 requests and
    # queues the rest; no worker frees up, so nothing in its queue is ever found timed out.
    # A Recreate deploy at 20 s stops it (its endpoint goes at once) and kills it after its
    # 5 s grace period: every request that arrived from 10 s to 20 s is killed in flight,
    # those that waited more than the 5 s timeout too.
    lt = {"at": "10s", "duration": "30s", "table": "users", "lock": "ACCESS EXCLUSIVE"}
    db = {"tables": {"users": {"rows": 1000, "columns": [ID, "name"]}}, "longTransactions": [lt]}
    service = {
        "version": "v1",
        "replicas": 1,
        "strategy": {"type": "Recreate"},
        "pod": {"concurrency": 2, "terminationGracePeriodSeconds": 5},
    }
    sc = one_pod(
        plane,
        [{"at": "20s", "action": "deploy", "version": "v2"}],
        database=db,
        service=service,
        versions={
            "v1": {"serviceTime": "10ms", **USES_NAME},
            "v2": {"serviceTime": "10ms", **USES_NAME},
        },
    )
    r = simulate(sc)
    held = buckets(r, 10, 20)
    assert (held["errors_killed_in_flight"] == held["requests"]).all()
    assert held["requests"].sum() > 150  # 10 s · 20/s


@pytest.mark.parametrize("plane", PLANES)
def test_requests_that_waited_for_a_rename_run_with_the_schema_they_arrived_with(
    plane: str,
) -> None:
    # A report holds ACCESS SHARE on users from 10 s to 30 s; RENAME name TO full_name
    # queues behind it at 12 s, and every request after it waits (PostgreSQL's queue).
    # At 30 s the rename runs: what arrived in its last 5 s (the timeout) is then served,
    # with the access compiled when it arrived (name still there): no error. What arrives
    # after the rename reads name, which was renamed: schema_error, every one.
    lt = {"at": "10s", "duration": "20s", "table": "users", "lock": "ACCESS SHARE"}
    db = {"tables": {"users": {"rows": 1000, "columns": [ID, "name"]}}, "longTransactions": [lt]}
    rename = {"renameColumn": {"table": "users", "column": "name", "newName": "full_name"}}
    r = simulate(one_pod(plane, [migrate("12s", "rename", rename)], database=db))
    waited, served, renamed = buckets(r, 12, 25), buckets(r, 26, 30), buckets(r, 31, 40)
    assert (waited["errors_timeout"] == waited["requests"]).all()
    assert served["errors"].sum() == 0 and served["requests"].sum() > 50
    assert (renamed["errors_schema_error"] == renamed["requests"]).all()


@pytest.mark.parametrize("plane", PLANES)
def test_incompatible_reads_grow_with_the_rows_written_without_the_column(plane: str) -> None:
    # 1000 rows; v1 reads users.full_name but its writes leave it empty: 50 writes/s add
    # rows without it, so at t a read finds it missing with p(t) = 50t / (1000 + 50t).
    # Reads are 50/s: E[data_incompatible over 60 s] = ∫ 50·p(t) dt
    # = 50·(60 - 20·ln(4000/1000)) = 1613.7 (Poisson-binomial sd about 30).
    v1 = {"reads": {"users": ["id", "full_name"]}, "writes": {"users": ["id", "name"]}}
    table = {"rows": 1000, "columns": [ID, "name", "full_name"]}
    sc = one_pod(
        plane,
        [],
        database={"tables": {"users": table}},
        versions={"v1": {"serviceTime": "10ms", **v1}},
        traffic={"rate": 100, "users": 500, "timeout": "5s", "writeRatio": 0.5},
        service={"version": "v1", "replicas": 2},
        simulation={"duration": "60s", "seed": 5, "dataPlane": plane},
    )
    expected = 50 * (60 - 20 * math.log(4))
    rec = simulate(sc).record
    assert rec["data_incompatible_errors"] == pytest.approx(expected, abs=5 * 30)
    assert rec["errors"] == rec["data_incompatible_errors"]


def shadow(plane: str, email_at: str) -> Scenario:
    """v1 serves; every request is copied to v2 (shared database), which also writes
    users.email, a column added at ``email_at``. No analysis: the shadow runs to the end."""
    v2 = {"serviceTime": "10ms", **USES_NAME, "writes": {"users": ["id", "name", "email"]}}
    deploy = {
        "at": "5s",
        "action": "deploy",
        "version": "v2",
        "strategy": {"shadow": {"duration": "10m", "analysis": None}},
    }
    add = migrate(email_at, "add", {"addColumn": {"table": "users", "column": "email"}})
    return one_pod(
        plane,
        [deploy, add],
        versions={"v1": {"serviceTime": "10ms", **USES_NAME}, "v2": v2},
        service={"version": "v1", "replicas": 2},
        traffic={"rate": 100, "users": 500, "timeout": "5s", "writeRatio": 0.3},
        simulation={"duration": "60s", "seed": 5, "dataPlane": plane},
    )


@pytest.mark.parametrize("plane", PLANES)
def test_a_mirrored_write_is_a_duplicate_only_when_it_succeeds(plane: str) -> None:
    # 30% of requests are writes. With users.email there from the start (added at 0 s),
    # every copied write succeeds against the shared database: duplicates = 0.3 · copies
    # (binomial sd sqrt(0.21 · copies)); no mismatch. Without it (added after the run),
    # every copied write fails (schema_error): no duplicate, and each one is a mismatch
    # with its user request, which succeeded: mismatches = 0.3 · copies.
    ok = simulate(shadow(plane, "0s")).record
    copies = ok["mirrored_requests"]
    assert copies > 2000  # from when v2 is ready, 100/s
    assert ok["duplicate_writes"] == pytest.approx(0.3 * copies, abs=5 * math.sqrt(0.21 * copies))
    assert ok["shadow_mismatches"] == 0
    failing = simulate(shadow(plane, "59s")).record
    copies = failing["mirrored_requests"]
    assert failing["duplicate_writes"] <= 0.3 * 150  # only in the last second, after 59 s
    assert failing["shadow_mismatches"] == pytest.approx(
        0.3 * copies, abs=5 * math.sqrt(0.21 * copies) + 0.3 * 150
    )
    assert failing["errors"] == 0  # the copies' errors reach no user


def test_an_index_build_that_stops_writes_agrees_with_the_request_level_plane() -> None:
    # CREATE INDEX (SHARE) on 200,000 rows at 50,000 rows/s: 4 s during which writes wait
    # and reads go on, until every worker of a pod holds a waiting write and the reads
    # queue behind them too; 6 seeds, every metric within the 95% CIs.
    index = {"createIndex": {"table": "users", "name": "users_name", "columns": ["name"]}}
    sc = one_pod(
        "requests",
        [migrate("20s", "index", index)],
        database={
            "rowsPerSecond": 50_000,
            "tables": {"users": {"rows": 200_000, "columns": [ID, "name"]}},
        },
        service={"version": "v1", "replicas": 4},
        traffic={"rate": 100, "users": 500, "timeout": "2s", "writeRatio": 0.3},
    )
    table = agreement(sc, 6)
    assert table["agree"].all(), table[~table["agree"]].to_string()
    waits = table.set_index("metric").loc["lock_wait_s"]
    assert waits["requests_mean"] > 50 and waits["fluid_mean"] > 50


def flagged_read(plane: str) -> Scenario:
    """A flag on for 40% of users whose code path reads users.email, added at 20 s."""
    flag = {"rollout": 40, "feature": {"errorRate": 0.01, "reads": {"users": ["id", "email"]}}}
    add = migrate("20s", "add-email", {"addColumn": {"table": "users", "column": "email"}})
    return one_pod(
        plane,
        [add],
        flags={"email": flag},
        service={"version": "v1", "replicas": 2},
        traffic={"rate": 100, "users": 2000, "timeout": "5s", "writeRatio": 0.3},
    )


@pytest.mark.parametrize(
    "make",
    [
        # The flagged reads fail (schema_error) until 20 s, then find email in no row
        # (added without a default, and v1's writes leave it empty): data_incompatible.
        pytest.param(lambda: flagged_read("requests"), id="flag-reads-a-new-column"),
        # Copies whose writes fail on the schema until 30 s: mismatches by kind.
        pytest.param(lambda: shadow("requests", "30s"), id="shadow-writes-a-new-column"),
    ],
)
def test_flags_and_mirrors_with_a_database_agree_with_the_request_level_plane(
    make: Callable[[], Scenario],
) -> None:
    table = agreement(make(), 6)
    assert table["agree"].all(), table[~table["agree"]].to_string()


# --- the database's calls for many requests at once ----------------------------------------


def database() -> Database:
    sc = one_pod("requests", [])
    assert sc.database is not None
    env = simpy.Environment()
    return Database(env, sc.database, dict(sc.versions), Recorder(("v1",), 10.0, 1.0))


def test_count_writes_and_incompatible_share_are_finish_for_many_requests() -> None:
    # ADD COLUMN email without a default: none of the 1000 rows has it. v1's writes (id,
    # name) leave it empty: 30 of them one by one (finish) and 30 at once (count_writes)
    # make 1060 rows, none with email. A read of email fails with share 1060/1060; v1's own
    # reads (id, name, always written) never do. A read of email after 1000 writes that
    # fill it: (1060)/(2060) of the rows lack it.
    from simdeploy.rules.migrations import AddColumn

    db = database()
    db._apply(AddColumn("users", "email"))
    writes = db.access("v1", True)
    for _ in range(30):
        assert db.finish(writes, 0.5) == 0
    db.count_writes(writes, 30)
    assert db.rows["users"] == 1060 and db.missing[("users", "email")] == 1060
    email = (("users", ("email",)),)
    assert db.incompatible_share(db.access("v1", False, ((email, ()),))) == 1.0
    assert db.incompatible_share(db.access("v1", False)) == 0.0
    db.count_writes(db.access("v1", True, (((), email),)), 1000)
    share = db.incompatible_share(db.access("v1", False, ((email, ()),)))
    assert share == pytest.approx(1060 / 2060)


def test_an_access_of_a_past_epoch_uses_the_schema_of_then() -> None:
    # After RENAME name TO full_name, v1's reads fail; a request that arrived before it
    # (epoch 0) still has the access compiled then, without an error.
    from simdeploy.rules.migrations import RenameColumn

    db = database()
    db._apply(RenameColumn("users", "name", "full_name"))
    assert db.epoch == 1
    assert db.access("v1", False).error is not None
    assert db.access("v1", False, epoch=0).error is None
    assert db.access("v1", False, (), 1) is db.access("v1", False)


def test_the_database_calls_back_before_each_change_it_makes() -> None:
    # The fluid plane counts the traffic up to each change first: every lock taken,
    # queued, given up or released, the schema, the phase, and the rows a migration reads.
    db = database()
    seen: list[str] = []
    db.before_change = seen.append
    locks = db.table_locks("users")
    owner = object()
    locks.acquire(owner, LockMode.ACCESS_EXCLUSIVE)
    locks.release(owner)
    from simdeploy.rules.migrations import AddColumn

    db._apply(AddColumn("users", "email"))
    assert seen == ["locks", "locks", "schema"]


# --- the request-level plane's database tests, on the fluid plane --------------------------

#: The modules whose tests run whole scenarios with a database (``simulate``); the others
#: (test_backfill, test_database_schema_versions) drive the Database without traffic.
MODULES = (test_database, test_lock_queue_requests, test_long_transactions)


def _cases() -> list[Any]:
    out = []
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[1]
        for name, fn in vars(module).items():
            if not name.startswith("test_") or not inspect.isfunction(fn):
                continue
            if "simulate(" not in inspect.getsource(fn):
                continue
            marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
            if not marks:
                out.append(pytest.param(module, name, {}, id=f"{short}::{name}"))
                continue
            (mark,) = marks
            argname, values = mark.args[0], mark.args[1]
            ids = mark.kwargs.get("ids") or [str(i) for i in range(len(values))]
            for value, i in zip(values, ids, strict=True):
                case = f"{short}::{name}[{i}]"
                out.append(pytest.param(module, name, {argname: value}, id=case))
    return out


def _on_fluid(run: Callable[..., Result]) -> Callable[..., Result]:
    def fluid(sc: Scenario, *args: Any, **kwargs: Any) -> Result:
        return run(on_plane(sc, "fluid"), *args, **kwargs)

    return fluid


@pytest.mark.parametrize(("module", "name", "args"), _cases())
def test_the_database_behaves_the_same_on_the_fluid_plane(
    module: ModuleType, name: str, args: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each test of the request-level database model (schema errors, incompatible data,
    # lock queues and timeouts, migration costs, backfills, pgroll), its scenario run on
    # the fluid plane instead: the same assertions hold.
    monkeypatch.setattr(module, "simulate", _on_fluid(module.simulate))
    getattr(module, name)(**args)


def test_the_cases_cover_every_database_test_that_runs_a_scenario() -> None:
    names = {c.id.split("[")[0] for c in _cases()}
    assert (
        "test_database::test_an_alter_without_lock_timeout_queues_every_request_until_the_transaction_ends"
        in names
    )
    assert len(_cases()) >= 25
