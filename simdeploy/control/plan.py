"""The plan: timed actions carried out on the control plane and the world.

``deploy`` starts a :class:`Rollout` (the Kubernetes controller, or a progressive
strategy's own process), ``rollback`` interrupts it with a cause, ``promote`` ends a
pause, ``scale`` changes the Deployment's replicas (``kubectl scale``), ``migrate`` /
``complete`` change the schema, ``flag`` changes a feature flag.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simdeploy.control.plane import ControlPlane
from simdeploy.control.rollback import (
    MANUAL,
    RollbackRequested,
    Rollout,
    k8s_rollout,
    request_rollback,
    watch_rollback_done,
)
from simdeploy.control.strategies import get_strategy
from simdeploy.spec.plan import Action
from simdeploy.world.balancer import Routing


def run_plan(env: simpy.Environment, cp: ControlPlane) -> Generator[simpy.Event, Any, None]:
    """Carry out the plan's timed actions in order of time (ties keep file order)."""
    for action in sorted(cp.world.scenario.plan, key=lambda a: a.at):
        if action.at > env.now:
            yield env.timeout(action.at - env.now)
        apply_action(env, cp, action)


def apply_action(env: simpy.Environment, cp: ControlPlane, action: Action) -> None:
    """Carry out one plan action now."""
    world = cp.world
    rec, dep = world.recorder, cp.deployment
    if action.action == "deploy":
        assert action.version is not None
        strategy = action.strategy or world.scenario.service.strategy
        ro = Rollout(
            action.version,
            dep.template,
            strategy,
            env.now,
            dep,
            rollback_on_deadline=world.scenario.rollback.on_progress_deadline,
        )
        cp.rollouts.append(ro)
        impl = get_strategy(strategy.type)
        if impl.run is not None:
            ro.process = env.process(impl.run(env, world, ro))
        else:
            # A Deployment behind a plain Service: every replica set's pods are endpoints.
            # An earlier Argo, blue/green or shadow deploy left its selector or weights
            # (on the promoted replica set only), which would keep the new pods unserved.
            world.balancer.set_routing(Routing())
            ro.process = env.process(k8s_rollout(env, dep, ro, rec))
        watch_rollback_done(ro, world.balancer)
    elif action.action == "rollback":
        request_rollback(env, cp.rollout, RollbackRequested(MANUAL, env.now, "plan"), rec)
        db = world.database
        if db is not None and db.pending is not None:
            # pgroll rollback once the app is back on the old version: pods of the new
            # version still serving during the undo keep their schema version meanwhile.
            ro = cp.rollout
            if ro is None or ro.process is None or ro.outcome == "rolled_back":
                db.pgroll_rollback()
            else:
                cluster, version = world.cluster, ro.version

                def after_undo(outcome: str) -> None:
                    # ... and once the new version's last pod is gone (terminating pods
                    # still serve until then).
                    if outcome == "rolled_back":
                        cluster.until(
                            lambda: not any(p.version == version for p in cluster.pods())
                        ).callbacks.append(lambda _e: db.pgroll_rollback())

                ro.on_finish.append(after_undo)
    elif action.action == "scale":
        assert action.replicas is not None
        rec.event(
            env.now,
            "Scale",
            "deployment",
            dep.template,
            f"kubectl scale --replicas={action.replicas} (was {dep.replicas})",
        )
        dep.set_replicas(action.replicas)
    elif action.action == "migrate":
        assert world.database is not None
        if action.pgroll:
            world.database.pgroll_start(action)
        else:
            env.process(world.database.migrate(action))
    elif action.action == "complete":
        assert world.database is not None
        world.database.complete()
    elif action.action == "flag":
        assert world.flags is not None and action.flag is not None
        flag = world.flags.flags[action.flag]
        flag.set(env.now, action.rollout, action.kill)
        what = "kill switch" if action.kill else f"rollout {action.rollout:g}%"
        rec.event(env.now, "FlagChanged", action.flag, "", what)
    elif action.action == "promote":
        ro = cp.rollout
        rec.event(env.now, "Promote", "rollout", ro.version if ro else "", "plan")
        if ro is not None and ro.promote_event is not None and not ro.promote_event.triggered:
            ro.promote_event.succeed()
