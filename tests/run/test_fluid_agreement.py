"""Agreement: every bundled scenario the fluid data plane accepts gives the request-level
plane's answers (each metric's 95% CIs overlap over the same seeds; the outcome as often;
with a database, lock_wait_s and the errors of each migration phase too); every other one is
refused with the reason. docs/fluid-agreement.md is the full table."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from simdeploy import load_scenario
from simdeploy.experiments.agreement import METRICS, _agree, _same_outcomes, agreement, on_plane
from simdeploy.spec.base import ScenarioError

SCENARIOS = sorted(glob.glob("scenarios/*.yaml"))
SEEDS = 6


def _accepted(path: str) -> bool:
    try:
        on_plane(load_scenario(path), "fluid")
    except ScenarioError:
        return False
    return True


@pytest.mark.parametrize("path", [p for p in SCENARIOS if _accepted(p)], ids=Path)
def test_fluid_agrees_with_requests(path: str) -> None:
    sc = load_scenario(path)
    table = agreement(sc, SEEDS, jobs=2)
    phases = []
    if sc.database is not None:  # every phase of the plan, "before" the first migration
        phases = ["before"] + [a.phase_name for a in sc.plan if a.action == "migrate"]
    assert list(table["metric"]) == [*METRICS, *(f"errors_in_{p}" for p in phases), "outcome"]
    bad = table[~table["agree"]]
    assert bad.empty, bad.to_string()


def test_every_bundled_database_scenario_runs_on_the_fluid_plane() -> None:
    with_db = [p for p in SCENARIOS if load_scenario(p).database is not None]
    assert len(with_db) == 8
    assert all(_accepted(p) for p in with_db)


@pytest.mark.parametrize(
    ("path", "variant"),
    [("scenarios/seed-table.yaml", "shadow"), ("scenarios/flagger-canary.yaml", "mirror-first")],
)
def test_fluid_agrees_on_mirrored_traffic(path: str, variant: str) -> None:
    from simdeploy.experiments.compare import variants_of

    table = agreement(variants_of(load_scenario(path))[variant], SEEDS, jobs=2)
    bad = table[~table["agree"]]
    assert bad.empty, bad.to_string()


def test_the_rule_can_fail() -> None:
    # Intervals that overlap agree; apart, they do not; latency gets the histograms' 2%.
    def row(mr: float, hr: float, mf: float, hf: float) -> dict[str, float]:
        return {"requests_mean": mr, "requests_ci95": hr, "fluid_mean": mf, "fluid_ci95": hf}

    both = {"requests": 6, "fluid": 6}
    assert _agree("errors", row(100, 10, 115, 6), both)
    assert not _agree("errors", row(100, 10, 117, 6), both)
    assert not _agree("downtime_s", row(12.5, 0, 12.6, 0), both)
    assert _agree("latency_p50_s", row(0.0279, 0, 0.0284, 0), both)
    assert not _agree("latency_p50_s", row(0.0279, 0, 0.0291, 0), both)
    assert not _agree("rollback_time_s", row(2, 0, 2, 0), {"requests": 6, "fluid": 0})
    assert _same_outcomes({"completed": 1.0}, {"completed": 1.0}, 6)
    assert not _same_outcomes({"completed": 1.0}, {"rolled_back": 1.0}, 6)


def test_refused_scenarios_are_those_the_docs_list() -> None:
    refused = [Path(p).stem for p in SCENARIOS if not _accepted(p)]
    doc = Path("docs/fluid-agreement.md").read_text()
    for name in refused:
        assert f"| {name} | refused" in doc, name
    assert len(refused) < len(SCENARIOS) / 2
