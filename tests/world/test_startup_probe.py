"""The startup probe: readiness and liveness wait until it passes; too tight a budget restarts
the container again and again (the kubelet's prober/worker.go).

v2 is deployed at 10 s: scheduled at 10.5 s, its container starts at 11.5 s (constant 1 s
start-up) and is warm 10 s later, at 21.5 s. The readiness probe ticks at 13.5, 14.5, ...
(initialDelaySeconds 2, period 1); the startup probe at 11.75, 14.75, ... (0.25, period 3).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from simdeploy import Scenario, simulate
from tests.conftest import base_dict


def run(startup: dict[str, Any] | None) -> Any:
    pod: dict[str, Any] = {"startupDelay": "1s"}
    if startup is not None:
        pod["startupProbe"] = {"initialDelaySeconds": 0.25, "periodSeconds": 3, **startup}
    d = base_dict(
        service={"pod": pod},
        versions={"v2": {"warmup": "10s"}},
        simulation={"duration": "2m"},
    )
    return simulate(Scenario.parse(d))


def v2(events: pd.DataFrame, reason: str) -> pd.DataFrame:
    return events[(events.reason == reason) & (events.version == "v2")]


def test_readiness_waits_for_the_startup_probe() -> None:
    # Without a startup probe: Ready at the first readiness tick when warm, 21.5 s.
    plain = run(None)
    assert v2(plain.events, "Ready").t.iloc[0] == 21.5
    # With one (threshold 10): failures at 11.75, 14.75, 17.75, 20.75; it passes at 23.75,
    # and the readiness probe's next tick, 24.5, makes the pod Ready.
    r = run({"failureThreshold": 10})
    unhealthy = v2(r.events, "Unhealthy")
    first_pod = unhealthy.object.iloc[0]
    mine = unhealthy[unhealthy.object == first_pod]
    assert mine.t.tolist() == [11.75, 14.75, 17.75, 20.75]
    assert set(mine.message) == {"Startup probe failed"}
    ready = v2(r.events, "Ready")
    assert ready[ready.object == first_pod].t.tolist() == [24.5]
    assert r.record["outcome"] == "completed"


def test_a_startup_budget_shorter_than_the_warm_up_never_starts() -> None:
    # Threshold 2: killed at the 2nd failure, 14.75 s, and restarted at once (no back-off the
    # first time); the ticks go on at 17.75 and 20.75 (failures): killed at 20.75, restarted
    # after the 10 s back-off at 30.75; ticks at 32.75 and 35.75: killed at 35.75. Never Ready.
    r = run({"failureThreshold": 2})
    killing = v2(r.events, "Killing")
    first_pod = killing.object.iloc[0]
    kills = killing[killing.object == first_pod]
    assert kills.t.tolist()[:3] == [14.75, 20.75, 35.75]
    assert kills.message.iloc[0].startswith("container failed startup probe, will be restarted")
    assert v2(r.events, "Ready").empty
    assert r.record["outcome"] != "completed"
