"""The fluid data plane: M/M/c latency, conservation, refusals, the budget (the database:
tests/world/test_fluid_database.py)."""

from __future__ import annotations

import glob
import math

import pytest

from simdeploy import Scenario, load_scenario, simulate
from simdeploy.spec.base import ScenarioError
from tests.run.test_latency_mmc import (
    CASES,
    HIST,
    MEAN_SERVICE_S,
    QS,
    mmc_scenario,
    sojourn_mean,
    sojourn_quantile,
)


def fluid(sc: Scenario, **simulation: object) -> Scenario:
    data = sc.model_dump(by_alias=True, exclude_unset=True)
    for key in ("expect", "manifests"):  # manifests: already read into service:
        data.pop(key, None)
    data.setdefault("simulation", {}).update({"dataPlane": "fluid", **simulation})
    return Scenario.parse(data)


@pytest.mark.parametrize("case", CASES, ids=[f"c={k.c}-rho={k.rho}-pods={k.pods}" for k in CASES])
def test_fluid_latency_matches_mmc(case: object) -> None:
    # The fluid plane's steady-state waits are Erlang C's: the same exact M/M/c sojourn
    # quantiles as the request-level test, within the histogram's 1% and the same sd bound.
    r = simulate(fluid(mmc_scenario(case)))  # type: ignore[arg-type]
    rec = r.record
    mu = 1.0 / MEAN_SERVICE_S
    lam = case.rho * case.c * mu  # type: ignore[attr-defined]
    c = case.c  # type: ignore[attr-defined]
    off = {}
    for (field, q), sd in zip(QS.items(), case.sd[:3], strict=True):  # type: ignore[attr-defined]
        off[field] = (rec[field] / sojourn_quantile(q, lam, mu, c) - 1.0, HIST + 4 * sd / 100)
    off["latency_mean_s"] = (
        rec["latency_mean_s"] / sojourn_mean(lam, mu, c) - 1.0,
        4 * case.sd[3] / 100,  # type: ignore[attr-defined]
    )
    bad = {k: f"{e:+.2%} (tolerance {t:.1%})" for k, (e, t) in off.items() if abs(e) > t}
    assert not bad, bad
    assert rec["errors"] == 0


def test_every_arrival_gets_one_outcome() -> None:
    # Requests = ok + errors over the timeline, per version and in total, on a rollout
    # with errors of several causes (recreate: no_endpoint; a bug: app_error).
    sc = fluid(load_scenario("scenarios/rolling-bad-release.yaml"))
    r = simulate(sc)
    tl = r.timeline
    assert int(tl["requests"].sum()) == r.record["requests"] > 0
    # An outcome is filed when a request starts; what still waits has none yet.
    unfiled = r.record["requests"] - int(tl["ok"].sum() + tl["errors"].sum())
    assert 0 <= unfiled <= r.record["in_flight"]
    assert r.record["errors_by_cause"]["app_error"] > 0


def test_same_seed_same_result_and_seeds_differ() -> None:
    sc = fluid(load_scenario("scenarios/canary-analysis.yaml"))
    a, b, c = simulate(sc, seed=3), simulate(sc, seed=3), simulate(sc, seed=4)
    assert a.record["requests"] == b.record["requests"]
    assert a.record["users_affected"] == b.record["users_affected"]
    assert a.record["requests"] != c.record["requests"]


def test_overload_times_out_as_the_request_level_plane_does() -> None:
    # One pod, one worker, 10 ms service, 200 req/s: twice its capacity. The queue drops
    # what waited the 2 s timeout when a worker frees up, and what it serves after nearly
    # 2 s mostly finishes too late: about 50 ok per second, the rest timeouts, on both planes.
    from simdeploy.experiments.agreement import agreement

    sc = Scenario.parse(
        {
            "service": {"version": "v1", "replicas": 1, "pod": {"concurrency": 1}},
            "traffic": {"rate": 200, "timeout": "2s"},
            "versions": {"v1": {"serviceTime": {"dist": "exponential", "mean": "10ms"}}},
            "simulation": {"duration": "60s"},
        }
    )
    table = agreement(sc, 6).set_index("metric")
    assert table.loc["errors_timeout", "agree"], table.loc["errors_timeout"]
    assert table.loc["errors", "fluid_mean"] / 60 == pytest.approx(150, rel=0.1)
    assert table["agree"].all(), table[~table["agree"]]


def test_users_affected_follow_the_error_count() -> None:
    # 1000 users, uniform: E errors touch 1000·(1 - (1 - 1/1000)^E) users on average.
    sc = Scenario.parse(
        {
            "service": {"version": "v1", "replicas": 2},
            "traffic": {"rate": 100, "users": 1000},
            "versions": {"v1": {"errorRate": 0.01}},
            "simulation": {"duration": "200s", "dataPlane": "fluid"},
        }
    )
    rec = simulate(sc).record
    expected = 1000 * (1 - (1 - 1 / 1000) ** rec["errors"])
    assert rec["users_affected"] == pytest.approx(expected, abs=4 * math.sqrt(expected))


