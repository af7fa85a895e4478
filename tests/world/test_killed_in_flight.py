"""Requests killed in flight (``DataPlane.kill``: SIGKILL, a liveness restart): how they are
counted, and a restarted container serving again with all its workers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pytest
import simpy

from simdeploy import Scenario, simulate
from simdeploy.rules.latency_bins import bin_index
from simdeploy.world import recorder as rec
from simdeploy.world.traffic import DataPlane, Request
from tests.conftest import base_dict, scenario


@dataclass(eq=False)
class PodStub:
    """The fields ``DataPlane.kill`` reads and clears."""

    vidx: int = 0
    busy: int = 0
    in_flight: set[Request] = field(default_factory=set)
    queue: deque[Request] = field(default_factory=deque)


def test_a_killed_request_counts_its_time_until_the_kill_as_latency() -> None:
    sc = scenario()
    env = simpy.Environment()
    recorder = rec.Recorder(("v1", "v2"), 60.0, 1.0, users=10)
    plane = DataPlane(env, None, recorder, sc.traffic, np.random.default_rng(1), 60.0)  # type: ignore[arg-type]
    env.run(until=10.0)
    # In service since 7 s, queued since 9.5 s, and one already answered (not alive).
    serving, queued, answered = (
        Request(t, int(t), u, False) for t, u in ((7.0, 1), (9.5, 2), (8.0, 3))
    )
    answered.alive = False
    pod = PodStub(busy=2, in_flight={serving, answered}, queue=deque([queued]))
    assert plane.kill(pod) == 2  # type: ignore[arg-type]
    # Each in its arrival bucket (7 and 9), version column 0, as killed_in_flight.
    killed = recorder.counts[rec.I_KILLED]
    assert [b for b in range(recorder.n_buckets) if killed[b * recorder.n_cols]] == [7, 9]
    # They reached the app: their latency is the time until the kill, 3 s and 0.5 s.
    assert recorder.latency_sum_s == pytest.approx((10.0 - 7.0) + (10.0 - 9.5))
    hist = recorder.latency_counts(0)
    assert hist is not None
    assert hist[7, bin_index(3.0)] == 1 and hist[9, bin_index(0.5)] == 1
    assert recorder.users_with_error == {1, 2}
    # The pod has nothing left in flight and every worker free.
    assert pod.busy == 0 and not pod.in_flight and not pod.queue


def test_a_container_restarted_by_its_liveness_probe_serves_again() -> None:
    """One pod with a single worker, unhealthy 30 s after each start, probed every 5 s
    (threshold 3): killed at 40 s and restarted at once, warm and Ready at 42 s, listed at
    43 s (1 s propagation), unhealthy again at 70 s. Between, its one worker serves every
    request: 10 req/s of 20 ms each."""
    d = base_dict(
        service={
            "replicas": 1,
            "pod": {
                "concurrency": 1,
                "livenessProbe": {
                    "initialDelaySeconds": 0,
                    "periodSeconds": 5,
                    "failureThreshold": 3,
                },
            },
        },
        versions={"v1": {"warmup": "2s", "unhealthyAfter": "30s"}},
        traffic={"rate": 10, "users": 100},
        plan=[],
        simulation={"duration": "70s", "seed": 1},
    )
    d["versions"].pop("v2")
    r = simulate(Scenario.parse(d))
    ev = r.events
    assert ev[ev.reason == "Killing"].t.tolist() == [40.0]
    tl = r.timeline
    window = tl[(tl.t >= 44) & (tl.t < 69)]
    # About 10 req/s × 25 s = 250 requests, all answered OK.
    assert window["requests"].sum() > 200
    assert window["ok"].sum() == window["requests"].sum()
