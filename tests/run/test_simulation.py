"""What the model must show: downtime, the termination race, warm-up errors, rollback.

Each test runs a small scenario (tests/conftest.py) and asserts on the summary, the
event log or the deployment status: behaviour that would change if the model broke.
"""

from __future__ import annotations

import pytest

from simdeploy import simulate
from tests.conftest import scenario


def causes(result) -> dict[str, int]:
    return {c: n for c, n in result.record["errors_by_cause"].items() if n}


def test_recreate_downtime_is_termination_plus_startup_plus_readiness() -> None:
    # preStop 3 s (pods stop at 13 s, endpoints leave at 11 s), then scheduling 0.5 s,
    # start-up 1-2 s, first probe tick 2 s after start: ready about 4-5 s after 13 s,
    # and the endpoint shows up 1 s later. Downtime ≈ 11 s → 18-19.5 s.
    r = simulate(scenario(service={"strategy": {"type": "Recreate", "rollingUpdate": None}}))
    assert 6.5 <= r.record["downtime_s"] <= 8.5
    assert causes(r).keys() == {"no_endpoint"}
    assert r.record["outcome"] == "completed"
    assert r.record["extra_cost"] <= 0.0
    # No v2 pod is created before the last v1 pod is gone.
    ev = r.events
    last_v1_gone = ev[(ev.reason == "Deleted") & (ev.version == "v1")].t.max()
    first_v2 = ev[(ev.reason == "SuccessfulCreate") & (ev.version == "v2")].t.min()
    assert first_v2 >= last_v1_gone


def test_zero_downtime_rolling_has_no_errors() -> None:
    r = simulate(scenario())
    assert r.record["downtime_s"] == 0.0
    assert r.record["errors"] == 0
    assert r.record["outcome"] == "completed"
    assert r.record["peak_pods"] >= 5  # surge pod + terminating pods


def test_removing_prestop_brings_connection_refused_back() -> None:
    r = simulate(scenario(service={"pod": {"lifecycle": None}}))
    assert causes(r).get("connection_refused", 0) > 0
    assert r.record["downtime_s"] == 0.0


def test_prestop_shorter_than_propagation_still_races() -> None:
    r = simulate(
        scenario(
            service={
                "pod": {"lifecycle": {"preStop": {"sleep": {"seconds": 0.5}}}},
                "balancer": {"endpointPropagationDelay": "2s"},
            }
        )
    )
    assert causes(r).get("connection_refused", 0) > 0


def test_no_readiness_probe_sends_traffic_before_warmup() -> None:
    r = simulate(
        scenario(service={"pod": {"readinessProbe": None}}, versions={"v2": {"warmup": "8s"}})
    )
    assert causes(r).get("app_error", 0) > 0
    # With the probe the same warm-up costs nothing.
    ok = simulate(scenario(versions={"v2": {"warmup": "8s"}}))
    assert ok.record["errors"] == 0


def test_zero_grace_period_still_gets_the_kubelets_two_seconds() -> None:
    # Grace 0 skips preStop (SIGTERM at once) but the kubelet floors SIGTERM → SIGKILL
    # at 2 s: 1 s requests drain, 5 s requests are killed.
    over = {
        "service": {"pod": {"terminationGracePeriodSeconds": 0, "concurrency": 20}},
        "traffic": {"rate": 20},
    }
    short = simulate(scenario(**over, versions={"v1": {"serviceTime": "1s"}}))
    assert causes(short).get("killed_in_flight", 0) == 0
    long = simulate(scenario(**over, versions={"v1": {"serviceTime": "5s"}}))
    assert causes(long).get("killed_in_flight", 0) > 0
    ev = long.events
    kills = ev[ev.reason == "SIGKILL"]
    terms = ev[ev.reason == "SIGTERM"].set_index("object").t
    assert len(kills) > 0
    for kill in kills.itertuples():
        assert kill.t - terms[kill.object] == pytest.approx(2.0)


def test_long_requests_are_killed_at_the_grace_period() -> None:
    # 40 s requests cannot drain within a 10 s grace period.
    r = simulate(
        scenario(
            service={"pod": {"terminationGracePeriodSeconds": 10, "concurrency": 50}},
            versions={"v1": {"serviceTime": {"dist": "constant", "value": "40s"}}},
            traffic={"rate": 5, "timeout": "60s"},
        )
    )
    kills = r.events[r.events.reason == "SIGKILL"]
    assert len(kills) > 0
    deleted = r.events[(r.events.reason == "Killing") & (r.events.version == "v1")]
    assert kills.t.min() == pytest.approx(deleted.t.min() + 10, abs=1e-6)


