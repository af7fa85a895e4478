"""Canary, Flagger spelling: one transition per ``analysis.interval``.

The user's Deployment is the *primary*; the new version runs as a separate canary
replica set at full size from the first tick, and a traffic router splits requests
between them. Each tick, in Flagger's order (``scheduler.go: advanceCanary``):

    canary not ready → wait (past progressDeadlineSeconds → roll back)
    failedChecks >= threshold → roll back (checked before this tick's metrics)
    first progressing tick → no metric, advance
    a metric out of its thresholdRange, or with no data → failedChecks + 1, halt
    weight < maxWeight → weight += stepWeight (may overshoot: 20, 40, 60 for max 50)
    else → Promoting: the primary rolls out the new version (traffic split kept), then
           all traffic back to the primary → Finalising: canary scaled to 0 → Succeeded

``iterations`` without ``match`` is Flagger's blue/green (no user traffic to the canary,
optionally mirrored); with ``match`` it is A/B testing (a fixed cohort of users).
So a healthy canary promotes about ``interval × maxWeight / stepWeight`` after the
first tick, and a failing one rolls back ``interval × threshold`` after its first failure.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simdeploy.control.analysis import query
from simdeploy.control.rollback import RollbackRequested, mark_rollback
from simdeploy.rules.analysis_flagger import FlaggerChecks, FlaggerTick
from simdeploy.rules.flagger_math import (
    DEPLOYMENT_STRATEGY_AB_TESTING,
    DEPLOYMENT_STRATEGY_BLUE_GREEN,
    DEPLOYMENT_STRATEGY_CANARY,
    flagger_deployment_strategy,
    flagger_max_weight,
    flagger_next_weight,
)
from simdeploy.world.balancer import Mirror, Routing

if TYPE_CHECKING:
    from simdeploy.control.rollback import Rollout
    from simdeploy.spec.progressive import FlaggerMetric
    from simdeploy.world.world import World

CANARY_OWNER = "app-canary"
FAILED_CHECKS = "FailedChecks"


def metric_value(world: World, m: FlaggerMetric, version: str) -> float | None:
    """Flagger's built-ins over ``m.interval``: success rate in %, request duration p99 in ms;
    a metric with a ``query``: that query over ``m.interval``, scaled."""
    now, rec = world.env.now, world.recorder
    if m.query is not None:
        q = m.query
        v = query(rec, version, q.metric, now, m.interval, max(q.min_requests, m.min_requests))
        return None if v is None else v * q.scale
    if m.name == "request-success-rate":
        v = query(rec, version, "success_rate", now, m.interval, m.min_requests)
        return None if v is None else 100.0 * v
    v = query(rec, version, "latency_p99", now, m.interval, m.min_requests)
    return None if v is None else 1000.0 * v


def run(env: simpy.Environment, world: World, ro: Rollout) -> Generator[simpy.Event, Any, None]:
    """The rollout process of one Flagger canary (interrupt = roll back)."""
    spec = ro.strategy.flagger
    assert spec is not None
    a = spec.analysis
    cluster, rec, bal, dep = world.cluster, world.recorder, world.balancer, ro.deployment
    replicas = dep.replicas
    primary = frozenset([f"app-{ro.stable}", f"app-{ro.version}"])
    canary = cluster.replica_set(ro.version, owner=CANARY_OWNER)
    ro.roles.update(stable=ro.stable, canary=ro.version)
    checks = FlaggerChecks(threshold=a.threshold)
    ranges = {m.name: (m.threshold_range.min, m.threshold_range.max) for m in a.metrics}
    max_weight = flagger_max_weight(a.max_weight, a.step_weights)
    # Canary.DeploymentStrategy: iterations (+ match) choose blue/green (A/B), else canary.
    mode = flagger_deployment_strategy(a.iterations, len(a.match or ()))
    st: dict[str, Any] = {"weight": 0, "iterations": 0, "mirror": None, "cohort": None}
    deadline = dep.progress_deadline_s

    def route() -> None:
        w = st["weight"]
        routing = Routing(
            groups=((primary, 100 - w), (frozenset([canary.name]), w)),
            cohort=st["cohort"],
            mirror=st["mirror"],
        )
        ro.weight_asked = float(w)
        bal.set_routing_later(routing)

    def canary_ready() -> bool:
        return canary.counts(cluster.min_ready_s, env.now)[2] >= replicas

    opened = {h.name for h in a.webhooks if h.approved}

    def gate(kind: str) -> Generator[simpy.Event, Any, None]:
        """Wait at each ``kind`` gate until a ``promote`` action approves it (it stays open)."""
        for hook in a.webhooks:
            if hook.type != kind or hook.name in opened:
                continue
            rec.event(env.now, "Gate", "canary", ro.version, f"{kind} {hook.name}: waiting")
            yield ro.wait_promote(env)
            opened.add(hook.name)
            rec.event(env.now, "Gate", "canary", ro.version, f"{kind} {hook.name}: approved")

    rec.tracking = True
    rec.event(env.now, "DeploymentStarted", "canary", ro.version, f"Flagger {mode}")
    route()
    started = env.now
    try:
        yield from gate("confirm-rollout")  # before the canary is scaled up
        cluster.scale(canary, replicas, "New revision detected: canary scaled up")
        started = env.now
        promoted = False
        while True:
            yield env.timeout(a.interval)
            if not canary_ready():
                if deadline is not None and env.now - started > deadline:
                    raise simpy.Interrupt(
                        RollbackRequested("ProgressDeadlineExceeded", env.now, "canary not ready")
                    )
                rec.event(env.now, "Waiting", "canary", ro.version, "canary not ready")
                continue
            if promoted:
                break
            first = st["weight"] == 0 and st["iterations"] == 0 and st["mirror"] is None
            values = {m.name: metric_value(world, m, ro.version) for m in a.metrics}
            # The first progressing tick runs pre-rollout hooks only, mirror or not; with
            # mirror the next tick mirrors (and is checked on the mirrored traffic).
            decision = checks.tick(values, ranges, first_tick=first)
            if decision == FlaggerTick.ROLLBACK:
                raise simpy.Interrupt(
                    RollbackRequested(
                        FAILED_CHECKS,
                        env.now,
                        f"Canary failed! failedChecks {checks.failed_checks} >= "
                        f"threshold {checks.threshold}: {checks.last_failure}",
                    )
                )
            if decision == FlaggerTick.HALT:
                rec.event(
                    env.now,
                    "Halt",
                    "canary",
                    ro.version,
                    f"failedChecks {checks.failed_checks}: {checks.last_failure}",
                )
                continue
            if mode == DEPLOYMENT_STRATEGY_CANARY:
                if a.mirror and st["mirror"] is None and st["weight"] == 0:
                    st["mirror"] = Mirror(frozenset([canary.name]), a.mirror_weight / 100)
                    rec.event(env.now, "Mirroring", "canary", ro.version, "mirror tick")
                    route()
                    continue
                st["mirror"] = None
                if st["weight"] < max_weight:
                    yield from gate("confirm-traffic-increase")
                    st["weight"] = flagger_next_weight(
                        st["weight"], a.step_weight, a.step_weights, max_weight
                    )
                    rec.event(env.now, "Advance", "canary", ro.version, f"weight {st['weight']}")
                    route()
                    continue
            elif st["iterations"] < a.iterations:
                # A/B and blue/green: one iteration per tick; the tick after the last
                # iteration promotes, so the analysis spans interval x iterations.
                if st["iterations"] == 0:
                    if mode == DEPLOYMENT_STRATEGY_AB_TESTING:
                        share = a.match[0].user_share if a.match else 0.0
                        bal.cohort_users = world.cohort_mask("flagger-ab", share)
                        st["cohort"] = (share, frozenset([canary.name]))
                    elif a.mirror:
                        st["mirror"] = Mirror(frozenset([canary.name]), a.mirror_weight / 100)
                    route()
                st["iterations"] += 1
                rec.event(
                    env.now,
                    "Advance",
                    "canary",
                    ro.version,
                    f"iteration {st['iterations']}/{a.iterations}",
                )
                continue
            elif mode == DEPLOYMENT_STRATEGY_BLUE_GREEN and st["weight"] < 100:
                # Flagger's blue/green routes all traffic to the canary for one tick first.
                st["mirror"], st["weight"] = None, 100
                rec.event(env.now, "Routing", "canary", ro.version, "routing all traffic to canary")
                route()
                continue
            yield from gate("confirm-promotion")
            # Promoting: the primary rolls out the canary's spec; the split stays meanwhile.
            rec.event(env.now, "Promoting", "canary", ro.version, "copying canary spec to primary")
            dep.set_template(ro.version, world.scenario.service.strategy.kubernetes)
            yield dep.until_complete()
            st.update(weight=0, cohort=None, mirror=None)  # routes kept until now
            route()
            rec.event(env.now, "Finalising", "canary", ro.version, "routing all traffic to primary")
            promoted = True
        cluster.scale(canary, 0, "Finalising: canary scaled to zero")
        ro.roles.update(stable=ro.version)
        ro.finish("completed", env.now, rec)
        yield env.event()  # a later rollback: an ordinary undo of the primary
    except simpy.Interrupt as intr:
        cause = intr.cause
        if isinstance(cause, RollbackRequested):
            mark_rollback(ro, cause, rec)
        if ro.completed_at is None:
            rec.event(
                env.now,
                "Rollback",
                "canary",
                ro.version,
                f"Rolling back {canary.name}: {getattr(cause, 'message', cause)}",
            )
            st.update(weight=0, mirror=None, cohort=None)
            route()
            cluster.scale(canary, 0, "rollback: canary scaled to zero")
            if dep.template != ro.stable:
                dep.set_template(ro.stable)
                yield dep.until_complete()
            yield env.timeout(bal.delay)
            ro.finish("rolled_back", env.now, rec)
        else:
            rec.event(env.now, "RolloutUndo", "deployment", ro.stable, "undo of the primary")
            dep.set_template(ro.stable)
            yield dep.until_complete()
            ro.finish("rolled_back", env.now, rec)
