"""Progressive delivery as Argo Rollouts and Flagger document it.

Each test runs a small scenario (tests/conftest.py) or a bundled one and asserts on the
event log, the scaling log, the timeline or the summary: behaviour that would change if
the model of the controller, the router or the analysis broke. The reference is upstream:
Flagger's ``scheduler.go`` (one transition per interval, cumulative failedChecks), Argo
Rollouts' canary and blue/green controllers (exact router weights, ``ceil(R*w/100)``
canary pods, abort, pauses, analysis phases), and the reference article's strategy table.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest
import simpy

from simdeploy import Scenario, ScenarioError, compare, load_scenario, simulate
from simdeploy.control.analysis import query
from simdeploy.experiments.compare import variants_of
from simdeploy.rules.canary_math import approximate_weighted_canary_stable_replica_counts
from simdeploy.run import simulation as simulation_module
from simdeploy.run.result import Result
from simdeploy.world.recorder import I_APP_ERROR, I_OK, I_TIMEOUT, Recorder
from tests.conftest import SCENARIOS, base_dict, scenario

DELAY = 1.0  # base_dict's endpointPropagationDelay


# --- helpers ---------------------------------------------------------------------------------


class SimulationHang(Exception):
    """``simulate`` did not return in time: an infinite loop at one simulated instant."""


#: SimPy steps one run may take before it counts as hung (10x the largest run here).
MAX_STEPS = 5_000_000


@contextmanager
def returns_within(max_steps: int = MAX_STEPS) -> Iterator[None]:
    """Turn a hung simulation into a failure instead of a hung test run.

    The shadow strategy once looped forever on a sub-ulp remainder of its duration (see
    ``test_shadow_whose_duration_is_a_multiple_of_the_interval_ends``); tests that run a
    shadow go through this so that a seed change cannot freeze the suite. The bound is on
    SimPy steps of one environment, not on wall time, so a loaded machine cannot fail it:
    the largest run here (the seed table) takes ~435,000 steps.
    """
    step = simpy.Environment.step
    taken: dict[int, int] = {}

    def counted(env: simpy.Environment) -> None:
        n = taken[id(env)] = taken.get(id(env), 0) + 1
        if n > max_steps:
            raise SimulationHang(f"simulate() took more than {max_steps:,} SimPy steps")
        step(env)

    simpy.Environment.step = counted  # type: ignore[method-assign]
    try:
        yield
    finally:
        simpy.Environment.step = step  # type: ignore[method-assign]


def deploy(strategy: dict[str, Any], at: str = "10s") -> dict[str, Any]:
    return {"at": at, "action": "deploy", "version": "v2", "strategy": strategy}


def run(strategy: dict[str, Any], *extra: dict[str, Any], **over: Any) -> Result:
    """Deploy v2 at 10 s with ``strategy``; ``extra`` plan actions follow."""
    with returns_within():
        return simulate(scenario(plan=[deploy(strategy), *extra], **over))


def events(r: Result, reason: str, **match: str) -> pd.DataFrame:
    ev = r.events[r.events.reason == reason]
    for col, value in match.items():
        ev = ev[ev[col] == value]
    return ev


def rows(r: Result, *reasons: str) -> list[list[Any]]:
    """The events of these reasons as [t, reason, object, version, message] rows."""
    ev = r.events[r.events.reason.isin(reasons)]
    return ev[["t", "reason", "object", "version", "message"]].values.tolist()


def first_t(r: Result, reason: str, **match: str) -> float:
    ev = events(r, reason, **match)
    assert len(ev) > 0, f"no {reason} event"
    return float(ev.t.min())


def served_share(tl: pd.DataFrame, t0: float, t1: float, version: str = "v2") -> float:
    """Percent of completed user requests served by ``version`` in buckets inside [t0, t1)."""
    rows = tl[(tl.t >= t0) & (tl.t + 1 <= t1)]
    done = (rows.ok + rows.errors).sum()
    assert done > 0
    return 100.0 * rows[f"requests[{version}]"].sum() / done


def spec_at(r: Result, rs: str, t: float, initial: int = 0) -> int:
    """``spec.replicas`` of replica set ``rs`` after every scale action up to ``t``."""
    rows = r.scaling[(r.scaling.replica_set == rs) & (r.scaling.t <= t)]
    return int(rows.spec.iloc[-1]) if len(rows) else initial


def template(name: str = "t", **metric: Any) -> dict[str, Any]:
    """One AnalysisTemplate with one success-rate metric of the canary (10 s windows)."""
    m: dict[str, Any] = {
        "name": "sr",
        "provider": {
            "simdeploy": {"metric": "success_rate", "of": "canary", "window": "10s"},
        },
        "interval": "10s",
        "count": 2,
        "successCondition": "result >= 0.95",
    }
    m.update(metric)
    return {name: {"metrics": [m]}}


ROUTER = {"istio": {}}


# --- 1. Flagger's analysis loop ------------------------------------------------------------------


def flagger(**analysis: Any) -> dict[str, Any]:
    a: dict[str, Any] = {
        "interval": "10s",
        "threshold": 2,
        "maxWeight": 50,
        "stepWeight": 10,
        "metrics": [
            {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "10s"}
        ],
    }
    a.update(analysis)
    return {"flagger": {"analysis": a}}


@pytest.mark.parametrize(
    ("interval", "step", "max_weight"),
    [
        pytest.param(10, 10, 50, id="10s-by-10-to-50"),
        pytest.param(15, 25, 50, id="15s-by-25-to-50"),
        pytest.param(20, 20, 60, id="20s-by-20-to-60"),
    ],
)
def test_flagger_healthy_canary_promotes_interval_times_steps_after_first_advance(
    interval: int, step: int, max_weight: int
) -> None:
    # Flagger docs: promotion takes interval × (maxWeight / stepWeight) once the canary is
    # being weighted; one transition per tick, the Promoting tick after maxWeight is reached.
    r = run(
        flagger(interval=f"{interval}s", stepWeight=step, maxWeight=max_weight),
        simulation={"duration": "150s"},
    )
    adv = events(r, "Advance")
    assert list(adv.message) == [f"weight {w}" for w in range(step, max_weight + 1, step)]
    assert adv.t.diff().dropna().tolist() == pytest.approx([interval] * (len(adv) - 1))
    promoting = first_t(r, "Promoting")
    assert promoting - adv.t.min() == pytest.approx(interval * max_weight / step, abs=0.5)
    assert "Halt" not in set(r.events.reason)
    assert r.record["outcome"] == "completed"
    # Finalising sends everything back to the (now new) primary; the canary goes to 0.
    tl = r.timeline
    assert tl["pods[v1]"].iloc[-1] == 0
    assert r.scaling[r.scaling.owner == "app-canary"].spec.iloc[-1] == 0


@pytest.mark.parametrize("threshold", [1, 3])
def test_flagger_failing_canary_rolls_back_threshold_intervals_after_first_halt(
    threshold: int,
) -> None:
    # failedChecks reaches the threshold on the threshold-th failing tick; the rollback is
    # decided at the start of the next tick: threshold × interval after the first failure.
    r = run(
        flagger(threshold=threshold),
        versions={"v2": {"bug": {"errorRate": 0.3}}},
        simulation={"duration": "2m"},
    )
    halts = events(r, "Halt")
    assert len(halts) == threshold
    assert list(halts.message.str.extract(r"failedChecks (\d+)")[0].astype(int)) == list(
        range(1, threshold + 1)
    )
    rollback = first_t(r, "Rollback")
    assert rollback - halts.t.min() == pytest.approx(10.0 * threshold, abs=1e-6)
    assert (
        f"failedChecks {threshold} >= threshold {threshold}"
        in events(r, "Rollback").iloc[0].message
    )
    assert r.record["outcome"] == "rolled_back"
    # All traffic back on the primary within the propagation delay.
    tl = r.timeline
    assert tl[tl.t >= rollback + DELAY + 1]["requests[v2]"].sum() == 0
    assert r.record["rollback_time_s"] <= DELAY + 0.5


def test_flagger_failed_checks_are_cumulative() -> None:
    # v2 fails 1% of requests against a 99% floor: some ticks pass, some fail. With
    # threshold 2, the two failures are not consecutive, yet the canary rolls back:
    # a passing tick never lowers failedChecks (seed chosen so the ticks alternate).
    r = run(
        flagger(threshold=2),
        versions={"v2": {"bug": {"errorRate": 0.01}}},
        simulation={"duration": "3m", "seed": 4},
    )
    ticks = r.events[r.events.reason.isin(["Advance", "Halt", "Rollback", "Promoting"])]
    seq = "".join(reason[0] for reason in ticks.reason)
    assert "HH" not in seq and seq.count("H") == 2, seq  # the precondition of this test
    assert seq.index("H") < seq.rindex("A") < seq.rindex("H")
    assert seq.endswith("HR")
    assert "failedChecks 2 >= threshold 2" in events(r, "Rollback").iloc[0].message
    assert r.record["outcome"] == "rolled_back"


def test_flagger_no_data_counts_as_a_failed_check() -> None:
    # minRequests above anything a 10 s window can hold: "no values found" is a failure
    # even though v2 has no bug at all.
    metric = {
        "name": "request-success-rate",
        "thresholdRange": {"min": 99},
        "interval": "10s",
        "minRequests": 100_000,
    }
    r = run(flagger(threshold=2, metrics=[metric]), simulation={"duration": "2m"})
    halts = events(r, "Halt")
    assert len(halts) == 2
    assert halts.message.str.contains("no values found for metric request-success-rate").all()
    assert first_t(r, "Rollback") - halts.t.min() == pytest.approx(20.0)
    assert r.record["outcome"] == "rolled_back"
    assert r.record["errors"] == 0


@pytest.mark.parametrize(
    ("mode", "extra_ticks"),
    [
        pytest.param({"match": [{"userShare": 0.2}]}, 0, id="ab-testing"),
        pytest.param({}, 1, id="blue-green"),
    ],
)
def test_flagger_iterations_run_interval_times_iterations(
    mode: dict[str, Any], extra_ticks: int
) -> None:
    # scheduler.go: each tick checks the metrics, then runAB / runBlueGreen advances one
    # iteration and returns; "Copying ... template spec" (Promoting) comes on the tick after
    # iteration N/N (A/B), after one more "Routing all traffic to canary" tick (blue/green).
    # So the last iteration is analysed too, and an A/B test lasts interval × iterations.
    # No metrics: Flagger's blue/green sends no user traffic to the canary (real setups
    # feed it with load-test webhooks), so a success-rate check would have no data.
    r = run(
        flagger(iterations=3, stepWeight=None, maxWeight=None, metrics=[], **mode),
        simulation={"duration": "150s"},
    )
    adv = events(r, "Advance")
    assert list(adv.message) == ["iteration 1/3", "iteration 2/3", "iteration 3/3"]
    promoting = first_t(r, "Promoting")
    assert promoting - adv.t.min() == pytest.approx(10.0 * (3 + extra_ticks), abs=0.5)


def test_flagger_ab_cohort_stays_on_the_canary_through_promotion() -> None:
    r = run(
        flagger(iterations=3, stepWeight=None, maxWeight=None, match=[{"userShare": 0.2}]),
        simulation={"duration": "150s"},
    )
    assert r.record["outcome"] == "completed"
    # Flagger keeps the header route until "Routing all traffic to primary": the cohort
    # stays on the canary while the primary rolls out, and leaves it only at Finalising.
    # (Users outside the cohort do flip during the primary's own rolling update.)
    routes = events(r, "RoutingChanged")
    with_cohort = routes[routes.message.str.contains("cohort")]
    without = routes[(routes.t > with_cohort.t.min()) & ~routes.message.str.contains("cohort")]
    assert first_t(r, "Promoting") < without.t.min()
    assert without.t.min() >= first_t(r, "Finalising")


# --- 2. Argo canary with a traffic router -----------------------------------------------------


def routed(*steps: dict[str, Any], **canary: Any) -> dict[str, Any]:
    return {"canary": {"trafficRouting": ROUTER, "steps": list(steps), **canary}}


def test_router_weights_are_exact_during_pauses() -> None:
    r = run(
        routed(
            {"setWeight": 20},
            {"pause": {"duration": "40s"}},
            {"setWeight": 50},
            {"pause": {"duration": "40s"}},
        ),
        service={"replicas": 5},
        simulation={"duration": "2m"},
    )
    changes = events(r, "RoutingChanged")
    for w, end in zip((20, 50), (*events(r, "SetWeight").t.iloc[1:2], math.inf), strict=True):
        t_route = float(changes[changes.message.str.contains(f"app-v2={w}")].t.iloc[0])
        t_end = min(end, t_route + 40)
        share = served_share(r.timeline, t_route + 1, t_end - 1)
        # ~3,500 requests per pause: 3 points is over 4 standard deviations at 20%.
        assert share == pytest.approx(w, abs=3), (w, share)
        tl = r.timeline
        rows = tl[(tl.t >= t_route + 1) & (tl.t + 1 <= t_end)]
        assert (rows.weight_asked == w).all()


def test_router_canary_replicas_are_ceil_of_weight_and_stable_stays_full() -> None:
    # Behind a router the canary gets ceil(R * w / 100) pods and the stable keeps all R,
    # so that an abort can move every request back at once.
    replicas = 5
    r = run(
        routed(
            {"setWeight": 20},
            {"pause": {"duration": "10s"}},
            {"setWeight": 50},
            {"pause": {"duration": "10s"}},
            {"setWeight": 70},
            {"pause": {}},
        ),
        service={"replicas": replicas},
        simulation={"duration": "2m"},
    )
    canary = r.scaling[r.scaling.replica_set == "app-v2"]
    assert list(canary.spec) == [math.ceil(replicas * w / 100) for w in (20, 50, 70)]
    assert len(r.scaling[r.scaling.replica_set == "app-v1"]) == 0
    assert (r.timeline["pods[v1]"] == replicas).all()
    assert r.record["outcome"] == "running"  # the last pause waits for a promote


def test_router_weight_moves_only_after_the_canary_is_available() -> None:
    # Argo shifts the router only once the canary replica set is available (Ready for
    # minReadySeconds); until then the previous weight stays in force.
    min_ready = 4
    r = run(
        routed({"setWeight": 25}, {"pause": {"duration": "20s"}}, {"setWeight": 75}),
        service={"minReadySeconds": min_ready},
        simulation={"duration": "2m"},
    )
    changes = events(r, "RoutingChanged")
    ready = events(r, "Ready", version="v2").t.sort_values().tolist()
    for set_weight in events(r, "SetWeight").itertuples():
        w = int(set_weight.message.split()[1].rstrip("%"))
        if w == 100:
            continue
        t_route = float(changes[changes.message.str.contains(f"app-v2={w}")].t.iloc[0])
        need = math.ceil(4 * w / 100)  # base_dict: 4 replicas
        assert len(ready) >= need
        assert t_route >= ready[need - 1] + min_ready + DELAY - 1e-6
        assert t_route > set_weight.t


def _abort_run(**over: Any) -> Result:
    return run(
        routed({"setWeight": 50}, {"pause": {}}),
        {"at": "40s", "action": "rollback"},
        simulation={"duration": "100s"},
        **over,
    )


def test_abort_sends_all_traffic_back_to_stable() -> None:
    r = _abort_run()
    aborted = first_t(r, "RolloutAborted")
    assert aborted == pytest.approx(40.0)
    assert "Manual" in events(r, "RolloutAborted").iloc[0].message
    tl = r.timeline
    before = tl[(tl.t >= 20) & (tl.t < 40)]
    assert before["requests[v2]"].sum() > 0
    assert tl[tl.t >= aborted + DELAY + 1]["requests[v2]"].sum() == 0
    assert r.record["outcome"] == "rolled_back"
    assert r.record["rollback_time_s"] == pytest.approx(DELAY, abs=0.5)
    assert tl["pods[v2]"].iloc[-1] == 0


def test_abort_keeps_the_canary_up_for_abort_scale_down_delay() -> None:
    # Argo ≥ 1.1 (docs: "Scaledown New Replicaset on Aborted Rollout"): canary with traffic
    # routing, abortScaleDownDelaySeconds unset → scaled down 30 s after the abort. Scaling
    # it at once also kills pods the router still sends traffic to for a propagation
    # delay: without a preStop sleep those requests are refused.
    r = _abort_run(service={"pod": {"lifecycle": None}})
    down = r.scaling[(r.scaling.replica_set == "app-v2") & (r.scaling.spec == 0)]
    assert down.t.iloc[0] == pytest.approx(40.0 + 30.0, abs=2.0)
    assert r.record["errors_by_cause"]["connection_refused"] == 0


def test_rollback_right_after_full_promotion_with_dynamic_stable_scale() -> None:
    # Promoted at ~29 s (the old replica set already at 0 pods under dynamicStableScale);
    # a rollback at 35 s must bring v1 back (Argo: an update back to the old revision),
    # not point the router at a replica set with no pods.
    r = run(
        routed({"setWeight": 50}, {"pause": {"duration": "10s"}}, dynamicStableScale=True),
        {"at": "35s", "action": "rollback"},
        simulation={"duration": "120s"},
    )
    assert first_t(r, "RolloutPromoted") < 35
    assert r.record["errors_by_cause"]["no_endpoint"] == 0
    assert r.record["outcome"] == "rolled_back"
    assert r.timeline["requests[v2]"].iloc[-10:].sum() == 0


@pytest.mark.parametrize(
    "strategy",
    [
        pytest.param(
            routed({"setWeight": 50}, {"pause": {"duration": "10s"}}),
            id="argo-canary-router",
        ),
        pytest.param(
            {"canary": {"steps": [{"setWeight": 50}, {"pause": {"duration": "10s"}}]}},
            id="argo-canary-basic",
        ),
        pytest.param(
            {"flagger": {"analysis": {"interval": "10s", "maxWeight": 20, "stepWeight": 10}}},
            id="flagger",
        ),
        pytest.param({"blueGreen": {}}, id="blue-green"),
        pytest.param(
            {"shadow": {"duration": "20s", "analysis": None, "promote": True}},
            id="shadow-promoted",
        ),
    ],
)
def test_rollback_after_completion_ends_on_stable(strategy: dict[str, Any]) -> None:
    # Undoing a finished rollout (Argo: update back to the previous revision; Flagger and
    # shadow+promote: the primary Deployment rolls back) brings v1 back without dropping
    # a request, however long ago the old pods went away.
    r = run(strategy, {"at": "100s", "action": "rollback"}, simulation={"duration": "180s"})
    assert first_t(r, "RolloutCompleted") < 100
    assert r.record["outcome"] == "rolled_back"
    assert r.record["errors"] == 0
    tl = r.timeline
    assert tl["requests[v2]"].iloc[-10:].sum() == 0
    assert tl["pods[v2]"].iloc[-1] == 0


def test_failed_step_analysis_aborts() -> None:
    r = run(
        routed(
            {"setWeight": 50},
            {"analysis": {"templates": [{"templateName": "t"}]}},
            {"setWeight": 75},
        ),
        analysisTemplates=template(),
        versions={"v2": {"bug": {"errorRate": 0.3}}},
        simulation={"duration": "100s"},
    )
    failed = first_t(r, "AnalysisRunFailed")
    assert first_t(r, "RolloutAborted") == pytest.approx(failed)
    assert events(r, "RollbackRequested").iloc[0].message.startswith("AnalysisFailed")
    assert list(events(r, "SetWeight").message) == ["asked 50%"]  # never went on to 75%
    assert r.record["outcome"] == "rolled_back"
    tl = r.timeline
    assert tl[tl.t >= failed + DELAY + 1]["requests[v2]"].sum() == 0


@pytest.mark.parametrize("promote_at", [None, 80])
def test_inconclusive_step_analysis_pauses_until_promoted(promote_at: int | None) -> None:
    # 80% success: neither >= 99% (success) nor < 50% (failure) → Inconclusive, and the
    # rollout pauses with InconclusiveAnalysis until someone promotes it.
    extra = [] if promote_at is None else [{"at": promote_at, "action": "promote"}]
    r = run(
        routed(
            {"setWeight": 50},
            {"analysis": {"templates": [{"templateName": "t"}]}},
            {"setWeight": 75},
            {"pause": {}},
        ),
        *extra,
        analysisTemplates=template(
            successCondition="result >= 0.99", failureCondition="result < 0.5"
        ),
        versions={"v2": {"bug": {"errorRate": 0.2}}},
        simulation={"duration": "2m"},
    )
    inconclusive = first_t(r, "AnalysisRunInconclusive")
    paused = events(r, "RolloutPaused", message="InconclusiveAnalysis")
    assert list(paused.t) == [pytest.approx(inconclusive)]
    weights = events(r, "SetWeight")
    assert "RolloutAborted" not in set(r.events.reason)
    if promote_at is None:
        assert list(weights.message) == ["asked 50%"]
        assert r.record["outcome"] == "running"
    else:
        assert inconclusive < promote_at
        assert list(weights.message) == ["asked 50%", "asked 75%"]
        assert weights.t.iloc[1] == pytest.approx(promote_at)


@pytest.mark.parametrize("promote_at", [None, 60])
def test_indefinite_pause_waits_for_promote(promote_at: int | None) -> None:
    extra = [] if promote_at is None else [{"at": promote_at, "action": "promote"}]
    r = run(routed({"setWeight": 25}, {"pause": {}}), *extra, simulation={"duration": "100s"})
    paused = first_t(r, "RolloutPaused")
    weights = events(r, "SetWeight")
    if promote_at is None:
        assert list(weights.message) == ["asked 25%"]
        assert r.record["outcome"] == "running"
        tl = r.timeline
        assert served_share(tl, paused + 2, 100) == pytest.approx(25, abs=4)
    else:
        assert list(weights.message) == ["asked 25%", "asked 100%"]
        assert weights.t.iloc[1] == pytest.approx(promote_at)
        assert r.record["outcome"] == "completed"


def test_timed_pause_times_out() -> None:
    r = run(
        routed({"setWeight": 25}, {"pause": {"duration": "20s"}}, {"setWeight": 50}),
        simulation={"duration": "100s"},
    )
    paused = first_t(r, "RolloutPaused")
    weights = events(r, "SetWeight")
    assert list(weights.message) == ["asked 25%", "asked 50%", "asked 100%"]
    assert weights.t.iloc[1] == pytest.approx(paused + 20)
    assert r.record["outcome"] == "completed"
    assert r.record["errors"] == 0


# --- 3. Argo canary without a router ------------------------------------------------------------


@pytest.fixture(scope="module")
def no_router() -> tuple[Scenario, Result]:
    sc = load_scenario(SCENARIOS / "canary-no-router.yaml")
    return sc, simulate(sc)


def _pause_windows(r: Result) -> list[tuple[int, float, float]]:
    """(asked weight, start, end) of each pause: from RolloutPaused to the next SetWeight."""
    pauses = events(r, "RolloutPaused").t.tolist()
    sets = events(r, "SetWeight")
    out = []
    for t0 in pauses:
        before = sets[sets.t <= t0]
        after = sets[sets.t > t0]
        w = int(before.message.iloc[-1].split()[1].rstrip("%"))
        out.append((w, t0, float(after.t.iloc[0]) if len(after) else math.inf))
    return out


def test_no_router_served_weight_follows_pod_counts(no_router: tuple[Scenario, Result]) -> None:
    # One Service over both replica sets: setWeight 10 on 4 replicas is 1 canary pod next
    # to 4 stable (20%), setWeight 70 is 3 of 4 (75%) — argo-rollouts#2281.
    _, r = no_router
    windows = _pause_windows(r)
    assert [w for w, _, _ in windows] == [10, 70]
    expected = {10: 20.0, 70: 75.0}
    for w, t0, t1 in windows:
        # The endpoint change reaches the balancer a propagation delay (2 s) later.
        share = served_share(r.timeline, t0 + 3, t1)
        assert share == pytest.approx(expected[w], abs=2), (w, share)
        assert abs(share - w) > 4  # visibly not the asked weight


def test_no_router_replicas_follow_canary_math(no_router: tuple[Scenario, Result]) -> None:
    sc, r = no_router
    strategy = sc.plan[0].strategy
    assert strategy is not None and strategy.canary is not None
    replicas = sc.service.replicas
    surge = int(strategy.canary.max_surge)
    for w, t0, _ in _pause_windows(r):
        want = approximate_weighted_canary_stable_replica_counts(replicas, w, surge)
        got = (spec_at(r, "app-v2", t0), spec_at(r, "app-v1", t0, initial=replicas))
        assert got == want, (w, got, want)
    app = r.scaling[r.scaling.owner == "app"]
    assert (app.owner_spec_total <= replicas + surge).all()
    assert r.record["outcome"] == "completed"
    assert r.record["errors"] == 0


# --- 4. dynamicStableScale abort ---------------------------------------------------------------


def test_dynamic_stable_scale_stepped_abort_avoids_the_overload() -> None:
    sc = load_scenario(SCENARIOS / "canary-dynamic-stable-scale.yaml")
    runs = {name: simulate(v) for name, v in variants_of(sc).items()}
    stepped, immediate = runs["stepped"], runs["immediate"]
    # At 75% only one stable pod is left; stepping the weight down as stable comes back
    # keeps every request served, sending it all back at once overloads that one pod.
    assert stepped.timeline["pods[v1]"].min() == 1
    assert stepped.record["errors_by_cause"]["timeout"] == 0
    assert immediate.record["errors_by_cause"]["timeout"] > 100
    for r in (stepped, immediate):
        assert r.record["outcome"] == "rolled_back"
        assert r.timeline["requests[v2]"].iloc[-10:].sum() == 0
    # The stepped abort walks the router back down the setWeight ladder.
    weights = [
        int(m.split("app-v2=")[1].split(",")[0])
        for m in events(stepped, "RoutingChanged").message
        if "app-v2=" in m
    ]
    after_peak = weights[weights.index(75) :]
    assert after_peak == sorted(after_peak, reverse=True)
    assert len(set(after_peak)) > 2


# --- 5. Argo blue/green ---------------------------------------------------------------------


def bg(**spec: Any) -> dict[str, Any]:
    return {"blueGreen": spec}


def test_blue_green_nothing_reaches_users_before_the_switch() -> None:
    r = run(bg(previewTraffic=5), simulation={"duration": "60s"})
    switched = first_t(r, "ActiveServiceSwitched")
    tl = r.timeline
    assert tl[tl.t + 1 <= switched + DELAY]["requests[v2]"].sum() == 0
    assert tl[tl.t >= switched + DELAY + 1]["requests[v1]"].sum() == 0
    # The smoke tests against the preview are synthetic: neither user requests nor
    # shadow copies.
    assert r.record["mirrored_requests"] == 0
    assert r.record["errors"] == 0
    assert r.record["outcome"] == "completed"


def test_blue_green_preview_replica_count_and_manual_promotion() -> None:
    r = run(
        bg(previewReplicaCount=1, autoPromotionEnabled=False),
        {"at": "50s", "action": "promote"},
        simulation={"duration": "100s"},
    )
    green = r.scaling[r.scaling.replica_set == "app-v2"]
    assert list(green[green.t < 50].spec) == [1]
    assert list(green[green.t >= 50].spec) == [4]
    tl = r.timeline
    assert tl[tl.t < 50]["pods[v2]"].max() == 1
    paused = events(r, "RolloutPaused")
    assert list(paused.message) == ["BlueGreenPause"]
    switched = first_t(r, "ActiveServiceSwitched")
    # The switch waits for promote, then for the preview to reach full size.
    assert switched > 50
    ready = events(r, "Ready", version="v2").t.sort_values()
    assert switched >= ready.iloc[3] - 1e-6
    assert tl[tl.t + 1 <= switched + DELAY]["requests[v2]"].sum() == 0


def test_blue_green_auto_promotion_disabled_waits_forever() -> None:
    r = run(bg(autoPromotionEnabled=False), simulation={"duration": "100s"})
    assert "ActiveServiceSwitched" not in set(r.events.reason)
    assert r.timeline["requests[v2]"].sum() == 0
    assert r.record["outcome"] == "running"
    assert r.timeline["pods[v2]"].iloc[-1] == 4  # a full preview, waiting


@pytest.fixture(scope="module")
def bg_bad() -> dict[str, Result]:
    sc = load_scenario(SCENARIOS / "blue-green-bad-release.yaml")
    return {name: simulate(v) for name, v in variants_of(sc).items()}


def test_blue_green_rollback_is_a_switch_while_blue_is_up(bg_bad: dict[str, Result]) -> None:
    fast = bg_bad["post-promotion-analysis"]
    slow = bg_bad["blue-scaled-down"]
    delay = 2.0  # the scenario's endpointPropagationDelay
    assert fast.record["outcome"] == slow.record["outcome"] == "rolled_back"
    assert fast.record["rollback_time_s"] <= 2 * delay + 0.5
    assert "blue is still up" in events(fast, "RolloutUndo").iloc[0].message
    # After scaleDownDelaySeconds the old side is gone: a full redeploy of blue.
    assert "full redeploy" in events(slow, "RolloutUndo").iloc[0].message
    assert slow.record["rollback_time_s"] > 15
    assert slow.record["rollback_time_s"] > 5 * fast.record["rollback_time_s"]
    assert fast.record["users_affected"] < slow.record["users_affected"]
    for r in (fast, slow):
        assert r.timeline["requests[v2]"].iloc[-10:].sum() == 0


def test_blue_green_costs_a_second_environment(bg_bad: dict[str, Result]) -> None:
    assert bg_bad["post-promotion-analysis"].record["extra_cost"] == pytest.approx(1.0, abs=0.1)
    assert bg_bad["post-promotion-analysis"].record["peak_pods"] >= 20


# --- 6. Shadow -------------------------------------------------------------------------------


def shadow(**spec: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "duration": "40s",
        "analysis": {"interval": "10s", "maxMismatchRate": 0.02, "minComparisons": 100},
    }
    s.update(spec)
    return {"shadow": s}


def test_shadow_of_a_buggy_release_never_reaches_users() -> None:
    r = run(
        shadow(),
        versions={"v2": {"bug": {"errorRate": 0.2}}},
        traffic={"writeRatio": 0.3},
        simulation={"duration": "80s"},
    )
    rec, tl = r.record, r.timeline
    assert rec["users_affected"] == 0 and rec["errors"] == 0
    # The shadow's pods get only copies: no user request, no user-facing v2 error.
    assert tl["requests[v2]"].sum() == 0 and tl["errors[v2]"].sum() == 0
    assert rec["mirrored_requests"] > 0 and tl.mirror_errors.sum() > 0
    assert rec["shadow_mismatches"] > 0
    # The mismatch analysis tears the shadow down.
    assert rec["outcome"] == "rolled_back"
    assert events(r, "RollbackRequested").iloc[0].message.startswith("ShadowMismatch")
    assert tl["pods[v2]"].iloc[-1] == 0
    scaled = events(r, "ScalingReplicaSet")
    assert scaled[scaled.object == "app-shadow-v2"].message.tolist() == [
        "scaled up from 0 to 4 (shadow deployment)",
        "scaled down from 4 to 0 (shadow torn down)",
    ]


@pytest.mark.parametrize(
    ("spec", "duplicates"),
    [
        pytest.param({}, True, id="mirror-all-duplicates-writes"),
        pytest.param({"readsOnly": True}, False, id="reads-only"),
        pytest.param({"separateDatabase": True}, False, id="separate-database"),
    ],
)
def test_shadow_duplicate_writes(spec: dict[str, Any], duplicates: bool) -> None:
    r = run(shadow(**spec), traffic={"writeRatio": 0.3}, simulation={"duration": "70s"})
    rec = r.record
    assert rec["outcome"] == "completed"
    assert rec["users_affected"] == 0 and rec["errors"] == 0
    assert rec["shadow_mismatches"] == 0  # a healthy shadow answers as the stable does
    assert rec["mirrored_requests"] > 1000
    assert (rec["duplicate_writes"] > 0) is duplicates
    if duplicates:
        # About writeRatio of the mirrored requests are writes.
        assert rec["duplicate_writes"] / rec["mirrored_requests"] == pytest.approx(0.3, abs=0.05)
    assert rec["extra_cost"] == pytest.approx(1.0, abs=0.15)


def test_shadow_reads_only_mirrors_only_reads() -> None:
    all_ = run(shadow(), traffic={"writeRatio": 0.3}, simulation={"duration": "70s"})
    reads = run(shadow(readsOnly=True), traffic={"writeRatio": 0.3}, simulation={"duration": "70s"})
    ratio = reads.record["mirrored_requests"] / all_.record["mirrored_requests"]
    assert ratio == pytest.approx(0.7, abs=0.05)


def test_shadow_whose_duration_is_a_multiple_of_the_interval_ends() -> None:
    # minComparisons out of reach: no ShadowAnalysis event per spin, so the hang does not
    # also fill memory with events while the guard waits.
    analysis = {"interval": "10s", "minComparisons": 10**9}
    sc = scenario(
        plan=[deploy(shadow(duration="30s", analysis=analysis))],
        simulation={"duration": "60s", "seed": 1},
    )
    with returns_within():
        r = simulate(sc)
    assert r.record["outcome"] == "completed"


def test_rollback_during_shadow_promotion_ends_on_stable() -> None:
    # The shadow ends at ~34 s and, with promote, the Deployment rolls out v2 for real;
    # a rollback at 38 s must undo that rollout.
    r = run(
        shadow(duration="20s", analysis=None, promote=True),
        {"at": "38s", "action": "rollback"},
        simulation={"duration": "100s"},
    )
    assert first_t(r, "ShadowPromoted") < 38
    assert r.record["outcome"] == "rolled_back"
    assert r.status.template.iloc[-1] == "v1"
    assert r.timeline["requests[v2]"].iloc[-10:].sum() == 0


# --- 7. A/B: sticky cohort against per-request weights --------------------------------------------


def test_header_route_keeps_users_on_one_version(monkeypatch: pytest.MonkeyPatch) -> None:
    worlds: list[Any] = []
    build = simulation_module.build_result

    def capture(cp: Any, seed: int) -> Result:
        worlds.append(cp.world)
        return build(cp, seed)

    monkeypatch.setattr(simulation_module, "build_result", capture)
    sc = load_scenario(SCENARIOS / "ab-cohort.yaml")
    runs = {name: simulate(v) for name, v in variants_of(sc).items()}
    cohort, weighted = runs["header-route"], runs["per-request-weight"]
    assert cohort.record["users_flipped"] == 0
    # The users last served by v2 are the cohort: about userShare of the users seen.
    last = worlds[0].recorder.last_version
    seen = sum(1 for v in last if v != 255)
    on_v2 = sum(1 for v in last if v == 1)
    assert seen > 4000
    assert on_v2 / seen == pytest.approx(0.1, abs=0.02)
    tl = cohort.timeline
    assert served_share(tl, 60, 240) == pytest.approx(10, abs=2)
    # A coin toss per request: the same 10% of traffic, but most users see both versions.
    assert served_share(weighted.timeline, 60, 240) == pytest.approx(10, abs=2)
    assert weighted.record["users_flipped"] > 0.3 * seen


# --- 8. Metric queries --------------------------------------------------------------------------


@pytest.fixture
def recorder() -> Recorder:
    """v2: 18 ok + 2 app errors in bucket 20, 10 ok in bucket 29, noise at 19 and 30."""
    r = Recorder(("v1", "v2"), duration_s=60, bucket_s=1.0, users=10)
    v2 = r.version_index["v2"]
    for i in range(18):
        r.count(20, v2, I_OK, 0.05, i % 10)
    for _ in range(2):
        r.count(20, v2, I_APP_ERROR, 0.05, 3)
    for _ in range(10):
        r.count(29, v2, I_OK, 0.05, 4)
    for b in (19, 30):  # just outside [20, 30)
        for _ in range(50):
            r.count(b, v2, I_TIMEOUT, 5.0, 5)
    r.count(25, r.version_index["v1"], I_APP_ERROR, 0.01, 6)  # another version
    return r


def test_query_rates_over_a_window(recorder: Recorder) -> None:
    # Buckets 20..29: 28 ok, 2 errors (the v1 error does not count for v2).
    assert query(recorder, "v2", "success_rate", 30.0, 10.0) == pytest.approx(28 / 30)
    assert query(recorder, "v2", "error_rate", 30.0, 10.0) == pytest.approx(2 / 30)
    assert query(recorder, "v2", "error_count", 30.0, 10.0) == 2.0
    assert query(recorder, "v2", "request_count", 30.0, 10.0) == 30.0
    assert query(recorder, "v1", "error_rate", 30.0, 10.0) == 1.0
    p50 = query(recorder, "v2", "latency_p50", 30.0, 10.0)
    assert p50 is not None and abs(p50 - 0.05) <= 0.01 * 0.05  # within 1%
    # The 5 s timeouts in buckets 19 and 30 are outside the window: p99 stays at 50 ms.
    p99 = query(recorder, "v2", "latency_p99", 30.0, 10.0)
    assert p99 is not None and abs(p99 - 0.05) <= 0.01 * 0.05
    p99_wider = query(recorder, "v2", "latency_p99", 31.0, 12.0)
    assert p99_wider is not None and abs(p99_wider - 5.0) <= 0.01 * 5.0


def test_each_latency_metric_reads_its_own_quantile() -> None:
    # 94 requests of 10 ms and 6 of 1 s in [0, 10): the 50th and the 94th request are fast,
    # the 95th and the 99th slow, so p50 = 10 ms and p95 = p99 = 1 s (each within 1%).
    r = Recorder(("v1", "v2"), duration_s=10, bucket_s=1.0, users=10)
    v2 = r.version_index["v2"]
    for i in range(100):
        r.count(i % 10, v2, I_OK, 0.01 if i < 94 else 1.0, i % 10)
    got = {m: query(r, "v2", m, 10.0, 10.0) for m in ("latency_p50", "latency_p95", "latency_p99")}
    assert got["latency_p50"] == pytest.approx(0.01, rel=0.01)
    assert got["latency_p95"] == pytest.approx(1.0, rel=0.01)
    assert got["latency_p99"] == pytest.approx(1.0, rel=0.01)


def test_query_no_data_is_none_not_zero(recorder: Recorder) -> None:
    assert query(recorder, "v2", "error_count", 30.0, 10.0, min_requests=31) is None
    assert query(recorder, "v2", "error_count", 30.0, 10.0, min_requests=30) == 2.0
    assert query(recorder, "v2", "success_rate", 15.0, 10.0) is None  # nothing in 5..14
    assert query(recorder, "v3", "success_rate", 30.0, 10.0) is None  # unknown version


@pytest.mark.parametrize(
    ("now", "window", "count"),
    [
        pytest.param(30.0, 10.0, 30, id="whole-buckets-20-to-29"),
        pytest.param(31.0, 12.0, 130, id="both-neighbours-in"),
        pytest.param(31.0, 11.0, 80, id="right-neighbour-in"),
        pytest.param(30.5, 10.0, 10, id="partial-buckets-left-out"),
        pytest.param(30.0, 1.0, 10, id="last-bucket-only"),
        pytest.param(29.0, 9.0, 20, id="end-is-exclusive"),
    ],
)
def test_query_window_boundaries(recorder: Recorder, now: float, window: float, count: int) -> None:
    # [now - window, now) covers whole buckets only: a bucket cut by either edge is out.
    assert query(recorder, "v2", "request_count", now, window) == count


def test_query_counts_shadow_traffic_of_the_version(recorder: Recorder) -> None:
    v2 = recorder.version_index["v2"]
    for _ in range(10):
        recorder.count_mirror(22, v2, I_APP_ERROR, duplicate_write=False)
    assert query(recorder, "v2", "request_count", 30.0, 10.0) == 40.0
    assert query(recorder, "v2", "error_count", 30.0, 10.0) == 12.0


# --- 9. The reference article's table, from simulation ------------------------------------------


@pytest.fixture(scope="module")
def seed_table() -> dict[str, dict[str, Any]]:
    with returns_within():
        cmp = compare(load_scenario(SCENARIOS / "seed-table.yaml"), seeds=[1, 2])
    return {rec["name"]: rec for rec in cmp.records()}


def test_seed_table_has_the_articles_shape(seed_table: dict[str, dict[str, Any]]) -> None:
    t = seed_table
    assert set(t) == {"recreate", "rolling", "blue-green", "canary", "shadow"}
    # Downtime: only Recreate.
    assert t["recreate"]["downtime_s"] > 0
    for name in ("rolling", "blue-green", "canary", "shadow"):
        assert t[name]["downtime_s"] == 0, name
    # Rollback: Rolling redeploys (minutes); Blue/Green switches back and Canary
    # re-weights (seconds).
    assert t["rolling"]["rollback_time_s"] >= 60
    assert t["blue-green"]["rollback_time_s"] < 10
    assert t["canary"]["rollback_time_s"] < 10
    # Cost: two environments for Blue/Green and Shadow, a few pods for Canary.
    assert t["blue-green"]["extra_cost"] >= 0.8
    assert t["shadow"]["extra_cost"] >= 0.8
    assert t["canary"]["extra_cost"] < 0.3
    assert t["canary"]["extra_cost"] <= t["rolling"]["extra_cost"] + 0.1
    # Blast radius: the canary's 5% slice against everyone.
    assert t["canary"]["users_affected"] * 10 < t["rolling"]["users_affected"]
    assert t["canary"]["users_affected"] * 10 < t["blue-green"]["users_affected"]
    assert t["shadow"]["users_affected"] == 0
    for name, rec in t.items():
        assert rec["outcome"] == "rolled_back", name
        assert rec["outcomes"] == {"rolled_back": 2}, name


# --- 10. Bad input --------------------------------------------------------------------------------

SR = {
    "sr": {
        "metrics": [
            {
                "name": "sr",
                "provider": {"simdeploy": {"metric": "success_rate"}},
                "successCondition": "result >= 0.99",
            }
        ]
    }
}


def _plan(strategy: dict[str, Any]) -> dict[str, Any]:
    return {"plan": [deploy(strategy)]}


@pytest.mark.parametrize(
    ("over", "message"),
    [
        pytest.param(
            {
                "analysisTemplates": SR,
                **_plan(
                    routed({"setWeight": 10}, {"analysis": {"templates": [{"templateName": "rs"}]}})
                ),
            },
            # Names the templateName field itself.
            "plan[0].strategy.canary.steps[1].analysis.templates[0].templateName: "
            "unknown analysis template 'rs' (analysisTemplates); known: sr",
            id="unknown-template",
        ),
        pytest.param(
            {
                "analysisTemplates": {"success-rate": SR["sr"]},
                **_plan(bg(prePromotionAnalysis={"templates": [{"templateName": "succes-rate"}]})),
            },
            "plan[0].strategy.blueGreen.prePromotionAnalysis.templates[0].templateName: "
            "unknown analysis template 'succes-rate' (analysisTemplates); "
            "did you mean 'success-rate'?",
            id="template-typo-did-you-mean",
        ),
        pytest.param(
            _plan(routed({"analysis": {"templates": [{"templateName": "x"}]}})),
            "plan[0].strategy.canary.steps[0].analysis.templates[0].templateName: "
            "unknown analysis template 'x' (analysisTemplates); none are defined",
            id="no-templates-at-all",
        ),
        pytest.param(
            {
                "analysisTemplates": {
                    "sr": {
                        "metrics": [
                            {
                                "name": "sr",
                                "provider": {"simdeploy": {"metric": "success_rate"}},
                                "successCondition": "result >= ",
                            }
                        ]
                    }
                }
            },
            # Names the metric, not successCondition (reported as unclear).
            "analysisTemplates.sr.metrics[0].successCondition: invalid condition 'result >= ': "
            "unexpected end of expression (column 11)",
            id="invalid-success-condition",
        ),
        pytest.param(
            _plan({"canary": {"steps": [{"setWeight": 10, "pause": {}}]}}),
            "plan[0].strategy.canary.steps[0]: a step has exactly one of setWeight, pause, "
            "analysis, setCanaryScale, setHeaderRoute, setMirrorRoute, experiment "
            "(got setWeight and pause)",
            id="step-with-two-kinds",
        ),
        pytest.param(
            _plan({"canary": {"steps": [{"setCanaryScale": {"replicas": 1}}]}}),
            # The sub-path stays in the message instead of the path (reported).
            "plan[0].strategy.canary.steps[0].setCanaryScale: requires trafficRouting",
            id="set-canary-scale-without-router",
        ),
        pytest.param(
            _plan({"canary": {"dynamicStableScale": True, "steps": [{"setWeight": 10}]}}),
            "plan[0].strategy.canary.dynamicStableScale: requires trafficRouting",
            id="dynamic-stable-scale-without-router",
        ),
        pytest.param(
            _plan({"canary": {"steps": []}, "blueGreen": {}}),
            "plan[0].strategy: give one strategy block, not canary and blueGreen",
            id="two-strategy-blocks",
        ),
        pytest.param(
            {"service": {"strategy": {"shadow": {}, "flagger": {"analysis": {"stepWeight": 5}}}}},
            "service.strategy: give one strategy block, not flagger and shadow",
            id="two-blocks-in-service",
        ),
        pytest.param(
            _plan({"flagger": {"analysis": {"interval": "30s", "maxWeight": 50}}}),
            "plan[0].strategy.flagger.analysis: set stepWeight, stepWeights or iterations "
            "(else the canary never advances)",
            id="flagger-without-step-weight",
        ),
    ],
)
def test_bad_progressive_input_gets_one_line_naming_the_field(
    over: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(base_dict(**over))
    assert exc.value.errors == [message]
