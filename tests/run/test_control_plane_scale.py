"""The control plane's cost grows linearly with the pods, counted, never timed (tests/run).

A rolling update of N pods has O(N) control-plane events (each pod is created, started,
made Ready, deleted, drained, gone) and so O(N) controller passes and scale actions. If any of
them scans every pod (replica set counts recomputed per pass, a sort of all pods per
scale-down, endpoint lists rebuilt per change) the run costs O(N²): that was 42 s for 5,000
replicas (benchmarks/bench_control_plane.py). These tests catch a return of that cost by
counting work, which is deterministic for a seed:

- the full scans themselves (``ReplicaSet.active``, ``Cluster.pods``, the balancer selecting
  endpoints from all of them, the deletion-order fallback that sorts every pod): their number
  must not grow with N;
- every Python function call of the run (``cProfile``'s count): doubling N must add the same
  number of calls each time (linear), not twice as many each time (quadratic).
"""

from __future__ import annotations

import cProfile
import pstats
from collections import Counter
from typing import Any

import pytest

from simdeploy import Scenario, simulate
from simdeploy.world.balancer import Balancer
from simdeploy.world.cluster import Cluster
from simdeploy.world.pod import ReplicaSet
from tests.conftest import base_dict, merge


def rolling(n: int) -> Scenario:
    """A RollingUpdate of ``n`` pods (25% / 25%, readiness probe, preStop) at low traffic, so
    the run is mostly control plane; the data plane's work is the same for every ``n``."""
    return Scenario.parse(
        merge(
            base_dict(),
            {
                "service": {
                    "replicas": n,
                    "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                },
                "traffic": {"rate": 20},
                "simulation": {"duration": "120s"},
            },
        )
    )


def full_scans(n: int) -> Counter[str]:
    """How often a run of ``rolling(n)`` calls each operation that visits every pod."""
    calls: Counter[str] = Counter()

    def counted(cls: type, name: str) -> Any:
        original = getattr(cls, name)

        def wrapper(*args: Any, **kw: Any) -> Any:
            calls[f"{cls.__name__}.{name}"] += 1
            return original(*args, **kw)

        return wrapper

    with pytest.MonkeyPatch.context() as mp:
        for cls, name in ((ReplicaSet, "active"), (Cluster, "pods"), (Balancer, "_select")):
            mp.setattr(cls, name, counted(cls, name))
        r = simulate(rolling(n))
    assert r.record["outcome"] == "completed"
    return calls


def test_no_full_pod_scan_per_control_plane_event() -> None:
    small, large = full_scans(40), full_scans(160)
    # 4x the pods, 4x the controller passes and scale actions: the same number of scans.
    # (What remains: the sampler reading the serving endpoints once per bucket, the balancer
    # making each routing group once, the result counting requests in flight at the end.)
    assert large == small, (small, large)
    assert sum(large.values()) < 200  # 120 one-second buckets, plus a few


def calls_of_a_run(n: int) -> int:
    """Every Python function call of ``simulate(rolling(n))`` (deterministic for a seed)."""
    sc = rolling(n)
    profile = cProfile.Profile()
    profile.enable()
    try:
        result = simulate(sc)
    finally:
        profile.disable()
    assert result.record["outcome"] == "completed"
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def test_work_grows_linearly_with_the_pods() -> None:
    c1, c2, c4 = (calls_of_a_run(n) for n in (40, 80, 160))
    # calls = a + b·N + c·N²: going 80 → 160 adds (c4 - c2) = 80b + 19200c and 40 → 80 adds
    # (c2 - c1) = 40b + 4800c, a ratio of 2 when c = 0 and up to 4 when the N² term leads.
    # Before the incremental counts the ratio was 3.6 (and ~3.8 at 200 → 400).
    ratio = (c4 - c2) / (c2 - c1)
    assert 1.6 < ratio < 2.4, (c1, c2, c4, ratio)
