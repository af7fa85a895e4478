"""The least-outstanding-requests policy of the balancer (world/balancer.py), pick by pick.

The scan starts one past the previous pick (the group's round-robin position, -1 at first)
and keeps the first endpoint with strictly fewer outstanding requests than the best so far:
the least loaded endpoint wins, and ties go to the first one in rotation order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from simdeploy.world.balancer import Balancer
from simdeploy.world.recorder import Recorder
from simdeploy.world.world import stream


@dataclass(frozen=True)
class _RS:
    name: str


@dataclass(eq=False)
class Endpoint:
    """What the balancer reads of a pod: its replica set, its load, whether it serves."""

    name: str
    outstanding: int = 0
    rs: _RS = field(default_factory=lambda: _RS("app-v1"))

    def can_serve(self, now: float) -> bool:
        return True


def picks(loads: list[int], n: int) -> list[str]:
    """The endpoints of ``n`` requests over endpoints a, b, c, ... with fixed ``loads``."""
    env = simpy.Environment()
    rec = Recorder(("v1",), 10.0, 1.0, 10)
    bal = Balancer(env, "least_outstanding", 0.0, stream(1, "balancer"), rec)
    for i, load in enumerate(loads):
        bal.add(Endpoint("abcdefgh"[i], load))  # type: ignore[arg-type]
    out = []
    for _ in range(n):
        pod = bal.route(0)
        assert pod is not None
        out.append(pod.name)
    return out


def test_idle_endpoints_take_turns_in_order() -> None:
    """All idle: every scan is a tie, so each pick is the endpoint after the previous one."""
    assert picks([0, 0, 0], 4) == ["a", "b", "c", "a"]


def test_the_least_loaded_endpoint_wins_and_ties_go_to_the_next_in_rotation() -> None:
    """Loads a=3, b=0, c=0:
    - 1st scan from a: b (0 < 3); c only ties → b;
    - 2nd scan from b: c ties → b again;
    - 3rd scan from c: a is busier, b ties → c;
    - 4th scan from a → b."""
    assert picks([3, 0, 0], 4) == ["b", "b", "c", "b"]


def test_a_less_loaded_endpoint_two_places_on_wins() -> None:
    """Loads a=2, b=1, c=0: from a, b is better and c better still → c, from every start."""
    assert picks([2, 1, 0], 3) == ["c", "c", "c"]


def test_no_endpoint_no_pick() -> None:
    env = simpy.Environment()
    rec = Recorder(("v1",), 10.0, 1.0, 10)
    bal = Balancer(env, "least_outstanding", 0.0, stream(1, "balancer"), rec)
    assert bal.route(0) is None
