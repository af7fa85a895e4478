"""The replica set's incremental bookkeeping (``world/pod_index.py``) answers exactly what a
scan of every pod answers (tests/world).

``ReplicaSet.counts`` (replicas, ready, available) and ``ReplicaSet.deletion_order`` (the pods
a scale-down deletes, ``ActivePodsWithRanks``) are kept up to date as pods change instead of
scanning the pods on every query; these tests hold them to the full scan they replace: on
every query of whole runs (bundled scenarios, and variants with ``minReadySeconds``), and on
random sequences of hand-set pod states, including ``ready_since`` values so close that
``now - ready_since`` rounds them together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simdeploy import Scenario, load_scenario, simulate
from simdeploy.rules.deployment_status import is_pod_available
from simdeploy.world import pod as pod_module
from simdeploy.world.balancer import Balancer
from simdeploy.world.cluster import Cluster
from simdeploy.world.pod import PENDING, RUNNING, Pod, ReplicaSet
from simdeploy.world.pod_index import PodIndex
from simdeploy.world.recorder import Recorder
from simdeploy.world.versions import VersionModel
from simdeploy.world.world import stream
from tests.conftest import SCENARIOS, base_dict, merge


def full_counts(rs: ReplicaSet, min_ready_s: float, now: float) -> tuple[int, int, int]:
    """What ``counts`` computed before the index: a scan of every pod."""
    act = [p for p in rs.pods if p.deleted_at is None]
    ready = sum(1 for p in act if p.ready)
    avail = sum(1 for p in act if is_pod_available(p.ready, p.ready_since, min_ready_s, now))
    return len(act), ready, avail


def full_deletion_order(rs: ReplicaSet, k: int, now: float) -> list[Pod]:
    """What ``Cluster.scale`` deleted before the index: a stable sort of every active pod."""
    act = [p for p in rs.pods if p.deleted_at is None]
    return sorted(act, key=lambda p: pod_module._deletion_rank(p, now))[:k]


class Checked:
    """Wraps ``ReplicaSet.counts`` and ``deletion_order`` to compare every answer with the
    full scan; counts the comparisons."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts = self.deletions = 0
        counts, deletion_order = ReplicaSet.counts, ReplicaSet.deletion_order

        def checked_counts(rs: ReplicaSet, min_ready_s: float, now: float) -> Any:
            got = counts(rs, min_ready_s, now)
            assert got == full_counts(rs, min_ready_s, now), (rs.name, now)
            self.counts += 1
            return got

        def checked_order(rs: ReplicaSet, k: int, now: float) -> list[Pod]:
            got = deletion_order(rs, k, now)
            assert got == full_deletion_order(rs, k, now), (rs.name, now, k)
            self.deletions += 1
            return got

        monkeypatch.setattr(ReplicaSet, "counts", checked_counts)
        monkeypatch.setattr(ReplicaSet, "deletion_order", checked_order)


RUNS = [
    "rolling-defaults",
    "recreate",
    "rolling-bad-release",
    "scale-mid-rollout",
    "liveness-restarts",
    "canary-analysis",
    "blue-green-bad-release",
    "flagger-canary",
    "autoscaler-during-rollout",
]


@pytest.mark.parametrize("name", RUNS)
def test_index_agrees_with_a_full_scan_on_every_query(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = Checked(monkeypatch)
    simulate(load_scenario(Path(SCENARIOS) / f"{name}.yaml"))
    assert check.counts > 0
    if name in ("rolling-defaults", "recreate", "scale-mid-rollout"):
        assert check.deletions > 0  # these scale replica sets down


@pytest.mark.parametrize("min_ready", [0.5, 3.0, 10.0])
@pytest.mark.parametrize(
    "strategy",
    [
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 1}},
        {"type": "Recreate", "rollingUpdate": None},
    ],
)
def test_index_agrees_with_minready_seconds(
    min_ready: float, strategy: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Availability is a timer after readiness: the index moves pods to "available" as time
    # passes; with a rollback (v2 unhealthy) pods also go NotReady and come back.
    check = Checked(monkeypatch)
    sc = Scenario.parse(
        merge(
            base_dict(),
            {
                "service": {"replicas": 6, "minReadySeconds": min_ready, "strategy": strategy},
                "plan": [
                    {"at": "10s", "action": "deploy", "version": "v2"},
                    {"at": "40s", "action": "scale", "replicas": 9},
                    {"at": "55s", "action": "rollback"},
                ],
            },
        )
    )
    r = simulate(sc)
    assert check.counts > 0 and check.deletions > 0
    assert "Ready" in set(r.events["reason"])


# --- random pod states set by hand --------------------------------------------------------


def bare_cluster(n: int) -> tuple[Cluster, ReplicaSet]:
    """A cluster with ``n`` pods of v1 just created at t = 0 (no lifecycle run)."""
    sc = Scenario.parse(base_dict())
    env = simpy.Environment()
    users = sc.traffic.users
    rec = Recorder(tuple(sc.versions), sc.simulation.duration, sc.simulation.bucket, users)
    bal = Balancer(env, "round_robin", 1.0, stream(1, "balancer"), rec)
    models = {
        name: VersionModel.build(name, i, spec, stream(1, name), users)
        for i, (name, spec) in enumerate(sc.versions.items())
    }
    cluster = Cluster(env, sc.service.pod, models, bal, rec, stream(1, "pods"), 0.0)
    rs = cluster.replica_set("v1")
    cluster.scale(rs, n)
    return cluster, rs


#: Ready times with near-collisions: 0.1 + 0.2 and 0.3 differ by one unit in the last place,
#: and ``100 - x`` rounds them to the same value.
TIMES = [-3600.0, -50.0, 0.1 + 0.2, 0.3, 1.0, 2.5, 2.5000000000000004]

pod_state = st.fixed_dictionaries(
    {
        "scheduled": st.booleans(),
        "phase": st.sampled_from([PENDING, RUNNING]),
        "ready": st.booleans(),
        "ready_since": st.sampled_from([None, *TIMES]),
        "restarts": st.integers(0, 3),
        "created_at": st.sampled_from([-100.0, -1.0, 0.0, 0.1 + 0.2, 0.3]),
    }
)
step = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 11), pod_state),
    st.tuples(st.just("delete"), st.integers(0, 11), st.none()),
    st.tuples(st.just("gone"), st.integers(0, 11), st.none()),
    st.tuples(st.just("query"), st.integers(1, 12), st.sampled_from([0.0, 0.5, 60.0, 40.0])),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(step, max_size=40))
