"""Canary, Argo Rollouts spelling: ``steps`` of setWeight, pause, analysis, setCanaryScale.

A short script in the spirit of the Argo controller:

    for each step: set the weight (scale first, then shift traffic), pause, analyse
    full promotion: canary to 100%, the new replica set becomes stable,
                    the old one is scaled down after scaleDownDelaySeconds
    abort (analysis Failed/Error, manual, SLO alert): traffic back to stable, canary
                    scaled down after abortScaleDownDelaySeconds

Without a traffic router one Service selects both replica sets, so the split follows the
endpoint counts: ``canary_math`` picks the canary count closest to the weight and moves
one bounded step per reconcile (``setWeight: 70`` on 4 replicas serves 50% or 75%, and
the timeline shows both the asked and the served weight). With a router the weight is
exact and the canary gets ``ceil(R * w / 100)`` pods; the router only receives a new
weight once the canary is available and the stable side can carry the rest (or, with
``replicaProgressThreshold``, once enough of their pods are). Under dynamicStableScale an
abort steps both the pod counts and the router weight back down the setWeight ladder
(``canary_traffic``); ``argo_abort`` says when the aborted canary goes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simdeploy.control.analysis import RunResult, analysis_run
from simdeploy.control.rollback import (
    ANALYSIS_FAILED,
    AbortRollout,
    RollbackRequested,
    mark_rollback,
)
from simdeploy.control.strategies.experiment import run_experiment
from simdeploy.rules.analysis_phase import Phase
from simdeploy.rules.argo_abort import (
    abort_scale_down_delay_seconds,
    should_delay_scale_down_on_abort,
)
from simdeploy.rules.canary_math import CanaryRS
from simdeploy.rules.canary_steps import (
    at_desired_replica_counts_for_canary,
    calculate_replica_counts_for_canary,
)
from simdeploy.rules.canary_traffic import (
    SetCanaryScale,
    calculate_desired_weight_on_abort,
    check_replicas_available,
)
from simdeploy.world.balancer import Routing
from simdeploy.world.pod import ReplicaSet

if TYPE_CHECKING:
    from simdeploy.control.deployment import Deployment
    from simdeploy.control.rollback import Rollout
    from simdeploy.spec.progressive import ArgoCanary, CanaryStep, RunRef
    from simdeploy.world.world import World


class CanaryReplicas:
    """Argo's canary replica reconcile for one rollout (control plane).

    On every cluster change it computes (canary, stable) from the current weight with
    ``calculate_replica_counts_for_canary`` and scales both replica sets. Router weights
    (what the mesh actually sends) are kept in ``router_weight``.
    """

    def __init__(
        self,
        world: World,
        dep: Deployment,
        spec: ArgoCanary,
        stable: ReplicaSet,
        canary: ReplicaSet,
    ):
        self.world = world
        self.dep = dep
        self.spec = spec
        self.stable = stable
        self.canary = canary
        self.replicas = dep.replicas
        self.weight = 0
        self.router_weight = 0
        self.scale: SetCanaryScale | None = None
        self.aborted = False
        self.promote_full = False
        self.active = True
        self._busy = False
        self.set_weights = [step.set_weight for step in spec.steps]
        self.threshold = (
            None
            if spec.replica_progress_threshold is None
            else spec.replica_progress_threshold.to_rule()
        )
        world.cluster.on_change.append(self.reconcile)

    def _state(self, rs: ReplicaSet) -> CanaryRS:
        replicas, _, available = rs.counts(self.world.cluster.min_ready_s, self.world.env.now)
        return CanaryRS(rs.name, rs.spec_replicas, available, replicas)

    def _kwargs(self) -> dict[str, Any]:
        s = self.spec
        return {
            "traffic_routing": s.routed,
            "set_canary_scale": self.scale,
            "dynamic_stable_scale": s.dynamic_stable_scale,
            "current_stable_weight": s.max_traffic_weight - self.router_weight,
            "current_canary_weight": self.router_weight,
            "min_pods_per_replica_set": s.min_pods_per_replica_set,
            "max_weight": s.max_traffic_weight,
            "aborted": self.aborted,
            "abort_scale_down_delay_seconds": s.abort_scale_down_delay_given,
            "promote_full": self.promote_full,
            "set_weights": self.set_weights,
        }

    def holds_canary_on_abort(self) -> bool:
        """Aborted with a scale-down deadline ahead: the canary keeps its size until stable is
        full and the deadline passes (rollout/replicaset.go: shouldDelayScaleDownOnAbort)."""
        return self.aborted and should_delay_scale_down_on_abort(
            self.spec.abort_scale_down_delay_given,
            traffic_routing=self.spec.routed,
            dynamic_stable_scale=self.spec.dynamic_stable_scale,
        )

    def others(self) -> list[CanaryRS]:
        return [
            self._state(rs)
            for rs in self.dep.owned()
            if rs is not self.stable and rs is not self.canary and rs.spec_replicas > 0
        ]

    def reconcile(self) -> None:
        if self._busy or not self.active:
            return
        self._busy = True
        try:
            for _ in range(8):
                c, st = self._ask(calculate_replica_counts_for_canary)
                if self.holds_canary_on_abort():
                    c = self.canary.spec_replicas
                changed = False
                for rs, n in ((self.stable, st), (self.canary, c)):
                    if rs.spec_replicas != n:
                        self.world.cluster.scale(rs, n, f"canary weight {self.weight}")
                        changed = True
                if not changed:
                    break
            # Older replica sets (an earlier canary) drain once the new pair is settled.
            for rs in self.dep.owned():
                if rs not in (self.stable, self.canary) and rs.spec_replicas > 0:
                    self.world.cluster.scale(rs, 0, "older replica set")
        finally:
            self._busy = False

    def at_desired(self) -> bool:
        return bool(
            self._ask(
                at_desired_replica_counts_for_canary, replica_progress_threshold=self.threshold
            )
        )

    def _ask(self, fn: Any, **extra: Any) -> Any:
        """Call one of canary_steps' functions with this rollout's state, as Argo does."""
        return fn(
            self.replicas,
            self.weight,
            self.spec.max_surge,
            self.spec.max_unavailable,
            self._state(self.stable),
            self._state(self.canary),
            self.others(),
            **self._kwargs(),
            **extra,
        )

    def stable_can_carry(self, weight: int) -> bool:
        """The router may take canary ``weight`` once stable has floor((max−w)·R/max) pods
        available, or meets replicaProgressThreshold (trafficrouting.go:
        checkReplicasAvailable)."""
        max_w = self.spec.max_traffic_weight
        return check_replicas_available(
            self._state(self.stable), self.replicas, max_w - weight, max_w, self.threshold
        )

    def abort_weight(self) -> int:
        """The router weight of this reconcile of an aborted dynamicStableScale rollout
        (trafficrouting.go: calculateDesiredWeightOnAbortOrStableRollback)."""
        return calculate_desired_weight_on_abort(
            self.replicas,
            self.set_weights,
            self.router_weight,
            self._state(self.stable).available_replicas,
            self._state(self.canary).available_replicas,
            self.spec.abort_scale_down_delay_given,
            max_weight=self.spec.max_traffic_weight,
        )


def _routing(
    ctl: CanaryReplicas,
    cohort: tuple[float, frozenset[str]] | None = None,
    mirror: Any = None,
    weight: int | None = None,
    extra: dict[str, int] | None = None,
) -> Routing:
    """The router's weights; ``extra`` (an experiment's replica sets) is taken from stable."""
    if not ctl.spec.routed:
        return Routing(
            selector=frozenset([ctl.stable.name, ctl.canary.name]), cohort=cohort, mirror=mirror
        )
    w = ctl.router_weight if weight is None else weight
    taken = sum((extra or {}).values())
    return Routing.weighted(
        {
            ctl.stable.name: max(ctl.spec.max_traffic_weight - w - taken, 0),
            ctl.canary.name: w,
            **(extra or {}),
        },
        cohort=cohort,
        mirror=mirror,
    )


def run(env: simpy.Environment, world: World, ro: Rollout) -> Generator[simpy.Event, Any, None]:
    """The rollout process of one Argo canary deploy (interrupt = abort with a cause)."""
    spec = ro.strategy.canary
    assert spec is not None
    cluster, rec, bal = world.cluster, world.recorder, world.balancer
    dep = ro.deployment
    dep.suspended = True
    stable = cluster.replica_set(ro.stable)
    canary = cluster.replica_set(ro.version)
    # Both are this rollout's now: an earlier rollout's pending scale-down no longer applies.
    stable.scale_down_deadline = canary.scale_down_deadline = None
    ro.roles.update(stable=ro.stable, canary=ro.version)
    ctl = CanaryReplicas(world, dep, spec, stable, canary)
    state: dict[str, Any] = {
        "cohort": None,
        "mirror": None,
        "background": None,
        "background_run": None,
    }
    rec.tracking = True
    rec.event(env.now, "DeploymentStarted", "rollout", ro.version, ro.strategy.label)
    bal.set_routing(_routing(ctl))

    def shift(weight: int) -> Generator[simpy.Event, Any, None]:
        """setWeight: scale first; with a router, shift traffic only once both sides can
        carry it (the previous weight stays in force meanwhile)."""
        ctl.weight = weight
        ro.weight_asked = float(weight)
        ctl.reconcile()
        rec.event(env.now, "SetWeight", "rollout", ro.version, f"asked {weight}%")
        yield cluster.until(
            lambda: ctl.at_desired() and (not spec.routed or ctl.stable_can_carry(weight))
        )
        if spec.routed and ctl.router_weight != weight:
            # The mesh learns the new weight after the propagation delay; only then does
            # the controller count it (dynamicStableScale shrinks stable no earlier).
            bal.set_routing_later(_routing(ctl, state["cohort"], state["mirror"], weight))
            yield env.timeout(bal.delay)
            ctl.router_weight = weight
            ctl.reconcile()

    def analyse(ref: RunRef, name: str) -> Generator[simpy.Event, Any, RunResult]:
        templates = [world.scenario.analysis_templates[t.template_name] for t in ref.templates]
        result: RunResult = yield env.process(analysis_run(env, name, templates, rec, ro.roles))
        return result

    def background(ref: RunRef) -> Generator[simpy.Event, Any, None]:
        templates = [world.scenario.analysis_templates[t.template_name] for t in ref.templates]
        run_proc = env.process(analysis_run(env, "background", templates, rec, ro.roles))
        state["background_run"] = run_proc
        result: RunResult = yield run_proc
        if result.phase in (Phase.FAILED, Phase.ERROR):
            from simdeploy.control.rollback import request_rollback

            request_rollback(
                env, ro, RollbackRequested(ANALYSIS_FAILED, env.now, result.message), rec
            )
        elif result.phase == Phase.INCONCLUSIVE:
            state["paused"] = "InconclusiveAnalysis"

    try:
        try:
            for i, step in enumerate(spec.steps):
                if (
                    spec.analysis is not None
                    and i >= spec.analysis.starting_step
                    and (state["background"] is None)
                ):
                    state["background"] = env.process(background(spec.analysis))
                if state.get("paused"):
                    rec.event(env.now, "RolloutPaused", "rollout", ro.version, state["paused"])
                    yield ro.wait_promote(env)
                    state["paused"] = None
                kind = step.kind
                ro.step_log.append((env.now, i, step_label(step)))
                if kind == "set_weight":
                    yield from shift(step.set_weight or 0)
                elif kind == "pause":
                    pause = step.pause
                    assert pause is not None
                    until = "until promoted" if pause.duration is None else f"{pause.duration}s"
                    rec.event(
                        env.now, "RolloutPaused", "rollout", ro.version, f"CanaryPauseStep {until}"
                    )
                    if pause.duration is None:
                        yield ro.wait_promote(env)
                    else:
                        yield env.timeout(pause.duration) | ro.wait_promote(env)
                elif kind == "analysis":
                    assert step.analysis is not None
                    result = yield from analyse(step.analysis, f"step-{i}")
                    if result.phase in (Phase.FAILED, Phase.ERROR):
                        raise AbortRollout(
                            RollbackRequested(ANALYSIS_FAILED, env.now, result.message)
                        )
                    if result.phase == Phase.INCONCLUSIVE:
                        rec.event(
                            env.now, "RolloutPaused", "rollout", ro.version, "InconclusiveAnalysis"
                        )
                        yield ro.wait_promote(env)
                elif kind == "set_canary_scale":
                    sc = step.set_canary_scale
                    assert sc is not None
                    ctl.scale = (
                        None
                        if sc.match_traffic_weight
                        else SetCanaryScale(replicas=sc.replicas, weight=sc.weight)
                    )
                    ctl.reconcile()
                    yield cluster.until(ctl.at_desired)
                elif kind == "set_header_route":
                    hr = step.set_header_route
                    assert hr is not None
                    state["cohort"] = (hr.user_share, frozenset([canary.name]))
                    bal.cohort_users = world.cohort_mask(hr.name, hr.user_share)
                    bal.set_routing_later(_routing(ctl, state["cohort"], state["mirror"]))
                elif kind == "experiment":
                    assert step.experiment is not None
                    yield from run_experiment(
                        env,
                        world,
                        ro,
                        step.experiment,
                        f"experiment-{i}",
                        lambda extra: _routing(ctl, state["cohort"], state["mirror"], extra=extra),
                    )
                elif kind == "set_mirror_route":
                    from simdeploy.world.balancer import Mirror

                    mr = step.set_mirror_route
                    assert mr is not None
                    state["mirror"] = Mirror(frozenset([canary.name]), mr.percentage / 100)
                    bal.set_routing_later(_routing(ctl, state["cohort"], state["mirror"]))
            # Full promotion.
            ro.step_log.append((env.now, len(spec.steps), "done"))
            yield from shift(spec.max_traffic_weight)
            _terminate(state, "promoted")
            if state.get("paused"):
                yield ro.wait_promote(env)
        except AbortRollout as exc:
            mark_rollback(ro, exc.cause, rec)
            raise simpy.Interrupt(exc.cause) from None
        yield from _promote(env, world, ro, ctl)
        ro.finish("completed", env.now, rec)
        yield env.event()  # stays undoable: a later rollback goes back to the old version
    except simpy.Interrupt as intr:
        cause = intr.cause
        _terminate(state, "aborted")
        if ro.completed_at is None:
            yield from _abort(env, world, ro, ctl, cause)
        else:
            yield from _undo_after_promotion(env, world, ro, ctl)


def step_label(step: CanaryStep) -> str:
    """A step as the file spells it, in short: ``setWeight: 20``, ``pause: 60s``, ``pause``
    (until promoted), ``analysis: success-rate``, ``setCanaryScale: 2 replicas``."""
    if step.set_weight is not None:
        return f"setWeight: {step.set_weight}"
    if step.pause is not None:
        d = step.pause.duration
        return "pause (until promoted)" if d is None else f"pause: {d:g}s"
    if step.analysis is not None:
        return "analysis: " + ", ".join(t.template_name for t in step.analysis.templates)
    if step.set_canary_scale is not None:
        sc = step.set_canary_scale
        if sc.match_traffic_weight:
            return "setCanaryScale: matchTrafficWeight"
        if sc.replicas is not None:
            return f"setCanaryScale: {sc.replicas} replicas"
        return f"setCanaryScale: weight {sc.weight}"
    if step.set_header_route is not None:
        return f"setHeaderRoute: {step.set_header_route.name}"
    if step.set_mirror_route is not None:
        mr = step.set_mirror_route
        return f"setMirrorRoute: {mr.name} {mr.percentage:g}%"
    assert step.experiment is not None
    return "experiment: " + ", ".join(t.name for t in step.experiment.templates)


def _terminate(state: dict[str, Any], why: str) -> None:
    """Terminate a running background AnalysisRun (it then counts as Successful)."""
    run_proc = state.get("background_run")
    if run_proc is not None and run_proc.is_alive:
        run_proc.interrupt(why)


def _promote(
    env: simpy.Environment, world: World, ro: Rollout, ctl: CanaryReplicas
) -> Generator[simpy.Event, Any, None]:
    """The new replica set becomes stable; the old one goes after scaleDownDelaySeconds
    with a router (basic canary: the replica math at weight 100 already drained it)."""
    rec = world.recorder
    old, new = ctl.stable, ctl.canary
    rec.event(env.now, "RolloutPromoted", "rollout", ro.version, "new replica set is stable")
    ro.roles.update(stable=ro.version)
    ctl.active = False
    ro.deployment.template = ro.version
    world.balancer.set_routing_later(Routing(selector=frozenset([new.name])))
    world.cluster.scale(new, ro.deployment.replicas, "stable")
    if ctl.spec.routed and not ctl.spec.dynamic_stable_scale:
        # The old replica set gets a scale-down deadline; a rollback before it finds it up,
        # and so does a later rollout that takes it up again.
        world.cluster.scale_down_after(
            old,
            ctl.spec.scale_down_delay_seconds,
            "scaleDownDelaySeconds passed",
            still_due=lambda: ro.deployment.template == ro.version,
        )
    else:  # basic canary, or dynamicStableScale: no delay (argo-rollouts#4926)
        world.cluster.scale(old, 0, "promoted")
    return
    yield  # a generator, like every step of the rollout


def _abort(
    env: simpy.Environment, world: World, ro: Rollout, ctl: CanaryReplicas, cause: Any
) -> Generator[simpy.Event, Any, None]:
    """Abort: all traffic back to stable; canary down after abortScaleDownDelaySeconds."""
    rec, bal, cluster = world.recorder, world.balancer, world.cluster
    spec = ctl.spec
    rec.event(
        env.now,
        "RolloutAborted",
        "rollout",
        ro.version,
        f"Rollout aborted update ({getattr(cause, 'reason', cause)})",
    )
    ctl.aborted = True
    ro.weight_asked = 0.0
    ctl.weight = 0
    if spec.routed and spec.dynamic_stable_scale and spec.abort_weight_policy == "stepped":
        # Argo v1.9+: the replica counts follow the setWeight ladder stepped down as the canary
        # drains (GetDesiredCanaryWeight), stable growing one rung at a time; the router weight
        # follows only once stable can carry it (Argo #1794, #4035, #4898).
        ctl.reconcile()
        while ctl.router_weight > 0:
            w = ctl.abort_weight()
            if w < ctl.router_weight and ctl.stable_can_carry(w):
                # As in shift(): the canary keeps the pods of the weight the mesh still sends
                # until the new weight has propagated.
                bal.set_routing_later(_routing(ctl, weight=w))
                yield env.timeout(bal.delay)
                ctl.router_weight = w
                ctl.reconcile()
                continue
            seen = (
                ctl._state(ctl.stable).available_replicas,
                ctl._state(ctl.canary).available_replicas,
            )
            yield cluster.until(
                lambda seen=seen: (
                    seen
                    != (
                        ctl._state(ctl.stable).available_replicas,
                        ctl._state(ctl.canary).available_replicas,
                    )
                )
            )
    elif spec.routed:
        # Traffic to stable at once; the canary stays up (Argo annotates it with a
        # scale-down deadline) and goes abortScaleDownDelaySeconds after stable is whole.
        ctl.router_weight = 0
        bal.set_routing_later(_routing(ctl))
        ctl.active = False
        cluster.scale(ctl.stable, ctl.replicas, "abort: stable to full size")
    else:
        ctl.router_weight = 0
        bal.set_routing_later(_routing(ctl))
        ctl.reconcile()
    if spec.routed:
        yield cluster.until(lambda: ctl._state(ctl.stable).available_replicas >= ctl.replicas)
        given = spec.abort_scale_down_delay_given
        if ctl.holds_canary_on_abort() or not ctl.active:
            delay, _ = abort_scale_down_delay_seconds(given, traffic_routing=True)
            if delay is not None:
                # The deadline annotation is set once stable is full (reconcileNewReplicaSet).
                yield env.timeout(delay)
                ctl.active = False
                cluster.scale(ctl.canary, 0, "abortScaleDownDelaySeconds passed")
            else:
                # abortScaleDownDelaySeconds: 0. The canary follows the replica arithmetic:
                # weight 0, so it goes, unless a setCanaryScale keeps it up (issue #1841).
                ctl.active = False
                c, _ = ctl._ask(calculate_replica_counts_for_canary)
                cluster.scale(ctl.canary, c, "abortScaleDownDelaySeconds: 0")
        else:
            # dynamicStableScale without an explicit delay: no deadline (shouldDelayScaleDown-
            # OnAbort is false), the canary followed the weight down (to 0, or to a
            # setCanaryScale kept by abortScaleDownDelaySeconds: 0).
            yield cluster.until(
                lambda: ctl.canary.spec_replicas == ctl._ask(calculate_replica_counts_for_canary)[0]
            )
            ctl.active = False
    else:
        yield cluster.until(
            lambda: (
                ctl.canary.spec_replicas == 0
                and ctl._state(ctl.stable).available_replicas >= ctl.replicas
            )
        )
        ctl.active = False
    bal.set_routing(Routing(selector=frozenset([ctl.stable.name])))
    ro.finish("rolled_back", env.now, rec)


def _undo_after_promotion(
    env: simpy.Environment, world: World, ro: Rollout, ctl: CanaryReplicas
) -> Generator[simpy.Event, Any, None]:
    """A rollback after full promotion: back to the old version, steps skipped (Argo's
    fast-track rollback). The old replica set is scaled up again if it is gone."""
    rec, cluster, bal = world.recorder, world.cluster, world.balancer
    old, new = ctl.stable, ctl.canary
    rec.event(env.now, "RolloutUndo", "rollout", ro.stable, "rollback to the previous version")
    cluster.scale(old, ro.deployment.replicas, "rollback")
    yield cluster.until(
        lambda: old.counts(cluster.min_ready_s, env.now)[2] >= ro.deployment.replicas
    )
    bal.set_routing_later(Routing(selector=frozenset([old.name])))
    yield env.timeout(bal.delay)
    cluster.scale(new, 0, "rolled back")
    ro.deployment.template = ro.stable
    ro.roles.update(stable=ro.stable)
    ro.finish("rolled_back", env.now, rec)
