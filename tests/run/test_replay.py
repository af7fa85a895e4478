"""The replay (run/replay.py): pods and replica sets at any t from the recorded state changes,
traffic from the timeline bucket, the canary's current step and the rollout's status."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from simdeploy import simulate
from simdeploy.run.replay import frame_at, frame_times, frames
from simdeploy.run.result import version_column
from simdeploy.spec.scenario import load_scenario
from simdeploy.world.recorder import NOT_READY, PENDING, READY, TERMINATING
from tests.conftest import SCENARIOS, base_dict, scenario

CANARY = {
    "type": "Canary",
    "canary": {
        "trafficRouting": {"istio": {}},
        "steps": [{"setWeight": 25}, {"pause": {"duration": "20s"}}, {"setWeight": 50}],
    },
}


#: An Argo canary (istio, setWeight 50, pause 20 s) of v2 at 20 s, then a RollingUpdate of v3
#: at 120 s (v2 fully promoted by then: 20 s + a few s for the weight + the 20 s pause).
TWO_DEPLOYS = {
    "versions": {"v3": base_dict()["versions"]["v2"]},
    "plan": [
        {
            "at": "20s",
            "action": "deploy",
            "version": "v2",
            "strategy": {
                "type": "Canary",
                "canary": {
                    "trafficRouting": {"istio": {}},
                    "steps": [{"setWeight": 50}, {"pause": {"duration": "20s"}}],
                },
            },
        },
        {"at": "120s", "action": "deploy", "version": "v3"},
    ],
    "simulation": {"duration": "180s"},
}


@pytest.fixture(scope="module")
def two_deploys():
    return simulate(scenario(**TWO_DEPLOYS))


@pytest.fixture(scope="module")
def rolling():
    return simulate(scenario())


@pytest.fixture(scope="module")
def canary():
    return simulate(
        scenario(plan=[{"at": "10s", "action": "deploy", "version": "v2", "strategy": CANARY}])
    )


@pytest.mark.parametrize("run", ["rolling", "canary"])
def test_pod_counts_equal_the_timeline_samples_at_every_bucket(run, request) -> None:
    """The timeline samples the replica sets once per bucket (after everything of that
    instant); the replay rebuilds them from the state changes: both must agree everywhere."""
    result = request.getfixturevalue(run)
    tl = result.timeline
    shown = frames(result)
    assert len(shown) == len(tl) == 90  # 90 s at 1 s buckets: every bucket is a frame
    for frame, (_, row) in zip(shown, tl.iterrows(), strict=True):
        assert frame.t == row["t"]
        for v in ("v1", "v2"):
            assert frame.pods(v) == row[version_column("pods", v)], (frame.t, v)
            assert frame.pods(v, READY) == row[version_column("ready", v)], (frame.t, v)
            assert frame.pods(v, TERMINATING) == row[version_column("terminating", v)]
        assert frame.requests == row["requests"]
        assert frame.errors == row["errors"]


def test_the_steady_start_and_the_end_of_a_rolling_update(rolling) -> None:
    """4 replicas of v1, Ready at 0; a completed update leaves v2's replica set at 4/4 and no
    trace of v1 (desired 0, every pod gone: preStop 3 s, long before the 90 s end)."""
    start = frame_at(rolling, 0.0)
    assert [(rs.name, rs.desired, rs.ready, rs.total) for rs in start.replica_sets] == [
        ("app-v1", 4, 4, 4)
    ]
    assert start.status is None and start.step is None
    end = frame_at(rolling, 89.0)
    assert [(rs.name, rs.desired, rs.ready, rs.total) for rs in end.replica_sets] == [
        ("app-v2", 4, 4, 4)
    ]
    assert rolling.record["outcome"] == "completed"
    assert end.status is not None and end.status.startswith("RolloutCompleted")


def test_a_new_pod_is_pending_then_not_ready_then_ready(rolling) -> None:
    """maxSurge 1: at the deploy (10 s) one v2 pod is created. It is Pending through the
    scheduling delay (0.5 s) and the start-up delay (1-2 s), NotReady until its readiness
    probe passes (initialDelaySeconds 2 after the start, period 1 s, warm-up 2 s), Ready
    after: at 10.2 s Pending, at 13 s (started by 12.5 s, probed no earlier than 13.5 s)
    NotReady."""
    assert frame_at(rolling, 10.2).pods("v2", PENDING) == 1
    at13 = frame_at(rolling, 13.0)
    assert at13.pods("v2", NOT_READY) == 1 and at13.pods("v2", READY) == 0
    first = rolling.pod_states[rolling.pod_states.version == "v2"].pod.iloc[0]
    states = list(rolling.pod_states[rolling.pod_states.pod == first].state)
    assert states[:3] == [PENDING, NOT_READY, READY]


def test_every_pod_moves_forward_through_its_lifecycle(canary) -> None:
    """Pending → NotReady ⇄ Ready → Terminating → Gone: nothing else, nothing after Gone."""
    allowed = {
        (PENDING, NOT_READY),
        (PENDING, TERMINATING),
        (NOT_READY, READY),
        (NOT_READY, NOT_READY),  # a container restarted before it was ever Ready
        (READY, NOT_READY),
        (NOT_READY, TERMINATING),
        (READY, TERMINATING),
        (TERMINATING, "Gone"),
    }
    for pod, rows in canary.pod_states.groupby("pod", sort=False):
        states = list(rows.state)
        for pair in itertools.pairwise(states):
            assert pair in allowed, (pod, states)


def test_the_canary_step_follows_argos_current_step_index(canary) -> None:
    """Deploy at 10 s: step 0 (setWeight 25) at once; step 1 (pause 20 s) once the weight
    holds; step 2 (setWeight 50) 20 s later; then 3/3 (every step done) and promotion."""
    steps = canary.steps
    assert list(steps["index"]) == [0, 1, 2, 3]
    assert list(steps["step"]) == ["setWeight: 25", "pause: 20s", "setWeight: 50", "done"]
    assert steps["t"].iloc[0] == 10.0
    assert steps["t"].iloc[2] - steps["t"].iloc[1] == pytest.approx(20.0)
    assert frame_at(canary, 10.0).step == "0/3 setWeight: 25"
    mid_pause = (steps["t"].iloc[1] + steps["t"].iloc[2]) / 2
    frame = frame_at(canary, mid_pause)
    assert frame.step == "1/3 pause: 20s"
    assert frame.weight_asked == 25.0
    assert frame.status == "RolloutPaused: CanaryPauseStep 20s"
    assert frame_at(canary, 89.0).step == "3/3 done"


def test_events_count_what_happened_by_t(canary) -> None:
    for t in (0.0, 10.0, 30.5, 89.0):
        assert frame_at(canary, t).events == int((canary.events["t"] <= t).sum())


def test_frame_times_keep_at_most_max_frames_and_the_last_bucket(rolling) -> None:
    """90 buckets, at most 10 frames: every ceil(90 / 9) = 10th bucket (0, 10, ..., 80 s)
    and the last (89 s): 10 frames."""
    assert frame_times(rolling, 10) == [*range(0, 81, 10), 89.0]
    assert frame_times(rolling) == list(rolling.timeline["t"])
    unsorted = frames(rolling, [50.0, 5.0])
    assert [f.t for f in unsorted] == [50.0, 5.0]


def _share(result, t: float, version: str) -> float:
    """Percent of the completed user requests of the bucket holding ``t`` that ``version``
    served, from the timeline's own columns."""
    row = result.timeline.iloc[int(t // 1.0)]  # 1 s buckets
    return 100.0 * row[version_column("requests", version)] / (row["ok"] + row["errors"])


def test_the_new_version_is_the_rollout_in_progress_at_t(two_deploys) -> None:
    """v2 at 20 s, v3 at 120 s: "the new version" is the last deploy at or before t. At 30 s
    the canary holds setWeight 50 behind istio: about half of ~100 requests go to v2 (a
    binomial of sd 5: within 30-70 %), none to v3 (not deployed yet). Before 20 s there is
    no rollout: nothing is "served by the new version" (None, not 0 %)."""
    assert list(zip(two_deploys.deploys.t, two_deploys.deploys.version, strict=True)) == [
        (20.0, "v2"),
        (120.0, "v3"),
    ]
    for t in (0.0, 19.0):
        before = frame_at(two_deploys, t)
        assert before.version is None and before.weight_served is None
    at30 = frame_at(two_deploys, 30.0)
    assert at30.version == "v2"
    assert at30.weight_served == pytest.approx(_share(two_deploys, 30.0, "v2"))
    assert 30.0 <= at30.weight_served <= 70.0
    assert frame_at(two_deploys, 120.0).version == "v3"
    at150 = frame_at(two_deploys, 150.0)
    assert at150.version == "v3"
    assert at150.weight_served == pytest.approx(_share(two_deploys, 150.0, "v3"))
    # The timeline's column agrees, bucket by bucket, with the rollout of its start.
    served = two_deploys.timeline["weight_served"]
    assert served.iloc[30] == pytest.approx(at30.weight_served)
    assert served.iloc[150] == pytest.approx(at150.weight_served)


def test_expand_contract_serves_each_deploy_in_its_turn() -> None:
    """The bundled expand-contract deploys v2 at 1m, v3 at 4m, v4 at 7m30s (RollingUpdate,
    maxSurge 1, 4 replicas): at 75 s and 255 s a new pod of the deploy in progress already
    serves (started within 4 s, Ready after initialDelaySeconds 5, endpoints 2 s later: by
    about 72 s and 252 s), so its share is above 0 and equals its timeline columns."""
    result = simulate(load_scenario(SCENARIOS / "expand-contract.yaml"))
    assert list(result.deploys.version) == ["v2", "v3", "v4"]
    for t, version in ((75.0, "v2"), (255.0, "v3")):
        frame = frame_at(result, t)
        assert frame.version == version
        assert frame.weight_served == pytest.approx(_share(result, t, version))
        assert frame.weight_served > 0.0
        assert result.timeline["weight_served"].iloc[int(t)] == pytest.approx(frame.weight_served)


def test_the_step_is_the_current_rollouts_only(two_deploys) -> None:
    """The canary's steps end at "2/2 done"; the RollingUpdate of v3 that follows has no
    step: from 120 s on the frame shows none, not the canary's last one."""
    assert frame_at(two_deploys, 30.0).step == "1/2 pause: 20s"
    assert frame_at(two_deploys, 119.0).step == "2/2 done"
    for t in (120.0, 150.0, 179.0):
        assert frame_at(two_deploys, t).step is None, t


def test_an_hour_of_buckets_is_every_4th_bucket_and_the_last() -> None:
    """3,600 one-second buckets, at most 1,200 frames: k = ceil(3600 / 1199) = 4, so 0, 4,
    ..., 3596 s (900 frames) and the last bucket, 3599 s: 901 frames."""
    from types import SimpleNamespace

    hour = SimpleNamespace(timeline=pd.DataFrame({"t": [float(i) for i in range(3600)]}))
    times = frame_times(hour, 1200)  # type: ignore[arg-type]  # only .timeline is read
    assert len(times) == 901
    assert times[:3] == [0.0, 4.0, 8.0] and times[-2:] == [3596.0, 3599.0]
