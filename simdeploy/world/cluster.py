"""The Kubernetes pod lifecycle and the ReplicaSet controller (the pods and replica sets
themselves are :mod:`simdeploy.world.pod`).

A pod goes Pending → scheduled → container started → (warm-up) → Ready by its
readiness probe → Available after ``minReadySeconds``. A liveness probe that fails
``failureThreshold`` times in a row restarts the container, after the kubelet's
CrashLoopBackOff (:mod:`simdeploy.rules.restart_backoff`). Deletion makes it Terminating:
the endpoint is removed after the propagation delay while, concurrently, the kubelet
runs preStop, sends SIGTERM (the app stops accepting and drains) and SIGKILLs what is
left at the grace period. Each of these is a plain SimPy generator with an explicit
``env``; nothing here touches individual requests except SIGKILL, which hands the
in-flight ones back to the data plane through ``Cluster.kill_in_flight``.

The ReplicaSet "controller" is ``Cluster.scale``: it creates or deletes pods at once to
match ``spec_replicas``, deleting the pods Kubernetes would delete first. A deleted replica
set (revision history cleanup) is forgotten once its last pod is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import simpy

from simdeploy.rules.restart_backoff import restart_at
from simdeploy.world.pod import GONE, RUNNING, Pod, ReplicaSet, index_state
from simdeploy.world.recorder import NOT_READY, PENDING, READY, TERMINATING

if TYPE_CHECKING:
    from simdeploy.spec.service import PodSpec
    from simdeploy.world.recorder import Recorder
    from simdeploy.world.versions import VersionModel

#: Crash-loop back-off doubles from the first value up to five minutes, as the kubelet does.
MAX_BACK_OFF_S = 300.0
#: A crashing container lives this long before it exits again.
CRASH_AFTER_S = 1.0
#: The kubelet never gives a container less than this between SIGTERM and SIGKILL
#: (``minimumGracePeriodInSeconds`` in kuberuntime_container.go), even with grace 0 or a
#: preStop hook that used the whole grace period.
MIN_GRACE_S = 2.0


class Endpoints(Protocol):
    """What the cluster tells the balancer (``world.balancer.Balancer`` is one): a pod's
    endpoint is listed or removed, now or after the propagation delay, and any change
    in a pod's readiness or acceptance makes it re-read the pods."""

    on_change: list[Callable[[], None]]
    members: Any  # supports ``pod in members``

    def add(self, pod: Pod) -> None: ...
    def add_later(self, pod: Pod) -> None: ...
    def remove_later(self, pod: Pod) -> None: ...
    def refresh(self) -> None: ...


