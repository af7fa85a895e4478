"""Flagger's confirm-* webhooks as gates that wait for a ``promote`` plan action.

The canary of tests/control/test_progressive.py::flagger (interval 10 s, stepWeight 10 to 50):
deployed at 10 s, its ticks at 20, 30, ... s.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.control.test_progressive import events, first_t, flagger, run


def hook(name: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, **more}


def gate_events(r: Any) -> list[tuple[float, str]]:
    ev = events(r, "Gate")
    return [(round(float(t), 6), m) for t, m in zip(ev.t, ev.message, strict=True)]


def test_confirm_rollout_holds_the_canary_until_the_promote_action() -> None:
    # Waiting from the deploy (10 s); approved at 40 s: only then is the canary scaled up.
    r = run(
        flagger(webhooks=[hook("approve", "confirm-rollout")]),
        {"at": "40s", "action": "promote"},
        simulation={"duration": "3m"},
    )
    assert gate_events(r) == [
        (10.0, "confirm-rollout approve: waiting"),
        (40.0, "confirm-rollout approve: approved"),
    ]
    up = r.scaling[(r.scaling.owner == "app-canary") & (r.scaling.spec > 0)]
    assert float(up.t.iloc[0]) == pytest.approx(40.0)
    assert r.record["outcome"] == "completed"


def test_confirm_promotion_keeps_the_canary_at_max_weight_until_approved() -> None:
    r = run(
        flagger(webhooks=[hook("approve", "confirm-promotion")]),
        {"at": "120s", "action": "promote"},
        simulation={"duration": "4m"},
    )
    # weight 50 is reached at the 5th advance; the next tick would promote, but waits.
    adv = events(r, "Advance")
    assert adv.message.iloc[-1] == "weight 50"
    (waiting, _), (approved, _) = gate_events(r)
    assert waiting == pytest.approx(float(adv.t.iloc[-1]) + 10)
    assert approved == pytest.approx(120.0)
    assert first_t(r, "Promoting") == pytest.approx(120.0)
    assert r.record["outcome"] == "completed"


def test_without_approval_the_gate_waits_to_the_end() -> None:
    r = run(flagger(webhooks=[hook("approve", "confirm-promotion")]), simulation={"duration": "2m"})
    assert r.record["outcome"] == "running"
    assert "Promoting" not in set(r.events.reason)


def test_an_approved_gate_and_the_other_webhooks_pass() -> None:
    hooks = [
        hook("approve", "confirm-rollout", approved=True),
        hook("load-test", "rollout"),
        hook("acceptance", "pre-rollout"),
        hook("notify", "post-rollout"),
    ]
    gated = run(flagger(webhooks=hooks), simulation={"duration": "150s"})
    plain = run(flagger(), simulation={"duration": "150s"})
    assert gate_events(gated) == []
    assert gated.record == plain.record


def test_confirm_traffic_increase_stays_open_once_approved() -> None:
    # The first increase waits from the first tick (20 s) to the promote at 45 s; the
    # following ones pass at once (flagger-loadtester's gate stays open).
    r = run(
        flagger(webhooks=[hook("step", "confirm-traffic-increase")]),
        {"at": "45s", "action": "promote"},
        simulation={"duration": "3m"},
    )
    assert [m for _, m in gate_events(r)] == [
        "confirm-traffic-increase step: waiting",
        "confirm-traffic-increase step: approved",
    ]
    adv = events(r, "Advance")
    assert float(adv.t.iloc[0]) == pytest.approx(45.0)
    assert adv.t.diff().dropna().tolist() == pytest.approx([10.0] * (len(adv) - 1), abs=0.01)
