"""The Argo blue/green rollout process (control/strategies/blue_green.py), event by event.

Small scenarios (tests/conftest.py: 4 replicas, v2 deployed at 10 s, green ready at about
14.4 s); the analysis templates count the requests of a role over 5 s, so which version each
role names shows in the measurement's event.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy.run.result import Result
from tests.control.test_argo_upstream_semantics import events, run
from tests.control.test_progressive import rows

DELAY = 1.0  # base_dict's endpointPropagationDelay
ROLES = ("stable", "active", "preview", "canary")


def requests_of(role: str, **metric: Any) -> dict[str, Any]:
    """A metric named ``role``: at least one request of ``role`` over 5 s, 5 s in."""
    return {
        "name": role,
        "provider": {"simdeploy": {"metric": "request_count", "of": role, "window": "5s"}},
        "initialDelay": "5s",
        "successCondition": "result >= 1",
        **metric,
    }


def blue_green(pre: str | None = None, post: str | None = None, **spec: Any) -> dict[str, Any]:
    for key, name in (("prePromotionAnalysis", pre), ("postPromotionAnalysis", post)):
        if name is not None:
            spec[key] = {"templates": [{"templateName": name}]}
    return {"blueGreen": spec}


def test_a_blue_green_deploy_is_logged_when_it_starts() -> None:
    r = run(blue_green(), simulation={"duration": "30s"})
    assert rows(r, "DeploymentStarted") == [
        [10.0, "DeploymentStarted", "rollout", "v2", "BlueGreen"]
    ]


def test_each_role_names_its_version_before_the_switch() -> None:
    # Before the switch stable and active are blue (v1, user traffic), preview and canary
    # green (v2, only the preview's smoke tests): every metric sees requests and passes.
    templates = {"roles": {"metrics": [requests_of(role) for role in ROLES]}}
    r = run(
        blue_green(pre="roles", previewTraffic=5),
        analysisTemplates=templates,
        simulation={"duration": "30s"},
    )
    measured = r.events[r.events.reason == "AnalysisMeasurement"]
    assert dict(zip(measured.object, measured.version, strict=True)) == {
        "pre-promotion/stable": "v1",
        "pre-promotion/active": "v1",
        "pre-promotion/preview": "v2",
        "pre-promotion/canary": "v2",
    }
    assert measured.message.str.endswith("→ Successful").all()
    (t_run,) = events(r, "AnalysisRunSuccessful").t
    assert rows(r, "AnalysisRunSuccessful") == [
        [t_run, "AnalysisRunSuccessful", "pre-promotion", "v2", ""]
    ]
    assert r.record["outcome"] == "completed"


def test_an_inconclusive_pre_promotion_analysis_pauses_until_promote() -> None:
    # Neither condition holds: Inconclusive. Argo pauses (InconclusiveAnalysis) and a
    # promote resumes; the switch then follows at once (green is ready).
    neither = requests_of("active", successCondition="result < 0", failureCondition="result < 0")
    r = run(
        blue_green(pre="neither"),
        {"at": "40s", "action": "promote"},
        analysisTemplates={"neither": {"metrics": [neither]}},
        simulation={"duration": "60s"},
    )
    (t_run,) = events(r, "AnalysisRunInconclusive").t
    assert rows(r, "RolloutPaused") == [
        [t_run, "RolloutPaused", "rollout", "v2", "InconclusiveAnalysis"]
    ]
    assert events(r, "ActiveServiceSwitched").t.tolist() == [40.0]
    assert r.record["outcome"] == "completed"


def test_a_failed_pre_promotion_analysis_requests_the_rollback_with_its_message() -> None:
    failing = requests_of("active", successCondition="result < 0")
    r = run(
        blue_green(pre="failing"),
        analysisTemplates={"failing": {"metrics": [failing]}},
        simulation={"duration": "40s"},
    )
    (t_run,) = events(r, "AnalysisRunFailed").t
    message = 'Metric "active" assessed Failed due to failed (1) > failureLimit (0)'
    assert rows(r, "RollbackRequested") == [
        [t_run, "RollbackRequested", "deployment", "v2", f"AnalysisFailed: {message}"]
    ]
    assert r.record["outcome"] == "rolled_back"


def test_the_smoke_tests_stop_at_the_switch() -> None:
    # previewTraffic sends synthetic requests to green during the 10 s pause, until the
    # active selector switches; the post-promotion analysis keeps the rollout running 15 s
    # longer without them.
    templates = {"wait": {"metrics": [requests_of("active", initialDelay="15s")]}}
    r = run(
        blue_green(post="wait", previewTraffic=20, autoPromotionSeconds=10),
        analysisTemplates=templates,
        simulation={"duration": "50s"},
    )
    (switched,) = events(r, "ActiveServiceSwitched").t
    (completed,) = events(r, "RolloutCompleted").t
    assert completed > switched + 15
    assert rows(r, "ScalingReplicaSet")[0] == [
        10.0,
        "ScalingReplicaSet",
        "app-v2",
        "v2",
        "scaled up from 0 to 4 (preview)",
    ]
    (paused,) = rows(r, "RolloutPaused")
    assert paused == [
        pytest.approx(switched - 10),
        "RolloutPaused",
        "rollout",
        "v2",
        "autoPromotionSeconds 10",
    ]
    tl = r.timeline
    assert tl[tl.t < switched - 1].synthetic.sum() > 0
    assert tl[tl.t >= switched + 1].synthetic.sum() == 0


def test_the_switch_waits_for_green_to_be_available_for_min_ready_seconds() -> None:
    r = run(blue_green(), service={"minReadySeconds": 5}, simulation={"duration": "40s"})
    last_ready = events(r, "Ready").query("version == 'v2'").t.max()
    (switched,) = events(r, "ActiveServiceSwitched").t
    assert switched == pytest.approx(last_ready + 5)


def test_users_answered_by_blue_after_green_count_as_flipped() -> None:
    # Blue answers slowly (0.5 s on average): after the switch some users get green's answer
    # before blue's last one, and the rollout (still running its post-promotion analysis)
    # counts them as having gone back and forth.
    templates = {"wait": {"metrics": [requests_of("active", initialDelay="10s")]}}
    r = run(
        blue_green(post="wait"),
        analysisTemplates=templates,
        traffic={"rate": 20, "users": 10},
        versions={"v1": {"serviceTime": {"dist": "exponential", "mean": "0.5s"}}},
        simulation={"duration": "40s"},
    )
    assert r.record["outcome"] == "completed"
    assert r.record["users_flipped"] > 0


def test_one_smoke_test_a_second_is_sent() -> None:
    r = run(blue_green(previewTraffic=1, autoPromotionSeconds=20), simulation={"duration": "40s"})
    assert r.timeline.synthetic.sum() > 5


def test_the_smoke_tests_are_spread_over_the_previews_pods() -> None:
    # 600 smoke tests a second: one pod (8 workers, 20 ms each: 400 a second) would fall
    # behind; the four preview pods answer them as they come (about 600 × 9 s measured).
    answered = {
        "name": "answered",
        "provider": {"simdeploy": {"metric": "request_count", "of": "preview", "window": "10s"}},
        "initialDelay": "15s",
        "successCondition": "result >= 5000",
    }
    r = run(
        blue_green(pre="smoke", previewTraffic=600),
        analysisTemplates={"smoke": {"metrics": [answered]}},
        simulation={"duration": "40s"},
    )
    assert events(r, "AnalysisMeasurement").message.str.endswith("→ Successful").all()
    assert r.record["outcome"] == "completed"


def test_a_manual_pause_is_logged_and_ends_on_promote() -> None:
    r = run(
        blue_green(autoPromotionEnabled=False),
        {"at": "30s", "action": "promote"},
        simulation={"duration": "40s"},
    )
    last_ready = events(r, "Ready").query("version == 'v2'").t.max()
    assert rows(r, "RolloutPaused") == [
        [last_ready, "RolloutPaused", "rollout", "v2", "BlueGreenPause"]
    ]
    assert rows(r, "ActiveServiceSwitched") == [
        [30.0, "ActiveServiceSwitched", "rollout", "v2", "active selector → app-v2"]
    ]


def test_the_preview_is_scaled_to_full_after_the_pause() -> None:
    # previewReplicaCount 1: one pod until the pause (5 s after it is ready) ends, then
    # green is scaled to the full 4 before the switch.
    r = run(
        blue_green(previewReplicaCount=1, autoPromotionSeconds=5), simulation={"duration": "40s"}
    )
    (paused,) = events(r, "RolloutPaused").t
    scaled = [row[4] for row in rows(r, "ScalingReplicaSet") if row[2] == "app-v2"]
    assert scaled == [
        "scaled up from 0 to 1 (preview)",
        "scaled up from 1 to 4 (scale preview to full before the switch)",
    ]
    full = r.events[r.events.message.str.contains("to full")]
    assert full.t.tolist() == [pytest.approx(paused + 5)]


def test_the_scale_up_waits_for_the_preview_pods_to_be_available_after_the_pause() -> None:
    # calculateScaleUpPreviewCheckPoint passes only with exactly previewReplicaCount pods
    # available once the pause is over. Green's pods turn unready 5 s after they start, before
    # the 10 s pause ends: the checkpoint never passes and green stays at its 2 preview pods.
    r = run(
        blue_green(previewReplicaCount=2, autoPromotionSeconds=10),
        versions={"v2": {"unhealthyAfter": "5s"}},
        simulation={"duration": "40s"},
    )
    assert len(events(r, "RolloutPaused")) == 1
    assert specs_of_green(r) == [2]
    assert "ActiveServiceSwitched" not in set(r.events.reason)


def specs_of_green(r: Result) -> list[int]:
    return [int(n) for n in r.scaling[r.scaling.replica_set == "app-v2"].spec]


FAILING = {"failing": {"metrics": [requests_of("active", successCondition="result < 0")]}}


def test_an_abort_before_the_switch_scales_the_preview_down_after_its_delay() -> None:
    # Pre-promotion analysis fails at t: users never left blue; the preview goes after
    # abortScaleDownDelaySeconds (30 s by default).
    r = run(blue_green(pre="failing"), analysisTemplates=FAILING, simulation={"duration": "60s"})
    (t,) = events(r, "AnalysisRunFailed").t
    assert rows(r, "RolloutAborted", "RollbackCompleted", "PreviewKept") == [
        [t, "RolloutAborted", "rollout", "v2", "aborted before promotion (AnalysisFailed)"],
        [t, "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]
    assert rows(r, "ScalingReplicaSet")[-1] == [
        pytest.approx(t + 30),
        "ScalingReplicaSet",
        "app-v2",
        "v2",
        "scaled down from 4 to 0 (abortScaleDownDelaySeconds passed)",
    ]


def test_a_failed_post_promotion_analysis_switches_back_while_blue_is_up() -> None:
    # Switched at s, analysed 1 s (propagation) + 5 s later, failed at t: the selector goes
    # back to blue (routed 1 s later, when the rollback is complete); green, aborted, goes
    # abortScaleDownDelaySeconds (10 s) after that, not scaleDownDelaySeconds (60).
    r = run(
        blue_green(post="failing", scaleDownDelaySeconds=60, abortScaleDownDelaySeconds=10),
        analysisTemplates=FAILING,
        simulation={"duration": "70s"},
    )
    (s,) = events(r, "ActiveServiceSwitched").t
    (t,) = events(r, "AnalysisRunFailed").t
    assert t == pytest.approx(s + DELAY + 5)
    assert events(r, "AnalysisRunFailed").object.tolist() == ["post-promotion"]
    assert rows(r, "RolloutUndo", "RollbackCompleted") == [
        [t, "RolloutUndo", "rollout", "v1", "switch the active selector back: blue is still up"],
        [pytest.approx(t + DELAY), "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]
    assert rows(r, "RoutingChanged")[-1][3:] == ["", "service: app-v1"]
    assert rows(r, "ScalingReplicaSet")[-1] == [
        pytest.approx(t + DELAY + 10),
        "ScalingReplicaSet",
        "app-v2",
        "v2",
        "scaled down from 4 to 0 (rolled back)",
    ]
    assert r.record["rollback_time_s"] == pytest.approx(DELAY)


def test_an_undo_after_blue_was_scaled_down_redeploys_blue_first() -> None:
    # Completed at c (the switch + 1 s); blue goes scaleDownDelaySeconds (10 s) later. The
    # undo at 40 s redeploys blue, switches back once its 4 pods are available (+1 s to
    # propagate), and green, now the old side, goes 10 s after that.
    r = run(
        blue_green(scaleDownDelaySeconds=10),
        {"at": "40s", "action": "rollback"},
        simulation={"duration": "90s"},
    )
    (c,) = events(r, "RolloutCompleted").t
    blue_ready = events(r, "Ready").query("version == 'v1' and t > 40").t.max()
    back = blue_ready + DELAY
    assert rows(r, "ScalingReplicaSet")[1:] == [
        [pytest.approx(c + 10), "ScalingReplicaSet", "app-v1", "v1",
         "scaled down from 4 to 0 (scaleDownDelaySeconds passed)"],
        [40.0, "ScalingReplicaSet", "app-v1", "v1", "scaled up from 0 to 4 (redeploy blue)"],
        [pytest.approx(back + 10), "ScalingReplicaSet", "app-v2", "v2",
         "scaled down from 4 to 0 (rolled back)"],
    ]  # fmt: skip
    assert rows(r, "RolloutUndo") == [
        [40.0, "RolloutUndo", "rollout", "v1",
         "blue was scaled down: full redeploy before switching back"]
    ]  # fmt: skip
    assert rows(r, "RollbackCompleted")[0][0] == pytest.approx(back)
    assert r.record["rollback_time_s"] == pytest.approx(back - 40)


def test_the_next_blue_green_deploy_takes_the_promoted_version_as_blue() -> None:
    # v2 completes at about 15.4 s and is the Deployment's template: v3 deployed at 30 s
    # replaces app-v2 (the new blue, already routed: no routing change), which goes
    # scaleDownDelaySeconds (30 s) after v3's switch.
    r = run(
        blue_green(),
        {"at": "30s", "action": "deploy", "version": "v3", "strategy": blue_green()},
        versions={"v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}}},
        simulation={"duration": "80s"},
    )
    routed = [row[4] for row in rows(r, "RoutingChanged")]
    assert routed == ["service: app-v1", "service: app-v2", "service: app-v3"]
    (_, v3_done) = events(r, "RolloutCompleted").t
    down = [row for row in rows(r, "ScalingReplicaSet") if row[2] == "app-v2"][-1]
    assert down[0] == pytest.approx(v3_done + 30)
    assert down[4] == "scaled down from 4 to 0 (scaleDownDelaySeconds passed)"


def test_an_abort_with_abort_scale_down_delay_0_keeps_the_preview_up() -> None:
    r = run(
        blue_green(pre="failing", abortScaleDownDelaySeconds=0),
        analysisTemplates=FAILING,
        simulation={"duration": "60s"},
    )
    (t,) = events(r, "AnalysisRunFailed").t
    assert rows(r, "PreviewKept") == [
        [t, "PreviewKept", "rollout", "v2", "abortScaleDownDelaySeconds: 0, the preview stays up"]
    ]
    assert specs_of_green(r) == [4]


def test_redeploying_the_replaced_version_cancels_its_pending_scale_down() -> None:
    # v2 completes at about 15.4 s; blue (app-v1) is due to go 30 s later. v1 is deployed
    # again at 20 s: app-v1 is the new green, switched to at once (still up), and Argo removes
    # its scale-down-deadline: it stays up, and app-v2 (now the old side) goes 30 s after.
    r = run(
        blue_green(),
        {"at": "20s", "action": "deploy", "version": "v1", "strategy": blue_green()},
        simulation={"duration": "80s"},
    )
    (_, back) = events(r, "RolloutCompleted").t
    downs = [row for row in rows(r, "ScalingReplicaSet") if row[4].startswith("scaled down")]
    assert [(row[0], row[2]) for row in downs] == [(pytest.approx(back + 30), "app-v2")]
    assert r.record["errors"] == 0
    assert r.timeline["pods[v1]"].iloc[-1] == 4


def test_an_undo_with_one_replica_switches_back_while_blue_is_up() -> None:
    r = run(
        blue_green(),
        {"at": "30s", "action": "rollback"},
        service={"replicas": 1},
        simulation={"duration": "40s"},
    )
    assert [row[4] for row in rows(r, "RolloutUndo")] == [
        "switch the active selector back: blue is still up"
    ]


def test_after_an_undo_the_next_deploy_replaces_the_old_version_again() -> None:
    # The post-promotion analysis fails and users go back to app-v1; v3 deployed at 40 s
    # takes app-v1 as its blue (the Deployment's template again).
    r = run(
        blue_green(post="failing"),
        {"at": "40s", "action": "deploy", "version": "v3", "strategy": blue_green()},
        analysisTemplates=FAILING,
        versions={"v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}}},
        simulation={"duration": "60s"},
    )
    routed = [row[4] for row in rows(r, "RoutingChanged")]
    assert routed == ["service: app-v1", "service: app-v2", "service: app-v1", "service: app-v3"]
