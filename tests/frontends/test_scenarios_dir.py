"""Every bundled scenario validates, runs, and meets its own ``expect:`` block."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdeploy import load_scenario, simulate
from simdeploy.run.checks import evaluate
from tests.conftest import SCENARIOS

FILES = sorted(SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario_runs_and_meets_expectations(path: Path) -> None:
    sc = load_scenario(path)
    result = simulate(sc)
    failed = [c.line for c in evaluate(sc.expect, result.record) if not c.passed]
    assert not failed, failed
    assert result.record["requests"] > 0
