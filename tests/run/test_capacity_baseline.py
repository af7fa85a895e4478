"""``extra_cost`` and ``rollback_time_s`` measure against the replicas the Deployment asks for
at each moment, so a ``scale`` action or the autoscaler moves the baseline with it."""

from __future__ import annotations

import pytest

from simdeploy import Scenario, simulate
from simdeploy.run.result import settled_at, step_integral, step_value
from tests.conftest import base_dict, scenario


def test_step_value_reads_the_step_function() -> None:
    log = [(0.0, 3), (10.0, 4), (20.0, 3)]
    assert [step_value(log, t) for t in (0.0, 9.9, 10.0, 19.9, 20.0, 99.0)] == [3, 3, 4, 4, 3, 3]
    assert step_value([(5.0, 2)], 1.0) == 2  # before the first change: the first value


@pytest.mark.parametrize(
    ("pods", "replicas", "settled"),
    [
        # 10 replicas; rollout ends at 100 s with 20 pods, blue's pods gone at 165 s → 165.
        pytest.param([(0.0, 10), (50.0, 20), (165.0, 10)], [(0.0, 10)], 165.0, id="blue-kept"),
        # Scaled to 20 at 90 s: the 20 pods at 100 s are what is asked for → 100.
        pytest.param(
            [(0.0, 10), (50.0, 20), (165.0, 10)], [(0.0, 10), (90.0, 20)], 100.0, id="scaled-up"
        ),
        # Scaled to 5 at 150 s: 10 pods are still one too many until the 5 go at 170 s.
        pytest.param(
            [(0.0, 10), (50.0, 20), (165.0, 10), (170.0, 5)],
            [(0.0, 10), (150.0, 5)],
            170.0,
            id="scaled-down",
        ),
        # Scaled to 20 at 120 s, no pod changes: what exists is what is asked for from then.
        pytest.param([(0.0, 10), (50.0, 20)], [(0.0, 10), (120.0, 20)], 120.0, id="asked-later"),
        # Never back within the run: the window is the whole run.
        pytest.param([(0.0, 10), (50.0, 20)], [(0.0, 10)], 600.0, id="never"),
    ],
)
def test_cost_window_ends_when_the_pods_are_back_to_what_is_asked(
    pods: list[tuple[float, int]], replicas: list[tuple[float, int]], settled: float
) -> None:
    assert settled_at(pods, 100.0, replicas, 600.0) == settled


def test_extra_cost_after_a_scale_action_is_the_rollouts_own() -> None:
    # Scaling 4 → 8 before the deploy, then rolling with maxSurge 1: the same surge as a
    # Deployment of 8 from the start. Against the old baseline of 4, the 8 pods alone would
    # read as +100%.
    scaled = simulate(
        scenario(
            plan=[
                {"at": "2s", "action": "scale", "replicas": 8},
                {"at": "10s", "action": "deploy", "version": "v2"},
            ]
        )
    )
    eight = simulate(scenario(service={"replicas": 8}))
    assert scaled.record["outcome"] == eight.record["outcome"] == "completed"
    assert 0 < scaled.record["extra_cost"] < 0.25
    assert scaled.record["extra_cost"] == pytest.approx(eight.record["extra_cost"], abs=0.03)


def test_rollback_is_done_when_the_scaled_up_count_serves() -> None:
    # Recreate, rollback at 30 s, scaled 4 → 8 at 30.5 s while v2 terminates: the undo
    # creates 8 v1 pods (startup 1-9 s apart). Users are back at full capacity when the 8th
    # is Ready and listed (+1 s propagation), not the 4th.
    d = base_dict(
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "30s", "action": "rollback"},
            {"at": "30.5s", "action": "scale", "replicas": 8},
        ],
        simulation={"duration": "2m"},
    )
    d["service"]["strategy"] = {"type": "Recreate"}
    d["service"]["pod"]["startupDelay"] = {"dist": "uniform", "low": "1s", "high": "9s"}
    r = simulate(Scenario.parse(d))
    ev = r.events
    ready = sorted(ev[(ev.reason == "Ready") & (ev.version == "v1") & (ev.t > 30)].t)
    assert len(ready) == 8
    assert ready[3] < ready[7]  # the 4th and the 8th are apart: the test can tell them apart
    assert 30 + r.record["rollback_time_s"] == pytest.approx(ready[7] + 1.0)


def test_step_integral_of_the_replicas_is_the_baseline() -> None:
    # 10 replicas, 20 from 50 s: over [0, 100] the Deployment asked for 10·50 + 20·50 pod-s.
    assert step_integral([(0.0, 10), (50.0, 20)], 0.0, 100.0) == 1500.0
