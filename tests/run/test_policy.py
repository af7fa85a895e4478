"""simdeploy.policy: a rollout policy's operating characteristics by replication."""

from __future__ import annotations

import pytest

from simdeploy import Scenario, load_scenario, policy
from simdeploy.experiments.policy import COLUMNS, release, triggers
from simdeploy.spec.base import UsageError
from tests.conftest import base_dict


@pytest.fixture(scope="module")
def canary() -> Scenario:
    return load_scenario("scenarios/canary-analysis.yaml")


def test_a_release_replaces_the_new_versions_errors(canary: Scenario) -> None:
    # canary-analysis.yaml gives v2 a bug (5% errors): a release behaves as v1 instead.
    r = release(canary, 0.02)
    assert r.versions["v2"].bug is None and r.versions["v2"].error_rate == 0.02
    assert r.versions["v1"] == canary.versions["v1"]
    slow = release(canary, 0.5, "latency")
    assert slow.versions["v2"].service_time.mean == pytest.approx(0.06)  # 40 ms × 1.5
    assert slow.versions["v2"].bug is None and slow.versions["v2"].error_rate == 0.0
    both = release(canary, 0.5, "both")
    assert both.versions["v2"].error_rate == 0.5 and both.versions["v2"].bug is None
    assert both.versions["v2"].service_time.mean == pytest.approx(0.06)


def test_a_release_of_zero_behaves_as_the_old_version_and_keeps_its_reads() -> None:
    # v1 fails 0.5% of requests and warms up 20 s; v2 is faster, starts cold and reads a
    # column. Regression 0 serves, starts and fails as v1 does, and still reads the column;
    # a 2% regression adds to v1's errors: 0.5% + 2% = 2.5%.
    data = base_dict(
        versions={
            "v1": {"serviceTime": "30ms", "warmup": "20s", "errorRate": 0.005},
            "v2": {"serviceTime": "10ms", "reads": {"orders": ["id", "total"]}},
        },
        database={"tables": {"orders": {"columns": ["id", "total"], "rows": 100}}},
    )
    data["rollback"] = {"sloAlert": {"errorRate": 0.05, "window": "30s"}}
    sc = Scenario.parse(data)
    same = release(sc, 0.0).versions["v2"]
    v1 = sc.versions["v1"]
    assert (same.service_time, same.warmup, same.error_rate) == (
        v1.service_time,
        v1.warmup,
        v1.error_rate,
    )
    assert same.reads == {"orders": ["id", "total"]}
    assert release(sc, 0.02).versions["v2"].error_rate == pytest.approx(0.025)


def test_triggers_name_what_can_roll_back(canary: Scenario) -> None:
    assert triggers(canary) == ["plan[0].strategy.canary.analysis"]
    assert triggers(load_scenario("scenarios/rolling-bad-release.yaml")) == ["rollback.sloAlert"]
    assert triggers(load_scenario("scenarios/recreate.yaml")) == []


def test_operating_characteristic_of_the_bundled_canary(canary: Scenario) -> None:
    # A good release is never rolled back (its analysis needs 99% success); 5% errors are
    # caught every time, within the first measurement that has its 30 s of data.
    table = policy(canary, [0.0, 0.05], seeds=4)
    assert list(table.columns) == list(COLUMNS)
    good, bad = table.iloc[0], table.iloc[1]
    assert good["p_rollback"] == 0.0 and good["p_promote"] == 1.0
    assert good["p_rollback_ci95"][0] == 0.0 and 0.3 < good["p_rollback_ci95"][1] < 0.6
    assert good["errors"] == 0
    assert bad["p_rollback"] == 1.0 and bad["p_promote"] == 0.0
    assert (
        0 < bad["time_to_detect_s"] <= 60 and bad["time_to_detect_s_p90"] >= bad["time_to_detect_s"]
    )
    assert bad["errors"] > 0 and bad["users_affected"] > 0