def test_client_timeout_when_pods_are_saturated() -> None:
    r = simulate(
        scenario(
            service={"pod": {"concurrency": 1}},
            versions={"v1": {"serviceTime": {"dist": "constant", "value": "100ms"}}},
            traffic={"rate": 200, "timeout": "1s"},
            plan=[],
        )
    )
    assert causes(r).get("timeout", 0) > 0


def test_rolling_follows_the_documented_scale_sequence() -> None:
    # Kubernetes docs, 3 replicas, maxSurge 1, maxUnavailable 0:
    # new→1, old→2, new→2, old→1, new→3, old→0.
    r = simulate(scenario(service={"replicas": 3}))
    scale = r.events[r.events.reason == "ScalingReplicaSet"]
    steps = [
        (row.version, row.message.split(" to ")[1].split(" ")[0]) for row in scale.itertuples()
    ]
    assert steps == [("v2", "1"), ("v1", "2"), ("v2", "2"), ("v1", "1"), ("v2", "3"), ("v1", "0")]


def test_crash_looping_release_does_not_drain_old_pods_and_gets_stuck() -> None:
    # 10 replicas at 25%/25%: maxSurge rounds up (2.5 → 3), maxUnavailable down (2.5 → 2).
    # The new RS is created at 10 + 3 - 10 = 3; the old one may lose 13 - 8 - 3 (new pods
    # unavailable) = 2 → 8; the new RS grows to 13 - 8 = 5. Its pods never become available
    # (13 - 8 - 5 = 0), so exactly two old pods go: rounding unavailable up would give 3, 7, 6
    # and rounding surge down 2, 8, 4 (upstream rolling.go's own example).
    r = simulate(
        scenario(
            versions={"v2": {"crashOnStart": True}},
            service={
                "replicas": 10,
                "progressDeadlineSeconds": 30,
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            },
            traffic={"rate": 50},
        )
    )
    assert r.record["outcome"] == "stuck"
    assert r.record["downtime_s"] == 0.0
    assert "ProgressDeadlineExceeded" in set(r.events.reason)
    assert "BackOff" in set(r.events.reason)
    scale = r.events[r.events.reason == "ScalingReplicaSet"]
    steps = [(e.version, e.message.split(" to ")[1].split(" ")[0]) for e in scale.itertuples()]
    assert steps == [("v2", "3"), ("v1", "8"), ("v2", "5")]
    assert r.status.available.min() == 8
    assert r.status.spec_total.max() == 13


def test_progress_deadline_can_trigger_rollback() -> None:
    r = simulate(
        scenario(
            versions={"v2": {"crashOnStart": True}},
            service={"progressDeadlineSeconds": 20},
            rollback={"onProgressDeadline": True},
        )
    )
    assert r.record["outcome"] == "rolled_back"
    assert r.record["rollback_time_s"] is not None


def test_bad_release_is_undone_after_slo_alert() -> None:
    r = simulate(
        scenario(
            versions={"v2": {"bug": {"errorRate": 0.3}}},
            rollback={"sloAlert": {"errorRate": 0.05, "window": "10s", "reactionDelay": "5s"}},
            simulation={"duration": "3m"},
        )
    )
    rec = r.record
    assert rec["outcome"] == "rolled_back"
    assert rec["time_to_detect_s"] is not None and rec["time_to_detect_s"] > 0
    # Undo is a new rolling update: the reaction delay plus a rollout, not instant.
    assert rec["rollback_time_s"] > 5
    reasons = list(r.events.reason)
    assert reasons.index("RollbackRequested") < reasons.index("RolloutUndo")
    # A rollback always ends on the stable version.
    assert r.status.template.iloc[-1] == "v1"
    assert r.timeline["requests[v2]"].iloc[-10:].sum() == 0


def test_manual_rollback_after_completion_rolls_back() -> None:
    r = simulate(
        scenario(
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {"at": "50s", "action": "rollback"},
            ]
        )
    )
    assert r.record["outcome"] == "rolled_back"
    undo = r.events[r.events.reason == "RolloutUndo"]
    assert undo.t.iloc[0] == pytest.approx(50.0)
    assert r.record["rollback_time_s"] > 0


def test_bug_for_a_share_of_users_affects_only_them() -> None:
    r = simulate(
        scenario(
            versions={"v2": {"bug": {"errorRate": 1.0, "userShare": 0.1}}},
            traffic={"users": 2000},
            simulation={"duration": "2m"},
        )
    )
    assert 0 < r.record["users_affected"] <= 0.15 * 2000


def test_bug_after_delay_starts_late() -> None:
    r = simulate(
        scenario(
            versions={"v2": {"bug": {"errorRate": 0.5, "after": "60s"}}},
            simulation={"duration": "2m"},
        )
    )
    tl = r.timeline
    first_error = tl[tl.errors_app_error > 0].t.min()
    first_v2 = r.events[(r.events.reason == "Started") & (r.events.version == "v2")].t.min()
    assert first_error >= first_v2 + 59