def test_a_bug_of_some_users_hits_only_them() -> None:
    # The bug is in 10% of users' data: errors fall on at most those users.
    sc = Scenario.parse(
        {
            "service": {"version": "v1", "replicas": 2},
            "traffic": {"rate": 200, "users": 2000},
            "versions": {"v1": {"bug": {"errorRate": 1.0, "userShare": 0.1}}},
            "simulation": {"duration": "120s", "dataPlane": "fluid"},
        }
    )
    rec = simulate(sc).record
    assert rec["error_rate"] == pytest.approx(0.1, abs=0.01)
    assert 180 <= rec["users_affected"] <= 220  # nearly all 200 bug users, nobody else


def test_refuses_an_expectation_it_does_not_measure() -> None:
    sc = load_scenario("scenarios/ab-cohort.yaml")
    data = sc.model_dump(by_alias=True, exclude_unset=True)
    data.setdefault("simulation", {})["dataPlane"] = "fluid"
    with pytest.raises(ScenarioError, match=r"expect\.users_flipped: the fluid data plane"):
        Scenario.parse(data)


def test_request_is_the_old_name_of_requests() -> None:
    sc = Scenario.parse(
        {
            "service": {"version": "v1"},
            "versions": {"v1": {}},
            "simulation": {"dataPlane": "request"},
        }
    )
    assert sc.simulation.data_plane == "requests"


def test_budget_lets_the_fluid_plane_run_an_hour_at_production_traffic() -> None:
    data = {
        "service": {"version": "v1", "replicas": 50},
        "traffic": {"rate": 10_000},
        "versions": {"v1": {"serviceTime": {"dist": "exponential", "mean": "20ms"}}},
        "simulation": {"duration": "2h"},
    }
    # 72M requests: beyond the request-level plane's 10 minutes of computing.
    with pytest.raises(ScenarioError, match=r"or use simulation\.dataPlane: fluid"):
        Scenario.parse(data)
    data["simulation"]["dataPlane"] = "fluid"  # type: ignore[index]
    Scenario.parse(data)
    data["simulation"]["duration"] = "1000h"  # type: ignore[index]
    with pytest.raises(ScenarioError, match=r"simulation\.duration: too large to simulate"):
        Scenario.parse(data)


def test_bundled_scenarios_are_either_run_or_refused() -> None:
    ran = 0
    for path in sorted(glob.glob("scenarios/*.yaml")):
        try:
            sc = fluid(load_scenario(path), duration="60s")
        except ScenarioError as err:
            assert all("dataPlane: requests" in e or "after the end" in e for e in err.errors)
            continue
        simulate(sc)
        ran += 1
    assert ran >= 25  # those with a database too (tests/world/test_fluid_database.py)


def test_budget_counts_backlog_steps_when_the_pods_can_be_overloaded() -> None:
    # 10k req/s on 50 pods × 8 workers of 50 ms: 8,000 req/s of capacity. The estimate
    # counts a backlog step per pod every fluidStep, and names it.
    data = {
        "service": {"version": "v1", "replicas": 50},
        "traffic": {"rate": 10_000},
        "versions": {"v1": {"serviceTime": {"dist": "exponential", "mean": "50ms"}}},
        "simulation": {"duration": "100h", "dataPlane": "fluid"},
    }
    with pytest.raises(ScenarioError, match=r"simulation\.fluidStep: too large to simulate"):
        Scenario.parse(data)
    data["simulation"]["fluidStep"] = "1s"  # type: ignore[index]
    data["simulation"]["duration"] = "10h"  # type: ignore[index]
    Scenario.parse(data)


def test_shadow_copies_load_the_shadow_and_never_reach_users() -> None:
    # seed-table's shadow variant mirrors every request to a full-size shadow whose v2
    # fails some: the copies are counted apart, compared, and the writes duplicated.
    from simdeploy.experiments.compare import variants_of

    shadow = variants_of(load_scenario("scenarios/seed-table.yaml"))["shadow"]
    rec = simulate(fluid(shadow)).record
    assert rec["mirrored_requests"] > 1000
    assert rec["errors"] == 0 and rec["users_affected"] == 0
    assert 0 < rec["shadow_mismatches"] < rec["mirrored_requests"]
    assert rec["duplicate_writes"] == pytest.approx(0.1 * rec["mirrored_requests"], rel=0.2)


# --- what a review found (each failed before its fix) ----------------------------------


def _edited(path: str, edit: dict[str, object]) -> Scenario:
    from simdeploy.spec.dotted import put

    data = load_scenario(path).model_dump(by_alias=True, exclude_unset=True)
    for key in ("expect", "manifests"):
        data.pop(key, None)
    for dotted, value in edit.items():
        if dotted == "traffic.profile":  # a profile replaces the rate
            data["traffic"].pop("rate", None)
        data = put(data, dotted, value)
    return Scenario.parse(data)


