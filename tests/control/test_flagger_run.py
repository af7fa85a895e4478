"""The Flagger rollout process (control/strategies/flagger.py), event by event.

Small scenarios (tests/conftest.py: 4 replicas at 100 req/s, v2 deployed at 10 s). The
canary replica set ``app-canary-v2`` is scaled to 4 at the deploy, its pods Ready by about
14.4 s; the analysis ticks every ``interval`` from the deploy (10 s: 20, 30, ... s) and
makes one transition each. Users are routed to the primary (``app-v1+app-v2``: the
Deployment's replica sets) and the canary by weight, 1 s after each change
(endpointPropagationDelay).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from simdeploy import simulate
from simdeploy.rules.bucketing import bucket_many
from simdeploy.run.result import Result
from tests.conftest import scenario
from tests.control.test_progressive import events, flagger, returns_within, rows, run

DELAY = 1.0  # base_dict's endpointPropagationDelay
CANARY = "app-canary-v2"
BUGGY = {"v2": {"bug": {"errorRate": 0.3}}}
LADDER = {"stepWeight": 20, "maxWeight": 50}  # 20, 40, 60: the last step overshoots 50
V3 = {"v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "warmup": "2s"}}


def weights(primary: int, canary: int, more: str = "") -> str:
    return f"weights: app-v1+app-v2={primary}, {CANARY}={canary}{more}"


def routed(r: Result) -> list[list[Any]]:
    """(time, message) of every routing change."""
    return [[t, m] for t, _, _, _, m in rows(r, "RoutingChanged")]


def canary_scaling(r: Result) -> list[list[Any]]:
    return [[t, m] for t, _, obj, _, m in rows(r, "ScalingReplicaSet") if obj == CANARY]


def available(r: Result, version: str) -> float:
    """When the Deployment's rollout of ``version`` completed (NewReplicaSetAvailable)."""
    (t,) = events(r, "NewReplicaSetAvailable", version=version).t
    return float(t)


# --- a healthy canary ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthy() -> Result:
    """stepWeight 20 to maxWeight 50, every 10 s, threshold 2; a healthy v2."""
    return run(flagger(**LADDER), simulation={"duration": "90s"})


def test_a_healthy_canary_climbs_the_ladder_one_step_per_interval(healthy: Result) -> None:
    # The first tick (20 s) runs no metric and advances; each tick after checks the
    # success rate (100% ≥ 99%) and adds stepWeight 20: 20, 40, then 60 (past maxWeight
    # 50, as Flagger overshoots); the tick at 50 s, weight ≥ maxWeight, promotes.
    assert rows(healthy, "DeploymentStarted", "Advance", "Promoting") == [
        [10.0, "DeploymentStarted", "canary", "v2", "Flagger canary"],
        [20.0, "Advance", "canary", "v2", "weight 20"],
        [30.0, "Advance", "canary", "v2", "weight 40"],
        [40.0, "Advance", "canary", "v2", "weight 60"],
        [50.0, "Promoting", "canary", "v2", "copying canary spec to primary"],
    ]
    for reason in ("Halt", "Waiting", "Mirroring", "Routing", "Gate", "Rollback"):
        assert reason not in set(healthy.events.reason)


def test_the_promotion_rolls_the_primary_out_then_finalises(healthy: Result) -> None:
    # Promoting at 50 s sets the Deployment's template to v2 (the primary's rolling
    # update: app-v2 surges by one pod at once). When it completes, all traffic goes back
    # to the primary (Finalising); the next tick (+10 s) finds the canary still ready,
    # scales it to 0 and completes the rollout.
    done = available(healthy, "v2")
    assert 50 < done < 90 - 10
    scaled = [row[2:] for row in rows(healthy, "ScalingReplicaSet") if row[0] == 50.0]
    assert scaled == [["app-v2", "v2", "scaled up from 0 to 1 (rolling: new replica set)"]]
    assert rows(healthy, "Finalising", "RolloutCompleted") == [
        [done, "Finalising", "canary", "v2", "routing all traffic to primary"],
        [pytest.approx(done + 10), "RolloutCompleted", "rollout", "v2", "completed"],
    ]
    assert canary_scaling(healthy) == [
        [10.0, "scaled up from 0 to 4 (New revision detected: canary scaled up)"],
        [pytest.approx(done + 10), "scaled down from 4 to 0 (Finalising: canary scaled to zero)"],
    ]
    assert healthy.record["outcome"] == "completed"


