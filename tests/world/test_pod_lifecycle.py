"""The pod lifecycle, pinned to the times Kubernetes documents (tests/world).

Every run here uses constant delays, so each event time is exact and derived in a comment:
one replica, maxSurge 1 / maxUnavailable 0, v2 deployed at 10 s, scheduling 0.5 s and
start-up 1 s, so the v2 pod's container starts at 10 + 0.5 + 1 = 11.5 s.

- readiness probe (kubelet ``prober/worker.go``): the first tick at
  ``started + initialDelaySeconds``, then one every ``periodSeconds``; the result flips after
  ``successThreshold`` / ``failureThreshold`` *consecutive* results;
- termination (``kuberuntime_container.go`` ``killContainer``): the grace period counts from
  deletion and includes preStop, SIGTERM → SIGKILL is never less than 2 s;
- CrashLoopBackOff: the restart delay doubles from the first back-off up to 5 minutes;
- scale-down order (``controller_utils.go`` ``ActivePodsWithRanks.Less``): unscheduled,
  pending, not ready, ready for less time, more restarts, newer first.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pandas as pd
import pytest
import simpy

from simdeploy import Scenario, simulate
from simdeploy.world.balancer import Balancer
from simdeploy.world.cluster import Cluster
from simdeploy.world.pod import PENDING, RUNNING, Pod
from simdeploy.world.recorder import Recorder
from simdeploy.world.versions import VersionModel
from simdeploy.world.world import stream
from tests.conftest import base_dict, merge

DEPLOY_AT = 10.0
STARTED = DEPLOY_AT + 0.5 + 1.0  # the v2 container starts at 11.5 s


def lifecycle_scenario(
    probe: dict[str, Any] | None = None,
    v2: dict[str, Any] | None = None,
    pod: dict[str, Any] | None = None,
    duration: str = "60s",
    readiness_probe: bool = True,
    **over: Any,
) -> Scenario:
    """One replica, constant delays, light traffic; v2 deployed at 10 s."""
    pod_spec: dict[str, Any] = {
        "schedulingDelay": "0.5s",
        "startupDelay": "1s",
        "readinessProbe": {"initialDelaySeconds": 2, "periodSeconds": 1, **(probe or {})},
        **(pod or {}),
    }
    if not readiness_probe:
        pod_spec["readinessProbe"] = None  # base_dict's merge deletes a key set to None
    d = base_dict(
        service={"replicas": 1, "pod": pod_spec},
        versions={"v1": {"warmup": "0s"}, "v2": {"warmup": "0s", **(v2 or {})}},
        traffic={"rate": 5, "users": 50, "timeout": "5s"},
        simulation={"duration": duration, "seed": 1},
    )
    return Scenario.parse(merge(d, over))


def times(events: pd.DataFrame, reason: str, version: str = "v2") -> list[float]:
    rows = events[(events.reason == reason) & (events.version == version)]
    return [float(t) for t in rows.t]


# --- readiness probe: successThreshold ----------------------------------------------------


@pytest.mark.parametrize(
    ("probe", "warmup", "ready_at"),
    [
        # Ticks at 11.5 + 2 = 13.5, 14.5, ...; warm at once: the first tick makes it Ready.
        pytest.param({"successThreshold": 1}, "0s", 13.5, id="success-1-first-tick"),
        # Three consecutive successes: 13.5, 14.5, 15.5 → Ready at 13.5 + (3 - 1)·1 = 15.5.
        pytest.param({"successThreshold": 3}, "0s", 15.5, id="success-3"),
        # Period 2: ticks 13.5, 15.5 → Ready at 13.5 + (2 - 1)·2 = 15.5.
        pytest.param({"successThreshold": 2, "periodSeconds": 2}, "0s", 15.5, id="success-2-p2"),
        # Warm at 11.5 + 2.5 = 14.0: the 13.5 tick fails, successes at 14.5, 15.5, 16.5.
        pytest.param({"successThreshold": 3}, "2.5s", 16.5, id="success-3-after-warmup"),
    ],
)
def test_ready_after_success_threshold_consecutive_successes(
    probe: dict[str, Any], warmup: str, ready_at: float
) -> None:
    r = simulate(lifecycle_scenario(probe=probe, v2={"warmup": warmup}))
    assert times(r.events, "Started") == [pytest.approx(STARTED)]
    assert times(r.events, "Ready") == [pytest.approx(ready_at)]
    # The endpoint follows readiness, and the old pod goes only once the new one is Ready.
    assert min(times(r.events, "Killing", "v1")) == pytest.approx(ready_at)


# --- readiness probe: failureThreshold ----------------------------------------------------


@pytest.mark.parametrize(
    ("failure_threshold", "not_ready_at"),
    [
        # Unhealthy from 11.5 + 9.7 = 21.2: failing ticks at 21.5, 22.5, 23.5, ...
        pytest.param(1, 21.5, id="failure-1"),
        pytest.param(3, 23.5, id="failure-3-default"),  # 21.5 + (3 - 1)·1
        pytest.param(5, 25.5, id="failure-5"),  # 21.5 + (5 - 1)·1
    ],
)
def test_not_ready_after_failure_threshold_consecutive_failures(
    failure_threshold: int, not_ready_at: float
) -> None:
    r = simulate(
        lifecycle_scenario(
            probe={"failureThreshold": failure_threshold}, v2={"unhealthyAfter": "9.7s"}
        )
    )
    assert times(r.events, "Ready") == [pytest.approx(13.5)]
    assert times(r.events, "NotReady") == [pytest.approx(not_ready_at)]
    # The only pod cannot serve from 21.2 s (the balancer re-reads the pods then) to the end
    # of the run at 60 s; NotReady takes its endpoint away one propagation delay later.
    assert r.record["downtime_s"] == pytest.approx(60 - 21.2)
    assert r.timeline.endpoints.iloc[-1] == 0
    assert r.record["errors_by_cause"]["no_endpoint"] > 0


def test_failures_before_ready_do_not_count_towards_failure_threshold() -> None:
    # Warm at 11.5 + 4 = 15.5: the ticks at 13.5 and 14.5 fail, 15.5 succeeds → Ready.
    # Unhealthy from 21.2: failures at 21.5, 22.5, 23.5 → NotReady at 23.5 (a run of three
    # consecutive failures; the two from warm-up were broken by the success).
    r = simulate(
        lifecycle_scenario(
            probe={"failureThreshold": 3}, v2={"warmup": "4s", "unhealthyAfter": "9.7s"}
        )
    )
    assert times(r.events, "Ready") == [pytest.approx(15.5)]
    assert times(r.events, "NotReady") == [pytest.approx(23.5)]


def test_without_a_readiness_probe_ready_when_the_container_starts() -> None:
    # No probe: Ready at 11.5 even though warm-up lasts 5 s (traffic hits a cold app).
    r = simulate(lifecycle_scenario(v2={"warmup": "5s"}, readiness_probe=False))
    assert times(r.events, "Ready") == [pytest.approx(STARTED)]


# --- termination: preStop within the grace period -----------------------------------------


@pytest.mark.parametrize(
    ("grace", "pre_stop", "sigterm_after", "sigkill_after"),
    [
        # preStop 5 of grace 30: SIGTERM at +5, SIGKILL when the grace period ends, +30.
        pytest.param(30, 5, 5.0, 30.0, id="grace30-prestop5"),
        # preStop 15 is cut at the grace period: SIGTERM at +10 (not +15), and the kubelet
        # still gives the container its minimum 2 s: SIGKILL at +12.
        pytest.param(10, 15, 10.0, 12.0, id="grace10-prestop15-capped"),
        # preStop 10 of grace 10 uses it all: SIGTERM at +10, SIGKILL at +10 + 2.
        pytest.param(10, 10, 10.0, 12.0, id="grace10-prestop10"),
        # preStop 9 of grace 10: SIGTERM at +9, SIGKILL at +9 + max(10 - 9, 2) = +11.
        pytest.param(10, 9, 9.0, 11.0, id="grace10-prestop9-min-2s"),
        # Grace 0 skips preStop: SIGTERM at once, SIGKILL 2 s later.
        pytest.param(0, 5, 0.0, 2.0, id="grace0-skips-prestop"),
        # Grace 1 still runs preStop, for the 1 s it has: SIGTERM at +1, SIGKILL at +1 + 2.
        pytest.param(1, 5, 1.0, 3.0, id="grace1-prestop5"),
        # A sub-second preStop counts too: SIGTERM at +0.5.
        pytest.param(30, 0.5, 0.5, 30.0, id="grace30-prestop0.5"),
    ],
)
def test_prestop_counts_within_the_grace_period(
    grace: float, pre_stop: float, sigterm_after: float, sigkill_after: float
) -> None:
    # v1 requests take 40 s, so the old pod always has requests in flight to kill.
    r = simulate(
        lifecycle_scenario(
            pod={
                "terminationGracePeriodSeconds": grace,
                "lifecycle": {"preStop": {"sleep": {"seconds": pre_stop}}},
                "concurrency": 50,
            },
            versions={
                "v1": {"serviceTime": {"dist": "constant", "value": "40s"}, "warmup": "0s"},
                "v2": {"warmup": "0s"},
            },
            traffic={"rate": 5, "users": 50, "timeout": "60s"},
        )
    )
    (killing,) = times(r.events, "Killing", "v1")
    assert killing == pytest.approx(13.5)  # v2 Ready at 13.5 (first tick) → v1 deleted
    assert times(r.events, "SIGTERM", "v1") == [pytest.approx(killing + sigterm_after)]
    assert times(r.events, "SIGKILL", "v1") == [pytest.approx(killing + sigkill_after)]
    assert times(r.events, "Deleted", "v1") == [pytest.approx(killing + sigkill_after)]
    (kill_msg,) = r.events[r.events.reason == "SIGKILL"].message
    killed, text = kill_msg.split(" ", 1)
    assert text == "requests killed in flight"
    assert int(killed) == r.record["errors_by_cause"]["killed_in_flight"] > 0


# --- CrashLoopBackOff -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "back_offs"),
    [
        # The kubelet's default: 10 s, doubling, capped at 300 s.
        pytest.param(None, [10, 20, 40, 80, 160, 300], id="default-10s"),
        # From 100 s: 100, 200, then the 300 s cap (not 400).
        pytest.param("100s", [100, 200, 300, 300], id="from-100s"),
    ],
)
def test_crash_loop_back_off_doubles_up_to_five_minutes(
    first: str | None, back_offs: list[int]
) -> None:
    pod = {"crashLoopBackOff": first} if first else {}
    # Each cycle: the container runs 1 s and exits; the kubelet restarts it at once the first
    # time (doBackOff finds no back-off entry), then after the back-off. Starts at 11.5,
    # 11.5 + 1 = 12.5, 12.5 + 1 + 10 = 23.5, 23.5 + 1 + 20 = 44.5, ...
    r = simulate(
        lifecycle_scenario(
            pod=pod,
            v2={"crashOnStart": True},
            duration="1000s",
            traffic={"rate": 1, "users": 10, "timeout": "5s"},
        )
    )
    starts = times(r.events, "Started")
    back_off_at = times(r.events, "BackOff")
    n = len(back_offs)
    assert starts[0] == pytest.approx(STARTED)
    gaps = [b - a for a, b in pairwise(starts)][: n + 1]
    assert gaps == [pytest.approx(1.0)] + [pytest.approx(1 + b) for b in back_offs]
    # A BackOff event when each container after the first exits, 1 s after it started.
    assert back_off_at[:n] == [pytest.approx(t + 1.0) for t in starts[1 : n + 1]]
    msgs = r.events[r.events.reason == "BackOff"].message.tolist()[:n]
    assert msgs == [f"back-off {b}s restarting failed container" for b in back_offs]
    # The pod never becomes Ready, so the rollout never drains the old pod.
    assert times(r.events, "Ready") == []
    assert times(r.events, "Killing", "v1") == []


# --- scale-down order (ActivePodsWithRanks) --------------------------------------------------


def bare_cluster(n: int, sc: Scenario | None = None) -> tuple[Cluster, list[Pod]]:
    """A cluster of ``sc`` (default: :func:`lifecycle_scenario`) with ``n`` pods of v1 just
    created at t = 0, their lifecycle not yet run (no traffic, no controller)."""
    sc = sc or lifecycle_scenario()
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
    return cluster, list(rs.pods)


def put(pod: Pod, state: str, created: float, ready_since: float = 0.0, restarts: int = 0) -> None:
    """Set a pod's state by hand, as upstream's test builds pods (the clock stands at 0)."""
    pod.created_at, pod.restarts = created, restarts
    pod.scheduled = state != "unscheduled"
    pod.phase = RUNNING if state in ("running", "ready") else PENDING
    pod.ready = state == "ready"
    pod.ready_since = ready_since if pod.ready else None


def killed(cluster: Cluster) -> list[str]:
    return [e.object for e in cluster.recorder.events if e.reason == "Killing"]


# Each row: the pod deleted first ("a") and the one kept ("b"). They tie on every earlier
# rule; on every later rule "b" would be deleted first, so dropping or reversing the rule
# under test deletes "b" instead. Created: "a" at -100 (older) unless the rule is age.
RANKS = [
    # 1. Unassigned < assigned.
    pytest.param(("unscheduled", -100), ("pending", -1), id="1-unscheduled-first"),
    # 2. PodPending < PodRunning.
    pytest.param(("pending", -100), ("running", -1), id="2-pending-before-running"),
    # 3. Not ready < ready (b became Ready this instant, so "ready for" ties at 0 s).
    pytest.param(("running", -100), ("ready", -1, 0.0), id="3-not-ready-before-ready"),
    # 6. Ready for less time < more (1 s against 99 s: different log2 buckets upstream).
    pytest.param(("ready", -100, -1.0), ("ready", -99, -99.0), id="6-ready-for-less-time"),
    # 7. More restarts < fewer (both running, not ready).
    pytest.param(("running", -100, 0.0, 3), ("running", -1, 0.0, 1), id="7-more-restarts"),
    # 8. Newer < older.
    pytest.param(("ready", -1, -50.0), ("ready", -100, -50.0), id="8-newer-first"),
]


@pytest.mark.parametrize(("a", "b"), RANKS)
def test_scale_down_deletes_the_pod_kubernetes_ranks_first(
    a: tuple[Any, ...], b: tuple[Any, ...]
) -> None:
    for order in (0, 1):  # the pods' list order must not matter
        cluster, pods = bare_cluster(2)
        first, kept = (pods[0], pods[1]) if order == 0 else (pods[1], pods[0])
        put(first, *a)
        put(kept, *b)
        cluster.scale(cluster.replica_sets[0], 1)
        assert killed(cluster) == [first.name]
        assert cluster.replica_sets[0].active() == [kept]


def test_scale_down_order_over_a_whole_replica_set() -> None:
    # Eight pods in the order Kubernetes deletes them. Each neighbour pair is told apart by
    # one rule, and every later rule (restarts, age) points the other way, so dropping or
    # reversing any one rule changes the order.
    ranked = [
        ("unscheduled", -900),
        ("pending", -800),  # 1: scheduled
        ("running", -700, 0.0, 3),  # 2: Running
        ("running", -600, 0.0, 1),  # 7: fewer restarts
        ("ready", -500, 0.0, 2),  # 3: Ready (this instant)
        ("ready", -400, -10.0, 3),  # 6: ready 10 s
        ("ready", -650, -600.0, 4),  # 6: ready 600 s
        ("ready", -700, -600.0, 4),  # 8: older
    ]
    cluster, pods = bare_cluster(len(ranked))
    listed = [3, 7, 0, 5, 1, 6, 2, 4]  # the replica set's list order is not the rank
    for pod, k in zip(pods, listed, strict=True):
        put(pod, *ranked[k])
    cluster.scale(cluster.replica_sets[0], 0)
    assert killed(cluster) == [pods[listed.index(k)].name for k in range(len(ranked))]


# --- the pod's own state through a crash loop -----------------------------------------------


def test_a_crash_looping_container_counts_restarts_and_refuses_connections() -> None:
    # Created at 0: starts at 1.5, exits at 2.5, restarted at once (restart 1); exits at 3.5,
    # back-off 10 → 13.5 (2), exits 14.5, back-off 20 → 34.5 (3), exits 35.5, back-off 40 →
    # 75.5 (4), exits at 76.5, back-off 80 → next start at 156.5. At 100 s it waits that out.
    cluster, (pod,) = bare_cluster(
        1, lifecycle_scenario(v2=None, versions={"v1": {"crashOnStart": True}})
    )
    cluster.env.run(until=0.25)
    assert not pod.scheduled and pod.phase == PENDING
    cluster.env.run(until=100)
    assert pod.scheduled and pod.phase == RUNNING
    starts = [e.t for e in cluster.recorder.events if e.reason == "Started"]
    assert starts == [pytest.approx(t) for t in (1.5, 2.5, 13.5, 34.5, 75.5)]
    assert pod.restarts == 4
    assert not pod.accepting and not pod.ready and not pod.container_running
    backoffs = [e.object for e in cluster.recorder.events if e.reason == "BackOff"]
    assert backoffs == [pod.name] * 4
    assert not pod.can_serve(100.0)  # a connection now is refused
    assert pod.started_at == pytest.approx(75.5)


# --- waiting for a cluster change -------------------------------------------------------------


def test_until_waits_for_the_first_change_after_which_the_predicate_holds() -> None:
    cluster, _ = bare_cluster(1)
    on = {"now": False}
    assert cluster.until(lambda: True).triggered  # holds now: at once
    ev = cluster.until(lambda: on["now"])
    cluster.notify()  # a change after which it does not hold
    cluster.balancer.refresh()
    assert not ev.triggered
    on["now"] = True
    assert not ev.triggered  # nothing changed yet
    cluster.balancer.refresh()  # a balancer change counts too
    assert ev.triggered
    assert all(len(hooks) == 0 for hooks in (cluster.on_change, cluster.balancer.on_change))


def test_every_waiter_hears_the_change_that_satisfies_it() -> None:
    # Two strategies wait on the same condition (or one waits and the canary's reconcile or
    # the rollback watcher is registered after it): one change satisfies both.
    cluster, _ = bare_cluster(1)
    on = {"now": False}
    first = cluster.until(lambda: on["now"])
    second = cluster.until(lambda: on["now"])
    on["now"] = True
    cluster.notify()
    assert first.triggered
    assert second.triggered


# --- more of the lifecycle: names, availability, probes of running pods, draining ------------


def test_lifecycle_events_name_the_pod_they_happen_to() -> None:
    # One v1 pod (app-v1-1) at t = 0, then the v2 pod, the second pod of the run: app-v2-2.
    r = simulate(lifecycle_scenario())
    ev = r.events
    v2 = ev[ev.reason.isin(["SuccessfulCreate", "Started", "Ready"])]
    assert list(zip(v2.reason, v2.object, strict=True)) == [
        ("SuccessfulCreate", "app-v2-2"),
        ("Started", "app-v2-2"),
        ("Ready", "app-v2-2"),
    ]
    v1 = ev[ev.reason.isin(["Killing", "SIGTERM", "Deleted"])]
    assert list(zip(v1.reason, v1.object, v1.message, strict=True)) == [
        ("Killing", "app-v1-1", "pod deleted"),
        ("SIGTERM", "app-v1-1", ""),
        ("Deleted", "app-v1-1", ""),
    ]


@pytest.mark.parametrize("min_ready", [5.0, 0.5])
def test_old_pod_goes_when_the_new_one_has_been_ready_for_min_ready_seconds(
    min_ready: float,
) -> None:
    # Ready at 13.5; Available (IsPodAvailable) at 13.5 + minReadySeconds. With maxUnavailable
    # 0 the old pod is deleted only then. Meanwhile the status counts 2 ready, 1 available.
    r = simulate(lifecycle_scenario(service={"minReadySeconds": min_ready}))
    assert times(r.events, "Ready") == [pytest.approx(13.5)]
    assert times(r.events, "Killing", "v1") == [pytest.approx(13.5 + min_ready)]
    # Status rows: the deploy (v2 created), v2 Ready, v1 deleted (then gone 3 s later).
    st = r.status
    assert list(zip(st.ready, st.available, strict=True))[:3] == [(1, 1), (2, 1), (1, 1)]
    assert st.t.tolist()[1:3] == [pytest.approx(13.5), pytest.approx(13.5 + min_ready)]


def test_can_serve_from_warm_up_until_it_turns_unhealthy() -> None:
    # Started at 0, warm at 2 s (inclusive), unhealthy from 7 s (exclusive).
    _, (pod,) = bare_cluster(1)
    pod.accepting, pod.warm_at, pod.unhealthy_at = True, 2.0, 7.0
    assert [pod.can_serve(t) for t in (1.9, 2.0, 6.9, 7.0)] == [False, True, True, False]
    pod.accepting = False
    assert not pod.can_serve(3.0)


def test_a_steady_pod_is_probed_from_the_start_of_the_run() -> None:
    # v1's pods run since before t = 0; their prober ticks at 0, 3, 6, 9, ... (period 3).
    # Unhealthy from 7 s: failures at 9, 12, 15 → NotReady at 15 (failureThreshold 3).
    r = simulate(
        lifecycle_scenario(
            probe={"periodSeconds": 3}, versions={"v1": {"unhealthyAfter": "7s"}}, plan=[]
        )
    )
    assert times(r.events, "NotReady", "v1") == [pytest.approx(15.0)]


def test_a_drained_pod_is_gone_before_its_grace_period_ends() -> None:
    # 100 ms requests: SIGTERM closes the listener at +5 (preStop), what was accepted drains
    # within 0.1 s, and the pod is gone: no SIGKILL at +30. Terminating, it is not Ready.
    r = simulate(
        lifecycle_scenario(
            pod={"lifecycle": {"preStop": {"sleep": {"seconds": 5}}}},
            versions={"v1": {"serviceTime": "100ms", "warmup": "0s"}},
        )
    )
    (killing,) = times(r.events, "Killing", "v1")
    (sigterm,) = times(r.events, "SIGTERM", "v1")
    (deleted,) = times(r.events, "Deleted", "v1")
    assert sigterm == pytest.approx(killing + 5)
    assert sigterm <= deleted <= sigterm + 0.1
    assert times(r.events, "SIGKILL", "v1") == []
    during = r.timeline[(r.timeline.t > killing) & (r.timeline.t < sigterm)]
    assert len(during) >= 4
    assert (during["pods[v1]"] == 1).all() and (during["terminating[v1]"] == 1).all()
    assert (during["ready[v1]"] == 0).all()


def test_without_a_probe_downtime_lasts_until_the_cold_app_warms_up() -> None:
    # Recreate, no readiness probe, warm-up 5 s. The v1 endpoint leaves at 10 + 1 s; the v2
    # pod is created when v1 is gone (d), Ready when it starts (d + 1.5, listed 1 s later)
    # but fails requests until warm at d + 1.5 + 5: downtime = d + 6.5 - 11.
    r = simulate(
        lifecycle_scenario(
            readiness_probe=False,
            service={"strategy": {"type": "Recreate", "rollingUpdate": None}},
            versions={"v1": {"serviceTime": "10ms"}, "v2": {"warmup": "5s"}},
        )
    )
    (gone,) = times(r.events, "Deleted", "v1")
    assert times(r.events, "Ready") == [pytest.approx(gone + 1.5)]
    assert r.record["downtime_s"] == pytest.approx(gone + 6.5 - 11)


def test_a_pod_deleted_before_its_container_starts_is_gone_at_once() -> None:
    # Created at 0, scheduled at 0.5, started at 1.5: deleted at 1.0 there is nothing to stop
    # (no preStop, no SIGTERM, no grace period).
    cluster, (pod,) = bare_cluster(1)
    cluster.env.run(until=1.0)
    assert pod.scheduled and pod.started_at is None
    cluster.scale(cluster.replica_sets[0], 0)
    cluster.env.run(until=40)
    ev = [(e.t, e.reason) for e in cluster.recorder.events if e.object == pod.name]
    assert ev == [(0.0, "SuccessfulCreate"), (1.0, "Killing"), (1.0, "Deleted")]
    assert cluster.replica_sets[0].pods == []
    assert cluster.pod_count == 0


def test_sigterm_closes_the_listener_while_the_endpoint_is_still_listed() -> None:
    # No preStop: SIGTERM at deletion (13.5 s), the endpoint leaves 2 s later. Requests the
    # balancer still sends to the old pod in between are refused (it drains the 40 s requests
    # it had accepted until SIGKILL at +30); none are refused before or after that window.
    r = simulate(
        lifecycle_scenario(
            pod={"lifecycle": None, "concurrency": 50},
            service={"balancer": {"endpointPropagationDelay": "2s"}},
            versions={"v1": {"serviceTime": {"dist": "constant", "value": "40s"}}},
            traffic={"rate": 20, "users": 50, "timeout": "60s"},
        )
    )
    (killing,) = times(r.events, "Killing", "v1")
    assert times(r.events, "SIGTERM", "v1") == [pytest.approx(killing)]
    assert times(r.events, "SIGKILL", "v1") == [pytest.approx(killing + 30)]
    tl = r.timeline
    refused = tl[tl["errors_connection_refused"] > 0].t
    assert len(refused) > 0
    assert refused.min() >= int(killing) and refused.max() < killing + 2