def test_a_cohort_pod_overloaded_mid_interval_does_not_crash() -> None:
    # A diurnal rate pushes the cohort's slow pods past 90% load during an interval.
    sc = _edited(
        "scenarios/ab-cohort.yaml",
        {
            "traffic.profile": {"type": "diurnal", "mean": 200, "period": "60s"},
            "versions.v2.serviceTime": {"dist": "exponential", "mean": "300ms"},
        },
    )
    for seed in (1, 2):
        assert simulate(fluid(sc), seed=seed).record["requests"] > 0


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        pytest.param(  # a warm-up that ends in the first interval after an endpoint change
            "scenarios/rolling-no-readiness-probe.yaml",
            {
                "service.balancer.endpointPropagationDelay": 0,
                "versions.v2.warmup": "300ms",
            },
            id="warm-up-after-a-change",
        ),
        pytest.param(  # shadow copies that queue on a loaded shadow are still compared
            "scenarios/shadow-writes.yaml",
            {"versions.v2.serviceTime": {"dist": "exponential", "mean": "150ms"}},
            id="shadow-at-94-percent-load",
        ),
    ],
)
def test_agrees_where_a_review_found_it_did_not(path: str, edit: dict[str, object]) -> None:
    from simdeploy.experiments.agreement import agreement

    table = agreement(_edited(path, edit), 6, jobs=2)
    bad = table[~table["agree"]]
    assert bad.empty, bad.to_string()


def test_an_ended_bucket_has_its_latencies_when_read() -> None:
    # Analyses read finished buckets at the boundary: their latency histograms are filed.
    from simdeploy.run.simulation import build

    cp = build(fluid(load_scenario("scenarios/recreate.yaml")), 1)
    world = cp.world
    world.data_plane.start()
    world.env.run(until=5.0 + 1e-6)  # just after the boundary: readers run after its sync
    counts = world.recorder.latency_counts(0)
    assert counts is not None and counts[4].sum() > 0


def test_an_overloaded_pod_does_not_shift_traffic_across_buckets() -> None:
    # No traffic before 10 s, then twice one pod's capacity: steps of 0.1 s summed from 10 s
    # must not file any of it under bucket 9, nor a bucket's under the one before.
    sc = Scenario.parse(
        {
            "service": {"version": "v1", "replicas": 1, "pod": {"concurrency": 1}},
            "traffic": {
                "profile": {
                    "type": "steps",
                    "steps": [{"at": 0, "rate": 0}, {"at": "10s", "rate": 200}],
                }
            },
            "versions": {"v1": {"serviceTime": {"dist": "exponential", "mean": "10ms"}}},
            "simulation": {"duration": "30s", "dataPlane": "fluid"},
        }
    )
    tl = simulate(sc).timeline
    assert tl["requests"].iloc[:10].sum() == 0
    per_second = tl["requests"].iloc[10:]
    assert ((per_second - 200).abs() < 5 * math.sqrt(200)).all(), per_second.tolist()


def test_killed_requests_are_moved_not_added() -> None:
    # 3 s requests and a 1 s grace period: a rolling update SIGKILLs old pods with requests
    # in service. Each arrival still has exactly one outcome, or waits (in_flight).
    sc = Scenario.parse(
        {
            "service": {
                "version": "v1",
                "replicas": 2,
                "pod": {"terminationGracePeriodSeconds": 1},
            },
            "traffic": {"rate": 4, "timeout": "10s"},
            "versions": {"v1": {"serviceTime": "3s"}, "v2": {"serviceTime": "3s"}},
            "plan": [{"at": "20s", "action": "deploy", "version": "v2"}],
            "simulation": {"duration": "60s", "dataPlane": "fluid"},
        }
    )
    r = simulate(sc)
    tl = r.timeline
    assert r.record["errors_by_cause"]["killed_in_flight"] > 0
    assert int(tl["ok"].sum() + tl["errors"].sum()) + r.record["in_flight"] == r.record["requests"]


def test_refuses_least_outstanding() -> None:
    with pytest.raises(ScenarioError, match=r"service\.balancer\.policy: the fluid data plane"):
        _edited(
            "scenarios/recreate.yaml",
            {"service.balancer.policy": "least_outstanding", "simulation.dataPlane": "fluid"},
        )


def test_a_flag_is_on_for_its_buckets_share_of_users() -> None:
    # 30% rollout to uniform users: about 30% of requests run the flagged path (error rate
    # 1), the users exposed are those whose bucket is under 0.3 and who made a request.
    sc = Scenario.parse(
        {
            "service": {"version": "v1", "replicas": 2},
            "traffic": {"rate": 200, "users": 2000},
            "versions": {"v1": {}},
            "flags": {"f": {"rollout": 30, "feature": {"errorRate": 1.0}}},
            "simulation": {"duration": "60s", "dataPlane": "fluid"},
        }
    )
    rec = simulate(sc).record
    assert rec["error_rate"] == pytest.approx(0.3, abs=0.02)
    assert rec["flagged_errors"] == rec["errors"] and rec["unflagged_errors"] == 0
    # 12,000 requests over 2,000 users: nearly every user with the flag on made one.
    assert 550 <= rec["flag_exposed_users"] <= 620
    assert rec["users_affected"] <= rec["flag_exposed_users"]
