"""Rollouts, rollback causes and the triggers that raise them (control plane).

A deploy action starts a :class:`Rollout`. Rollback is an interrupt carrying a cause,
:class:`RollbackRequested` (reason and detection time ``at``), raised by whatever
detected the problem: a scheduled manual action, analysis, the SLO alert (a team without
automated analysis, whose human acts ``reactionDelay`` later), or the progress deadline.

The timeline of a bad release is then split in three: ``time_to_detect_s`` (first
request served by the new version → ``at``), the reaction delay (``at`` → the rollback
is carried out; 0 for automation), and ``rollback_time_s`` (carried out → all user
traffic on the stable version at full ready capacity): the speed of the mechanism
itself, which is what the reference article compares across strategies.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:
    from simdeploy.control.deployment import Deployment
    from simdeploy.spec.rollback import SloAlert
    from simdeploy.spec.service import Strategy
    from simdeploy.world.balancer import Balancer
    from simdeploy.world.recorder import Recorder

MANUAL = "Manual"
SLO_ALERT = "SLOAlert"
PROGRESS_DEADLINE = "ProgressDeadlineExceeded"
#: A failed or errored analysis run (Argo: AnalysisRun Failed / Error).
ANALYSIS_FAILED = "AnalysisFailed"


@dataclass(frozen=True)
class RollbackRequested:
    """Why and when a rollback was asked for (``at`` in simulated seconds)."""

    reason: str
    at: float
    message: str = ""


@dataclass(eq=False)
class Rollout:
    """One deploy action from start to end: what replaced what, and how it ended."""

    version: str
    stable: str
    strategy: Strategy
    started_at: float
    #: The Deployment whose template this rollout changes (or suspends, while a
    #: progressive strategy drives the pods itself).
    deployment: Deployment
    ended_at: float | None = None
    outcome: str = "running"
    rollback: RollbackRequested | None = None
    #: When the rollout first completed (never cleared): a rollback before it is an abort,
    #: after it an undo back to the old version.
    completed_at: float | None = None
    #: When the rollback was carried out: the trigger's ``at`` plus any human reaction delay.
    rollback_started_at: float | None = None
    rollback_done_at: float | None = None
    process: simpy.Process | None = None
    rollback_on_deadline: bool = False
    #: Succeeds on a ``promote`` plan action (Argo: end a pause or an inconclusive wait);
    #: a strategy that waits for it replaces it with a fresh event afterwards.
    promote_event: simpy.Event | None = None
    #: Role → version for analysis queries (canary, stable, preview, active).
    roles: dict[str, str] = field(default_factory=dict)
    #: The canary weight the strategy asks for (percent), for the timeline.
    weight_asked: float | None = None
    #: Argo's ``status.currentStepIndex`` as it moved: (time, index, the step), the index
    #: ``len(steps)`` (step "done") once every step has run; empty for a strategy
    #: without steps. For the replay; nothing reads it during a run.
    step_log: list[tuple[float, int, str]] = field(default_factory=list)
    #: Called with the outcome each time the rollout ends (completed, then maybe rolled_back).
    on_finish: list[Callable[[str], None]] = field(default_factory=list)
    #: The rollout's process is on its rollback path (interrupted, or aborting on its own
    #: analysis): a rollback requested earlier with a reaction delay is not delivered again
    #: (a second interrupt there would escape the process).
    rolling_back: bool = False

    def finish(self, outcome: str, now: float, recorder: Recorder) -> None:
        """The rollout is over: ``completed`` or ``rolled_back``."""
        if self.ended_at is None:
            self.ended_at, self.outcome = now, outcome
            if outcome == "completed" and self.completed_at is None:
                self.completed_at = now
            recorder.tracking = False
            recorder.event(
                now,
                "RolloutCompleted" if outcome == "completed" else "RollbackCompleted",
                "rollout",
                self.version,
                outcome,
            )
            for callback in list(self.on_finish):
                callback(outcome)

    def wait_promote(self, env: simpy.Environment) -> simpy.Event:
        """An event for the next ``promote`` action."""
        if self.promote_event is None or self.promote_event.triggered:
            self.promote_event = env.event()
        return self.promote_event


def k8s_rollout(
    env: simpy.Environment, dep: Deployment, ro: Rollout, recorder: Recorder
) -> Generator[simpy.Event, Any, None]:
    """Drive a Recreate / RollingUpdate deploy; on interrupt, ``kubectl rollout undo``.

    Undo is a template change back to the stable version: the controller finds the old
    replica set, makes it the new one (next revision) and rolls to it with the same
    strategy, scaling the bad replica set down as an old one.
    """
    try:
        dep.suspended = False
        dep.set_template(ro.version, ro.strategy)
        recorder.event(env.now, "DeploymentStarted", "deployment", ro.version, ro.strategy.label)
        if ro.rollback_on_deadline:
            dep.until_timed_out().callbacks.append(
                lambda _e: request_rollback(
                    env,
                    ro,
                    RollbackRequested(
                        PROGRESS_DEADLINE, env.now, "progressDeadlineSeconds exceeded"
                    ),
                    recorder,
                )
            )
        recorder.tracking = True
        yield dep.until_complete()
        ro.finish("completed", env.now, recorder)
        yield env.event()  # stays undoable: a later manual rollback still applies
    except simpy.Interrupt as intr:
        cause: RollbackRequested = intr.cause
        # kubectl rollout undo goes back to the previous revision still kept; with the old
        # replica sets cleaned up (revisionHistoryLimit) it fails and nothing changes.
        target, error = dep.undo_target(ro.stable)
        if target is None:
            recorder.event(
                env.now,
                "DeploymentRollbackRevisionNotFound",
                "deployment",
                ro.stable,
                f"rollout undo ({cause.reason}): error: {error}",
            )
            if ro.completed_at is not None:
                ro.ended_at, ro.outcome = ro.completed_at, "completed"
            else:
                yield dep.until_complete()
                ro.finish("completed", env.now, recorder)
            yield env.event()  # the undo failed; the rollout stands as it is
            return
        recorder.event(
            env.now, "RolloutUndo", "deployment", target, f"rollout undo ({cause.reason})"
        )
        dep.set_template(target)
        yield dep.until_complete()
        ro.finish("rolled_back", env.now, recorder)


def request_rollback(
    env: simpy.Environment,
    ro: Rollout | None,
    cause: RollbackRequested,
    recorder: Recorder,
    delay_s: float = 0.0,
) -> bool:
    """Record ``cause`` on the rollout and interrupt it ``delay_s`` later.

    Only the first cause counts; a rollout that has nothing to undo ignores it.
    Returns whether the request was taken.
    """
    if ro is None or ro.process is None or not mark_rollback(ro, cause, recorder):
        return False
    proc = ro.process

    def _interrupt(_e: simpy.Event | None = None) -> None:
        if ro.rolling_back:  # the rollout aborted on its own meanwhile (its analysis failed)
            return
        ro.rollback_started_at = env.now
        # Undoing a finished rollout starts a new one (back): "running" until it ends.
        ro.ended_at, ro.outcome = None, "running"
        if proc.is_alive:
            ro.rolling_back = True
            proc.interrupt(cause)

    if delay_s > 0:
        env.timeout(delay_s).callbacks.append(_interrupt)
    else:
        _interrupt()
    return True


class AbortRollout(Exception):
    """Raised inside a rollout's own process when its analysis fails: a process cannot
    interrupt itself, so it records the cause (:func:`mark_rollback`) and aborts."""

    def __init__(self, cause: RollbackRequested) -> None:
        super().__init__(cause.reason)
        self.cause = cause


def mark_rollback(ro: Rollout, cause: RollbackRequested, recorder: Recorder) -> bool:
    """Record ``cause`` as the rollout's rollback trigger (the first one wins).

    A strategy whose own analysis failed calls this directly: a process cannot interrupt
    itself, it goes straight to its abort path.
    """
    proc = ro.process
    if proc is not None and proc.env.active_process is proc:
        ro.rolling_back = True  # called by the rollout itself, on its way to its abort path
    if ro.rollback is not None:
        return False
    ro.rollback = cause
    ro.rollback_started_at = cause.at  # request_rollback moves it past a reaction delay
    recorder.event(
        cause.at,
        "RollbackRequested",
        "deployment",
        ro.version,
        f"{cause.reason}: {cause.message}".rstrip(": "),
    )
    return True


def watch_rollback_done(ro: Rollout, balancer: Balancer) -> None:
    """Stamp ``ro.rollback_done_at`` when users are all back on stable at full capacity.

    "All back" means every endpoint that user requests can reach under the routing
    table is a stable pod, and at least the Deployment's ``replicas`` at that moment (after
    any ``scale`` action or autoscaler change) can serve (a shadow or a canary at weight 0
    may still be listed). Checked on every balancer change after the trigger.
    """

    def check() -> None:
        if ro.rollback is None or ro.rollback_done_at is not None:
            return
        if ro.rollback_started_at is None or balancer.env.now < ro.rollback_started_at:
            return  # detected, but nobody has acted yet
        eps = balancer.user_endpoints()
        if any(p.version != ro.stable for p in eps):
            return
        if sum(1 for p in eps if p.can_serve(balancer.env.now)) >= ro.deployment.replicas:
            ro.rollback_done_at = balancer.env.now

    balancer.on_change.append(check)


def slo_alert(
    env: simpy.Environment,
    spec: SloAlert,
    recorder: Recorder,
    current: Any,
) -> Generator[simpy.Event, Any, None]:
    """Evaluate the user-facing error ratio over the last ``window`` once per bucket.

    ``current()`` returns the rollout to act on (or None). The alert considers only
    requests since that rollout started, fires once, and asks for a rollback that a
    human carries out ``reactionDelay`` later.
    """
    step = recorder.bucket_s
    while True:
        yield env.timeout(step)
        ro: Rollout | None = current()
        if ro is None or ro.rollback is not None:
            continue
        start = max(env.now - spec.window, ro.started_at)
        errors, completed = recorder.window_error_ratio(start, env.now)
        if completed >= spec.min_requests and errors / completed > spec.error_rate:
            msg = (
                f"error ratio {errors / completed:.2%} > {spec.error_rate:.2%} "
                f"over {env.now - start:g}s"
            )
            cause = RollbackRequested(SLO_ALERT, env.now, msg)
            request_rollback(env, ro, cause, recorder, spec.reaction_delay)
