"""Liveness probe timing and what a kill leaves behind (world/cluster.py), exactly.

Complements test_liveness_probe.py (a steady pod probed from t=0 with no initial delay):
here the probe has an ``initialDelaySeconds`` and the container is new, so the first tick,
the whole-second ``ran`` test and the restarted container's own initial delay all matter.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from simdeploy import Scenario, simulate
from simdeploy.run.simulation import build
from tests.conftest import base_dict, merge
from tests.world.test_liveness_probe import POD, one_pod, times
from tests.world.test_pod_lifecycle import bare_cluster

NEW_POD = "app-v2-2"
FAILED = "Liveness probe failed"
KILLED = "container failed liveness probe, will be restarted (0 requests killed)"


def rows(events: pd.DataFrame, pod: str) -> list[tuple[float, str, str, str]]:
    """(t, reason, version, message) of every event of ``pod``, in order."""
    ev = events[events.object == pod]
    return list(zip(ev.t.round(6), ev.reason, ev.version, ev.message, strict=True))


def steady_pod(liveness: dict[str, Any], duration: str, **pod: Any) -> Scenario:
    """:func:`one_pod` (one steady v1 pod, unhealthy 30 s after each start, warm-up 2 s)
    with more pod settings."""
    data = one_pod(liveness, duration=duration).model_dump(by_alias=True, exclude_unset=True)
    data["service"]["pod"] = merge(data["service"]["pod"], pod)
    return Scenario.parse(data)


def test_a_new_container_is_probed_from_its_initial_delay_and_afresh_after_each_restart() -> None:
    """v2 (unhealthy 1 s after each start) deployed at 10 s; scheduling 0.5 s, start-up 1 s →
    started at 11.5 s, unhealthy from 12.5 s. Liveness initialDelaySeconds 4, period 3,
    threshold 3; the ticks are 11.5 + 4 = 15.5, 18.5, 21.5, ... and a tick is skipped while
    the container has run for less than 4 whole seconds:

    - failures at 15.5 (ran exactly 4 s), 18.5, 21.5 → killed at 21.5, restarted at once
      (the first restart has no back-off);
    - the new container (unhealthy from 22.5): tick 24.5 skipped (ran 3 s); failures at
      27.5, 30.5, 33.5 (the count starts over after a kill) → killed at 33.5; back-off 10 s
      → started at 43.5;
    - tick 45.5 skipped (ran 2 s); failures at 48.5, 51.5, 54.5 → killed at 54.5 with a 20 s
      back-off (started again at 74.5, after the run).

    The pod never passes its readiness probe, so no request reaches it (0 killed)."""
    d = base_dict(
        service={
            "replicas": 1,
            "pod": {
                "startupDelay": "1s",
                "livenessProbe": {
                    "initialDelaySeconds": 4,
                    "periodSeconds": 3,
                    "failureThreshold": 3,
                },
            },
        },
        versions={"v2": {"unhealthyAfter": "1s"}},
        traffic={"rate": 10, "users": 100},
        simulation={"duration": "60s", "seed": 1},
    )
    r = simulate(Scenario.parse(d))
    unhealthy = [(t, "Unhealthy", "v2", FAILED) for t in (15.5, 18.5, 21.5)]
    unhealthy2 = [(t, "Unhealthy", "v2", FAILED) for t in (27.5, 30.5, 33.5)]
    unhealthy3 = [(t, "Unhealthy", "v2", FAILED) for t in (48.5, 51.5, 54.5)]
    assert rows(r.events, NEW_POD) == [
        (10.0, "SuccessfulCreate", "v2", ""),
        (11.5, "Started", "v2", ""),
        *unhealthy,
        (21.5, "Killing", "v2", KILLED),
        (21.5, "Started", "v2", ""),
        *unhealthy2,
        (33.5, "Killing", "v2", KILLED),
        (33.5, "BackOff", "v2", "back-off 10s restarting failed container"),
        (43.5, "Started", "v2", ""),
        *unhealthy3,
        (54.5, "Killing", "v2", KILLED),
        (54.5, "BackOff", "v2", "back-off 20s restarting failed container"),
    ]


def test_a_pod_running_before_the_start_is_past_its_initial_delay() -> None:
    """The steady pod's container started long before t=0, so initialDelaySeconds 3 is over:
    the ticks are at 0, 5, 10, ... s (not 3, 8, 13, ...); unhealthy from 30 s → failures at
    30, 35, 40 → killed at 40."""
    liveness = {"initialDelaySeconds": 3, "periodSeconds": 5, "failureThreshold": 3}
    r = simulate(one_pod(liveness, duration="45s"))
    assert times(r.events, "Unhealthy") == [30.0, 35.0, 40.0]
    assert times(r.events, "Killing") == [40.0]


def test_a_back_off_shorter_than_a_second_is_reported() -> None:
    """crashLoopBackOff 0.5 s (liveness period 5 s, threshold 3, no initial delay): killed at
    40 s and restarted at once; that container (unhealthy from 70 s) is killed at 80 s and
    waits 0.5 s → started at 80.5, unhealthy from 110.5: failures at the ticks 115, 120, 125
    → killed at 125, back-off doubled to 1 s → started at 126."""
    liveness = {"initialDelaySeconds": 0, "periodSeconds": 5, "failureThreshold": 3}
    r = simulate(steady_pod(liveness, "130s", crashLoopBackOff="0.5s"))
    ev = r.events
    backoff = ev[(ev.reason == "BackOff") & (ev.object == POD)]
    assert list(zip(backoff.t, backoff.version, backoff.message, strict=True)) == [
        (80.0, "v1", "back-off 0.5s restarting failed container"),
        (125.0, "v1", "back-off 1s restarting failed container"),
    ]
    assert times(ev, "Started") == [40.0, 80.5, 126.0]


def test_a_container_restarted_without_back_off_is_probed_for_readiness_at_once() -> None:
    """No warm-up and a readiness probe without initial delay (period 1 s): the container
    killed at 40 s (liveness period 5 s, threshold 3; unhealthy from 30 s) restarts within
    the same instant, so the readiness tick at 40 s already finds it serving → Ready at 40 s,
    not at the next tick (41 s)."""
    liveness = {"initialDelaySeconds": 0, "periodSeconds": 5, "failureThreshold": 3}
    sc = steady_pod(liveness, "45s", readinessProbe={"initialDelaySeconds": 0, "periodSeconds": 1})
    data = sc.model_dump(by_alias=True, exclude_unset=True)
    data["versions"]["v1"]["warmup"] = "0s"
    r = simulate(Scenario.parse(data))
    assert times(r.events, "Killing") == [40.0]
    assert times(r.events, "Started") == [40.0]
    assert times(r.events, "Ready") == [40.0]


def test_a_killed_container_neither_runs_nor_accepts_during_its_back_off() -> None:
    """one_pod: killed at 80 s with a 10 s back-off (test_liveness_probe.py). At 85 s the
    container is not running (the HPA takes no samples of it) and refuses connections; the
    restart at 90 s brings both back."""
    cp = build(one_pod(), seed=1)
    env = cp.world.env
    env.run(until=85)
    (pod,) = cp.world.cluster.pods()
    assert (pod.container_running, pod.accepting, pod.restarts) == (False, False, 1)
    env.run(until=91)
    assert (pod.container_running, pod.accepting, pod.restarts) == (True, True, 2)


def test_requests_reaching_a_killed_container_are_refused() -> None:
    """Liveness every second, threshold 1; unhealthy 30 s after each start. The kill at 30 s
    restarts at once; the one at 60 s waits 10 s of back-off, and for the 1 s the endpoint
    takes to go (propagation delay) requests still reach the pod: refused, as nothing
    listens (not app errors from the unhealthy app). At 10 req/s that is about 10 requests,
    all in the 60 s bucket."""
    probe = {"initialDelaySeconds": 0, "periodSeconds": 1, "failureThreshold": 1}
    r = simulate(one_pod(liveness=probe, duration="75s"))
    assert times(r.events, "Killing") == [30.0, 60.0]
    refused = r.timeline.set_index("t")["errors_connection_refused"]
    assert refused.sum() == r.record["errors_by_cause"]["connection_refused"] > 0
    assert refused[refused > 0].index.tolist() == [60.0]


def test_deleting_an_empty_replica_set_forgets_it_with_an_empty_message() -> None:
    cluster, _ = bare_cluster(0)
    rs = cluster.replica_set("v2")
    cluster.delete_replica_set(rs)
    assert rs.deleted and rs not in cluster.replica_sets
    (event,) = [e for e in cluster.recorder.events if e.reason == "ReplicaSetDeleted"]
    assert (event.object, event.version, event.message) == ("app-v2", "v2", "")
