"""pgroll's two schema versions on the :class:`Database` itself: what each app version sees
after ``pgroll_start``, ``complete`` and ``pgroll_rollback``, the events each one logs, and
the per-epoch cache of request accesses that every schema change must renew.

No traffic: a bare SimPy environment, the database and a recorder; the app versions' accesses
are asked for directly (``Database.access``), the way the data plane asks on each request.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simdeploy import Scenario
from simdeploy.spec.metrics import FIRST_PHASE
from simdeploy.spec.plan import Action
from simdeploy.world.database import Database
from simdeploy.world.recorder import Event, Recorder
from tests.conftest import base_dict

ID = {"name": "id", "nullable": False, "default": True}
RENAME = {
    "at": "5s",
    "action": "migrate",
    "name": "rename",
    "pgroll": True,
    "version": "v2",
    "operations": [{"renameColumn": {"table": "users", "column": "name", "newName": "full_name"}}],
}
DROP_NAME = {
    "at": "30s",
    "action": "migrate",
    "name": "contract",
    "operations": [{"dropColumn": {"table": "users", "column": "name"}}],
}
#: v1 uses ``name``, v2 the same column renamed ``full_name``.
VERSIONS = {
    "v1": {"reads": {"users": ["id", "name"]}, "writes": {"users": ["id", "name"]}},
    "v2": {"reads": {"users": ["id", "full_name"]}, "writes": {"users": ["id", "full_name"]}},
}
V1_NAME_RENAMED = "reads users.name, which was renamed to full_name"
V1_NAME_DROPPED = "reads users.name, which was dropped"
V2_FULL_NAME_MISSING = "reads users.full_name, which does not exist"


def world(*plan: dict[str, Any]) -> tuple[simpy.Environment, Database, Recorder, list[Action]]:
    """A users table (id, name) and the scenario's plan actions, nothing run yet."""
    sc = Scenario.parse(
        base_dict(
            database={"tables": {"users": {"rows": 2000, "columns": [ID, "name"]}}},
            versions=VERSIONS,
            plan=list(plan),
        )
    )
    assert sc.database is not None
    env = simpy.Environment()
    recorder = Recorder(("v1", "v2"), 60.0, 1.0)
    return env, Database(env, sc.database, dict(sc.versions), recorder), recorder, sc.plan


def at(env: simpy.Environment, t: float) -> None:
    env.run(until=t)


def read_error(db: Database, version: str) -> str | None:
    return db.access(version, write=False).error


def test_pgroll_start_shows_the_new_schema_only_to_its_version() -> None:
    env, db, recorder, (rename,) = world(RENAME)
    at(env, 5.0)
    assert read_error(db, "v2") == V2_FULL_NAME_MISSING  # before: no full_name yet
    assert db.pgroll_start(rename) is True
    # v2 reads full_name in the new schema version; v1 keeps reading name in the old one.
    assert read_error(db, "v2") is None and read_error(db, "v1") is None
    assert db.phase == "rename"
    assert recorder.events == [
        Event(
            5.0,
            "PgrollStarted",
            "rename",
            "v2",
            "1 operation; old and new schema versions both live",
        )
    ]


def test_a_pgroll_start_postgres_would_refuse_logs_the_error_and_changes_nothing() -> None:
    # At run time the schema can differ from the plan's (an earlier migration that failed
    # on its lock_timeout): here the column to rename does not exist.
    env, db, recorder, _ = world(RENAME)  # (the plan's own rename is not started)
    at(env, 5.0)
    rename_nick = Action.model_validate(
        {
            **RENAME,
            "operations": [
                {"renameColumn": {"table": "users", "column": "nick", "newName": "full_name"}}
            ],
        }
    )
    assert db.pgroll_start(rename_nick) is False
    assert recorder.events == [
        Event(
            5.0, "MigrationError", "rename", "", 'column "nick" of relation "users" does not exist'
        )
    ]
    # Still the first phase, no schema version pending: v2 sees the one schema, no full_name.
    assert db.phase == FIRST_PHASE and db.pending is None
    assert read_error(db, "v2") == V2_FULL_NAME_MISSING


def test_complete_moves_every_version_to_the_new_schema_once() -> None:
    env, db, recorder, (rename,) = world(RENAME)
    at(env, 5.0)
    db.pgroll_start(rename)
    assert read_error(db, "v1") is None
    at(env, 20.0)
    db.complete()
    # The old schema version is gone: v1 reading name now fails, v2 still works.
    assert read_error(db, "v1") == V1_NAME_RENAMED and read_error(db, "v2") is None
    # A second complete, or a rollback after complete, has nothing left to act on.
    at(env, 30.0)
    db.complete()
    db.pgroll_rollback()
    assert read_error(db, "v1") == V1_NAME_RENAMED and read_error(db, "v2") is None
    assert recorder.events[1:] == [Event(20.0, "PgrollCompleted", "rename")]


def test_pgroll_rollback_takes_the_new_schema_away_from_its_version() -> None:
    # The plan's rollback at 12 s ends the pgroll migration (validation refuses a migration
    # while one is in progress); the test plays it by hand on the bare Database.
    env, db, recorder, (rename, _, drop) = world(
        RENAME, {"at": "12s", "action": "rollback"}, DROP_NAME
    )
    at(env, 5.0)
    assert read_error(db, "v2") == V2_FULL_NAME_MISSING
    db.pgroll_start(rename)
    assert read_error(db, "v2") is None and read_error(db, "v1") is None
    at(env, 12.0)
    db.pgroll_rollback()
    # Back to the one old schema: v2's reads of full_name fail again, v1's still work.
    assert read_error(db, "v2") == V2_FULL_NAME_MISSING and read_error(db, "v1") is None
    assert recorder.events[1:] == [Event(12.0, "PgrollRolledBack", "rename")]

    # A later plain migration drops name: v1's reads fail from then on (the access cached
    # while pgroll's views were live must not come back).
    def contract() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(30.0 - env.now)
        ok = yield from db.migrate(drop)
        assert ok

    env.process(contract())
    at(env, 40.0)
    assert read_error(db, "v1") == V1_NAME_DROPPED


def test_pgroll_start_after_a_plain_migration_renews_the_cached_accesses() -> None:
    add_nick = {
        "at": "2s",
        "action": "migrate",
        "name": "expand",
        "operations": [{"addColumn": {"table": "users", "column": "nick"}}],
    }
    env, db, _, (expand, rename) = world(add_nick, RENAME)
    assert read_error(db, "v2") == V2_FULL_NAME_MISSING  # asked at 0 s, before either

    def plan() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(2.0)
        ok = yield from db.migrate(expand)
        assert ok

    env.process(plan())
    at(env, 5.0)
    assert "nick" in [c.name for c in db.schema.table("users").columns]  # type: ignore[union-attr]
    # v2 asked (and failed) after the plain migration, before pgroll started ...
    assert read_error(db, "v2") == V2_FULL_NAME_MISSING
    db.pgroll_start(rename)
    # ... and sees full_name as soon as pgroll has started.
    assert read_error(db, "v2") is None
