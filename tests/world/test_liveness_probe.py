"""Liveness probes restart containers (world/cluster.py), with the kubelet's back-off.

One steady v1 pod that goes unhealthy 30 s after each container start, probed every 5 s
(threshold 3, no initial delay). Its liveness ticks are at 0, 5, 10, ... s; derived times:

- first container (started before t=0, unhealthy from 30 s): failures at 30, 35, 40 →
  killed at 40, restarted at once (the first restart has no back-off);
- second container started at 40, unhealthy at 70: killed at 80; back-off 10 s → starts 90;
- third: unhealthy 120, killed 130; back-off 20 s → starts 150;
- fourth: unhealthy 180, killed 190; back-off 40 s → starts 230.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from simdeploy import Scenario, simulate
from tests.conftest import base_dict

POD = "app-v1-1"
LIVENESS = {"initialDelaySeconds": 0, "periodSeconds": 5, "failureThreshold": 3}


def one_pod(
    liveness: dict[str, Any] | None = LIVENESS,
    v1: dict[str, Any] | None = None,
    duration: str = "4m",
    plan: list[dict[str, Any]] | None = None,
) -> Scenario:
    pod: dict[str, Any] = {"livenessProbe": liveness} if liveness is not None else {}
    d = base_dict(
        service={"replicas": 1, "pod": pod},
        versions={"v1": {"warmup": "2s", "unhealthyAfter": "30s", **(v1 or {})}},
        traffic={"rate": 10, "users": 100},
        plan=plan or [],
        simulation={"duration": duration, "seed": 1},
    )
    if liveness is None:
        d["service"]["pod"].pop("livenessProbe", None)
    d["versions"].pop("v2")
    return Scenario.parse(d)


def times(events: pd.DataFrame, reason: str, pod: str = POD) -> list[float]:
    return [round(t, 6) for t in events[(events.reason == reason) & (events.object == pod)].t]


def test_kills_and_restarts_follow_the_failure_threshold_and_the_back_off() -> None:
    r = simulate(one_pod())
    ev = r.events
    assert times(ev, "Killing") == [40.0, 80.0, 130.0, 190.0]
    assert times(ev, "Started") == [40.0, 90.0, 150.0, 230.0]
    backoff = ev[(ev.reason == "BackOff") & (ev.object == POD)]
    assert list(backoff.message) == [
        "back-off 10s restarting failed container",
        "back-off 20s restarting failed container",
        "back-off 40s restarting failed container",
    ]
    assert list(backoff.t) == [80.0, 130.0, 190.0]
    # Each failed probe is an Unhealthy event: three per kill.
    assert times(ev, "Unhealthy")[:3] == [30.0, 35.0, 40.0]


def test_a_pod_is_not_ready_while_its_container_restarts() -> None:
    """Readiness (period 1 s, threshold 3) flips at 32 s; the kill at 80 s finds it NotReady
    already; after the restart at 90 s the app warms up 2 s and the probe passes again."""
    r = simulate(one_pod(duration="100s"))
    ev = r.events
    assert times(ev, "NotReady") == [32.0, 72.0]
    assert times(ev, "Ready") == [42.0, 92.0]  # each restart + 2 s of warm-up


def test_a_restarted_container_waits_out_the_readiness_initial_delay_again() -> None:
    """readinessProbe initialDelaySeconds 10 (period 1 s), warm-up 2 s: the restarted
    container at 40 s is warm at 42 s, but the prober skips it until it has run 10 s, so it
    is Ready at 50 s (not 42 s); the one restarted at 90 s at 100 s (worker.go doProbe)."""
    sc = one_pod(duration="110s")
    data = sc.model_dump(by_alias=True, exclude_unset=True)
    data["service"]["pod"]["readinessProbe"]["initialDelaySeconds"] = 10
    r = simulate(Scenario.parse(data))
    ev = r.events
    assert times(ev, "Started") == [40.0, 90.0]
    assert times(ev, "Ready") == [50.0, 100.0]


def test_restart_count_grows_with_each_restart() -> None:
    from simdeploy.run.simulation import build

    cp = build(one_pod(), seed=1)
    cp.world.env.run(until=200)
    (pod,) = cp.world.cluster.pods()
    assert pod.restarts == 3  # at 40, 90 and 150 s


def test_in_flight_requests_fail_as_killed() -> None:
    """Requests take 3 s; a liveness probe every second with threshold 1 kills the container
    within a second of going bad, while requests it accepted before are still in service.
    Without the probe nothing is killed."""
    slow = {"serviceTime": "3s", "unhealthyAfter": "20s"}
    probe = {"initialDelaySeconds": 0, "periodSeconds": 1, "failureThreshold": 1}
    live = simulate(one_pod(liveness=probe, v1=slow, duration="40s"))
    assert live.record["errors_by_cause"]["killed_in_flight"] > 0
    killing = live.events[live.events.reason == "Killing"].message.iloc[0]
    assert "failed liveness probe" in killing and "0 requests killed" not in killing
    unprobed = simulate(one_pod(liveness=None, v1=slow, duration="40s"))
    assert unprobed.record["errors_by_cause"]["killed_in_flight"] == 0


def test_without_a_liveness_probe_an_unhealthy_pod_is_never_restarted() -> None:
    r = simulate(one_pod(liveness=None))
    assert times(r.events, "Killing") == []
    assert times(r.events, "Started") == []
    assert times(r.events, "NotReady") == [32.0]


def test_a_deleted_pod_is_not_restarted_after_its_back_off() -> None:
    """Killed at 80 s with a 10 s back-off; scaled to 0 at 85 s: no restart at 90 s."""
    r = simulate(one_pod(duration="2m", plan=[{"at": "85s", "action": "scale", "replicas": 0}]))
    assert times(r.events, "Started") == [40.0]
    assert times(r.events, "Killing") == [40.0, 80.0, 85.0]  # the last one is the deletion
