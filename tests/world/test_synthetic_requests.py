"""Synthetic requests (blue/green smoke tests against the preview Service,
``DataPlane.inject``): they are nobody's, so user-scoped behaviour (flags) never applies,
and they are counted apart from user traffic (``Recorder.count_synthetic``).
"""

from __future__ import annotations

from simdeploy import Scenario, simulate
from simdeploy.world import recorder as rec
from tests.conftest import base_dict

SMOKE = {
    "metrics": [
        {
            "name": "preview-success-rate",
            "provider": {
                "simdeploy": {
                    "metric": "success_rate",
                    "of": "preview",
                    "window": "10s",
                    "minRequests": 20,
                }
            },
            "initialDelay": "10s",
            "successCondition": "result >= 0.99",
        }
    ]
}


def test_preview_smoke_tests_never_run_a_flagged_feature_users_then_meet() -> None:
    # v2's flagged code path fails every request, on for 100 % of users. Smoke tests at
    # 5 req/s against the preview pass: they are no user, so the flag is off for them.
    blue_green = {
        "blueGreen": {
            "previewTraffic": 5,
            "prePromotionAnalysis": {"templates": [{"templateName": "smoke"}]},
        }
    }
    sc = Scenario.parse(
        base_dict(
            service={"replicas": 2},
            traffic={"rate": 20, "users": 200, "timeout": "5s"},
            flags={"f": {"rollout": 100, "versions": ["v2"], "feature": {"errorRate": 1.0}}},
            analysisTemplates={"smoke": SMOKE},
            plan=[{"at": "10s", "action": "deploy", "version": "v2", "strategy": blue_green}],
            simulation={"duration": "40s", "seed": 3},
        )
    )
    r = simulate(sc)
    ev = r.events.set_index("reason")
    started, measured = ev.loc["AnalysisRunStarted", "t"], ev.loc["AnalysisMeasurement", "t"]
    assert measured == started + 10.0  # initialDelay
    assert ev.loc["AnalysisMeasurement", "message"] == "success_rate=1 → Successful"
    switched = ev.loc["ActiveServiceSwitched", "t"]
    assert switched == measured
    # The smoke tests: about 5 req/s over the 10 s before the switch (Poisson: ± 15).
    tl = r.timeline
    assert 30 <= tl["synthetic"].sum() <= 75
    assert (
        tl["requests"][tl.t < switched - 1].sum() == tl["requests[v1]"][tl.t < switched - 1].sum()
    )
    # Users meet the feature once switched to v2: every one of their v2 requests fails.
    assert r.record["errors"] == r.record["flagged_errors"] == tl["errors[v2]"].sum() > 0
    assert tl["errors[v2]"].sum() == tl["requests[v2]"].sum() - r.record["in_flight"]


def test_synthetic_outcomes_are_counted_per_bucket_and_version_apart_from_users() -> None:
    r = rec.Recorder(("v1", "v2"), 10.0, 1.0, users=5)
    n = r.n_cols  # v1, v2, "no pod"
    for outcome in (rec.I_OK, rec.I_OK, rec.I_APP_ERROR):
        r.count_synthetic(3, 1, outcome)  # two ok, one error at v2 in bucket 3
    r.count_synthetic(4, 0, rec.I_OK)
    assert list(r.synthetic) == [0, 0, 0, 3, 1, 0, 0, 0, 0, 0]
    ok, errors = r.mirror_counts
    assert (ok[3 * n + 1], errors[3 * n + 1]) == (2, 1)
    assert (ok[4 * n + 0], errors[4 * n + 0]) == (1, 0)
    assert sum(ok) + sum(errors) == 4
    # Neither user requests nor shadow copies.
    assert not any(any(c) for c in r.counts) and not any(r.arrivals) and not any(r.mirrored)
    assert r.users_with_error == set()
