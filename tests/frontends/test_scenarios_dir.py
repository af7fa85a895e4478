"""Every bundled scenario validates, runs, and meets its own ``expect:`` block.

A scenario without an ``expect:`` block would pass whenever it makes requests, so each one
either has expectations or is listed in ``CLAIMS`` with the checks of what the README says it
shows (``seed-table.yaml``: the strategy table, checked on its ``compare:`` variants).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simdeploy import Scenario, compare, load_scenario, simulate
from simdeploy.experiments.policy_gate import check_policy
from simdeploy.run.checks import evaluate
from tests.conftest import SCENARIOS

FILES = sorted(SCENARIOS.glob("*.yaml"))


def seed_table_claims(sc: Scenario) -> None:
    """The README's reading of the seed table, on one seed of each variant."""
    rec = {r["name"]: r for r in compare(sc, seeds=1).records()}
    assert set(rec) == {"recreate", "rolling", "blue-green", "canary", "shadow"}
    # Every variant has the same safety net, and every one is rolled back.
    assert {r["outcome"] for r in rec.values()} == {"rolled_back"}
    # Recreate has downtime, set off the alert before v2 served anything; the others none.
    assert rec["recreate"]["downtime_s"] > 10
    assert rec["recreate"]["time_to_detect_s"] is None
    assert all(rec[v]["downtime_s"] == 0 for v in ("rolling", "blue-green", "canary", "shadow"))
    # Rolling rolls back in about two minutes (a new rolling update); blue/green in seconds
    # (a selector switch while blue is warm), at twice the infrastructure.
    assert 60 < rec["rolling"]["rollback_time_s"] < 240
    assert rec["blue-green"]["rollback_time_s"] < 10
    assert rec["blue-green"]["extra_cost"] == pytest.approx(1.0)
    # The canary's analysis aborts it with few users affected and little extra cost.
    users = {v: rec[v]["users_affected"] for v in rec}
    assert users["canary"] < users["blue-green"] / 10
    assert users["blue-green"] < users["rolling"] < users["recreate"]
    assert rec["canary"]["extra_cost"] <= 0.25
    # The shadow affects no user, at twice the backend compute.
    assert users["shadow"] == 0 and rec["shadow"]["errors"] == 0
    assert rec["shadow"]["extra_cost"] == pytest.approx(1.0)


#: Scenarios without an ``expect:`` block, and the checks that stand for it.
CLAIMS: dict[str, Callable[[Scenario], Any]] = {"seed-table": seed_table_claims}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario_runs_and_meets_expectations(path: Path) -> None:
    sc = load_scenario(path)
    if not sc.expect:
        assert path.stem in CLAIMS, f"{path.name}: add an expect: block (or a CLAIMS entry)"
        CLAIMS[path.stem](sc)
        return
    assert path.stem not in CLAIMS, f"{path.name} has an expect: block now; drop its CLAIMS entry"
    result = simulate(sc)
    checks = evaluate(sc.expect, result.record)
    failed = [c.line for c in checks if not c.passed]
    failed += [c.line for c in check_policy(sc) if not c.passed]
    assert not failed, failed
    assert result.record["requests"] > 0