def test_each_weight_is_routed_after_the_propagation_delay(healthy: Result) -> None:
    # primary = 100 - canary weight; the split is kept while the primary rolls out and
    # goes back to 100/0 at Finalising.
    done = available(healthy, "v2")
    assert routed(healthy) == [
        [10.0 + DELAY, weights(100, 0)],
        [20.0 + DELAY, weights(80, 20)],
        [30.0 + DELAY, weights(60, 40)],
        [40.0 + DELAY, weights(40, 60)],
        [pytest.approx(done + DELAY), weights(100, 0)],
    ]


def test_the_asked_weight_and_the_users_flipped_are_recorded(healthy: Result) -> None:
    # weight_asked follows the ladder at once (not after the delay): 20 from 20 s,
    # 40 from 30 s, 60 from 40 s; 0 again from Finalising.
    tl = healthy.timeline
    for t0, t1, w in ((12, 19, 0.0), (21, 29, 20.0), (31, 39, 40.0), (41, 49, 60.0)):
        assert set(tl[(tl.t >= t0) & (tl.t < t1)].weight_asked) == {w}, (t0, w)
    assert tl.weight_asked.iloc[-1] == 0.0
    # 1000 users, each ~0.1 req/s, split between v1 and v2 for 40 s: many see both.
    assert healthy.record["users_flipped"] > 100


def test_step_weights_set_the_ladder_and_the_max_weight() -> None:
    # stepWeights [5, 30]: 5, then 30 (the gap 25), and 30, the last entry, is the max
    # weight (maxWeight 50 is ignored): the tick after weight 30 promotes.
    r = run(flagger(stepWeight=None, stepWeights=[5, 30]), simulation={"duration": "45s"})
    assert rows(r, "Advance", "Promoting") == [
        [20.0, "Advance", "canary", "v2", "weight 5"],
        [30.0, "Advance", "canary", "v2", "weight 30"],
        [40.0, "Promoting", "canary", "v2", "copying canary spec to primary"],
    ]
    assert [m for _, m in routed(r)][:3] == [weights(100, 0), weights(95, 5), weights(70, 30)]


def test_the_promotion_rolls_out_with_the_service_strategy() -> None:
    # v2 goes out with Recreate, then v3 through Flagger (stepWeight 50: one step): the
    # primary is app-v2+app-v3, and the promotion at 50 s uses the service's
    # RollingUpdate (maxSurge 1, maxUnavailable 0), not the Recreate the Deployment last
    # used: app-v3 surges by one pod, app-v2 is not scaled to 0 at once.
    recreate = {"at": "10s", "action": "deploy", "version": "v2", "strategy": {"type": "Recreate"}}
    v3 = {"at": "30s", "action": "deploy", "version": "v3", "strategy": flagger(stepWeight=50)}
    with returns_within():
        r = simulate(scenario(plan=[recreate, v3], versions=V3, simulation={"duration": "60s"}))
    assert rows(r, "Advance", "Promoting") == [
        [40.0, "Advance", "canary", "v3", "weight 50"],
        [50.0, "Promoting", "canary", "v3", "copying canary spec to primary"],
    ]
    assert [row[4] for row in rows(r, "RoutingChanged")][-2:] == [
        "weights: app-v2+app-v3=100, app-canary-v3=0",
        "weights: app-v2+app-v3=50, app-canary-v3=50",
    ]
    scaled = [row[2:] for row in rows(r, "ScalingReplicaSet") if row[0] == 50.0]
    assert scaled == [["app-v3", "v3", "scaled up from 0 to 1 (rolling: new replica set)"]]


