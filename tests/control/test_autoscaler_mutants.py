"""The HorizontalPodAutoscaler controller against stand-in pods, and the experiment step's
events: exact metrics, pod infos, history rows and event texts (found by mutation testing).

The stand-ins carry only what the controller reads: a Deployment (``replicas``, ``template``,
``set_replicas``, ``cluster.replica_sets``), replica sets owned by it, and pods with a phase,
readiness, start time and busy workers out of ``concurrency``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import simpy

from simdeploy import simulate
from simdeploy.control.autoscaler import HorizontalPodAutoscaler, HPASync
from simdeploy.control.deployment import OWNER
from simdeploy.rules.hpa import PodInfo, PodMetric
from simdeploy.spec.autoscaler import Autoscaler
from simdeploy.world.pod import PENDING, RUNNING, TERMINATING
from simdeploy.world.recorder import Event
from tests.control.test_experiment import TEMPLATES
from tests.control.test_experiment import scenario as experiment_scenario

UNREADY = "did not receive metrics for targeted pods (pods might be unready)"


@dataclass(eq=False)
class StubPod:
    name: str
    phase: str = RUNNING
    ready: bool = True
    start_time: float | None = 0.0
    ready_changed_at: float | None = 0.0
    terminating: bool = False
    container_running: bool = True
    busy: int = 0
    concurrency: int = 10


@dataclass
class StubReplicaSet:
    pods: list[StubPod]
    owner: str = OWNER


@dataclass
class StubCluster:
    replica_sets: list[StubReplicaSet]


@dataclass
class StubDeployment:
    cluster: StubCluster
    replicas: int
    template: str = "v1"
    resized: list[int] = field(default_factory=list)

    def set_replicas(self, n: int) -> None:
        self.replicas = n
        self.resized.append(n)


@dataclass
class StubRecorder:
    events: list[Event] = field(default_factory=list)

    def event(self, t: float, reason: str, obj: str, version: str = "", message: str = "") -> None:
        self.events.append(Event(t, reason, obj, version, message))


def hpa_of(pods: list[StubPod], replicas: int, **spec: Any) -> HorizontalPodAutoscaler:
    """An HPA (min 1, max 12, target 50 % unless ``spec`` says) on a Deployment of ``pods``."""
    env = simpy.Environment()
    cluster = StubCluster([StubReplicaSet(pods), StubReplicaSet([StubPod("other")], "app-x")])
    dep = StubDeployment(cluster, replicas)
    a = Autoscaler.model_validate(
        {"minReplicas": 1, "maxReplicas": 12, "targetCPUUtilizationPercentage": 50, **spec}
    )
    return HorizontalPodAutoscaler(env, a, dep, StubRecorder())  # type: ignore[arg-type]


def test_metrics_average_the_samples_strictly_inside_the_last_sync_period() -> None:
    """Sync period 15 s, read at 15 s: only samples after 15 − 15 = 0 s count. Pod a sampled
    1.0 at 0 s (left out), 0.5 at 5 s, 0.0 at 10 s → 1000 × (0.5 + 0) / 2 = 250 milli, stamped
    now (15 s) over the 15 s window. Pod b's container has stopped (no metric, even with
    samples); pod c runs but has no sample in the window (no metric)."""
    a, b, c = StubPod("a"), StubPod("b", container_running=False), StubPod("c")
    hpa = hpa_of([a, b, c], 3)
    hpa.samples = {
        a: deque([(0.0, 1.0), (5.0, 0.5), (10.0, 0.0)]),
        b: deque([(5.0, 1.0)]),
        c: deque(),
    }
    assert hpa.metrics(15.0) == {"a": PodMetric(250, 15.0, 15.0)}


def test_each_pod_keeps_exactly_one_sync_period_of_samples() -> None:
    """Samples every second from 0 s; after the one at 40 s, those at or before 40 − 15 = 25 s
    are dropped: 26 … 40 s, 15 samples of 3/10 busy each. Pods of other owners are not sampled."""
    pod = StubPod("a", busy=3)
    hpa = hpa_of([pod], 1)
    hpa.env.run(until=40.5)
    assert list(hpa.samples) == [pod]
    assert [t for t, _ in hpa.samples[pod]] == [float(t) for t in range(26, 41)]
    assert {v for _, v in hpa.samples[pod]} == {0.3}


def test_pod_infos_report_each_pod_as_group_pods_reads_it() -> None:
    """Phase Pending stays Pending, any other phase is Running; readiness, start time, last
    readiness change and deletion as the pod has them; the request is all workers (1000 m)."""
    pods = [
        StubPod("p", phase=PENDING, ready=False, start_time=None, ready_changed_at=None),
        StubPod("r", start_time=2.0, ready_changed_at=7.0),
        StubPod("t", phase=TERMINATING, ready=False, ready_changed_at=9.0, terminating=True),
    ]
    assert hpa_of(pods, 3).pod_infos() == [
        PodInfo("p", "Pending", False, None, None, False, 1000),
        PodInfo("r", "Running", True, 2.0, 7.0, False, 1000),
        PodInfo("t", "Running", False, 0.0, 9.0, True, 1000),
    ]


def test_the_readiness_flags_of_the_spec_decide_which_pods_count() -> None:
    """Sync period 100 s, CPU initialisation period 60 s, initial readiness delay 10 s. Two pods
    started at 0 s, 8 of 10 workers busy (800 m). At the sync at 100 s both are past the
    initialisation period (0 + 60 ≤ 100); b is not Ready, but its readiness last changed at
    20 s, after the delay (0 + 10 ≤ 20): it was Ready once, so it counts. Utilisation
    1600 × 100 / 2000 = 80 % → ratio 80 / 50 = 1.6 → ceil(1.6 × 2) = 4 (the scale-up limit
    max(2 × 2, 4) = 4 allows it). With the default 30 s delay (0 + 30 > 20) b would be unready,
    count as idle on a scale-up, and the HPA would keep 2."""
    a = StubPod("a", busy=8, ready_changed_at=5.0)
    b = StubPod("b", busy=8, ready=False, ready_changed_at=20.0)
    hpa = hpa_of(
        [a, b], 2, syncPeriod="100s", cpuInitializationPeriod="60s", initialReadinessDelay="10s"
    )
    hpa.env.run(until=100.5)
    assert hpa.history == [HPASync(100.0, 2, 80, 4)]
    reason = "cpu resource utilization (percentage of request) above target"
    assert hpa.recorder.events == [
        Event(100.0, "SuccessfulRescale", "hpa", "v1", f"New size: 4; reason: {reason}")
    ]
    assert hpa.deployment.resized == [4]


def test_a_failed_metric_is_an_event_on_the_hpa_for_the_deployment_template() -> None:
    """Both pods Pending: no usable metric at the first sync (15 s), a
    FailedComputeMetricsReplicas event once; the count stays 2 and no utilisation is seen."""
    pods = [StubPod(n, phase=PENDING, ready=False) for n in ("a", "b")]
    hpa = hpa_of(pods, 2)
    hpa.env.run(until=30.5)
    assert hpa.recorder.events == [
        Event(15.0, "FailedComputeMetricsReplicas", "hpa", "v1", UNREADY)
    ]
    assert hpa.history == [HPASync(15.0, 2, None, 2), HPASync(30.0, 2, None, 2)]


def test_a_count_above_max_is_clamped_without_reading_a_metric() -> None:
    """20 replicas, max 12: at the first sync (15 s) the HPA sets 12 at once, without reading
    a metric (utilisation None), with the clamping reason in the event."""
    hpa = hpa_of([StubPod("a")], 20)
    hpa.env.run(until=15.5)
    assert hpa.history == [HPASync(15.0, 20, None, 12)]
    assert hpa.recorder.events == [
        Event(
            15.0,
            "SuccessfulRescale",
            "hpa",
            "v1",
            "New size: 12; reason: Current number of replicas above Spec.MaxReplicas",
        )
    ]


def test_an_experiment_starts_its_replica_sets_and_names_itself() -> None:
    """The experiment is the canary's step 1 ("experiment-1"): once the canary is ready its
    baseline (v1) and exp-canary (v2) replica sets are scaled 0 → 1 with the experiment and
    template named, and ExperimentStarted is recorded on the rollout for v2 at that time."""
    sc = experiment_scenario(
        {
            "duration": "10s",
            "templates": TEMPLATES,
            "analyses": [{"name": "check", "templateName": "check"}],
        }
    )
    sc = sc.model_copy(update={"simulation": sc.simulation.model_copy(update={"duration": 40.0})})
    ev = simulate(sc).events
    started = ev[ev.reason == "ExperimentStarted"]
    assert list(zip(started.object, started.version, started.message, strict=True)) == [
        ("rollout", "v2", "experiment-1")
    ]
    at = ev[(ev.reason == "ScalingReplicaSet") & (ev.t == started.t.iloc[0])]
    assert list(zip(at.object, at.message, strict=True)) == [
        (
            "app-experiment-1-baseline-v1",
            "scaled up from 0 to 1 (experiment experiment-1: baseline)",
        ),
        (
            "app-experiment-1-exp-canary-v2",
            "scaled up from 0 to 1 (experiment experiment-1: exp-canary)",
        ),
    ]
