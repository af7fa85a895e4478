"""Sweeps (experiments/sweep.py): a grid of field values × variants × seeds, on common random
numbers, every point validated before any run."""

from __future__ import annotations

import pandas as pd
import pytest

from simdeploy import ScenarioError, UsageError, compare, sweep
from simdeploy.experiments.sweep import MAX_SWEEP_SECONDS, parse_set, parse_values
from tests.conftest import scenario

PRESTOP = "service.pod.lifecycle.preStop.sleep.seconds"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        pytest.param("0,1,2,25%", [0, 1, 2, "25%"], id="ints-and-a-percent"),
        pytest.param("100..300:100", [100, 200, 300], id="range-stop-included"),
        pytest.param("0.5..1.5:0.5", [0.5, 1, 1.5], id="range-of-floats"),
        pytest.param("1s, 500ms", ["1s", "500ms"], id="durations"),
        pytest.param("true,false", [True, False], id="booleans"),
    ],
)
def test_values_from_text(text: str, values: list[object]) -> None:
    assert parse_values(text) == values


@pytest.mark.parametrize("arg", ["replicas", "=1,2", "replicas=", "x=5..1:1", "x=1..5:0"])
def test_bad_set_arguments(arg: str) -> None:
    with pytest.raises(UsageError):
        parse_set(arg)


def test_a_grid_point_equal_to_the_scenario_gives_its_comparison() -> None:
    # Common random numbers: the point preStop = 3 s (the base's own) is the base, run on the
    # same seeds; the point at 0 s differs only by the preStop sleep.
    sc = scenario()
    table = sweep(sc, {PRESTOP: [0, 3], "service.replicas": [4]}, seeds=2)
    assert list(table[PRESTOP]) == [0, 3]
    assert list(table["service.replicas"]) == [4, 4]
    (base,) = compare(sc, seeds=2).records()
    row = table[table[PRESTOP] == 3].iloc[0]
    assert row["errors"] == base["errors"]
    assert row["errors_ci95"] == pytest.approx(
        (base["errors_ci95"][1] - base["errors_ci95"][0]) / 2
    )
    # Without the sleep, the endpoint-removal race refuses connections: errors appear.
    no_sleep = table[table[PRESTOP] == 0].iloc[0]
    assert no_sleep["errors"] > 0 == row["errors"]


def test_variants_are_crossed_with_the_grid() -> None:
    sc = scenario(
        compare={
            "one": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "all": {"type": "Recreate"},
        }
    )
    table = sweep(sc, {"service.replicas": [2, 4]})
    assert list(zip(table["service.replicas"], table["variant"], strict=True)) == [
        (2, "one"),
        (2, "all"),
        (4, "one"),
        (4, "all"),
    ]
    recreate = table[table.variant == "all"]
    assert (recreate.downtime_s > 0).all()


def test_bad_paths_and_values_are_named_before_any_run() -> None:
    sc = scenario()
    with pytest.raises(ScenarioError) as exc:
        sweep(sc, {"service.replica": [3], "service.replicas": [2, -1]})
    assert exc.value.errors == [
        "service.replica: unknown field; did you mean 'replicas'?",
        "service.replicas=-1: service.replicas: Input should be greater than or equal to 0",
    ]


def test_a_bad_path_is_named_once_and_bad_values_together() -> None:
    """An unknown field is the path's problem whatever the value: one line, not one per
    value; a value its field rejects is named, with every value that shares the problem."""
    sc = scenario()
    with pytest.raises(ScenarioError) as exc:
        sweep(sc, {"service.nope": [1, 2, 3], "service.replicas": [-1, 2, -3], "plan.4.at": [1]})
    assert [line.split(";")[0] for line in exc.value.errors] == [
        "service.nope: unknown field",
        "service.replicas=-1,-3: service.replicas: Input should be greater than or equal to 0",
        "plan.4.at: no such place in the scenario (4)",  # the plan has one action
    ]


def test_a_sweep_beyond_reason_is_refused_with_its_estimate() -> None:
    sc = scenario(simulation={"duration": "10m"}, traffic={"rate": 5000})
    # Each run: 5000 req/s × 600 s = 3e6 requests ≈ 30 s; 100 seeds × 6 points ≈ 5 h.
    with pytest.raises(ScenarioError) as exc:
        sweep(sc, {"service.replicas": [2, 3, 4, 5, 6, 7]}, seeds=100)
    (line,) = exc.value.errors
    assert line.startswith("sweep: 6 points × variants × 100 seeds = 600 runs, estimated ")
    assert f"(limit {MAX_SWEEP_SECONDS / 3600:g} h)" in line


def test_an_empty_grid_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        sweep(scenario(), {})


def test_the_scenarios_sweep_block_is_the_default_grid() -> None:
    sc = scenario(sweep={"service.replicas": [2, 4]})
    table = sweep(sc)
    assert list(table["service.replicas"]) == [2, 4]


def test_an_interrupted_sweep_resumes_from_its_cache(tmp_path, monkeypatch) -> None:
    from simdeploy.experiments import sweep as sweep_module
    from simdeploy.experiments.run_cache import RunCache

    sc = scenario(simulation={"duration": "30s"})
    grid = {"service.replicas": [2, 3, 4]}
    full = sweep(sc, grid, seeds=2)
    real = sweep_module.simulate
    calls = []

    def cut_after_three(scenario, seed=None):  # Ctrl-C during the 4th run
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append((scenario.service.replicas, seed))
        return real(scenario, seed=seed)

    monkeypatch.setattr(sweep_module, "simulate", cut_after_three)
    cache = RunCache(tmp_path / "cache")
    with pytest.raises(KeyboardInterrupt):
        sweep(sc, grid, seeds=2, cache=cache)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3  # the finished runs are kept
    calls.clear()  # the resumed sweep runs only the 3 missing runs (seeds 3, 4: the base's)
    monkeypatch.setattr(
        sweep_module,
        "simulate",
        lambda scenario, seed=None: (
            calls.append((scenario.service.replicas, seed)) or real(scenario, seed=seed)
        ),
    )
    resumed = sweep(sc, grid, seeds=2, cache=cache, resume=True)
    assert calls == [(3, 4), (4, 3), (4, 4)]
    pd.testing.assert_frame_equal(resumed, full)
    # Without --resume everything runs again (and the cache is rewritten).
    calls.clear()
    sweep(sc, grid, seeds=2, cache=cache)
    assert len(calls) == 6


def test_a_dask_cluster_gives_the_same_numbers() -> None:
    from distributed import Client, LocalCluster

    sc = scenario(simulation={"duration": "30s"})
    grid = {"service.replicas": [2, 4]}
    here = sweep(sc, grid, seeds=2)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    try:
        with Client(cluster) as client:
            there = sweep(sc, grid, seeds=2, executor=client)
    finally:
        cluster.close()
    pd.testing.assert_frame_equal(there, here)


def test_an_unknown_executor_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="expected 'local' or a scheduler address"):
        sweep(scenario(), {"service.replicas": [2]}, executor="kubernetes")
