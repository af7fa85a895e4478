"""Invariants that hold for every RollingUpdate setting (hypothesis).

- The controller never has more than ``replicas + maxSurge`` pods by spec, nor more
  active (non-terminating) pods than that.
- While the new pods are healthy, available pods never drop below
  ``replicas - maxUnavailable``.
- Every arrival has an outcome or is still in flight at the end (conservation).
- A rollback always ends on the stable version.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simdeploy import simulate
from simdeploy.rules.replica_math import resolve_fenceposts
from tests.conftest import scenario

int_or_pct = st.one_of(st.integers(0, 4), st.sampled_from(["0%", "10%", "25%", "50%", "100%"]))
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid(surge: int | str, unavail: int | str) -> bool:
    def zero(v: int | str) -> bool:
        return v in (0, "0%")

    return not (zero(surge) and zero(unavail))


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
    if not _valid(surge, unavail):
        return
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
    max_surge, max_unavail = resolve_fenceposts(surge, unavail, replicas)
    max_unavail = min(max_unavail, replicas)
    st_ = r.status
    assert (st_.spec_total <= replicas + max_surge).all()
    assert (st_.replicas <= replicas + max_surge).all()
    # Healthy new pods: availability never dips below the floor.
    assert (st_.available >= replicas - max_unavail).all()
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
    assert last["pods_v2"] == 0 and last["ready_v1"] == replicas
    assert r.record["rollback_time_s"] is not None


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_same_seed_is_bit_identical(seed: int) -> None:
    sc = scenario(traffic={"rate": 30}, simulation={"duration": "40s", "seed": seed})
    a, b = simulate(sc), simulate(sc)
    assert a.record == b.record
    assert a.timeline.equals(b.timeline)
    assert a.events.equals(b.events)
