"""The replay (run/replay.py): pods and replica sets at any t from the recorded state changes,
traffic from the timeline bucket, the canary's current step and the rollout's status."""

from __future__ import annotations

import itertools

import pytest

from simdeploy import simulate
from simdeploy.run.replay import frame_at, frame_times, frames
from simdeploy.run.result import version_column
from simdeploy.world.recorder import NOT_READY, PENDING, READY, TERMINATING
from tests.conftest import scenario

CANARY = {
    "type": "Canary",
    "canary": {
        "trafficRouting": {"istio": {}},
        "steps": [{"setWeight": 25}, {"pause": {"duration": "20s"}}, {"setWeight": 50}],
    },
}


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