def test_same_seed_same_result_and_other_seed_differs(small) -> None:
    a, b = simulate(small), simulate(small)
    assert a.record == b.record
    assert a.timeline.equals(b.timeline)
    c = simulate(small, seed=small.simulation.seed + 1)
    assert c.record["requests"] != a.record["requests"]


def test_common_random_numbers_across_strategies(small) -> None:
    from simdeploy.spec.service import Strategy

    rec = simulate(small.with_strategy(Strategy(type="Recreate")))
    rol = simulate(small)
    assert rec.record["requests"] == rol.record["requests"]
    assert rec.timeline.requests.equals(rol.timeline.requests)


def test_request_conservation(small) -> None:
    r = simulate(small)
    rec = r.record
    completed = r.timeline.ok.sum() + rec["errors"]
    assert rec["requests"] == completed + rec["in_flight"]


@pytest.mark.parametrize(
    "over",
    [
        pytest.param({"service": {"replicas": 0}}, id="zero-replicas"),
        pytest.param(
            {"service": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "100%"}}}},
            id="max-unavailable-100pct",
        ),
        pytest.param({"plan": []}, id="empty-plan"),
        pytest.param({"plan": [], "simulation": {"duration": 0}}, id="zero-length-run"),
        pytest.param({"traffic": {"rate": 0}}, id="no-traffic"),
        pytest.param(
            {"plan": [{"at": "10s", "action": "deploy", "version": "v1"}]}, id="deploy-same-version"
        ),
        pytest.param({"plan": [{"at": "10s", "action": "rollback"}]}, id="rollback-nothing"),
    ],
)
def test_edge_cases_run(over: dict) -> None:
    r = simulate(scenario(**over))
    assert set(r.record) >= {"downtime_s", "outcome"}
    assert r.record["requests"] >= 0


def test_zero_replicas_is_all_downtime() -> None:
    r = simulate(scenario(service={"replicas": 0}, plan=[]))
    assert r.record["downtime_s"] == pytest.approx(90.0)
    assert r.record["errors"] == r.record["requests"] > 0
    assert r.record["outcome"] == "none"


def test_max_unavailable_100pct_takes_everything_down() -> None:
    r = simulate(
        scenario(service={"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "100%"}}})
    )
    assert r.record["downtime_s"] > 0
    assert r.record["outcome"] == "completed"


def test_steps_and_diurnal_profiles_follow_the_rate() -> None:
    steps = simulate(
        scenario(
            plan=[],
            traffic={
                "rate": None,
                "profile": {
                    "type": "steps",
                    "steps": [{"at": 0, "rate": 50}, {"at": "45s", "rate": 200}],
                },
            },
        )
    )
    tl = steps.timeline
    assert tl[tl.t < 45].requests.mean() == pytest.approx(50, rel=0.15)
    assert tl[tl.t >= 45].requests.mean() == pytest.approx(200, rel=0.1)
    di = simulate(
        scenario(
            plan=[],
            traffic={
                "rate": None,
                "profile": {"type": "diurnal", "mean": 100, "amplitude": 0.5, "period": "90s"},
            },
        )
    )
    t = di.timeline
    assert t[(t.t >= 15) & (t.t < 30)].requests.mean() > t[(t.t >= 60) & (t.t < 75)].requests.mean()


def test_zipf_users_concentrate_errors() -> None:
    over = {"versions": {"v1": {"errorRate": 0.2}}, "plan": []}
    uni = simulate(scenario(**over))
    zipf = simulate(scenario(**over, traffic={"userDistribution": "zipf"}))
    assert zipf.record["users_affected"] < uni.record["users_affected"]


@pytest.mark.parametrize("policy", ["round_robin", "random", "least_outstanding"])
def test_balancer_policies_spread_load(policy: str) -> None:
    r = simulate(scenario(service={"balancer": {"policy": policy}}, plan=[]))
    assert r.record["errors"] == 0
    assert r.record["requests"] > 8000


def test_timeline_and_events_shapes(small) -> None:
    r = simulate(small)
    tl = r.timeline
    assert len(tl) == 90
    for col in (
        "t",
        "requests",
        "errors",
        "error_ratio",
        "p50_s",
        "p99_s",
        "pods[v1]",
        "ready[v2]",
        "terminating[v1]",
        "endpoints",
        "errors_no_endpoint",
    ):
        assert col in tl.columns
    assert (tl.p99_s.dropna() >= tl.p50_s.dropna()).all()
    assert list(r.events.columns) == ["t", "reason", "object", "version", "message"]
    assert r.summary["errors_no_endpoint"] == 0