def test_index_agrees_with_a_full_scan_on_hand_set_states(
    steps: list[tuple[str, int, Any]],
) -> None:
    cluster, rs = bare_cluster(12)
    pods = list(rs.pods)
    now = 100.0
    for op, i, arg in steps:
        pod = pods[i % len(pods)]
        if op == "set":
            for attr, value in arg.items():
                setattr(pod, attr, value)
        elif op == "delete":
            pod.deleted_at = now
        elif op == "gone" and pod in rs.pods:
            cluster._gone(pod)
        elif op == "query":
            now += 0.25  # time only moves forward
            for min_ready in (0.0, arg):
                assert rs.counts(min_ready, now) == full_counts(rs, min_ready, now)
            assert rs.deletion_order(i, now) == full_deletion_order(rs, i, now)
            assert rs.n_active == len(rs.active())
            assert rs.n_ready == sum(p.ready for p in rs.pods)


def test_rounding_ties_fall_back_to_the_full_sort() -> None:
    # Ready at 0.1 + 0.2 and at 0.3: different floats, but 100 - x is the same for both, so
    # the rank breaks the tie on restarts (more first), against the ready-time order.
    _, rs = bare_cluster(2)
    a, b = rs.pods
    for pod, since, restarts in ((a, 0.1 + 0.2, 0), (b, 0.3, 5)):
        pod.scheduled, pod.phase, pod.restarts = True, RUNNING, restarts
        pod.ready, pod.ready_since = True, since
    assert 100.0 - a.ready_since == 100.0 - b.ready_since and a.ready_since > b.ready_since
    assert rs.index.first_ranked(1, 100.0) is None  # the index cannot tell: full sort
    assert rs.deletion_order(1, 100.0) == [b]  # more restarts goes first
    # Close to 0.3, now - x tells them apart: Ready later (for less time) goes first.
    assert 0.35 - a.ready_since < 0.35 - b.ready_since
    assert rs.index.first_ranked(1, 0.35) == [a]
    assert rs.deletion_order(1, 0.35) == [a]


def test_index_is_rebuilt_when_pods_change_behind_its_back() -> None:
    _, rs = bare_cluster(3)
    extra = rs.pods.pop()
    assert rs.counts(0.0, 0.0) == (2, 0, 0)
    rs.pods.append(extra)
    extra.ready = True
    assert rs.counts(0.0, 0.0) == (3, 1, 1)
    assert isinstance(rs.index, PodIndex) and len(rs.index) == 3


def test_a_chosen_pod_that_ties_with_the_last_one_falls_back() -> None:
    # Ready at 0.1 + 0.2 (a), and at 0.3 (b: 5 restarts, c: 3). By ready time, a and then b
    # go first; but 100 - x is the same for all three, so restarts decide: b, c, then a.
    _, rs = bare_cluster(3)
    a, b, c = rs.pods
    for pod, since, restarts in ((a, 0.1 + 0.2, 0), (b, 0.3, 5), (c, 0.3, 3)):
        pod.scheduled, pod.phase, pod.restarts = True, RUNNING, restarts
        pod.ready, pod.ready_since = True, since
    assert rs.index.first_ranked(2, 100.0) is None
    assert rs.deletion_order(2, 100.0) == [b, c]


def test_available_counts_follow_min_ready_seconds() -> None:
    # minReadySeconds 10: a pod Ready at t counts as available from t + 10 (inclusive).
    _, rs = bare_cluster(3)
    a, b, c = rs.pods
    a.ready, a.ready_since = True, 0.0
    b.ready, b.ready_since = True, 5.0
    assert rs.counts(10.0, 9.0) == (3, 2, 0)
    assert rs.counts(10.0, 10.0) == (3, 2, 1)  # a: 0 + 10 <= 10
    b.ready_since = 20.0  # moved while Ready: available from 30, not 15
    assert rs.counts(10.0, 15.0) == (3, 2, 1)
    assert rs.counts(10.0, 30.0) == (3, 2, 2)
    a.ready = False  # NotReady: no longer available
    c.ready, c.ready_since = True, 25.0
    assert rs.counts(10.0, 34.0) == (3, 2, 1)
    assert rs.counts(10.0, 35.0) == (3, 2, 2)
    assert rs.counts(0.0, 35.0) == (3, 2, 2)  # minReadySeconds 0: Ready is enough
    assert rs.counts(20.0, 40.0) == (3, 2, 1)  # another minReadySeconds: b only (20 + 20)
    assert rs.counts(10.0, 31.0) == (3, 2, 1)  # an earlier time: c not yet (25 + 10)
    b.deleted_at = 40.0  # terminating: not counted at all
    assert rs.counts(10.0, 40.0) == (2, 1, 1)
    a.ready, a.ready_since = True, 45.0
    a.ready_since = None  # Ready without a transition time: never available
    c.ready_since = None
    assert rs.counts(10.0, 60.0) == (2, 2, 0)
