"""The rollback triggers of control/rollback.py, at their edges.

The SLO alert fires on "more than ``errorRate`` with at least ``minRequests``" (the
Prometheus rule ``errors / requests > 0.05`` behind a ``count >= 20`` guard), a human
carries the rollback out ``reactionDelay`` later (any delay, a fraction of a second too),
and undoing a finished rollout makes it running again until the undo is done.
"""

from __future__ import annotations

from typing import Any

import simpy

from simdeploy import simulate
from simdeploy.control.rollback import (
    SLO_ALERT,
    AbortRollout,
    RollbackRequested,
    Rollout,
    request_rollback,
    slo_alert,
)
from simdeploy.spec.rollback import SloAlert
from tests.conftest import scenario


class WindowRecorder:
    """A recorder whose every window holds ``errors`` of ``completed`` requests."""

    bucket_s = 1.0
    tracking = False

    def __init__(self, errors: int, completed: int) -> None:
        self.errors, self.completed = errors, completed
        self.events: list[tuple[float, str, str]] = []

    def window_error_ratio(self, start: float, end: float) -> tuple[int, int]:
        return self.errors, self.completed

    def event(self, t: float, reason: str, obj: str, version: str, message: str) -> None:
        self.events.append((t, reason, message))


def idle_rollout(env: simpy.Environment) -> tuple[Rollout, list[Any]]:
    """A rollout whose process waits forever and notes the interrupts it receives."""
    ro = Rollout("v2", "v1", None, 0.0, None)  # type: ignore[arg-type]
    caught: list[Any] = []

    def run() -> Any:
        try:
            yield env.event()
        except simpy.Interrupt as intr:
            caught.append((env.now, intr.cause))

    ro.process = env.process(run())
    return ro, caught


def alert_fired(errors: int, completed: int, **spec: Any) -> list[tuple[float, str, str]]:
    env = simpy.Environment()
    rec = WindowRecorder(errors, completed)
    ro, _ = idle_rollout(env)
    alert = SloAlert.model_validate({"errorRate": 0.05, "minRequests": 20, **spec})
    env.process(slo_alert(env, alert, rec, lambda: ro))  # type: ignore[arg-type]
    env.run(until=3)
    return [e for e in rec.events if e[1] == "RollbackRequested"]


def test_the_slo_alert_fires_with_exactly_min_requests() -> None:
    # 2 errors of 20 requests: 10% > 5%, and 20 requests are enough (at least minRequests).
    assert alert_fired(2, 20) == [
        (1.0, "RollbackRequested", "SLOAlert: error ratio 10.00% > 5.00% over 1s")
    ]
    assert alert_fired(2, 19) == []


def test_the_slo_alert_needs_a_ratio_strictly_above_its_rate() -> None:
    # 1 error of 20 requests is exactly 5%: not more than errorRate, no alert.
    assert alert_fired(1, 20) == []
    assert len(alert_fired(2, 21)) == 1  # 9.5%


def test_a_reaction_delay_under_a_second_delays_the_interrupt() -> None:
    env = simpy.Environment()
    rec = WindowRecorder(0, 0)
    ro, caught = idle_rollout(env)
    env.run(until=10)
    cause = RollbackRequested(SLO_ALERT, 10.0, "paged")
    assert request_rollback(env, ro, cause, rec, delay_s=0.5) is True  # type: ignore[arg-type]
    env.run(until=11)
    assert caught == [(10.5, cause)]
    assert ro.rollback_started_at == 10.5


def test_a_rollback_request_is_taken_once() -> None:
    env = simpy.Environment()
    rec = WindowRecorder(0, 0)
    ro, caught = idle_rollout(env)
    first = RollbackRequested(SLO_ALERT, 0.0, "first")
    second = RollbackRequested(SLO_ALERT, 0.0, "second")
    assert request_rollback(env, ro, first, rec) is True  # type: ignore[arg-type]
    assert request_rollback(env, ro, second, rec) is False  # type: ignore[arg-type]
    assert request_rollback(env, None, second, rec) is False  # type: ignore[arg-type]
    env.run(until=1)
    assert caught == [(0.0, first)]
    assert [m for _, _, m in rec.events] == ["SLOAlert: first"]


def test_an_abort_carries_its_reason_as_its_message() -> None:
    cause = RollbackRequested("AnalysisFailed", 5.0, "metric failed")
    exc = AbortRollout(cause)
    assert str(exc) == "AnalysisFailed"
    assert exc.cause is cause


def test_undoing_a_finished_rollout_is_running_until_the_undo_is_done() -> None:
    # Completed at about 30 s; the undo at 50 s is a rolling update of its own, which the
    # end of the run at 52 s cuts short: the rollout is running again, not completed.
    r = simulate(
        scenario(
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {"at": "50s", "action": "rollback"},
            ],
            simulation={"duration": "52s"},
        )
    )
    ev = r.events
    assert ev[ev.reason == "RolloutCompleted"].t.iloc[0] < 50
    assert r.record["outcome"] == "running"
    assert r.record["rollback_time_s"] is None


def test_a_rollback_without_delay_interrupts_before_anything_else_due_then() -> None:
    # A manual rollback (or an analysis failure) acts at once: the rollout is interrupted
    # before another event already due at that instant, as an immediate interrupt is.
    env = simpy.Environment()
    rec = WindowRecorder(0, 0)
    ro, caught = idle_rollout(env)
    order: list[str] = []

    def trigger() -> Any:
        yield env.timeout(5)
        request_rollback(env, ro, RollbackRequested(SLO_ALERT, 5.0, "now"), rec)  # type: ignore[arg-type]

    def other() -> Any:
        yield env.timeout(5)
        order.append(f"other {len(caught)}")

    env.process(trigger())
    env.process(other())
    env.run(until=6)
    assert order == ["other 1"]


def test_a_kubernetes_deploy_is_logged_when_it_starts_with_its_strategy() -> None:
    r = simulate(scenario(plan=[{"at": "10s", "action": "deploy", "version": "v2"}]))
    started = r.events[r.events.reason == "DeploymentStarted"]
    assert started[["t", "object", "version", "message"]].values.tolist() == [
        [10.0, "deployment", "v2", "RollingUpdate(maxSurge=1, maxUnavailable=0)"]
    ]