# --- failed checks ------------------------------------------------------------------------


def test_failed_checks_halt_then_roll_back_at_the_threshold() -> None:
    # 30% of v2's requests fail: success rate ~70% < 99%. 20 s: first tick, no metric,
    # weight 20; 30 s: failedChecks 1 (halt, the weight stays); 40 s: 2; 50 s: 2 ≥
    # threshold 2, before any metric: roll back with the last failure. Users are back on
    # the primary 1 s later, when the rollback completes; the canary goes at once.
    r = run(flagger(**LADDER), versions=BUGGY, simulation={"duration": "60s"})
    halts = rows(r, "Halt")
    assert [row[:4] for row in halts] == [
        [30.0, "Halt", "canary", "v2"],
        [40.0, "Halt", "canary", "v2"],
    ]
    why = []
    for n, (*_, message) in enumerate(halts, start=1):
        m = re.fullmatch(rf"failedChecks {n}: (request-success-rate ([\d.]+)% < 99%)", message)
        assert m is not None, message
        assert 55 < float(m.group(2)) < 85
        why.append(m.group(1))
    failed = f"Canary failed! failedChecks 2 >= threshold 2: {why[1]}"
    assert rows(r, "Advance", "RollbackRequested", "Rollback", "RollbackCompleted") == [
        [20.0, "Advance", "canary", "v2", "weight 20"],
        [50.0, "RollbackRequested", "deployment", "v2", f"FailedChecks: {failed}"],
        [50.0, "Rollback", "canary", "v2", f"Rolling back {CANARY}: {failed}"],
        [51.0, "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]
    assert routed(r)[-2:] == [[21.0, weights(80, 20)], [51.0, weights(100, 0)]]
    assert canary_scaling(r)[-1] == [
        50.0,
        "scaled down from 4 to 0 (rollback: canary scaled to zero)",
    ]
    assert "RolloutUndo" not in set(r.events.reason)
    assert set(r.status.template) == {"v1"}
    assert r.record["outcome"] == "rolled_back"


def test_the_threshold_counts_failures_of_any_metric() -> None:
    # Two metrics: the success rate passes (healthy v2), the p99 latency must stay under
    # 1 ms, which a 20 ms mean service time never does. Threshold 1: the tick at 30 s
    # fails on the latency, the tick at 40 s rolls back.
    latency = {"name": "request-duration", "thresholdRange": {"max": 1}, "interval": "10s"}
    sr = flagger()["flagger"]["analysis"]["metrics"][0]
    r = run(flagger(threshold=1, metrics=[sr, latency], **LADDER), simulation={"duration": "45s"})
    ((t, _, _, _, message),) = rows(r, "Halt")
    assert t == 30.0
    assert re.fullmatch(r"failedChecks 1: request-duration [\d.]+ms > 1ms", message), message
    assert events(r, "Rollback").t.tolist() == [40.0]


# --- waiting for the canary, the progress deadline -------------------------------------------


def test_an_unready_canary_waits_then_exceeds_the_progress_deadline() -> None:
    # minReadySeconds 5: the canary is available at ~14.4 + 5 s. Ticking every second from
    # 10 s, each tick before then waits; progressDeadlineSeconds 6 is exceeded when more
    # than 6 s have passed since the scale-up: not at 16 s (exactly 6), at 17 s.
    r = run(
        flagger(interval="1s", **LADDER),
        service={"minReadySeconds": 5, "progressDeadlineSeconds": 6},
        simulation={"duration": "25s"},
    )
    assert rows(r, "Waiting") == [
        [float(t), "Waiting", "canary", "v2", "canary not ready"] for t in range(11, 17)
    ]
    assert rows(r, "RollbackRequested", "Rollback", "RollbackCompleted") == [
        [17.0, "RollbackRequested", "deployment", "v2",
         "ProgressDeadlineExceeded: canary not ready"],
        [17.0, "Rollback", "canary", "v2", f"Rolling back {CANARY}: canary not ready"],
        [18.0, "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]  # fmt: skip
    assert "Advance" not in set(r.events.reason)


def test_a_canary_ready_before_the_deadline_goes_on() -> None:
    # minReadySeconds 8: available at ~22.4 s. The tick at 20 s waits (10 s since the
    # scale-up, not more than the deadline 10 s); the one at 30 s is the first tick.
    r = run(
        flagger(**LADDER),
        service={"minReadySeconds": 8, "progressDeadlineSeconds": 10},
        simulation={"duration": "35s"},
    )
    assert rows(r, "Waiting", "Advance") == [
        [20.0, "Waiting", "canary", "v2", "canary not ready"],
        [30.0, "Advance", "canary", "v2", "weight 20"],
    ]


# --- mirror, blue/green, A/B -----------------------------------------------------------------


def test_a_mirrored_canary_mirrors_one_tick_before_the_first_step() -> None:
    # mirror with mirrorWeight 100: the first tick (20 s) mirrors every request (share
    # 100 / 100 = 1) to the canary without any weight; the next (30 s) is checked on that
    # mirrored traffic and steps to weight 50 (the mirror ends); 50 is maxWeight: 40 s
    # promotes.
    r = run(flagger(stepWeight=50, mirror=True, mirrorWeight=100), simulation={"duration": "45s"})
    assert rows(r, "Mirroring", "Advance", "Promoting") == [
        [20.0, "Mirroring", "canary", "v2", "mirror tick"],
        [30.0, "Advance", "canary", "v2", "weight 50"],
        [40.0, "Promoting", "canary", "v2", "copying canary spec to primary"],
    ]
    assert routed(r) == [
        [11.0, weights(100, 0)],
        [21.0, weights(100, 0, f"; mirror 100% → {CANARY}")],
        [31.0, weights(50, 50)],
    ]
    assert r.record["mirrored_requests"] > 0


def test_a_failing_mirrored_canary_is_halted_on_the_mirrored_traffic() -> None:
    # The buggy v2 gets only mirrored requests after the mirror tick: ~70% success at
    # 30 s, a failed check, still mirroring; with threshold 1 the tick at 40 s rolls back
    # and the mirror is removed.
    r = run(
        flagger(threshold=1, stepWeight=50, mirror=True, mirrorWeight=50),
        versions=BUGGY,
        simulation={"duration": "45s"},
    )
    assert routed(r)[1] == [21.0, weights(100, 0, f"; mirror 50% → {CANARY}")]
    assert [row[:2] for row in rows(r, "Mirroring", "Halt", "Rollback", "Advance")] == [
        [20.0, "Mirroring"],
        [30.0, "Halt"],
        [40.0, "Rollback"],
    ]
    assert routed(r)[-1] == [41.0, weights(100, 0)]


def test_blue_green_mirrors_through_the_iterations_then_switches_all_traffic() -> None:
    # iterations 2 without match: blue/green. The first tick starts the mirror (mirrorWeight
    # 100: every request) and counts iteration 1; the next counts 2/2; the one after routes
    # all traffic to the canary (weight 100, mirror off); the next promotes.
    r = run(
        flagger(iterations=2, stepWeight=None, maxWeight=None, mirror=True, mirrorWeight=100),
        simulation={"duration": "55s"},
    )
    assert rows(r, "DeploymentStarted", "Advance", "Routing", "Promoting") == [
        [10.0, "DeploymentStarted", "canary", "v2", "Flagger blue-green"],
        [20.0, "Advance", "canary", "v2", "iteration 1/2"],
        [30.0, "Advance", "canary", "v2", "iteration 2/2"],
        [40.0, "Routing", "canary", "v2", "routing all traffic to canary"],
        [50.0, "Promoting", "canary", "v2", "copying canary spec to primary"],
    ]
    assert routed(r) == [
        [11.0, weights(100, 0)],
        [21.0, weights(100, 0, f"; mirror 100% → {CANARY}")],
        [41.0, weights(0, 100)],
    ]


def test_blue_green_mirrors_the_mirror_weight_share() -> None:
    # mirrorWeight 50: half the requests are copied to the canary (share 50 / 100).
    r = run(
        flagger(iterations=1, stepWeight=None, maxWeight=None, mirror=True, mirrorWeight=50),
        simulation={"duration": "25s"},
    )
    assert routed(r)[1] == [21.0, weights(100, 0, f"; mirror 50% → {CANARY}")]


def test_blue_green_without_mirror_sends_users_nothing_until_the_switch() -> None:
    r = run(
        flagger(iterations=2, stepWeight=None, maxWeight=None, metrics=[]),
        simulation={"duration": "45s"},
    )
    assert routed(r) == [[11.0, weights(100, 0)], [41.0, weights(0, 100)]]
    tl = r.timeline
    assert tl[tl.t < 41]["requests[v2]"].sum() == 0


AB = {"iterations": 2, "stepWeight": None, "maxWeight": None, "match": [{"userShare": 0.2}]}


def test_ab_testing_sends_a_cohort_for_the_iterations_then_promotes() -> None:
    # iterations 2 with match userShare 0.2: A/B testing. The first tick routes the 20%
    # cohort to the canary (no weight), ticks count iterations 1/2 and 2/2 (checked on the
    # cohort's requests), the next tick (40 s) promotes with no all-traffic tick; the
    # cohort stays on the canary until Finalising.
    r = run(flagger(**AB), traffic={"users": 20}, simulation={"duration": "70s"})
    done = available(r, "v2")
    assert rows(r, "DeploymentStarted", "Advance", "Routing", "Promoting", "Finalising") == [
        [10.0, "DeploymentStarted", "canary", "v2", "Flagger ab-testing"],
        [20.0, "Advance", "canary", "v2", "iteration 1/2"],
        [30.0, "Advance", "canary", "v2", "iteration 2/2"],
        [40.0, "Promoting", "canary", "v2", "copying canary spec to primary"],
        [done, "Finalising", "canary", "v2", "routing all traffic to primary"],
    ]
    assert routed(r) == [
        [11.0, weights(100, 0)],
        [21.0, weights(100, 0, f"; cohort 20% → {CANARY}")],
        [pytest.approx(done + DELAY), weights(100, 0)],
    ]
    # The cohort: the users LaunchDarkly buckets under the key "flagger-ab" below 0.2
    # (world.cohort_mask); of 20 users, each sending a twentieth of the requests, that is
    # k users (5: 25%, where another key would pick 4 or 9) and k/20 of the ~1800
    # requests between 22 s and 40 s on v2 (binomial noise ~1%).
    k = sum(b < 0.2 for b in bucket_many("flagger-ab", "cohort", range(20)))
    tl = r.timeline
    cohort = tl[(tl.t >= 22) & (tl.t < 40)]
    share = cohort["requests[v2]"].sum() / cohort.requests.sum()
    assert share == pytest.approx(k / 20, abs=0.025)


def test_an_ab_rollback_takes_the_cohort_off_the_canary() -> None:
    r = run(flagger(**AB), {"at": "25s", "action": "rollback"}, simulation={"duration": "30s"})
    assert routed(r)[-2:] == [
        [21.0, weights(100, 0, f"; cohort 20% → {CANARY}")],
        [26.0, weights(100, 0)],
    ]


# --- rollbacks -------------------------------------------------------------------------------


def test_a_manual_rollback_mid_ladder_routes_back_and_scales_the_canary_down() -> None:
    # At 35 s the weight is 40; users go back to the primary 1 s later and the rollout
    # ends then; the primary never changed: no template change.
    r = run(flagger(**LADDER), {"at": "35s", "action": "rollback"}, simulation={"duration": "45s"})
    assert rows(r, "RollbackRequested", "Rollback", "RolloutUndo", "RollbackCompleted") == [
        [35.0, "RollbackRequested", "deployment", "v2", "Manual: plan"],
        [35.0, "Rollback", "canary", "v2", f"Rolling back {CANARY}: plan"],
        [36.0, "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]
    assert routed(r)[-1] == [36.0, weights(100, 0)]
    assert canary_scaling(r)[-1] == [
        35.0,
        "scaled down from 4 to 0 (rollback: canary scaled to zero)",
    ]
    assert set(r.status.template) == {"v1"}


def test_a_rollback_while_promoting_rolls_the_primary_back() -> None:
    # Promoting from 50 s: the primary is rolling out v2 at 55 s. The rollback sets its
    # template back to v1 and waits for that rollout, then the propagation delay.
    r = run(flagger(**LADDER), {"at": "55s", "action": "rollback"}, simulation={"duration": "90s"})
    back = available(r, "v1")
    assert 55 < back < 80
    assert rows(r, "Rollback", "Finalising", "RolloutCompleted", "RollbackCompleted") == [
        [55.0, "Rollback", "canary", "v2", f"Rolling back {CANARY}: plan"],
        [pytest.approx(back + DELAY), "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]
    assert r.status.template.iloc[-1] == "v1"
    assert routed(r)[-1] == [56.0, weights(100, 0)]


def test_a_rollback_after_the_promotion_undoes_the_primary() -> None:
    # Completed at ~77.5 s; the rollback at 85 s is a plain undo of the Deployment to v1,
    # over when that rollout completes; the routing is not touched.
    r = run(flagger(**LADDER), {"at": "85s", "action": "rollback"}, simulation={"duration": "110s"})
    back = available(r, "v1")
    assert rows(r, "RolloutUndo", "Rollback", "RollbackCompleted") == [
        [85.0, "RolloutUndo", "deployment", "v1", "undo of the primary"],
        [back, "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]
    assert routed(r)[-1][0] < 85
    assert r.status.template.iloc[-1] == "v1"


# --- gates -----------------------------------------------------------------------------------


def test_each_gate_waits_for_a_promote_of_its_own_kind() -> None:
    # Listed out of order, with one confirm-rollout already approved. The rollout gate
    # waits from 10 s to the promote at 15 s (the canary is scaled up then); the first
    # traffic increase waits from the first tick (25 s) to the promote at 40 s; the
    # increases then tick every 10 s (25 at 40 s, 50 at 50 s); the promotion gate waits
    # from 60 s to the promote at 70 s.
    hooks = [
        {"name": "promo", "type": "confirm-promotion"},
        {"name": "step", "type": "confirm-traffic-increase"},
        {"name": "pre", "type": "confirm-rollout", "approved": True},
        {"name": "go", "type": "confirm-rollout"},
        {"name": "load", "type": "rollout"},
    ]
    promote = [{"at": t, "action": "promote"} for t in ("15s", "40s", "70s")]
    r = run(flagger(stepWeight=25, webhooks=hooks), *promote, simulation={"duration": "75s"})
    assert rows(r, "Gate", "Advance", "Promoting") == [
        [10.0, "Gate", "canary", "v2", "confirm-rollout go: waiting"],
        [15.0, "Gate", "canary", "v2", "confirm-rollout go: approved"],
        [25.0, "Gate", "canary", "v2", "confirm-traffic-increase step: waiting"],
        [40.0, "Gate", "canary", "v2", "confirm-traffic-increase step: approved"],
        [40.0, "Advance", "canary", "v2", "weight 25"],
        [50.0, "Advance", "canary", "v2", "weight 50"],
        [60.0, "Gate", "canary", "v2", "confirm-promotion promo: waiting"],
        [70.0, "Gate", "canary", "v2", "confirm-promotion promo: approved"],
        [70.0, "Promoting", "canary", "v2", "copying canary spec to primary"],
    ]
    assert canary_scaling(r)[0] == [
        15.0,
        "scaled up from 0 to 4 (New revision detected: canary scaled up)",
    ]
