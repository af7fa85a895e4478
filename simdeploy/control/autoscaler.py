"""The HorizontalPodAutoscaler controller (control plane), for ``service.autoscaler``.

The simulator's "CPU": a pod's usage is the share of its workers that are busy
(``busy / concurrency``), sampled every second and averaged over the last sync period, and
its request is all of its workers; so a pod whose workers are all busy all the time is at 100%
and ``targetCPUUtilizationPercentage: 60`` asks for 60% of the workers busy on average. Every
``syncPeriod`` the controller reads those averages for the Deployment's pods and applies
:mod:`simdeploy.rules.hpa` (``GetResourceReplicas``, then ``reconcileAutoscaler`` with the
default normalisation); a rescale sets the Deployment's ``replicas``, which its controller
scales proportionally across the replica sets of a rollout in progress.

Events: ``SuccessfulRescale`` ("New size: N; reason: ..."), ``FailedComputeMetricsReplicas``
(when the metric cannot be computed, e.g. no pod is ready yet; recorded when the reason
changes). ``history`` keeps one row per sync (time, current replicas, utilisation, new size).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simdeploy.control.deployment import OWNER, Deployment
from simdeploy.rules.hpa import (
    HPAError,
    PodInfo,
    PodMetric,
    Recommendation,
    get_resource_replicas,
    metrics_needed,
    reconcile,
)
from simdeploy.spec.autoscaler import Autoscaler as AutoscalerSpec
from simdeploy.world.pod import PENDING, Pod
from simdeploy.world.recorder import Recorder

#: How often a pod's busy workers are sampled (the metrics pipeline's resolution), seconds.
SAMPLE_S = 1.0
#: A pod's CPU request in milli-units: all of its workers.
REQUEST_MILLI = 1000


@dataclass(frozen=True)
class HPASync:
    """One sync of the HPA: what it saw and what it set (``utilization`` None: no metric)."""

    t: float
    current: int
    utilization: int | None
    replicas: int


class HorizontalPodAutoscaler:
    """Samples the Deployment's pods and resizes it every ``syncPeriod``."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: AutoscalerSpec,
        deployment: Deployment,
        recorder: Recorder,
    ) -> None:
        self.env = env
        self.spec = spec
        self.deployment = deployment
        self.recorder = recorder
        self.samples: dict[Pod, deque[tuple[float, float]]] = {}
        self.recommendations: list[Recommendation] = []
        self.history: list[HPASync] = []
        self._last_error = ""
        env.process(self._sample())
        env.process(self._sync())

    def _pods(self) -> list[Pod]:
        return [
            p for rs in self.deployment.cluster.replica_sets if rs.owner == OWNER for p in rs.pods
        ]

    def _sample(self) -> Generator[simpy.Event, Any, None]:
        """Every second: each running container's busy share; samples older than one sync
        period are dropped, so memory stays flat."""
        window = self.spec.sync_period
        while True:
            now = self.env.now
            live = self._pods()
            for pod in live:
                if pod.container_running:
                    q = self.samples.setdefault(pod, deque())
                    q.append((now, pod.busy / pod.concurrency))
                    while q and q[0][0] <= now - window:
                        q.popleft()
            present = set(live)
            for pod in [p for p in self.samples if p not in present]:
                del self.samples[pod]
            yield self.env.timeout(SAMPLE_S)

    def metrics(self, now: float) -> dict[str, PodMetric]:
        """Each running pod's average usage over the last sync period, in milli-units."""
        window = self.spec.sync_period
        out = {}
        for pod, q in self.samples.items():
            recent = [v for t, v in q if t > now - window]
            if pod.container_running and recent:
                usage = round(REQUEST_MILLI * sum(recent) / len(recent))
                out[pod.name] = PodMetric(usage, now, window)
        return out

    def pod_infos(self) -> list[PodInfo]:
        return [
            PodInfo(
                pod.name,
                "Pending" if pod.phase == PENDING else "Running",
                pod.ready,
                pod.start_time,
                pod.ready_changed_at,
                pod.terminating,
                REQUEST_MILLI,
            )
            for pod in self._pods()
        ]

    def _propose(self, now: float, current: int) -> tuple[int | None, int | None]:
        """The metric's replica count and the utilisation it saw (None, None when it cannot
        be computed: a ``FailedComputeMetricsReplicas`` event when the reason is new)."""
        spec = self.spec
        try:
            calc = get_resource_replicas(
                current,
                spec.target_cpu_utilization_percentage,
                self.pod_infos(),
                self.metrics(now),
                now,
                spec.tolerance,
                spec.cpu_initialization_period,
                spec.initial_readiness_delay,
            )
        except HPAError as exc:
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                self.recorder.event(
                    now, "FailedComputeMetricsReplicas", "hpa", self.deployment.template, str(exc)
                )
            return None, None
        self._last_error = ""
        return calc.replicas, calc.utilization

    def _sync(self) -> Generator[simpy.Event, Any, None]:
        spec, env = self.spec, self.env
        while True:
            yield env.timeout(spec.sync_period)
            now = env.now
            dep = self.deployment
            current = dep.replicas
            proposal = utilization = None
            if metrics_needed(current, spec.min_replicas, spec.max_replicas):
                proposal, utilization = self._propose(now, current)
            decision = reconcile(
                current,
                spec.min_replicas,
                spec.max_replicas,
                proposal,
                self.recommendations,
                now,
                spec.downscale_stabilization,
            )
            self.recommendations = decision.log
            self.history.append(HPASync(now, current, utilization, decision.replicas))
            if decision.rescale:
                self.recorder.event(
                    now,
                    "SuccessfulRescale",
                    "hpa",
                    dep.template,
                    f"New size: {decision.replicas}; reason: {decision.reason}",
                )
                dep.set_replicas(decision.replicas)
