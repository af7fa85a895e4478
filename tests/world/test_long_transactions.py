"""Long transactions (a report, a pg_dump, an idle transaction) on the database: the events
they log, the lock each one holds on its own, and who is first in the lock queue when one
starts at the same instant as a migration.

Unit runs on a bare SimPy environment (the database, a recorder, no traffic), and one small
simulation for the tie at 0 s, which depends on the order the run starts its processes in.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy

from simdeploy import Scenario, simulate
from simdeploy.rules.pg_locks import LockMode
from simdeploy.world.database import Database
from simdeploy.world.recorder import Event, Recorder
from tests.conftest import base_dict

ID = {"name": "id", "nullable": False, "default": True}
USES_NAME = {"reads": {"users": ["id", "name"]}, "writes": {"users": ["id", "name"]}}
ADD_NICK = {
    "action": "migrate",
    "name": "add",
    "operations": [{"addColumn": {"table": "users", "column": "nick"}}],
}


def scenario(at: str, **over: Any) -> Scenario:
    """A users table of 2000 rows, v1 steady, an ADD COLUMN (no lock_timeout) at ``at``."""
    return Scenario.parse(
        base_dict(
            database={"tables": {"users": {"rows": 2000, "columns": [ID, "name"]}}, **over},
            traffic={"rate": 20, "users": 100, "timeout": "5s"},
            versions={"v1": USES_NAME, "v2": USES_NAME},
            plan=[{"at": at, **ADD_NICK}],
            simulation={"duration": "30s", "seed": 3},
        )
    )


def database(sc: Scenario) -> tuple[simpy.Environment, Database, Recorder]:
    assert sc.database is not None
    env = simpy.Environment()
    recorder = Recorder(("v1", "v2"), 60.0, 1.0)
    return env, Database(env, sc.database, dict(sc.versions), recorder), recorder


def test_a_long_transaction_logs_its_table_lock_and_duration_at_its_own_times() -> None:
    env, db, recorder = database(scenario("20s"))
    # Started late (at 5 s): ``at`` is a time of the run, not a delay from the start.
    env.run(until=5.0)
    env.process(db.long_transaction("users", LockMode.SHARE_UPDATE_EXCLUSIVE, 10.0, 40.0))
    env.run()
    assert recorder.events == [
        Event(10.0, "LongTransaction", "users", "", "holds SHARE UPDATE EXCLUSIVE for 40s"),
        Event(50.0, "LongTransactionEnded", "users"),  # 10 s + 40 s
    ]


def test_overlapping_long_transactions_each_hold_their_own_lock() -> None:
    sc = scenario("25s")
    env, db, recorder = database(sc)
    # Two reports on users from 10 s: one for 10 s, one for 40 s. The ADD COLUMN at 25 s
    # (ACCESS EXCLUSIVE) comes after the first ended (20 s) and waits for the second (50 s).
    for duration in (10.0, 40.0):
        env.process(db.long_transaction("users", LockMode.ACCESS_SHARE, 10.0, duration))

    def plan() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(25.0)
        yield from db.migrate(sc.plan[0])

    env.process(plan())
    env.run()
    times = {e.reason: e.t for e in recorder.events if e.reason.startswith("Migration")}
    assert times["MigrationStarted"] == 25.0
    assert times["MigrationStep"] == 50.0
    assert db.lock_wait_s == pytest.approx(50.0 - 25.0)


def test_a_long_transaction_at_0s_is_in_place_before_a_migration_planned_at_0s() -> None:
    # As for any other instant (its timer was set before the plan's): the report takes
    # ACCESS SHARE first; the ADD COLUMN queues until it ends at 0 s + 10 s.
    report = {"at": "0s", "duration": "10s", "table": "users", "lock": "ACCESS SHARE"}
    r = simulate(scenario("0s", longTransactions=[report]))
    ev = r.events.set_index("reason")["t"]
    assert ev["LongTransaction"] == 0.0 and ev["MigrationStarted"] == 0.0
    assert ev["LongTransactionEnded"] == pytest.approx(10.0)
    assert ev["MigrationStep"] == pytest.approx(10.0)