class Cluster:
    """Replica sets and their pods, wired to the balancer and the recorder.

    ``on_change`` callbacks run after every change a controller would observe
    (pod created, ready, not ready, available, terminating, gone).
    """

    def __init__(
        self,
        env: simpy.Environment,
        pod_spec: PodSpec,
        models: dict[str, VersionModel],
        balancer: Endpoints,
        recorder: Recorder,
        rng: np.random.Generator,
        min_ready_s: float,
        pod_type: type[Pod] = Pod,
    ) -> None:
        self.pod_type = pod_type  # WatchedPod for the fluid data plane
        self.env = env
        self.spec = pod_spec
        self.models = models
        self.balancer = balancer
        self.recorder = recorder
        self.rng = rng
        self.min_ready_s = min_ready_s
        self.replica_sets: list[ReplicaSet] = []
        self.on_change: list[Callable[[], None]] = []
        self.pod_count = 0
        #: (time, pods in existence) at each change: the step function behind pod_seconds.
        self.pod_count_log: list[tuple[float, int]] = [(0.0, 0)]
        #: Every scale action: (time, replica set, owner, version, new spec, Σ spec of the
        #: owner's replica sets, active pods of the owner) — what a controller counts.
        self.scale_log: list[tuple[float, str, str, str, int, int, int]] = []
        self._serial = 0
        self._revision = 0
        #: SIGKILL: fail every request ``pod`` accepted with ``killed_in_flight`` and
        #: return how many; the data plane installs its own (none are in flight without one).
        self.kill_in_flight: Callable[[Pod], int] = lambda pod: 0

    # -- replica sets ---------------------------------------------------------------------
    def replica_set(self, version: str, owner: str = "app") -> ReplicaSet:
        """The replica set of ``version`` owned by ``owner`` (``app``: the Deployment or
        Rollout; ``app-canary``: Flagger's canary; ``app-shadow``: a shadow), created at 0
        replicas if it does not exist. Its name is ``<owner>-<version>``."""
        for rs in self.replica_sets:
            if rs.version == version and rs.owner == owner and not rs.deleted:
                return rs
        self._revision += 1
        rs = ReplicaSet(f"{owner}-{version}", version, self._revision, self.env.now, owner=owner)
        self.replica_sets.append(rs)
        self.recorder.event(self.env.now, "ReplicaSetCreated", rs.name, version)
        return rs

    def until(self, predicate: Callable[[], bool]) -> simpy.Event:
        """An event that succeeds at the first cluster or balancer change after which
        ``predicate()`` holds (at once if it holds now). Used by strategies to wait for
        readiness ("canary RS fully available") without polling."""
        ev = self.env.event()
        if predicate():
            ev.succeed()
            return ev

        def check() -> None:
            if not ev.triggered and predicate():
                ev.succeed()
            if ev.triggered:
                for hooks in (self.on_change, self.balancer.on_change):
                    if check in hooks:
                        hooks.remove(check)

        self.on_change.append(check)
        self.balancer.on_change.append(check)
        return ev

    def delete_replica_set(self, rs: ReplicaSet, message: str = "") -> None:
        """Delete a replica set scaled to 0 (its terminating pods finish on their own)."""
        if rs.deleted:
            return
        rs.deleted = True
        self.recorder.event(self.env.now, "ReplicaSetDeleted", rs.name, rs.version, message)
        if not rs.pods:
            self.replica_sets.remove(rs)
        self.notify()

    def bump_revision(self, rs: ReplicaSet) -> None:
        """An old RS that becomes new again (rollout undo) gets the next revision."""
        self._revision += 1
        rs.revision = self._revision

    def scale_down_after(
        self,
        rs: ReplicaSet,
        delay_s: float,
        reason: str,
        still_due: Callable[[], bool] | None = None,
    ) -> None:
        """Argo's ``scale-down-deadline``: scale ``rs`` to 0 ``delay_s`` from now, unless a
        rollout took it up again meanwhile (and cleared ``rs.scale_down_deadline``) or
        ``still_due()`` is false by then. A later deadline replaces an earlier one."""
        deadline = rs.scale_down_deadline = self.env.now + delay_s

        def due(_e: simpy.Event) -> None:
            if rs.scale_down_deadline == deadline and (still_due is None or still_due()):
                rs.scale_down_deadline = None
                self.scale(rs, 0, reason)

        self.env.timeout(delay_s).callbacks.append(due)

    def scale(self, rs: ReplicaSet, replicas: int, reason: str = "") -> None:
        """Set ``spec.replicas`` and create or delete pods to match (RS controller)."""
        old = rs.spec_replicas
        rs.spec_replicas = replicas
        if old != replicas:
            self.recorder.replica_set_spec(self.env.now, rs.name, rs.owner, rs.version, replicas)
            self.recorder.event(
                self.env.now,
                "ScalingReplicaSet",
                rs.name,
                rs.version,
                f"scaled {'up' if replicas > old else 'down'} from {old} to {replicas}"
                + (f" ({reason})" if reason else ""),
            )
        active = rs.n_active
        owned = [r for r in self.replica_sets if r.owner == rs.owner]
        if active < replicas:
            for _ in range(replicas - active):
                self._create_pod(rs)
        elif active > replicas:
            for pod in rs.deletion_order(active - replicas, self.env.now):
                self.delete_pod(pod)
        if old != replicas:
            self.scale_log.append(
                (
                    self.env.now,
                    rs.name,
                    rs.owner,
                    rs.version,
                    replicas,
                    sum(r.spec_replicas for r in owned),
                    sum(r.n_active for r in owned),
                )
            )
        self.notify()

    def start_steady(self, rs: ReplicaSet, replicas: int) -> None:
        """Pods of the version running before t=0: ready, warm, endpoints in place."""
        rs.spec_replicas = replicas
        self.recorder.replica_set_spec(self.env.now, rs.name, rs.owner, rs.version, replicas)
        for _ in range(replicas):
            pod = self._new_pod(rs)
            self._state(pod, READY)
            pod.scheduled, pod.phase, pod.accepting = True, RUNNING, True
            pod.started_at, pod.warm_at, pod.start_time = -3600.0, -3600.0, -3600.0
            pod.ready, pod.ready_since, pod.ready_changed_at = True, -3600.0, -3600.0
            pod.container_running = pod.started = True
            pod.unhealthy_at = pod.model.unhealthy_time(0.0)
            pod.bug_from = pod.model.bug_time(0.0)
            self.balancer.add(pod)
            self.env.process(self._probe(pod))
            if self.spec.liveness_probe is not None:
                self.env.process(self._liveness(pod))

    def notify(self) -> None:
        """Tell every ``on_change`` callback that something changed. Iterates over a copy: an
        ``until()`` waiter that is satisfied removes itself, and the one after it must still
        hear this change."""
        for cb in tuple(self.on_change):
            cb()

    def pods(self) -> list[Pod]:
        return [p for rs in self.replica_sets for p in rs.pods]

    # -- pod lifecycle --------------------------------------------------------------------
    def _new_pod(self, rs: ReplicaSet) -> Pod:
        self._serial += 1
        model = self.models[rs.version]
        pod = self.pod_type(
            f"{rs.name}-{self._serial}",
            rs.version,
            model.index,
            model,
            rs,
            self.env.now,
            concurrency=self.spec.concurrency,
            serial=self._serial,
        )
        rs.pods.append(pod)
        rs.index.update(pod, *index_state(pod))
        self._count_pods(+1)
        return pod

    def _state(self, pod: Pod, state: str) -> None:
        """Record that ``pod`` entered ``state`` now (``recorder.POD_STATES`` or Gone)."""
        self.recorder.pod_state(self.env.now, pod.name, pod.rs.name, pod.version, state)

    def _create_pod(self, rs: ReplicaSet) -> None:
        pod = self._new_pod(rs)
        self._state(pod, PENDING)
        self.recorder.event(self.env.now, "SuccessfulCreate", pod.name, pod.version)
        self.env.process(self._lifecycle(pod))

    def _count_pods(self, delta: int) -> None:
        self.pod_count += delta
        self.pod_count_log.append((self.env.now, self.pod_count))

    def _lifecycle(self, pod: Pod) -> Generator[simpy.Event, Any, None]:
        env, model = self.env, pod.model
        yield env.timeout(float(self.spec.scheduling_delay.build().sample(self.rng, 1)[0]))
        if pod.terminating:
            return
        pod.scheduled = True
        startup = model.startup or self.spec.startup_delay.build()
        yield env.timeout(float(startup.sample(self.rng, 1)[0]))
        if pod.terminating:
            return
        self._start_container(pod)
        if model.crash_on_start:
            yield from self._crash_loop(pod)
        else:
            if self.spec.startup_probe is not None:
                self.env.process(self._startup(pod))
            if self.spec.liveness_probe is not None:
                self.env.process(self._liveness(pod))
            yield from self._probe(pod)

    def _start_container(self, pod: Pod) -> None:
        now = self.env.now
        pod.phase, pod.started_at, pod.accepting = RUNNING, now, True
        pod.container_running = True
        if pod.start_time is None:
            pod.start_time = now
        pod.warm_at = now + pod.model.warmup_s
        pod.unhealthy_at = pod.model.unhealthy_time(now)
        pod.bug_from = pod.model.bug_time(now)
        self._state(pod, NOT_READY)
        self.recorder.event(now, "Started", pod.name, pod.version)
        # The balancer must notice when a listed pod warms up or goes bad (downtime).
        for t in (pod.warm_at, pod.unhealthy_at):
            if now < t < float("inf"):
                self.env.timeout(t - now).callbacks.append(lambda _e: self.balancer.refresh())
        pod.started = self.spec.startup_probe is None
        if self.spec.readiness_probe is None and pod.started:
            # No readiness probe: Ready as soon as the container starts, before warm-up.
            self.set_ready(pod, True)

    def _crash_loop(self, pod: Pod) -> Generator[simpy.Event, Any, None]:
        """CrashLoopBackOff: the container exits a second after each start; the kubelet
        restarts it at once the first time, then after its back-off (``doBackOff``, as
        :meth:`_kill_container`). Default 10 s: starts at s, s + 1, s + 12, s + 33, s + 74...
        (1 s of running, then 0, 10, 20, 40 s of back-off, up to 5 minutes)."""
        env = self.env
        while not pod.terminating:
            yield env.timeout(CRASH_AFTER_S)
            if pod.terminating:
                return
            pod.accepting = False
            pod.container_running = False
            self.set_ready(pod, False)
            at = self._restart_at(pod)
            self.balancer.refresh()
            if at > env.now:
                yield env.timeout(at - env.now)
            if pod.terminating:
                return
            pod.restarts += 1
            self._start_container(pod)

    def _probe(self, pod: Pod) -> Generator[simpy.Event, Any, None]:
        """The kubelet's readiness prober (``pkg/kubelet/prober/worker.go``, ``doProbe``):
        first tick at initialDelaySeconds, then periodic.

        A tick succeeds when the app is warm and healthy. ``successThreshold``
        consecutive successes make the pod Ready, ``failureThreshold`` failures NotReady.
        A restarted container (liveness kill) is probed afresh: its result starts as Failure
        and ticks are skipped while it has run for less than initialDelaySeconds, as for
        the first container. E.g. initialDelaySeconds 10, period 2, warm-up
        3 s, restarted at 100 s → Ready at the tick at or after 110 s, not at 103 s.
        """
        probe = self.spec.readiness_probe
        if probe is None:
            return
        env = self.env
        started = pod.started_at if pod.started_at is not None else env.now
        first = started + probe.initial_delay_seconds
        if first > env.now:
            yield env.timeout(first - env.now)
        ok_run = fail_run = 0
        container = pod.restarts
        while not pod.terminating:
            if pod.restarts != container:  # a new container: its result starts as Failure
                container, ok_run, fail_run = pod.restarts, 0, 0
            ran = env.now - pod.started_at if pod.started_at is not None else 0.0
            if not pod.container_running or not pod.started:
                pass  # no container, or its startup probe has not passed yet
            elif ran + 1e-9 < probe.initial_delay_seconds:
                pass  # probing is disabled for initialDelaySeconds
            elif pod.can_serve(env.now):
                ok_run, fail_run = ok_run + 1, 0
                if not pod.ready and ok_run >= probe.success_threshold:
                    self.set_ready(pod, True)
            else:
                ok_run, fail_run = 0, fail_run + 1
                if pod.ready and fail_run >= probe.failure_threshold:
                    self.set_ready(pod, False)
            yield env.timeout(probe.period_seconds)

    def _liveness(self, pod: Pod) -> Generator[simpy.Event, Any, None]:
        """The kubelet's liveness prober (``pkg/kubelet/prober/worker.go``, ``doProbe``).

        Ticks every ``periodSeconds`` from ``initialDelaySeconds`` after the first container
        start; a tick is skipped while the container is not running or has run for less than
        ``initialDelaySeconds`` (whole seconds), and probing stops when the pod is deleted.
        The result starts as Success; a tick fails once the app has gone unhealthy (the
        version's ``unhealthyAfter``). ``failureThreshold`` consecutive failures kill the
        container, and the worker holds until a new container runs. E.g. period 5 s,
        threshold 3, unhealthy 60 s after start: failures at about 60, 65, 70 s → killed at
        70 s, restarted at once (the first restart has no back-off), then after 10 s, 20 s...
        """
        probe = self.spec.liveness_probe
        assert probe is not None
        env = self.env
        started = pod.started_at if pod.started_at is not None else env.now
        first = started + probe.initial_delay_seconds
        if first > env.now:
            yield env.timeout(first - env.now)
        last_ok, run = True, 0
        container = pod.restarts
        on_hold = False
        while not pod.terminating:
            if pod.container_running and pod.started and pod.started_at is not None:
                if pod.restarts != container:  # a new container: probe it afresh
                    container, on_hold = pod.restarts, False
                ran = int(env.now - pod.started_at + 1e-9)
                if not on_hold and ran >= probe.initial_delay_seconds:
                    ok = env.now < pod.unhealthy_at
                    run = run + 1 if ok == last_ok else 1
                    last_ok = ok
                    if not ok:
                        self.recorder.event(
                            env.now, "Unhealthy", pod.name, pod.version, "Liveness probe failed"
                        )
                        if run >= probe.failure_threshold:
                            on_hold, run = True, 0
                            self._kill_container(pod)
            yield env.timeout(probe.period_seconds)

    def _startup(self, pod: Pod) -> Generator[simpy.Event, Any, None]:
        """The kubelet's startup prober (``worker.go``): ticks every ``periodSeconds`` from
        ``initialDelaySeconds`` after each container start, until the container has started.
        A tick passes when the app is warm and healthy: the container is ``started``, and the
        readiness and liveness probers begin. ``failureThreshold`` failures in a row kill the
        container (``Unhealthy``, ``Killing``) and it restarts with the back-off, probed afresh
        on the same ticks. E.g. warm-up 30 s, period 5 s, threshold 3: failures at 5, 10, 15 s
        → killed at 15 s, again and again: a startup budget shorter than the warm-up never
        starts."""
        probe = self.spec.startup_probe
        assert probe is not None
        env = self.env
        started = pod.started_at if pod.started_at is not None else env.now
        first = started + probe.initial_delay_seconds
        if first > env.now:
            yield env.timeout(first - env.now)
        container, failures = pod.restarts, 0
        while not pod.terminating:
            if pod.container_running and not pod.started and pod.started_at is not None:
                if pod.restarts != container:  # a new container: probed afresh
                    container, failures = pod.restarts, 0
                ran = env.now - pod.started_at
                if ran + 1e-9 < probe.initial_delay_seconds:
                    pass  # probing is disabled for initialDelaySeconds
                elif pod.can_serve(env.now):
                    pod.started = True
                    if self.spec.readiness_probe is None:
                        self.set_ready(pod, True)
                    self.notify()
                else:
                    failures += 1
                    self.recorder.event(
                        env.now, "Unhealthy", pod.name, pod.version, "Startup probe failed"
                    )
                    if failures >= probe.failure_threshold:
                        failures = 0
                        self._kill_container(pod, "startup")
            yield env.timeout(probe.period_seconds)

    def _kill_container(self, pod: Pod, probe: str = "liveness") -> None:
        """Kill a container that failed its ``probe`` (liveness or startup) and restart it after
        the kubelet's back-off (``doBackOff``). What it had accepted fails as
        ``killed_in_flight``; the pod is NotReady until the new container passes its readiness
        probe."""
        env, now = self.env, self.env.now
        pod.container_running = False
        pod.accepting = False
        killed = self.kill_in_flight(pod)
        self.recorder.event(
            now,
            "Killing",
            pod.name,
            pod.version,
            f"container failed {probe} probe, will be restarted ({killed} requests killed)",
        )
        self.set_ready(pod, False)
        self.balancer.refresh()
        at = self._restart_at(pod)

        def restart(_e: simpy.Event | None = None) -> None:
            if pod.terminating:
                return
            pod.restarts += 1
            self._start_container(pod)

        if at > now:
            env.timeout(at - now).callbacks.append(restart)
        else:
            restart()

    def _restart_at(self, pod: Pod) -> float:
        """When the kubelet restarts ``pod``'s container, which exited now (``doBackOff``): at
        once the first time, else after the back-off, logged as a ``BackOff`` event."""
        now = self.env.now
        at, waited, pod.back_off = restart_at(
            pod.back_off, now, self.spec.crash_loop_back_off, MAX_BACK_OFF_S
        )
        if waited > 0:
            self.recorder.event(
                now,
                "BackOff",
                pod.name,
                pod.version,
                f"back-off {waited:g}s restarting failed container",
            )
        return at

    def set_ready(self, pod: Pod, ready: bool) -> None:
        """Flip the Ready condition; the endpoint follows after the propagation delay."""
        if pod.ready == ready:
            return
        now = self.env.now
        pod.ready = ready
        pod.ready_since = now if ready else None
        pod.ready_changed_at = now
        self._state(pod, READY if ready else NOT_READY)
        self.recorder.event(now, "Ready" if ready else "NotReady", pod.name, pod.version)
        if ready:
            self.balancer.add_later(pod)
            if self.min_ready_s > 0:
                # Availability is a timer after readiness: wake the controllers then.
                self.env.timeout(self.min_ready_s).callbacks.append(lambda _e: self.notify())
        else:
            self.balancer.remove_later(pod)
        self.notify()

    # -- termination ----------------------------------------------------------------------
    def delete_pod(self, pod: Pod) -> None:
        """Mark the pod Terminating and start the kubelet's shutdown, concurrently with
        the endpoint removal (the race that causes errors without a preStop sleep)."""
        if pod.terminating:
            return
        now = self.env.now
        pod.deleted_at = now
        was_ready = pod.ready
        pod.ready = False
        self._state(pod, TERMINATING)
        self.recorder.event(now, "Killing", pod.name, pod.version, "pod deleted")
        if was_ready or pod in self.balancer.members:
            self.balancer.remove_later(pod)
        self.env.process(self._terminate(pod))

    def _terminate(self, pod: Pod) -> Generator[simpy.Event, Any, None]:
        env = self.env
        if pod.phase != RUNNING:  # no container yet: nothing to stop
            self._gone(pod)
            return
        grace = self.spec.termination_grace_period_seconds
        pre_stop = self.spec.pre_stop_sleep_s
        # The grace period counts from deletion and includes preStop (skipped with grace 0);
        # what is left after preStop is floored at 2 s. Grace 30, preStop 5 → SIGTERM at
        # +5 s, SIGKILL at +30 s; grace 10, preStop 15 → SIGTERM at +10 s, SIGKILL at +12 s.
        ran = min(pre_stop, grace) if pre_stop > 0 and grace > 0 else 0.0
        if ran > 0:
            yield env.timeout(ran)
        # SIGTERM: the app closes its listener and drains what it accepted.
        pod.accepting = False
        self.recorder.event(env.now, "SIGTERM", pod.name, pod.version)
        self.balancer.refresh()
        if pod.outstanding:
            pod.drained = env.event()
            yield pod.drained | env.timeout(max(grace - ran, MIN_GRACE_S))
            if pod.outstanding:
                killed = self.kill_in_flight(pod)
                self.recorder.event(
                    env.now, "SIGKILL", pod.name, pod.version, f"{killed} requests killed in flight"
                )
        self._gone(pod)

    def _gone(self, pod: Pod) -> None:
        pod.phase = GONE
        pod.accepting = False
        pod.container_running = False
        pod.rs.pods.remove(pod)
        pod.rs.index.remove(pod)
        if pod.rs.deleted and not pod.rs.pods and pod.rs in self.replica_sets:
            self.replica_sets.remove(pod.rs)
        self._count_pods(-1)
        self._state(pod, GONE)
        self.recorder.event(self.env.now, "Deleted", pod.name, pod.version)
        self.balancer.refresh()
        self.notify()
