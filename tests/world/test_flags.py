"""Feature flags at run time: LaunchDarkly bucketing, kill switch delivery (streaming vs
polling), version scoping, dark launches and the flagged code path's schema access.

Small runs: 50 req/s, 300 users, no deploy unless a test needs one, service time a
constant 20 ms so that "delay plus one request" bounds are exact.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

import pytest

from simdeploy import Scenario, simulate
from simdeploy.spec.flags import Flag
from simdeploy.world.flags import FlagRuntime
from tests.conftest import base_dict

USERS = 300
FAST = {"serviceTime": "20ms"}
ID = {"name": "id", "nullable": False, "default": True}


def flag_scenario(
    flag: dict[str, Any],
    plan: list[dict[str, Any]] | None = None,
    duration: str = "60s",
    **over: Any,
) -> Scenario:
    """One flag ``f`` on a steady v1 (no deploy unless ``plan`` has one)."""
    d = base_dict(
        traffic={"rate": 50, "users": USERS, "timeout": "5s"},
        versions={"v1": FAST, "v2": FAST},
        flags={"f": flag},
        plan=plan or [],
        simulation={"duration": duration, "seed": 3},
    )
    d.update(over)
    return Scenario.parse(d)


def users_in(pct: float, key: str = "f", salt: str | None = None) -> set[int]:
    """Users with the flag on at ``pct``, by LaunchDarkly's published formula, computed here
    and not with ``rules.bucketing`` (which the runtime uses): the user's bucket is the first
    15 hex digits of ``sha1("{key}.{salt}.{user}")`` over 0xFFFFFFFFFFFFFFF, and the user is
    on when the bucket is below ``pct / 100`` (everyone at 100%)."""

    def bucket(user: int) -> float:
        text = f"{key}.{salt or key}.{user}"
        return int(hashlib.sha1(text.encode()).hexdigest()[:15], 16) / 0xFFFFFFFFFFFFFFF

    return {u for u in range(USERS) if pct >= 100 or bucket(u) < pct / 100}


# --- bucketing --------------------------------------------------------------------------


def runtime_on(pct: float, key: str = "f", salt: str | None = None) -> set[int]:
    """Users the runtime serves the flag to at ``pct`` (a pod of v1, at 10 s)."""
    fl = FlagRuntime(key, Flag(rollout=pct, salt=salt), USERS)
    pod = SimpleNamespace(name="app-v1-1", version="v1")
    return {u for u in range(USERS) if fl.on(u, pod, 10.0)}  # type: ignore[arg-type]


def test_raising_the_rollout_only_adds_users() -> None:
    sets = [runtime_on(p) for p in (1, 10, 50, 100)]
    assert sets[0] <= sets[1] <= sets[2] <= sets[3] == set(range(USERS))
    assert 0 < len(sets[0]) < len(sets[1]) < len(sets[2]) < USERS
    assert len(sets[2]) == pytest.approx(USERS / 2, rel=0.2)


@pytest.mark.parametrize("salt", [None, "s4lt"])
@pytest.mark.parametrize("pct", [0, 1, 10, 50, 100])
def test_the_runtime_buckets_users_as_launchdarkly_does(pct: float, salt: str | None) -> None:
    assert runtime_on(pct, "new-checkout", salt) == users_in(pct, "new-checkout", salt)


def test_exposed_users_grow_with_the_rollout_on_the_same_seed() -> None:
    exposed = []
    for pct in (1, 10, 50):
        r = simulate(flag_scenario({"rollout": pct, "feature": {"errorRate": 0.5}}))
        rec = r.record
        n_in = len(users_in(pct))
        # Everyone in the rollout made requests in a minute (~10 each); no one else is on.
        assert 0.9 * n_in <= rec["flag_exposed_users"] <= n_in
        assert rec["users_affected"] <= n_in
        # Users with the flag off never run the buggy feature.
        assert rec["unflagged_errors"] == 0
        assert rec["flagged_errors"] == rec["errors"] > 0
        exposed.append(rec["flag_exposed_users"])
    assert exposed[0] < exposed[1] < exposed[2]


def test_a_flag_ramp_adds_users_step_by_step() -> None:
    plan = [
        {"at": "10s", "action": "flag", "flag": "f", "rollout": 10},
        {"at": "20s", "action": "flag", "flag": "f", "rollout": 50},
    ]
    r = simulate(flag_scenario({"rollout": 1, "feature": {"errorRate": 0.5}}, plan, "30s"))
    changes = r.events[r.events["reason"] == "FlagChanged"]
    assert changes["message"].tolist() == ["rollout 10%", "rollout 50%"]
    assert changes["t"].tolist() == [10.0, 20.0]
    tl = r.timeline
    # The error rate steps up with the share of users in the rollout (0.5 of theirs fail).
    share = [
        tl[(tl["t"] >= a + 1) & (tl["t"] < b)]["errors"].sum()
        / tl[(tl["t"] >= a + 1) & (tl["t"] < b)]["requests"].sum()
        for a, b in ((0, 10), (10, 20), (20, 30))
    ]
    assert share[0] < share[1] < share[2]
    assert share[2] == pytest.approx(0.5 * len(users_in(50)) / USERS, rel=0.25)
    assert r.record["unflagged_errors"] == 0


# --- kill switch: streaming vs polling ---------------------------------------------------

KILL = [{"at": "20s", "action": "flag", "flag": "f", "kill": True}]


def kill_run(delivery: dict[str, Any]) -> Any:
    flag = {"rollout": 100, "delivery": delivery, "feature": {"errorRate": 0.5}}
    return simulate(flag_scenario(flag, KILL, "40s"))


def test_kill_switch_with_streaming_stops_errors_within_the_delay() -> None:
    r = kill_run({"mode": "streaming", "delay": "200ms"})
    k = r.record["kill_to_last_flagged_error_s"]
    # A request admitted just before the change arrived (kill + 200 ms) ends 20 ms later.
    assert 0.1 < k <= 0.2 + 0.02 + 1e-6
    assert r.record["unflagged_errors"] == 0
    assert r.timeline[r.timeline["t"] >= 21]["errors"].sum() == 0


def test_kill_switch_with_polling_takes_up_to_the_poll_interval() -> None:
    streaming = kill_run({"mode": "streaming", "delay": "200ms"})
    polling = kill_run({"mode": "polling", "interval": "10s"})
    k = polling.record["kill_to_last_flagged_error_s"]
    assert k > 1.0 and k > 5 * streaming.record["kill_to_last_flagged_error_s"]
    assert k <= 10.0 + 0.02 + 1e-6
    tl = polling.timeline
    # Some pods keep the feature on after the kill, until their next poll ...
    assert tl[(tl["t"] >= 21) & (tl["t"] < 30)]["errors"].sum() > 0
    # ... and none after kill + interval (+ one request).
    assert tl[tl["t"] >= 30.1]["errors"].sum() == 0


def test_a_pod_started_after_the_kill_never_runs_the_killed_feature() -> None:
    flag = {
        "rollout": 100,
        "versions": ["v1", "v2"],
        "delivery": {"mode": "polling", "interval": "60s"},
        "feature": {"errorRate": 0.5},
    }
    plan = [*KILL, {"at": "25s", "action": "deploy", "version": "v2"}]
    r = simulate(flag_scenario(flag, plan, "90s"))
    tl = r.timeline
    assert tl["requests[v2]"].sum() > 0
    assert tl["errors[v2]"].sum() == 0  # every v2 pod started after the kill


# --- which versions carry the flagged code ----------------------------------------------


def test_a_flag_only_acts_on_the_versions_that_contain_it() -> None:
    flag = {"rollout": 100, "versions": ["v2"], "feature": {"errorRate": 0.5}}
    steady = simulate(flag_scenario(flag))
    assert steady.record["flag_exposed_users"] == 0
    assert steady.record["flagged_errors"] == steady.record["errors"] == 0
    deployed = simulate(flag_scenario(flag, [{"at": "10s", "action": "deploy", "version": "v2"}]))
    tl = deployed.timeline
    assert tl["errors[v1]"].sum() == 0
    assert tl["errors[v2]"].sum() == deployed.record["flagged_errors"] > 0
    assert deployed.record["unflagged_errors"] == 0


# --- dark launch ------------------------------------------------------------------------


def test_dark_launch_errors_are_never_user_errors_and_follow_the_rollout_share() -> None:
    counts = {}
    for pct in (20, 80):
        r = simulate(
            flag_scenario({"rollout": pct, "darkLaunch": True, "feature": {"errorRate": 0.2}})
        )
        rec = r.record
        assert rec["errors"] == rec["flagged_errors"] == rec["users_affected"] == 0
        expected = rec["requests"] * len(users_in(pct)) / USERS * 0.2
        assert rec["dark_launch_errors"] == pytest.approx(expected, rel=0.25)
        counts[pct] = rec["dark_launch_errors"]
    ratio = len(users_in(80)) / len(users_in(20))
    assert counts[80] / counts[20] == pytest.approx(ratio, rel=0.3)


# --- the flagged code path meets the schema ---------------------------------------------

DB = {"tables": {"users": {"rows": 2000, "columns": [ID, "name"]}}}
V1_DB = {"v1": {**FAST, "reads": {"users": ["id", "name"]}, "writes": {"users": ["id", "name"]}}}


def test_a_flagged_path_reading_a_missing_column_fails_only_for_flagged_users() -> None:
    flag = {"rollout": 30, "feature": {"reads": {"users": ["id", "coupon"]}}}
    r = simulate(flag_scenario(flag, database=DB, versions=V1_DB))
    rec = r.record
    n_in = len(users_in(30))
    assert rec["schema_errors"] == rec["errors"] == rec["flagged_errors"] > 0
    assert rec["unflagged_errors"] == 0
    assert rec["users_affected"] <= n_in
    # Reads only: the flagged users' writes (10 %) do not touch coupon.
    flagged_share = rec["errors"] / rec["requests"]
    assert flagged_share == pytest.approx(0.9 * n_in / USERS, rel=0.25)


def test_a_flagged_path_writing_a_missing_column_fails_its_writes() -> None:
    flag = {"rollout": 100, "feature": {"writes": {"users": ["coupon"]}}}
    r = simulate(flag_scenario(flag, database=DB, versions=V1_DB))
    rec = r.record
    assert rec["schema_errors"] == rec["errors"] == rec["flagged_errors"] > 0
    assert rec["errors"] / rec["requests"] == pytest.approx(0.1, rel=0.3)  # writeRatio 0.1


def test_a_dark_launched_path_reading_a_missing_column_fails_apart() -> None:
    flag = {"rollout": 50, "darkLaunch": True, "feature": {"reads": {"users": ["coupon"]}}}
    r = simulate(flag_scenario(flag, database=DB, versions=V1_DB))
    assert r.record["errors"] == 0
    assert r.record["dark_launch_errors"] > 0
