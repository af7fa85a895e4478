"""Backfills on the :class:`Database` itself: batches until no row misses the column (the
last, partial batch included), and nothing to do for a column no row misses.

No traffic: a bare SimPy environment runs one migration; rows stay as the spec sets them.
"""

from __future__ import annotations

from typing import Any

import pytest
import simpy

from simdeploy import Scenario
from simdeploy.world.database import Database
from simdeploy.world.recorder import Recorder
from tests.conftest import base_dict

ID = {"name": "id", "nullable": False, "default": True}


def run_migration(*ops: dict[str, Any]) -> tuple[Database, Recorder]:
    """1001 users (id, name), 1000 rows/s; one migration of ``ops`` at 0 s, run to its end."""
    sc = Scenario.parse(
        base_dict(
            database={
                "rowsPerSecond": 1000,
                "tables": {"users": {"rows": 1001, "columns": [ID, "name"]}},
            },
            plan=[{"at": "0s", "action": "migrate", "name": "m", "operations": list(ops)}],
        )
    )
    assert sc.database is not None
    env = simpy.Environment()
    recorder = Recorder(("v1", "v2"), 60.0, 1.0)
    db = Database(env, sc.database, dict(sc.versions), recorder)
    env.process(db.migrate(sc.plan[0]))
    env.run()
    return db, recorder


def steps(recorder: Recorder) -> list[tuple[str, float]]:
    """(reason, t) of the migration's events after MigrationStarted."""
    return [(e.reason, e.t) for e in recorder.events[1:]]


def backfill(column: str, **extra: Any) -> dict[str, Any]:
    return {"backfill": {"table": "users", "column": column, "batchSize": 500, **extra}}


ADD_NICK = {"addColumn": {"table": "users", "column": "nick"}}


def test_a_backfill_runs_its_last_partial_batch_and_leaves_no_row_missing() -> None:
    not_null = {"setNotNull": {"table": "users", "column": "nick"}}
    db, recorder = run_migration(ADD_NICK, backfill("nick"), not_null)
    # 1001 rows miss nick: batches of 500 at 1000 rows/s are 0.5 s each; 500 + 500 + 1
    # is three batches, 1.5 s. SET NOT NULL then finds no NULL and succeeds.
    (add_t, fill_t, nn_t, done_t) = (t for _, t in steps(recorder))
    assert [r for r, _ in steps(recorder)] == ["MigrationStep"] * 3 + ["MigrationCompleted"]
    assert nn_t - fill_t == pytest.approx(1.5)
    assert db.missing[("users", "nick")] == 0
    assert done_t >= nn_t >= fill_t >= add_t


def test_backfilling_a_column_no_row_misses_takes_no_time() -> None:
    # name is in the table's spec: every row has it, there is no batch to run.
    db, recorder = run_migration(backfill("name"))
    assert steps(recorder) == [("MigrationStep", 0.0), ("MigrationCompleted", 0.0)]
    assert db.missing.get(("users", "name"), 0) == 0


def test_the_batch_delay_comes_between_batches_not_after_the_last() -> None:
    db, recorder = run_migration(ADD_NICK, backfill("nick", batchDelay="250ms"))
    # Three batches of 0.5 s (500 + 500 + 1 rows) and a 0.25 s pause after each batch that
    # leaves rows missing (1001 → 501 → 1 → 0: the first two): 3 × 0.5 + 2 × 0.25 = 2.0 s.
    (_, fill_t, done_t) = (t for _, t in steps(recorder))
    assert done_t - fill_t == pytest.approx(2.0)
    assert db.missing[("users", "nick")] == 0
