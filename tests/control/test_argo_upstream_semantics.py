"""Where the Argo strategies follow upstream's current code (issue 8, "where we differ").

Each test runs a small scenario (tests/conftest.py) or the bundled dynamicStableScale one and
asserts on the scaling log, the event log or the summary, for a behaviour of Argo Rollouts
v1.9/v1.10 that the simulator used to get wrong: minPodsPerReplicaSet capped at the replicas,
the dynamicStableScale abort sizing stable by the stepped-down weight, replicaProgressThreshold,
abortScaleDownDelaySeconds "explicit" meaning present, 0 keeping the blue/green preview (or a
setCanaryScale canary) up, and pause durations in whole seconds.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import yaml

from simdeploy import Scenario, load_scenario, simulate
from simdeploy.experiments.compare import variants_of
from simdeploy.run.result import Result
from tests.conftest import SCENARIOS, scenario

ROUTER = {"istio": {}}
DELAY = 1.0  # base_dict's endpointPropagationDelay


def run(strategy: dict[str, Any], *extra: dict[str, Any], **over: Any) -> Result:
    """Deploy v2 at 10 s with ``strategy``; ``extra`` plan actions follow."""
    deploy = {"at": "10s", "action": "deploy", "version": "v2", "strategy": strategy}
    return simulate(scenario(plan=[deploy, *extra], **over))


def routed(*steps: dict[str, Any], **canary: Any) -> dict[str, Any]:
    return {"canary": {"trafficRouting": ROUTER, "steps": list(steps), **canary}}


def specs(r: Result, rs: str, after: float = 0.0) -> list[int]:
    """``spec.replicas`` of replica set ``rs`` at each scale action from ``after`` on."""
    rows = r.scaling[(r.scaling.replica_set == rs) & (r.scaling.t >= after)]
    return [int(n) for n in rows.spec]


def events(r: Result, reason: str) -> pd.DataFrame:
    return r.events[r.events.reason == reason]


def router_weights(r: Result, after: float = 0.0) -> list[int]:
    """The canary weight of every router change from ``after`` on."""
    ev = events(r, "RoutingChanged")
    ev = ev[(ev.t >= after) & ev.message.str.contains("app-v2=")]
    return [int(m.split("app-v2=")[1].split(",")[0]) for m in ev.message]


# --- minPodsPerReplicaSet ---------------------------------------------------------------------


def test_min_pods_per_replica_set_is_capped_at_the_replicas() -> None:
    # Argo v1.10 CheckMinPodsPerReplicaSet: a minimum above spec.replicas is capped at it (it
    # used to make the controller scale in a loop). 2 replicas, minimum 5, setWeight 10 → 2.
    r = run(
        routed({"setWeight": 10}, {"pause": {}}, minPodsPerReplicaSet=5),
        service={"replicas": 2},
        simulation={"duration": "40s"},
    )
    assert specs(r, "app-v2") == [2]
    assert r.timeline["pods[v2]"].max() == 2


# --- dynamicStableScale abort -----------------------------------------------------------------


@pytest.fixture(scope="module")
def dss() -> dict[str, Result]:
    sc = load_scenario(SCENARIOS / "canary-dynamic-stable-scale.yaml")
    return {name: simulate(v) for name, v in variants_of(sc).items()}


def test_dynamic_stable_scale_abort_grows_stable_one_step_at_a_time(
    dss: dict[str, Result],
) -> None:
    # 4 replicas aborted at 75% (stable 1 pod, canary 3). GetDesiredCanaryWeight walks the
    # ladder [25, 50, 75] down as the canary drains: stable is sized for 50% (2 pods), then
    # 75% (3), then 100% (4), never straight from 1 to 4; the canary follows the router weight
    # down (3, 2, 1, 0) and the router weight follows stable (75 → 50 → 25 → 0).
    r = dss["stepped"]
    aborted = float(events(r, "RolloutAborted").t.iloc[0])
    assert specs(r, "app-v1", aborted) == [2, 3, 4]
    assert specs(r, "app-v2", aborted) == [2, 1, 0]
    assert router_weights(r, aborted) == [50, 25, 0]
    assert r.record["errors"] == 0
    # No surge of new stable pods: at most one more pod than the replicas at any time.
    assert r.record["peak_pods"] <= 4 + 2


def test_dynamic_stable_scale_abort_canary_goes_without_a_deadline(
    dss: dict[str, Result],
) -> None:
    # abortScaleDownDelaySeconds absent: shouldDelayScaleDownOnAbort is false under
    # dynamicStableScale, so the canary's last pod goes when the weight reaches 0, not 30 s
    # after stable is full.
    r = dss["stepped"]
    last_down = r.scaling[(r.scaling.replica_set == "app-v2") & (r.scaling.spec == 0)].t.iloc[0]
    stable_full = r.scaling[(r.scaling.replica_set == "app-v1") & (r.scaling.spec == 4)].t.iloc[-1]
    assert last_down - stable_full < 30


def test_dynamic_stable_scale_explicit_delay_keeps_the_canary_until_the_deadline() -> None:
    # abortScaleDownDelaySeconds: 30 written out is "explicit" although it equals the default
    # (HasExplicitAbortScaleDownDelay reads presence): the canary keeps its 3 pods until stable
    # is fully available, then goes 30 s later; the weight steps down by stable alone (#4898).
    sc = load_scenario(SCENARIOS / "canary-dynamic-stable-scale.yaml")
    stepped = variants_of(sc)["stepped"]
    plan = list(stepped.plan)
    deploy = plan[0]
    canary = deploy.strategy.canary.model_copy(update={"abort_scale_down_delay_seconds": 30.0})
    plan[0] = deploy.model_copy(
        update={"strategy": deploy.strategy.model_copy(update={"canary": canary})}
    )
    r = simulate(stepped.model_copy(update={"plan": plan}))
    aborted = float(events(r, "RolloutAborted").t.iloc[0])
    assert specs(r, "app-v2", aborted) == [0]
    down = r.scaling[(r.scaling.replica_set == "app-v2") & (r.scaling.t >= aborted)].t.iloc[0]
    stable_full = r.scaling[(r.scaling.replica_set == "app-v1") & (r.scaling.spec == 4)].t.iloc[-1]
    assert down >= stable_full + 30 - 1e-6
    assert router_weights(r, aborted)[-1] == 0
    assert r.record["errors"] == 0


def test_dynamic_stable_scale_abort_holds_the_canary_weight_until_stable_carries_the_rung() -> None:
    # trafficrouting.go calculateDesiredWeightOnAbortOrStableRollback with the router's current
    # weight: while stable is still scaling up to the stepped-down rung, the canary keeps its
    # weight; it moves to the rung only once stable can carry it (no weights in between).
    # 4 replicas, steps [25, 75], aborted at 75: stable 1 pod, canary ceil(4*75/100) = 3.
    # Ladder: pods still serving = max(4 - 1, 3) = 3; 75 needs 3 (not < 3), 25 needs 1 < 3, so
    # desired = 25 and stable is sized ceil(4*75/100) = 3 pods. Pods start in 1-20 s, so the two
    # new stable pods become ready one after the other. With 2 ready: stable share
    # floor(100*2/4) = 50 < 100 - 25 → hold at 75 (no write; "no weight recorded" would give
    # max(expected 100 - 50, 25) = 50). With 3 ready: 75 >= 75 → min(25, 75) = 25, canary to
    # ceil(4*25/100) = 1 pod. The ladder is then 0: min(expected 100 - 100, 25) = 0 once stable
    # is whole (4), and the canary goes.
    r = run(
        routed({"setWeight": 25}, {"setWeight": 75}, {"pause": {}}, dynamicStableScale=True),
        {"at": "60s", "action": "rollback"},
        service={"pod": {"startupDelay": {"dist": "uniform", "low": "1s", "high": "20s"}}},
        simulation={"duration": "120s"},
    )
    aborted = float(events(r, "RolloutAborted").t.iloc[0])
    tl = r.timeline[r.timeline.t >= aborted]
    # The case under test happened: stable had exactly 2 ready pods for a while after the abort.
    assert (tl["ready[v1]"] == 2).any()
    assert router_weights(r, aborted) == [25, 0]
    assert specs(r, "app-v1", aborted) == [3, 4]
    assert specs(r, "app-v2", aborted) == [1, 0]
    # Meanwhile the router still sent 75% to the canary (3 ready pods serve it).
    two = tl[tl["ready[v1]"] == 2]
    assert two["requests[v2]"].sum() > 0.6 * two["requests"].sum()
    assert r.record["errors"] == 0


# --- replicaProgressThreshold -----------------------------------------------------------------


def test_replica_progress_threshold_moves_the_weight_before_every_pod_is_available() -> None:
    # setWeight 50 on 4 replicas wants 2 canary pods. With {type: Pods, value: 1} the step is
    # done (and the router moves) once one canary pod is available; without it, once both are.
    slow = {"startupDelay": {"dist": "uniform", "low": "1s", "high": "20s"}}
    strategy: dict[str, Any] = routed({"setWeight": 50}, {"pause": {}})
    runs = {}
    for name, threshold in (("none", None), ("one-pod", {"type": "Pods", "value": 1})):
        s = {**strategy["canary"]}
        if threshold is not None:
            s["replicaProgressThreshold"] = threshold
        runs[name] = run({"canary": s}, service={"pod": slow}, simulation={"duration": "60s"})
    for name, r in runs.items():
        ready = sorted(events(r, "Ready").query("version == 'v2'").t)
        routed_at = float(
            events(r, "RoutingChanged").query("message.str.contains('app-v2=50')").t.iloc[0]
        )
        assert len(ready) == 2, name
        if name == "none":
            assert routed_at >= ready[1] + DELAY - 1e-6
        else:
            assert ready[0] + DELAY - 1e-6 <= routed_at < ready[1]


def test_replica_progress_threshold_percent_is_validated() -> None:
    from simdeploy import ScenarioError

    bad = routed({"setWeight": 50}, replicaProgressThreshold={"type": "Percent", "value": 150})
    with pytest.raises(ScenarioError, match=r"replicaProgressThreshold\.value"):
        run(bad)


# --- abortScaleDownDelaySeconds: 0 --------------------------------------------------------------


@pytest.mark.parametrize(("delay", "green_left"), [(None, 0), (0, 4)])
def test_blue_green_abort_with_delay_0_leaves_the_preview_up(
    delay: int | None, green_left: int
) -> None:
    # Argo GetAbortScaleDownDelaySecondsOrDefault: 0 → no deadline, the preview keeps its size;
    # absent → scaled down 30 s after the abort.
    spec: dict[str, Any] = {"autoPromotionEnabled": False}
    if delay is not None:
        spec["abortScaleDownDelaySeconds"] = delay
    r = run(
        {"blueGreen": spec},
        {"at": "40s", "action": "rollback"},
        simulation={"duration": "90s"},
    )
    assert r.record["outcome"] == "rolled_back"
    assert r.timeline["requests[v2]"].sum() == 0
    assert r.timeline["pods[v2]"].iloc[-1] == green_left
    if delay is None:
        down = r.scaling[(r.scaling.replica_set == "app-v2") & (r.scaling.spec == 0)]
        assert float(down.t.iloc[0]) == pytest.approx(40.0 + 30.0)
    else:
        assert (r.scaling[r.scaling.replica_set == "app-v2"].spec > 0).all()
        assert len(events(r, "PreviewKept")) == 1


@pytest.mark.parametrize(("delay", "canary_left"), [(None, 0), (0, 2)])
def test_canary_abort_with_delay_0_keeps_a_set_canary_scale(
    delay: int | None, canary_left: int
) -> None:
    # UseSetCanaryScale on abort: ignored unless abortScaleDownDelaySeconds is 0, which keeps
    # the canary at its setCanaryScale size (with no traffic).
    extra = {} if delay is None else {"abortScaleDownDelaySeconds": delay}
    r = run(
        routed({"setCanaryScale": {"replicas": 2}}, {"setWeight": 25}, {"pause": {}}, **extra),
        {"at": "40s", "action": "rollback"},
        simulation={"duration": "90s"},
    )
    assert r.record["outcome"] == "rolled_back"
    assert r.timeline["pods[v2]"].iloc[-1] == canary_left
    tl = r.timeline
    assert tl[tl.t >= 40 + DELAY + 1]["requests[v2]"].sum() == 0


# --- pause durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(("duration", "seconds"), [("1500ms", 1), ("1ms", 0), (3, 3)])
def test_pause_duration_keeps_whole_seconds(duration: str | int, seconds: int) -> None:
    # RolloutPause.DurationSeconds truncates a Go duration to whole seconds.
    r = run(
        routed({"setWeight": 25}, {"pause": {"duration": duration}}, {"setWeight": 50}),
        simulation={"duration": "60s"},
    )
    paused = float(events(r, "RolloutPaused").t.iloc[0])
    asked_50 = events(r, "SetWeight").query("message == 'asked 50%'")
    assert float(asked_50.t.iloc[0]) - paused == pytest.approx(seconds)


def test_blue_green_undo_after_promotion_scales_green_down_after_scale_down_delay() -> None:
    # An undo after a completed promotion is a new update back to blue (still up within its
    # scaleDownDelaySeconds): green, now the old side, goes scaleDownDelaySeconds after the
    # switch back, as after any promotion; abortScaleDownDelaySeconds (10) is for aborts only.
    r = run(
        {"blueGreen": {"scaleDownDelaySeconds": 60, "abortScaleDownDelaySeconds": 10}},
        {"at": "40s", "action": "rollback"},
        simulation={"duration": "3m"},
    )
    assert r.record["outcome"] == "rolled_back"
    assert "blue is still up" in events(r, "RolloutUndo").iloc[0].message
    down = r.scaling[(r.scaling.replica_set == "app-v2") & (r.scaling.spec == 0)]
    # Switched back at 40 s; routed after the propagation delay; then 60 s.
    assert float(down.t.iloc[0]) == pytest.approx(40.0 + DELAY + 60.0)


def test_a_stepped_abort_in_max_traffic_weight_units_is_the_same_abort() -> None:
    # maxTrafficWeight 1000 with every setWeight ×10 is the same rollout: the abort's
    # expected and desired weights are computed in those units (trafficrouting.go), so every
    # router write is the 100-unit one ×10, and the run is request for request the same.
    data = yaml.safe_load((SCENARIOS / "canary-dynamic-stable-scale.yaml").read_text())
    del data["compare"]
    plain = simulate(Scenario.parse(data))
    canary = data["plan"][0]["strategy"]["canary"]
    canary["maxTrafficWeight"] = 1000
    for step in canary["steps"]:
        if "setWeight" in step:
            step["setWeight"] *= 10
    scaled = simulate(Scenario.parse(data))

    def writes(r: Result) -> list[tuple[float, int]]:
        ev = events(r, "RoutingChanged")
        ev = ev[ev.message.str.contains("app-v2=")]
        return [
            (t, int(m.split("app-v2=")[1].split(",")[0]))
            for t, m in zip(ev.t, ev.message, strict=True)
        ]

    assert [(t, w * 10) for t, w in writes(plain)] == writes(scaled)
    assert events(plain, "RollbackRequested").t.tolist() == [180.0]
    assert scaled.record == plain.record
