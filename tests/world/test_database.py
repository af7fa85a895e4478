"""The shared database on the request path: schema errors, incompatible data, lock queues,
migration costs and pgroll, each checked on what a run reports (summary, timeline, events).

Scenarios are small (50 req/s, a few hundred users, about a minute); the bundled
expand-contract and not-null files are run as they are, at a lower rate where that helps.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pandas as pd
import pytest

from simdeploy import Result, Scenario, load_scenario, simulate
from tests.conftest import SCENARIOS, base_dict

ID = {"name": "id", "nullable": False, "default": True}
USES_NAME = {"reads": {"users": ["id", "name"]}, "writes": {"users": ["id", "name"]}}


def with_errors(by_phase: dict[str, int]) -> dict[str, int]:
    """The phases that had errors (``errors_by_phase`` names every phase, 0 included)."""
    return {phase: n for phase, n in by_phase.items() if n}


def users_db(rows: int = 2000, **extra: Any) -> dict[str, Any]:
    return {"tables": {"users": {"rows": rows, "columns": [ID, "name"]}}, **extra}


def db_scenario(
    versions: dict[str, Any],
    plan: list[dict[str, Any]],
    duration: str = "60s",
    database: dict[str, Any] | None = None,
    traffic: dict[str, Any] | None = None,
    **over: Any,
) -> Scenario:
    """base_dict with a users table, the given versions and plan, 50 req/s and 500 users."""
    return Scenario.parse(
        base_dict(
            database=database or users_db(),
            traffic={
                "rate": 50,
                "users": 500,
                "writeRatio": 0.3,
                "timeout": "5s",
                **(traffic or {}),
            },
            versions=versions,
            plan=plan,
            simulation={"duration": duration, "seed": 3},
            **over,
        )
    )


def migrate(at: str, name: str, *ops: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"at": at, "action": "migrate", "name": name, "operations": list(ops), **kw}


def add_full_name(at: str = "5s") -> dict[str, Any]:
    return migrate(
        at, "expand", {"addColumn": {"table": "users", "column": "full_name"}}, lockTimeout="2s"
    )


def events(result: Result, reason: str) -> pd.DataFrame:
    return result.events[result.events["reason"] == reason]


def event_time(result: Result, reason: str) -> float:
    ev = events(result, reason)
    assert len(ev) == 1, (reason, ev)
    return float(ev["t"].iloc[0])


def step_seconds(result: Result) -> list[float]:
    """The time each MigrationStep ran until the next step or the end of the migration."""
    ev = result.events[result.events["reason"].isin(["MigrationStep", "MigrationCompleted"])]
    t = ev["t"].tolist()
    return [b - a for a, b in pairwise(t)]


def since(result: Result, t0: float, t1: float = float("inf")) -> pd.DataFrame:
    """Timeline rows of the requests that arrived in [t0, t1)."""
    tl = result.timeline
    return tl[(tl["t"] >= t0) & (tl["t"] < t1)]


# --- expand-contract and its unsafe variants ----------------------------------------------


def test_expand_contract_has_no_schema_or_data_errors() -> None:
    sc = load_scenario(SCENARIOS / "expand-contract.yaml")
    sc = sc.model_copy(update={"traffic": sc.traffic.model_copy(update={"rate": 50.0})})
    r = simulate(sc)
    rec = r.record
    assert rec["schema_errors"] == 0 and rec["data_incompatible_errors"] == 0
    assert rec["errors"] == 0 and not any(rec["errors_by_phase"].values())
    done = events(r, "MigrationCompleted")["object"].tolist()
    assert done == ["expand", "backfill", "contract"]
    # Each of the four versions served users along the way.
    assert all(r.timeline[f"requests[{v}]"].sum() > 0 for v in ("v1", "v2", "v3", "v4"))


def test_drop_column_during_the_rolling_update_is_a_schema_error_of_the_old_version() -> None:
    sc = db_scenario(
        {"v1": USES_NAME, "v2": {"reads": {"users": ["id"]}, "writes": {"users": ["id"]}}},
        [
            {"at": "10s", "action": "deploy", "version": "v2"},
            migrate(
                "10s",
                "contract",
                {"dropColumn": {"table": "users", "column": "name"}},
                lockTimeout="2s",
            ),
        ],
    )
    r = simulate(sc)
    rec, tl = r.record, r.timeline
    assert rec["schema_errors"] > 0
    assert rec["errors"] == rec["schema_errors"] == tl["errors[v1]"].sum()
    assert tl["errors[v2]"].sum() == 0
    assert with_errors(rec["errors_by_phase"]) == {"contract": rec["errors"]}
    # Only while v1 pods served: none once the rollout has replaced them all.
    done = event_time(r, "RolloutCompleted")
    assert since(r, 0, 10)["errors"].sum() == 0
    assert since(r, done + 1)["errors"].sum() == 0


def test_reading_a_new_column_before_the_backfill_is_data_incompatible() -> None:
    v2 = {"reads": {"users": ["id", "full_name"]}, "writes": {"users": ["id", "name", "full_name"]}}
    sc = db_scenario(
        {"v1": USES_NAME, "v2": v2},
        [
            add_full_name("5s"),
            {"at": "10s", "action": "deploy", "version": "v2"},
            migrate(
                "40s",
                "backfill",
                {"backfill": {"table": "users", "column": "full_name", "batchSize": 500}},
            ),
        ],
        duration="70s",
        database=users_db(rowsPerSecond=1000),
    )
    r = simulate(sc)
    rec, tl = r.record, r.timeline
    assert rec["data_incompatible_errors"] > 0 and rec["schema_errors"] == 0
    assert rec["errors"] == rec["data_incompatible_errors"]
    assert tl["errors[v1]"].sum() == 0  # v1 never reads full_name
    assert rec["errors_by_phase"]["expand"] > 0
    assert set(with_errors(rec["errors_by_phase"])) <= {"expand", "backfill"}
    # The backfill (2000 rows at 1000 rows/s) fills every row: no incompatible read after it.
    end = events(r, "MigrationCompleted")
    end_t = float(end[end["object"] == "backfill"]["t"].iloc[0])
    assert 41.5 <= end_t <= 43.5
    assert since(r, end_t + 1)["errors_data_incompatible"].sum() == 0


def test_not_null_before_the_old_writers_left_fails_only_the_old_writes() -> None:
    r = simulate(load_scenario(SCENARIOS / "not-null-too-early.yaml"))
    rec, tl = r.record, r.timeline
    assert rec["schema_errors"] > 0 and rec["errors"] == rec["schema_errors"]
    assert tl["errors[v1]"].sum() > 0
    assert tl["errors[v2]"].sum() == 0  # v2 writes full_name
    assert with_errors(rec["errors_by_phase"]) == {"not-null": rec["errors"]}
    # Only v1's writes fail (writeRatio 0.3); its reads keep working.
    done = float(events(r, "MigrationCompleted")["t"].iloc[0])
    after = since(r, done + 1)
    after = after[after["requests[v1]"] > 0]
    share = after["errors[v1]"].sum() / after["requests[v1]"].sum()
    assert 0.2 < share < 0.4


# --- rollbacks and the data the new version wrote ----------------------------------------


def rollback_scenario(v2: dict[str, Any], rollback_at: int) -> Scenario:
    return db_scenario(
        {"v1": USES_NAME, "v2": v2},
        [
            add_full_name("5s"),
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": f"{rollback_at}s", "action": "rollback"},
        ],
        duration=f"{rollback_at + 40}s",
        traffic={"writeRatio": 0.5},
    )


def test_a_rollback_after_an_additive_migration_is_safe() -> None:
    v2 = {"reads": {"users": ["id", "name"]}, "writes": {"users": ["id", "name", "full_name"]}}
    r = simulate(rollback_scenario(v2, 40))
    rec = r.record
    assert rec["outcome"] == "rolled_back"
    assert r.timeline["requests[v2]"].sum() > 0
    assert rec["schema_errors"] == rec["data_incompatible_errors"] == rec["errors"] == 0


def test_a_rollback_after_new_only_writes_is_data_incompatible_growing_with_the_rows() -> None:
    v2 = {"reads": {"users": ["id"]}, "writes": {"users": ["id", "full_name"]}}
    shares = []
    for rollback_at in (40, 80):
        r = simulate(rollback_scenario(v2, rollback_at))
        rec, tl = r.record, r.timeline
        assert rec["outcome"] == "rolled_back"
        assert rec["errors"] == rec["data_incompatible_errors"] > 0
        assert tl["errors[v2]"].sum() == 0  # v2 never reads name
        # Nothing while v2 alone serves (v1 pods still serving during the rolling update
        # may already meet a few of v2's rows).
        assert since(r, event_time(r, "RolloutCompleted") + 1, rollback_at)["errors"].sum() == 0
        # Once back on v1 (the undo takes about 20 s): the share of v1's reads that meet a
        # row v2 wrote without name.
        window = since(r, rollback_at + 20)
        assert window["requests[v2]"].sum() == 0
        shares.append(window["errors_data_incompatible"].sum() / window["requests"].sum())
    # 70 s on v2 wrote about twice the rows of 30 s: clearly more incompatible reads.
    assert shares[1] > 1.3 * shares[0]


# --- lock queues: a long transaction, an ALTER, lock_timeout and retries ------------------


def lock_scenario(
    plan_extra: tuple[dict[str, Any], ...] = (), duration: str = "90s", **mig: Any
) -> Scenario:
    """A report holds ACCESS SHARE on users from 10 s to 50 s; an ADD COLUMN comes at 20 s."""
    v2 = {"reads": {"users": ["id", "full_name"]}, "writes": {"users": ["id", "name", "full_name"]}}
    return db_scenario(
        {"v1": USES_NAME, "v2": v2},
        [
            migrate("20s", "add", {"addColumn": {"table": "users", "column": "full_name"}}, **mig),
            *plan_extra,
        ],
        duration=duration,
        database=users_db(
            longTransactions=[
                {"at": "10s", "duration": "40s", "table": "users", "lock": "ACCESS SHARE"}
            ]
        ),
    )


def test_an_alter_without_lock_timeout_queues_every_request_until_the_transaction_ends() -> None:
    r = simulate(lock_scenario())
    rec = r.record
    ended = event_time(r, "LongTransactionEnded")
    assert ended == pytest.approx(50.0)
    # The ALTER gets its lock only when the report ends, 30 s after it asked.
    step = events(r, "MigrationStep")
    assert float(step["t"].iloc[0]) == pytest.approx(ended)
    assert events(r, "LockTimeout").empty
    # Every request on users queued behind it: timeouts for the arrivals of those 30 s
    # (minus the client timeout of 5 s at the end), a large lock wait.
    assert rec["errors_by_cause"]["timeout"] > 500
    assert rec["errors"] == rec["errors_by_cause"]["timeout"]
    timed_out = r.timeline[r.timeline["errors_timeout"] > 0]["t"]
    assert timed_out.min() == pytest.approx(20.0)
    assert 40.0 <= timed_out.max() < ended
    assert rec["lock_wait_s"] > 500
    assert since(r, 0, 20)["errors"].sum() == 0 and since(r, ended)["errors"].sum() == 0
    assert with_errors(rec["errors_by_phase"]) == {"add": rec["errors"]}


def test_lock_timeout_with_retries_backs_off_and_completes_after_the_transaction() -> None:
    r = simulate(lock_scenario(lockTimeout="2s", retries=5))
    rec = r.record
    timeouts = events(r, "LockTimeout")["t"].tolist()
    assert timeouts == pytest.approx([22.0, 25.0, 29.0, 35.0, 45.0])
    # Each attempt waits 2 s (lock_timeout), then the back-off: 1 s, 2 s, 4 s, 8 s ...
    gaps = [b - a for a, b in pairwise(timeouts)]
    assert gaps == pytest.approx([2 + 1, 2 + 2, 2 + 4, 2 + 8])
    assert "lock_timeout 2s (attempt 1/6)" in events(r, "LockTimeout")["message"].iloc[0]
    # The sixth attempt (45 s + 16 s) finds the report gone and gets its lock at once.
    completed = event_time(r, "MigrationCompleted")
    assert completed > event_time(r, "LongTransactionEnded")
    # The ALTER also waits for the requests already in service (their transactions):
    # a fraction of a second after the retry at 61 s.
    assert 61.0 <= completed <= 61.5
    assert events(r, "MigrationFailed").empty
    # Short stalls instead of an outage: no timeouts, far less waiting.
    assert rec["errors"] == 0
    without = simulate(lock_scenario())
    assert rec["lock_wait_s"] < without.record["lock_wait_s"] / 2
    assert rec["errors_by_cause"]["timeout"] < without.record["errors_by_cause"]["timeout"] / 10


def test_lock_timeout_without_retries_fails_the_migration_and_keeps_the_schema() -> None:
    deploy = {"at": "60s", "action": "deploy", "version": "v2"}
    r = simulate(lock_scenario((deploy,), lockTimeout="2s"))
    rec, tl = r.record, r.timeline
    assert events(r, "LockTimeout")["t"].tolist() == pytest.approx([22.0])
    failed = events(r, "MigrationFailed")
    assert failed["t"].tolist() == pytest.approx([22.0])
    assert "ADD COLUMN full_name" in failed["message"].iloc[0]
    assert events(r, "MigrationCompleted").empty and events(r, "MigrationStep").empty
    # full_name was never added: v2, deployed later, fails every request.
    assert tl["requests[v2]"].sum() > 0
    assert rec["schema_errors"] == tl["errors[v2]"].sum() == tl["requests[v2]"].sum()
    assert tl["errors[v1]"].sum() == 0


# --- migration costs: what blocks what, and for how long ----------------------------------

BIG = {"rowsPerSecond": 200_000, "tables": {"users": {"rows": 1_000_000, "columns": [ID, "name"]}}}


def cost_scenario(write_ratio: float, *ops: dict[str, Any]) -> Scenario:
    """1M rows at 200k rows/s: a scan takes 5 s. Workers enough that waiting writes never
    starve the reads of a pod; a client timeout longer than any wait."""
    return db_scenario(
        {"v1": {"serviceTime": "20ms", **USES_NAME}},
        [migrate("10s", "change", *ops, lockTimeout="2s")],
        duration="30s",
        database=BIG,
        traffic={"writeRatio": write_ratio, "timeout": "10s"},
        service={"pod": {"concurrency": 200}},
    )


def index(concurrently: bool) -> dict[str, Any]:
    return {
        "createIndex": {
            "table": "users",
            "name": "users_name_idx",
            "columns": ["name"],
            "concurrently": concurrently,
        }
    }


def test_create_index_blocks_writes_for_rows_over_rows_per_second_but_not_reads() -> None:
    reads = simulate(cost_scenario(0.0, index(False)))
    writes = simulate(cost_scenario(1.0, index(False)))
    for r in (reads, writes):
        assert r.record["errors"] == 0
        msg = events(r, "MigrationStep")["message"].iloc[0]
        assert msg.startswith("CREATE INDEX users_name_idx ON users (name) (5")
        # About 1,000,000 rows / 200,000 rows/s (plus the rows written since).
        assert step_seconds(r) == pytest.approx([5.0], abs=0.05)
    # Reads under SHARE: not a second of waiting, latency as usual during the build.
    assert reads.record["lock_wait_s"] == 0
    assert since(reads, 10, 15)["p99_s"].max() < 0.1
    # Writes wait for the end of the build: on average half of it, 50 writes/s for 5 s.
    assert 300 < writes.record["lock_wait_s"] < 1000  # ~ 50 * 5 * 2.5 = 625
    assert since(writes, 10, 11)["p50_s"].max() > 3.0
    assert since(writes, 16)["p99_s"].max() < 0.1


def test_create_index_concurrently_blocks_nothing_and_takes_longer() -> None:
    r = simulate(cost_scenario(1.0, index(True)))
    assert r.record["errors"] == 0 and r.record["lock_wait_s"] == 0
    msg = events(r, "MigrationStep")["message"].iloc[0]
    assert msg == "CREATE INDEX CONCURRENTLY users_name_idx ON users (name) (12.5s)"
    assert step_seconds(r) == pytest.approx([12.5], abs=0.05)
    assert r.timeline["p99_s"].max() < 0.1


def test_set_not_null_after_a_validated_check_is_metadata_only() -> None:
    not_null = {"setNotNull": {"table": "users", "column": "name"}}
    check = {
        "addConstraint": {"table": "users", "name": "name_nn", "check": "name", "notValid": True}
    }
    validate = {"validateConstraint": {"table": "users", "name": "name_nn"}}
    scan = simulate(cost_scenario(0.3, not_null))
    safe = simulate(cost_scenario(0.3, check, validate, not_null))
    # Alone: a 5 s scan under ACCESS EXCLUSIVE, every request waits.
    assert events(scan, "MigrationStep")["message"].iloc[0].endswith("SET NOT NULL (5.01s)")
    assert step_seconds(scan) == pytest.approx([5.0], abs=0.05)
    assert scan.record["lock_wait_s"] > 100
    # After CHECK ... NOT VALID and VALIDATE (SHARE UPDATE EXCLUSIVE, blocks nothing),
    # SET NOT NULL only changes the catalog.
    messages = events(safe, "MigrationStep")["message"].tolist()
    assert messages[0].endswith("NOT VALID (0.005s)")
    assert messages[1].endswith("VALIDATE CONSTRAINT name_nn (5.01s)")
    assert messages[2].endswith("SET NOT NULL (0.005s)")
    assert step_seconds(safe) == pytest.approx([0.005, 5.0, 0.005], abs=0.05)
    assert safe.record["lock_wait_s"] == pytest.approx(0.0, abs=1.0)
    assert scan.record["errors"] == safe.record["errors"] == 0


def test_set_not_null_on_a_column_with_nulls_fails_like_postgres() -> None:
    # v1 inserts rows without name: by 20 s the table has hundreds of NULL names (the
    # simulator knows: v1's own reads of them fail with data_incompatible).
    sc = db_scenario(
        {"v1": {"reads": {"users": ["id", "name"]}, "writes": {"users": ["id"]}}},
        [
            migrate(
                "20s", "nn", {"setNotNull": {"table": "users", "column": "name"}}, lockTimeout="2s"
            )
        ],
        duration="40s",
    )
    r = simulate(sc)
    assert r.record["data_incompatible_errors"] > 0  # the NULLs are there
    assert not events(r, "MigrationFailed").empty
    assert events(r, "MigrationCompleted").empty
    assert r.record["schema_errors"] == 0  # v1's inserts without name keep working


# --- pgroll: two schema versions at once ------------------------------------------------

RENAMED = {"reads": {"users": ["id", "full_name"]}, "writes": {"users": ["id", "full_name"]}}
PGROLL = {
    "at": "5s",
    "action": "migrate",
    "name": "rename",
    "pgroll": True,
    "version": "v2",
    "lockTimeout": "2s",
    "operations": [{"renameColumn": {"table": "users", "column": "name", "newName": "full_name"}}],
}


def pgroll_scenario(*plan: dict[str, Any], duration: str = "60s") -> Scenario:
    return db_scenario({"v1": USES_NAME, "v2": RENAMED}, [PGROLL, *plan], duration=duration)


def test_pgroll_rename_with_both_versions_running_has_no_errors() -> None:
    r = simulate(
        pgroll_scenario(
            {"at": "10s", "action": "deploy", "version": "v2"}, {"at": "50s", "action": "complete"}
        )
    )
    tl = r.timeline
    assert r.record["errors"] == 0 and r.record["schema_errors"] == 0
    started = events(r, "PgrollStarted")
    assert started["version"].tolist() == ["v2"] and started["t"].tolist() == [5.0]
    assert event_time(r, "PgrollCompleted") == 50.0
    # Both versions served at once during the rolling update, on their own schema version.
    both = tl[(tl["requests[v1]"] > 0) & (tl["requests[v2]"] > 0)]
    assert len(both) >= 5
    assert tl["requests[v2]"].sum() > 0


def test_after_pgroll_complete_an_old_version_pod_fails() -> None:
    r = simulate(
        pgroll_scenario(
            {"at": "8s", "action": "complete"}, {"at": "20s", "action": "deploy", "version": "v2"}
        )
    )
    tl = r.timeline
    assert event_time(r, "PgrollCompleted") == 8.0
    assert since(r, 0, 8)["errors"].sum() == 0
    assert since(r, 8, 20)["errors[v1]"].sum() == since(r, 8, 20)["requests[v1]"].sum() > 0
    assert r.record["errors"] == r.record["schema_errors"] == tl["errors[v1]"].sum()
    assert tl["errors[v2]"].sum() == 0
    assert since(r, event_time(r, "RolloutCompleted") + 1)["errors"].sum() == 0


def test_pgroll_rollback_before_complete_restores_the_old_schema() -> None:
    r = simulate(
        pgroll_scenario(
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "12s", "action": "rollback"},
            {"at": "40s", "action": "complete"},  # nothing left to complete
        )
    )
    # pgroll's rollback runs once the app is back on v1 and v2's last pod is gone.
    assert event_time(r, "PgrollRolledBack") >= event_time(r, "RollbackCompleted")
    assert events(r, "PgrollCompleted").empty
    assert r.record["outcome"] == "rolled_back"
    assert r.record["errors"] == 0
    assert r.timeline["requests[v1]"].sum() == r.record["requests"] - r.record["in_flight"]


def test_pgroll_rollback_waits_for_the_app_rollback() -> None:
    # v2 pods keep serving during the undo; pgroll rollback would take their schema
    # version away, so it runs only after the app is back on v1: no error on either side.
    r = simulate(
        pgroll_scenario(
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "40s", "action": "rollback"},
            duration="80s",
        )
    )
    tl = r.timeline
    assert event_time(r, "PgrollRolledBack") > event_time(r, "RollbackCompleted") > 40.0
    assert r.record["errors"] == r.record["schema_errors"] == 0
    assert since(r, 40)["requests[v2]"].sum() > 0  # v2 did serve during the undo
    assert tl["errors[v1]"].sum() == tl["errors[v2]"].sum() == 0


# --- invariants ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: lock_scenario(duration="40s"),  # ends with requests parked in a lock queue
        lambda: lock_scenario(duration="90s", lockTimeout="2s", retries=5),
        lambda: rollback_scenario(
            {"reads": {"users": ["id"]}, "writes": {"users": ["id", "full_name"]}}, 40
        ),
    ],
    ids=["parked-at-end", "retries", "rollback"],
)
def test_request_conservation_with_a_database(make: Any) -> None:
    r = simulate(make())
    rec = r.record
    ok = int(r.timeline["ok"].sum())
    assert rec["requests"] == ok + rec["errors"] + rec["in_flight"]


def test_requests_parked_in_a_lock_queue_count_as_in_flight() -> None:
    r = simulate(lock_scenario(duration="40s"))
    assert r.record["in_flight"] > 100


def test_every_phase_of_the_plan_is_in_errors_by_phase_even_without_errors() -> None:
    """``expect: {errors_by_phase.expand: 0}`` holds on a clean expand-contract: a phase
    with no errors is reported as 0, not left out (which made the expectation fail)."""
    from simdeploy.run.checks import evaluate

    sc = load_scenario(SCENARIOS / "expand-contract.yaml")
    record = simulate(sc, seed=1).record
    phases = ["before"] + [a.name for a in sc.plan if a.action == "migrate"]
    assert list(record["errors_by_phase"]) == phases
    assert all(n == 0 for n in record["errors_by_phase"].values())
    with_expect = Scenario.parse(
        {**sc.model_dump(by_alias=True, exclude_none=True), "expect": {"errors_by_phase.expand": 0}}
    )
    (check,) = evaluate(with_expect.expect, record)
    assert check.passed, check.line
