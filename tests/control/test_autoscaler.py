"""The HorizontalPodAutoscaler on the simulated "CPU" (busy workers / workers), end to end.

Pods of 2 workers serving exponential 40 ms requests: at λ req/s spread over n pods the
expected utilisation is λ × 0.04 / (2n). 40 req/s on 4 pods → 20%; 150 req/s → 75%.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from simdeploy import load_scenario, simulate
from simdeploy.run.simulation import build
from simdeploy.spec.service import Strategy
from tests.conftest import SCENARIOS, scenario

HPA = {"minReplicas": 2, "maxReplicas": 12, "targetCPUUtilizationPercentage": 50}
LIGHT = {"serviceTime": {"dist": "exponential", "mean": "40ms"}, "warmup": "2s"}


def hpa_scenario(rate: Any, plan: list[dict[str, Any]], duration: str, **hpa: Any) -> Any:
    traffic: dict[str, Any] = {"rate": rate} if not isinstance(rate, dict) else {"rate": None}
    if isinstance(rate, dict):
        traffic["profile"] = rate
    return scenario(
        service={"pod": {"concurrency": 2}, "autoscaler": {**HPA, **hpa}},
        traffic=traffic,
        versions={"v1": LIGHT, "v2": {**LIGHT, "warmup": "20s"}},
        plan=plan,
        simulation={"duration": duration},
    )


def rescales(events: pd.DataFrame) -> list[tuple[float, int]]:
    rows = events[events.reason == "SuccessfulRescale"]
    pairs = zip(rows.t, rows.message, strict=True)
    return [(t, int(m.split("New size: ")[1].split(";")[0])) for t, m in pairs]


def test_utilization_is_busy_workers_over_workers_averaged_over_the_sync_period() -> None:
    """40 req/s × 40 ms = 1.6 busy workers of 8 → about 20% at every sync."""
    cp = build(hpa_scenario(40, [], "2m"), seed=1)
    cp.world.data_plane.start()
    cp.world.env.run(until=120.5)
    assert cp.autoscaler is not None
    seen = [h.utilization for h in cp.autoscaler.history]
    assert len(seen) == 8  # a sync every 15 s
    assert all(u is not None and 12 <= u <= 28 for u in seen), seen


def test_scale_down_waits_for_the_stabilization_window() -> None:
    """At about 10% (ratio 0.2) the HPA asks for minReplicas 2 from the first sync, but it
    recorded the 4 it found then: the scale-down comes at the first sync more than 5 minutes
    after that one (15 s + 300 s → 330 s)."""
    r = simulate(hpa_scenario(20, [], "6m"))
    assert rescales(r.events) == [(330.0, 2)]
    assert r.status.iloc[-1].available == 2


def test_a_shorter_window_scales_down_sooner() -> None:
    r = simulate(hpa_scenario(20, [], "2m", downscaleStabilization="30s"))
    assert rescales(r.events)[0] == (60.0, 2)


def test_scale_up_during_a_rollout_is_proportional_and_damped_by_unready_pods() -> None:
    """Traffic 40 → 150 req/s as a rolling update starts (4 replicas, 25% → surge 1,
    unavailable 1). The old pods are busy (ratio > 1.1) and the two new ones not ready: on a
    scale-up they count as idle, so the HPA asks for 6, not 8; the controller shares the two
    extra replicas in proportion (old 3 → 5, new 2 → 3) and the rollout completes at 6."""
    sc = load_scenario(SCENARIOS / "autoscaler-during-rollout.yaml")
    r = simulate(sc)
    assert rescales(r.events)[0] == (75.0, 6)
    at = r.events[(r.events.reason == "ScalingReplicaSet") & (r.events.t == 75.0)]
    assert sorted(at.message.str.split(" [(]").str[0]) == [
        "scaled up from 2 to 3",
        "scaled up from 3 to 5",
    ]
    assert r.record["outcome"] == "completed"
    assert r.status.iloc[-1].updated >= 6


def test_max_replicas_caps_the_scale_up() -> None:
    r = simulate(hpa_scenario(150, [], "1m", maxReplicas=5))
    assert [n for _, n in rescales(r.events)] == [5]


@pytest.mark.parametrize(
    ("replicas", "expected"), [pytest.param(20, 12, id="above-max"), pytest.param(1, 2, id="below")]
)
def test_replicas_outside_min_max_are_clamped_at_the_first_sync(
    replicas: int, expected: int
) -> None:
    sc = hpa_scenario(40, [], "20s")
    sc = sc.model_copy(update={"service": sc.service.model_copy(update={"replicas": replicas})})
    r = simulate(sc)
    assert rescales(r.events) == [(15.0, expected)]


def test_no_ready_pod_is_an_event_not_a_rescale() -> None:
    """Recreate takes every old pod away; while the new ones warm up (20 s) no pod can be
    counted: FailedComputeMetricsReplicas, recorded once, and the count stays."""
    sc = hpa_scenario(40, [{"at": "10s", "action": "deploy", "version": "v2"}], "50s")
    sc = sc.with_strategy(Strategy(type="Recreate"))
    r = simulate(sc)
    failed = r.events[r.events.reason == "FailedComputeMetricsReplicas"]
    assert list(failed.t) == [15.0]
    assert failed.message.iloc[0] == (
        "did not receive metrics for targeted pods (pods might be unready)"
    )
    assert rescales(r.events) == []


def test_scaled_to_zero_disables_autoscaling() -> None:
    """A target at 0 replicas is left alone (and no metric is read)."""
    sc = hpa_scenario(40, [{"at": "1s", "action": "scale", "replicas": 0}], "40s")
    r = simulate(sc)
    assert rescales(r.events) == []
    assert "FailedComputeMetricsReplicas" not in set(r.events.reason)
