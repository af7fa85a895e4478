"""Invariants of the progressive strategies for any setting (hypothesis).

- An Argo canary without a traffic router never asks for more than ``replicas + maxSurge``
  pods over the rollout's replica sets, with maxSurge in pods worked out here from the spec
  values (a percentage rounds up), not by the function under test; both 0 is invalid in Argo.
- An abort (manual rollback at any point of the steps, with or without a router) ends with
  every user request on the stable version.
- A shadow never shows its own errors to users, whatever its bug and mirror share.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simdeploy import simulate
from tests.conftest import scenario
from tests.control.test_progressive import returns_within

SETTINGS = settings(max_examples=18, deadline=None, suppress_health_check=[HealthCheck.too_slow])

int_or_pct = st.one_of(st.integers(0, 3), st.sampled_from(["0%", "25%", "50%", "100%"]))


def canary_steps(weights: list[int], pause_s: int) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for w in weights:
        steps += [{"setWeight": w}, {"pause": {"duration": f"{pause_s}s"}}]
    return steps


def max_surge_pods(surge: int | str, replicas: int) -> int:
    """Argo's maxSurge in pods, from the Rollout spec docs: an int is a pod count, ``"N%"`` is
    N% of replicas rounded up (4 replicas at 25% → 1, at 50% → 2; 1 replica at 25% → 1)."""
    if isinstance(surge, int):
        return surge
    return math.ceil(Fraction(int(surge.rstrip("%")) * replicas, 100))


def both_zero(surge: int | str, unavail: int | str) -> bool:
    """Argo rejects a canary whose maxSurge and maxUnavailable are both 0 (``0`` or ``"0%"``)."""
    return surge in (0, "0%") and unavail in (0, "0%")


@SETTINGS
@given(
    replicas=st.integers(1, 6),
    surge=int_or_pct,
    unavail=int_or_pct,
    weights=st.lists(st.integers(0, 100), min_size=1, max_size=3),
    seed=st.integers(0, 10_000),
)
def test_basic_canary_never_exceeds_replicas_plus_max_surge(
    replicas: int, surge: int | str, unavail: int | str, weights: list[int], seed: int
) -> None:
    assume(not both_zero(surge, unavail))
    strategy = {
        "canary": {
            "maxSurge": surge,
            "maxUnavailable": unavail,
            "steps": canary_steps(weights, 5),
        }
    }
    sc = scenario(
        service={"replicas": replicas},
        plan=[{"at": "10s", "action": "deploy", "version": "v2", "strategy": strategy}],
        traffic={"rate": 20},
        simulation={"duration": "150s", "seed": seed},
    )
    with returns_within():
        r = simulate(sc)
    most = replicas + max_surge_pods(surge, replicas)
    app = r.scaling[r.scaling.owner == "app"]
    assert len(app) > 0
    assert (app.owner_spec_total <= most).all(), app.to_string()
    assert r.record["outcome"] == "completed"
    assert r.timeline["pods[v1]"].iloc[-1] == 0


@SETTINGS
@given(
    replicas=st.integers(1, 5),
    routed=st.booleans(),
    abort_at=st.integers(11, 69),
    seed=st.integers(0, 10_000),
)
def test_abort_always_ends_with_all_traffic_on_stable(
    replicas: int, routed: bool, abort_at: int, seed: int
) -> None:
    canary: dict[str, Any] = {
        "maxSurge": 1,
        "maxUnavailable": 0,
        # Three 20 s pauses: full promotion cannot start before 70 s, so every abort
        # lands during the steps.
        "steps": canary_steps([25, 50, 75], 20),
    }
    if routed:
        canary["trafficRouting"] = {"istio": {}}
    sc = scenario(
        service={"replicas": replicas},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2", "strategy": {"canary": canary}},
            {"at": abort_at, "action": "rollback"},
        ],
        traffic={"rate": 30},
        simulation={"duration": "160s", "seed": seed},
    )
    with returns_within():
        r = simulate(sc)
    assert r.record["outcome"] == "rolled_back"
    assert "RolloutPromoted" not in set(r.events.reason)
    last = r.timeline.iloc[-10:]
    assert last["requests[v2]"].sum() == 0
    assert last["requests[v1]"].sum() > 0
    assert last.errors.sum() == 0
    assert r.timeline["pods[v2]"].iloc[-1] == 0
    assert r.record["rollback_time_s"] is not None


@SETTINGS
@given(
    error_rate=st.floats(0.0, 1.0),
    user_share=st.sampled_from([0.1, 0.5, 1.0]),
    percentage=st.floats(1.0, 100.0),
    reads_only=st.booleans(),
    write_ratio=st.sampled_from([0.0, 0.1, 0.5]),
    seed=st.integers(0, 10_000),
)
def test_shadow_errors_never_reach_users(
    error_rate: float,
    user_share: float,
    percentage: float,
    reads_only: bool,
    write_ratio: float,
    seed: int,
) -> None:
    # The shadow outlasts the run: its end-of-duration step can spin forever on a sub-ulp
    # remainder (test_progressive.py::test_shadow_whose_duration_is_a_multiple_of_the_
    # interval_ends), and the property is about the mirroring period anyway.
    strategy = {
        "shadow": {
            "percentage": percentage,
            "readsOnly": reads_only,
            "duration": "10m",
            "analysis": {"interval": "10s", "maxMismatchRate": 0.05, "minComparisons": 50},
        }
    }
    sc = scenario(
        plan=[{"at": "10s", "action": "deploy", "version": "v2", "strategy": strategy}],
        versions={"v2": {"bug": {"errorRate": error_rate, "userShare": user_share}}},
        traffic={"rate": 50, "writeRatio": write_ratio},
        simulation={"duration": "60s", "seed": seed},
    )
    with returns_within():
        r = simulate(sc)
    tl, rec = r.timeline, r.record
    assert tl["errors[v2]"].sum() == 0
    assert tl["requests[v2]"].sum() == 0
    assert rec["users_affected"] == 0
    assert rec["errors"] == 0
    assert rec["outcome"] in ("running", "rolled_back")
    if not (reads_only and write_ratio == 1.0):
        assert rec["mirrored_requests"] > 0
    if reads_only:
        assert rec["duplicate_writes"] == 0
