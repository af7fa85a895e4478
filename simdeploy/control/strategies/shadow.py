"""Shadow: run the new version beside the old one and mirror traffic to it.

Users are served by the stable version only; a share of their requests (or of the reads)
is copied to the shadow, whose responses are compared with the served ones and thrown
away. Mirrored writes hit the shared database for real (``duplicate_writes``) unless
``readsOnly`` or ``separateDatabase``. Every ``analysis.interval`` the mismatch ratio since
the start is checked; above ``maxMismatchRate`` the shadow is torn down (``rolled_back``,
no user ever affected). After ``duration`` it is torn down as validated (``completed``),
or, with ``promote``, the stable Deployment then rolls out the new version for real.
The shadow costs a full second set of pods for its whole duration.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simdeploy.control.rollback import RollbackRequested, mark_rollback
from simdeploy.world.balancer import Mirror, Routing

if TYPE_CHECKING:
    from simdeploy.control.rollback import Rollout
    from simdeploy.world.world import World

SHADOW_OWNER = "app-shadow"
SHADOW_MISMATCH = "ShadowMismatch"


def run(env: simpy.Environment, world: World, ro: Rollout) -> Generator[simpy.Event, Any, None]:
    """The rollout process of a shadow deploy (interrupt = tear the shadow down)."""
    spec = ro.strategy.shadow
    assert spec is not None
    cluster, rec, bal, dep = world.cluster, world.recorder, world.balancer, ro.deployment
    shadow = cluster.replica_set(ro.version, owner=SHADOW_OWNER)
    ro.roles.update(stable=ro.stable, canary=ro.version)
    # User traffic goes to the Deployment's replica sets only, whatever versions they run.
    users = frozenset(f"app-{v}" for v in world.scenario.versions)
    rec.tracking = True
    rec.event(
        env.now,
        "DeploymentStarted",
        "shadow",
        ro.version,
        f"mirror {spec.percentage:g}%{' of reads' if spec.reads_only else ''}",
    )
    bal.set_routing(Routing(selector=users))
    cluster.scale(shadow, dep.replicas, "shadow deployment")
    promoting = False
    try:
        yield cluster.until(lambda: shadow.counts(cluster.min_ready_s, env.now)[2] >= dep.replicas)
        mirror = Mirror(
            frozenset([shadow.name]), spec.percentage / 100, spec.reads_only, spec.separate_database
        )
        bal.set_routing_later(Routing(selector=users, mirror=mirror))
        start = env.now
        end = start + spec.duration  # absolute: no float leftovers that stop the clock
        base_cmp, base_mis = rec.shadow_comparisons, rec.shadow_mismatches
        step = spec.analysis.interval if spec.analysis else spec.duration
        while end - env.now > 1e-9:
            yield env.timeout(min(step, end - env.now))
            a = spec.analysis
            compared = rec.shadow_comparisons - base_cmp
            mismatched = rec.shadow_mismatches - base_mis
            if a is not None and compared >= a.min_comparisons:
                ratio = mismatched / compared
                rec.event(
                    env.now,
                    "ShadowAnalysis",
                    "shadow",
                    ro.version,
                    f"{mismatched}/{compared} mismatches ({ratio:.2%})",
                )
                if ratio > a.max_mismatch_rate:
                    cause = RollbackRequested(
                        SHADOW_MISMATCH,
                        env.now,
                        f"mismatch ratio {ratio:.2%} > {a.max_mismatch_rate:.2%}",
                    )
                    mark_rollback(ro, cause, rec)
                    raise simpy.Interrupt(cause)
        _teardown(world, shadow, users)
        if spec.promote:
            rec.event(env.now, "ShadowPromoted", "shadow", ro.version, "rolling out for real")
            promoting = True
            dep.set_template(ro.version, world.scenario.service.strategy.kubernetes)
            yield dep.until_complete()
        ro.finish("completed", env.now, rec)
        yield env.event()
    except simpy.Interrupt:
        if not promoting:
            # Nothing reached users: the shadow goes (already gone when a validated shadow
            # is rolled back after its duration: then there is nothing to undo).
            _teardown(world, shadow, users)
            ro.finish("rolled_back", env.now, rec)
        else:
            # Promoted (or promoting): an ordinary rollout undo back to the old version.
            _teardown(world, shadow, users)
            rec.event(env.now, "RolloutUndo", "deployment", ro.stable, "rollout undo")
            dep.set_template(ro.stable)
            yield dep.until_complete()
            ro.finish("rolled_back", env.now, rec)


def _teardown(world: World, shadow: Any, users: frozenset[str]) -> None:
    world.balancer.set_routing(Routing(selector=users))
    world.cluster.scale(shadow, 0, "shadow torn down")
