"""Requests parked in a table's lock queue (``DataPlane._park`` / ``_unpark``): they stay
parked until nothing queued ahead conflicts, even when the queue moves for other reasons;
and a request killed while parked takes no lock when the queue finally lets it through.

The shape: a report holds ACCESS SHARE on users from 10 s to 50 s; an ADD COLUMN without
lock_timeout queues behind it at 20 s (ACCESS EXCLUSIVE), so every later request on users
queues behind the ADD COLUMN (PostgreSQL's lock queue) until 50 s.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from simdeploy import Result, Scenario, simulate
from tests.conftest import base_dict

ID = {"name": "id", "nullable": False, "default": True}
USES_NAME = {"reads": {"users": ["id", "name"]}, "writes": {"users": ["id", "name"]}}
REPORT = {"at": "10s", "duration": "40s", "table": "users", "lock": "ACCESS SHARE"}


def add_column(at: str, name: str, column: str) -> dict[str, Any]:
    return {
        "at": at,
        "action": "migrate",
        "name": name,
        "operations": [{"addColumn": {"table": "users", "column": column}}],
    }


def lock_queue(*plan: dict[str, Any], duration: str = "60s", **over: Any) -> Scenario:
    return Scenario.parse(
        base_dict(
            database={
                "tables": {"users": {"rows": 2000, "columns": [ID, "name"]}},
                "longTransactions": [REPORT],
            },
            traffic={"rate": 50, "users": 500, "timeout": "5s"},
            versions={
                "v1": {"serviceTime": "100ms", **USES_NAME},
                "v2": {"serviceTime": "100ms", **USES_NAME},
            },
            plan=[add_column("20s", "add", "full_name"), *plan],
            simulation={"duration": duration, "seed": 3},
            **over,
        )
    )


def events(r: Result, reason: str) -> pd.DataFrame:
    return r.events[r.events["reason"] == reason]


def test_no_request_behind_the_queued_alter_is_served_before_the_report_ends() -> None:
    r = simulate(lock_queue())
    tl = r.timeline
    # Requests take 100 ms: those in service at 20 s end by 20.1 s and the queue moves
    # (the ADD COLUMN is still blocked by the report); no parked request may slip through.
    # Every arrival from 20 s to 45 s (50 s − the 5 s client timeout) times out.
    queued = tl[(tl.t >= 20) & (tl.t < 45)]
    assert queued["requests"].sum() > 1000  # ~50 req/s × 25 s
    assert queued["ok"].sum() == 0
    assert queued["errors_timeout"].sum() == queued["requests"].sum()


def test_a_request_killed_while_parked_takes_no_lock_when_the_queue_moves() -> None:
    # A rolling update from 25 s deletes the v1 pods with a grace of 5 s: SIGKILL kills
    # the requests parked on them. When the report ends at 50 s the ADD COLUMN runs and
    # the queue lets the parked requests through: the dead ones must not take a lock,
    # or a later ALTER (at 60 s) would wait for it forever.
    r = simulate(
        lock_queue(
            {"at": "25s", "action": "deploy", "version": "v2"},
            add_column("60s", "add-nick", "nick"),
            duration="80s",
            service={"pod": {"terminationGracePeriodSeconds": 5}},
        )
    )
    sigkills = events(r, "SIGKILL")["message"]
    assert len(sigkills) > 0 and all(not m.startswith("0 ") for m in sigkills)
    assert r.record["errors_by_cause"]["killed_in_flight"] > 0
    done = events(r, "MigrationCompleted")
    assert done["object"].tolist() == ["add", "add-nick"]
    assert float(done["t"].iloc[1]) < 61.0  # add-nick gets its lock at once
