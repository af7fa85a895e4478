"""Blue/Green, Argo Rollouts' order.

    preview at previewReplicaCount → prePromotionAnalysis → pause (autoPromotionEnabled /
    autoPromotionSeconds) → scale to full → atomic switch of the active selector →
    postPromotionAnalysis → old side scaled down after scaleDownDelaySeconds

Abort before the switch: the active Service never moved; the preview is scaled down after
abortScaleDownDelaySeconds (``0``: it stays up, as Argo leaves it). A rollback after the
switch while the old side is still up is a selector switch back: seconds. After the old side
was scaled down it is a full redeploy (pods created, started, probed, then the switch):
minutes.

The preview size, "ready for pause", the scale-up checkpoint and the switch condition are
``rules/blue_green_math.py`` (Argo's NewRSNewReplicas, ReadyForPause, IsSaturated,
calculateScaleUpPreviewCheckPoint); the abort delay is ``rules/argo_abort.py``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simdeploy.control.analysis import analysis_run
from simdeploy.control.rollback import (
    ANALYSIS_FAILED,
    AbortRollout,
    RollbackRequested,
    mark_rollback,
)
from simdeploy.rules.analysis_phase import Phase
from simdeploy.rules.argo_abort import abort_scale_down_delay_seconds
from simdeploy.rules.blue_green_math import (
    calculate_scale_up_preview_checkpoint,
    is_saturated,
    needs_blue_green_controller_pause,
    new_rs_new_replicas,
    ready_for_pause,
)
from simdeploy.world.balancer import Routing
from simdeploy.world.pod import ReplicaSet

if TYPE_CHECKING:
    from simdeploy.control.rollback import Rollout
    from simdeploy.spec.progressive import RunRef
    from simdeploy.world.world import World


def _available(world: World, rs: ReplicaSet) -> int:
    return rs.counts(world.cluster.min_ready_s, world.env.now)[2]


def _ready(world: World, rs: ReplicaSet, desired: int) -> bool:
    """ReadyForPause: the new ReplicaSet is at ``desired`` pods, all available."""
    return ready_for_pause(desired, rs.spec_replicas, _available(world, rs))


def run(env: simpy.Environment, world: World, ro: Rollout) -> Generator[simpy.Event, Any, None]:
    """The rollout process of one Argo blue/green deploy (interrupt = abort / rollback)."""
    spec = ro.strategy.blue_green
    assert spec is not None
    cluster, rec, bal = world.cluster, world.recorder, world.balancer
    dep = ro.deployment
    dep.suspended = True
    replicas = dep.replicas
    blue = cluster.replica_set(ro.stable)
    green = cluster.replica_set(ro.version)
    ro.roles.update(stable=ro.stable, active=ro.stable, preview=ro.version, canary=ro.version)
    # Both sides are this rollout's now: an earlier rollout's pending scale-down of either
    # (a redeploy of the version it replaced) no longer applies.
    blue.scale_down_deadline = green.scale_down_deadline = None
    state: dict[str, Any] = {"switched": False}
    rec.tracking = True
    rec.event(env.now, "DeploymentStarted", "rollout", ro.version, ro.strategy.label)
    bal.set_routing(Routing(selector=frozenset([blue.name])))

    def gate(ref: RunRef | None, name: str) -> Generator[simpy.Event, Any, None]:
        if ref is None:
            return
        templates = [world.scenario.analysis_templates[t.template_name] for t in ref.templates]
        result = yield env.process(analysis_run(env, name, templates, rec, ro.roles))
        if result.phase in (Phase.FAILED, Phase.ERROR):
            raise AbortRollout(RollbackRequested(ANALYSIS_FAILED, env.now, result.message))
        if result.phase == Phase.INCONCLUSIVE:
            rec.event(env.now, "RolloutPaused", "rollout", ro.version, "InconclusiveAnalysis")
            yield ro.wait_promote(env)

    def smoke_tests() -> Generator[simpy.Event, Any, None]:
        """Synthetic requests to the preview Service (never seen by users)."""
        rng = world.stream("preview-traffic")
        while not state["switched"] and ro.ended_at is None:
            yield env.timeout(float(rng.exponential(1.0 / spec.preview_traffic)))
            eps = [p for p in bal.endpoints if p.rs is green]
            world.data_plane.inject(eps[int(rng.random() * len(eps))] if eps else None)

    try:
        try:
            # NewRSNewReplicas: previewReplicaCount (as given) until the checkpoint.
            preview_n = new_rs_new_replicas(replicas, spec.preview_replica_count)
            cluster.scale(green, preview_n, "preview")
            yield cluster.until(lambda: _ready(world, green, preview_n))
            if spec.preview_traffic > 0:
                env.process(smoke_tests())
            yield from gate(spec.pre_promotion_analysis, "pre-promotion")
            paused = needs_blue_green_controller_pause(
                spec.auto_promotion_enabled, spec.auto_promotion_seconds
            )
            if paused and not spec.auto_promotion_enabled:
                rec.event(env.now, "RolloutPaused", "rollout", ro.version, "BlueGreenPause")
                yield ro.wait_promote(env)
            elif paused:
                assert spec.auto_promotion_seconds is not None
                rec.event(
                    env.now,
                    "RolloutPaused",
                    "rollout",
                    ro.version,
                    f"autoPromotionSeconds {spec.auto_promotion_seconds:g}",
                )
                yield env.timeout(spec.auto_promotion_seconds) | ro.wait_promote(env)
            if spec.preview_replica_count is not None:
                # scaleUpPreviewCheckPoint flips once exactly previewReplicaCount pods are
                # available after the analysis and the pause; only then is green scaled up.
                yield cluster.until(
                    lambda: calculate_scale_up_preview_checkpoint(
                        spec.preview_replica_count, False, True, True, _available(world, green)
                    )
                )
            full_n = new_rs_new_replicas(
                replicas, spec.preview_replica_count, scale_up_preview_checkpoint=True
            )
            cluster.scale(green, full_n, "scale preview to full before the switch")
            # reconcileActiveService: switch only when ready and saturated.
            yield cluster.until(
                lambda: (
                    _ready(world, green, full_n)
                    and is_saturated(replicas, green.spec_replicas, _available(world, green))
                )
            )
            rec.event(
                env.now,
                "ActiveServiceSwitched",
                "rollout",
                ro.version,
                f"active selector → {green.name}",
            )
            bal.set_routing_later(Routing(selector=frozenset([green.name])))
            state["switched"] = True
            ro.roles.update(active=ro.version)
            yield env.timeout(bal.delay)
            yield from gate(spec.post_promotion_analysis, "post-promotion")
        except AbortRollout as exc:
            mark_rollback(ro, exc.cause, rec)
            raise simpy.Interrupt(exc.cause) from None
        ro.roles.update(stable=ro.version)
        dep.template = ro.version
        ro.finish("completed", env.now, rec)
        cluster.scale_down_after(
            blue, spec.scale_down_delay_seconds, "scaleDownDelaySeconds passed"
        )
        yield env.event()  # stays undoable
    except simpy.Interrupt as intr:
        cause = intr.cause
        blue.scale_down_deadline = None  # blue is taken up again (or never left)
        if not state["switched"]:
            # Abort before the switch: users never left blue.
            rec.event(
                env.now,
                "RolloutAborted",
                "rollout",
                ro.version,
                f"aborted before promotion ({getattr(cause, 'reason', cause)})",
            )
            bal.refresh()
            ro.finish("rolled_back", env.now, rec)
            delay, _ = abort_scale_down_delay_seconds(
                spec.abort_scale_down_delay_given, blue_green=True
            )
            if delay is None:
                # abortScaleDownDelaySeconds: 0: shouldDelayScaleDownOnAbort is false and the
                # preview keeps its size (NewRSNewReplicas), for someone to look at.
                rec.event(
                    env.now,
                    "PreviewKept",
                    "rollout",
                    ro.version,
                    "abortScaleDownDelaySeconds: 0, the preview stays up",
                )
                return
            yield env.timeout(delay)
            cluster.scale(green, 0, "abortScaleDownDelaySeconds passed")
            return
        if blue.spec_replicas > 0:
            rec.event(
                env.now,
                "RolloutUndo",
                "rollout",
                ro.stable,
                "switch the active selector back: blue is still up",
            )
        else:
            rec.event(
                env.now,
                "RolloutUndo",
                "rollout",
                ro.stable,
                "blue was scaled down: full redeploy before switching back",
            )
            cluster.scale(blue, replicas, "redeploy blue")
            yield cluster.until(lambda: _available(world, blue) >= replicas)
        aborted = ro.completed_at is None  # post-promotion analysis failed: an abort
        bal.set_routing_later(Routing(selector=frozenset([blue.name])))
        ro.roles.update(active=ro.stable, stable=ro.stable)
        dep.template = ro.stable
        yield env.timeout(bal.delay)
        ro.finish("rolled_back", env.now, rec)
        # An undo after promotion is a new update back to blue: green, now the old side, goes
        # after scaleDownDelaySeconds as after any promotion. Only an abort (post-promotion
        # analysis failed) uses abortScaleDownDelaySeconds.
        delay: float | None = spec.scale_down_delay_seconds
        if aborted:
            delay, _ = abort_scale_down_delay_seconds(
                spec.abort_scale_down_delay_given, blue_green=True
            )
        if delay is None:
            # An abort with abortScaleDownDelaySeconds: 0 leaves green up, as before the switch.
            return
        yield env.timeout(delay)
        cluster.scale(green, 0, "rolled back")
