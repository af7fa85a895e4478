"""Invariants that hold for every RollingUpdate setting (hypothesis).

- The controller never has more than ``replicas + maxSurge`` pods by spec, nor more
  active (non-terminating) pods than that.
- While the new pods are healthy, available pods never drop below
  ``replicas - maxUnavailable``.
- Every arrival has an outcome or is still in flight at the end (conservation).
- A rollback always ends on the stable version.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simdeploy import simulate
from tests.conftest import scenario

int_or_pct = st.one_of(st.integers(0, 4), st.sampled_from(["0%", "10%", "25%", "50%", "100%"]))
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid(surge: int | str, unavail: int | str) -> bool:
    """Kubernetes validation: maxSurge and maxUnavailable may not both be 0 (``0`` or ``"0%"``)."""

    def zero(v: int | str) -> bool:
        return v in (0, "0%")

    return not (zero(surge) and zero(unavail))


def pods(value: int | str, replicas: int, round_up: bool) -> int:
    """A maxSurge / maxUnavailable value in pods, from the API docs: an int is a pod count;
    ``"N%"`` is N% of replicas, rounded up for maxSurge and down for maxUnavailable
    (10 replicas at 25% → surge 3, unavailable 2)."""
    if isinstance(value, int):
        return value
    exact = Fraction(int(value.rstrip("%")) * replicas, 100)
    return math.ceil(exact) if round_up else math.floor(exact)


def bounds(replicas: int, surge: int | str, unavail: int | str) -> tuple[int, int]:
    """(most pods by spec, fewest available pods) the Deployment docs promise. When both
    round to 0 (10% of 4 is 0.4), one pod may be unavailable; never more than all of them."""
    s, u = pods(surge, replicas, True), pods(unavail, replicas, False)
    if s == 0 and u == 0:
        u = 1
    return replicas + s, replicas - min(u, replicas)


@SETTINGS
@given(
    replicas=st.integers(1, 8),
    surge=int_or_pct,
    unavail=int_or_pct,
    min_ready=st.sampled_from([0, 2]),
    seed=st.integers(0, 10_000),
)
def test_rolling_update_respects_surge_and_availability(
    replicas: int, surge: int | str, unavail: int | str, min_ready: int, seed: int
) -> None:
    assume(_valid(surge, unavail))
    sc = scenario(
        service={
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "strategy": {"rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavail}},
        },
        traffic={"rate": 20},
        simulation={"duration": "2m", "seed": seed},
    )
    r = simulate(sc)
    most, fewest = bounds(replicas, surge, unavail)
    st_ = r.status
    assert (st_.spec_total <= most).all()
    assert (st_.replicas <= most).all()
    # Healthy new pods: availability never dips below the floor.
    assert (st_.available >= fewest).all()
    assert r.record["outcome"] == "completed"
    rec = r.record
    assert rec["requests"] == int(r.timeline.ok.sum()) + rec["errors"] + rec["in_flight"]


@SETTINGS
@given(
    replicas=st.integers(1, 6),
    rollback_at=st.integers(12, 80),
    seed=st.integers(0, 1000),
    recreate=st.booleans(),
)
def test_rollback_always_ends_on_stable(
    replicas: int, rollback_at: int, seed: int, recreate: bool
) -> None:
    strategy = (
        {"type": "Recreate", "rollingUpdate": None} if recreate else {"type": "RollingUpdate"}
    )
    sc = scenario(
        service={"replicas": replicas, "strategy": strategy},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": rollback_at, "action": "rollback"},
        ],
        traffic={"rate": 20},
        simulation={"duration": "3m", "seed": seed},
    )
    r = simulate(sc)
    assert r.record["outcome"] == "rolled_back"
    assert r.status.template.iloc[-1] == "v1"
    last = r.timeline.iloc[-1]
    assert last["pods[v2]"] == 0 and last["ready[v1]"] == replicas
    assert r.record["rollback_time_s"] is not None


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_same_seed_is_bit_identical(seed: int) -> None:
    sc = scenario(traffic={"rate": 30}, simulation={"duration": "40s", "seed": seed})
    a, b = simulate(sc), simulate(sc)
    assert a.record == b.record
    assert a.timeline.equals(b.timeline)
    assert a.events.equals(b.events)