def test_the_fluid_plane_is_used_where_it_is_allowed(canary: Scenario) -> None:
    # auto: fluid (the scenario allows it); requests: the file's plane. Same policy answer.
    fluid = policy(canary, [0.05], seeds=2)
    requests = policy(canary, [0.05], seeds=2, data_plane="requests")
    assert fluid["p_rollback"].iloc[0] == requests["p_rollback"].iloc[0] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regressions": [1.0]}, "regressions[0]: 1 is outside [0, 1)"),
        ({"regressions": [-0.1, 0.5]}, "regressions[0]: -0.1 is outside [0, 1)"),
        ({"regressions": [float("nan")]}, "regressions[0]: expected a number in [0, 1)"),
        ({"regressions": []}, "regressions: expected at least one number"),
        ({"seeds": 1}, "seeds: a policy needs at least 2 seeds"),
        ({"kind": "memory"}, "kind: expected one of errors, latency, both"),
        ({"data_plane": "quantum"}, "data_plane: expected auto, requests or fluid"),
    ],
)
def test_bad_arguments(canary: Scenario, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as err:
        policy(canary, **kwargs)  # type: ignore[arg-type]
    assert any(line.startswith(message) for line in err.value.errors), err.value.errors


def test_a_policy_that_can_never_roll_back_is_refused() -> None:
    with pytest.raises(UsageError, match="can never roll a release back"):
        policy(load_scenario("scenarios/recreate.yaml"), [0.0], seeds=2)


def test_a_scenario_without_a_deploy_is_refused() -> None:
    sc = Scenario.parse({"service": {"version": "v1"}, "versions": {"v1": {}}})
    with pytest.raises(UsageError, match="no deploy action"):
        policy(sc, [0.0], seeds=2)


def test_the_sequential_judge_keeps_its_false_rollback_rate() -> None:
    # canary-sequential.yaml: v1 and v2 both fail 1% of requests (the flagged payments
    # client); the analysis step counts errors since it began and looks every 10 s, 12 times.
    # Regression 0 is the null hypothesis (the canary's share of errors is its 20% of the
    # requests), so each run rolls back with probability at most alpha = 0.05 however many
    # looks (Ville's inequality); over 8 seeds, 3 or more would happen with probability
    # P(Bin(8, 0.05) >= 3) = 0.6% even at that bound: at most 2 is the robust assertion.
    # Regression 0.05: the first look counts ~9 s of traffic, the canary ~360 requests with
    # 6% errors (~22), the stable ~1440 with 1% (~14): BF(22, 14) ≈ 60 > 20 on average, and
    # at the second look (~44 against ~29) BF(48, 32) = 2.2e6: every seed rolls back by then.
    sc = load_scenario("scenarios/canary-sequential.yaml")
    assert triggers(sc) == ["plan[0].strategy.canary.steps[1].analysis"]
    table = policy(sc, [0.0, 0.05], seeds=8)
    good, bad = table.iloc[0], table.iloc[1]
    assert good["p_rollback"] <= 2 / 8 and good["errors"] > 0  # the null has errors to count
    assert bad["p_rollback"] == 1.0 and bad["time_to_detect_s_p90"] <= 30


def test_the_kayenta_judge_is_a_rollback_trigger() -> None:
    # A good release scores 100 (no errors on either side); 5% errors on a critical metric
    # score 0 at the first judgement, a minute into the analysis, read 15 s later (Argo's
    # resumeDelay): detected about 75 s after the canary's first request.
    sc = load_scenario("scenarios/canary-kayenta.yaml")
    assert triggers(sc) == ["plan[0].strategy.canary.steps[1].analysis"]
    table = policy(sc, [0.0, 0.05], seeds=3)
    assert list(table["p_rollback"]) == [0.0, 1.0]
    assert table.iloc[1]["time_to_detect_s"] <= 85


def test_a_dask_cluster_gives_the_same_policy_table(canary: Scenario) -> None:
    # The same releases on the same seeds: the same records, wherever they run.
    import pandas as pd
    from distributed import Client, LocalCluster

    here = policy(canary, [0.0, 0.05], seeds=2)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    try:
        with Client(cluster) as client:
            there = policy(canary, [0.0, 0.05], seeds=2, executor=client)
    finally:
        cluster.close()
    pd.testing.assert_frame_equal(there, here)
    with pytest.raises(UsageError, match="expected 'local' or a scheduler address"):
        policy(canary, [0.0], seeds=2, executor="kubernetes")
