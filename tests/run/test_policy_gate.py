"""``expect: policy:`` checked by replication (simdeploy.experiments.policy_gate).

The bundled canary-analysis policy: the success-rate analysis needs >= 99% over 30 s and
fails the rollout at its second failed measurement (failureLimit 1), measured every 20 s.
A release identical to v1 serves no errors, so it is never rolled back; a release with 5%
errors is (every run, simdeploy policy's own test). Detection takes two failed measurements
20 s apart after the canary's first request: never within 10 s, always within 2 minutes.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from simdeploy import Scenario
from simdeploy.experiments.gate import check_seeds
from simdeploy.experiments.policy_gate import PolicyCheck, check_policy
from tests.conftest import SCENARIOS

SEEDS = 6


def canary(policy: dict[str, Any], **expect: Any) -> Scenario:
    data = yaml.safe_load((SCENARIOS / "canary-analysis.yaml").read_text())
    data["expect"] = {**expect, "policy": {**policy, "seeds": SEEDS}}
    return Scenario.parse(data)


@pytest.fixture(scope="module")
def checks() -> dict[str, dict[str, PolicyCheck]]:
    sc = canary(
        {
            "falseRollbackRate": "<= 0.1",
            "detects": [
                {"errorRate": 0.05, "probability": ">= 0.9", "within": "2m"},
                {"errorRate": 0.05, "probability": ">= 0.9", "within": "10s"},
            ],
        }
    )
    return {req: {c.field: c for c in check_policy(sc, req)} for req in ("all", "mean")}


def test_the_observed_share_against_the_bound(checks: dict[str, dict[str, PolicyCheck]]) -> None:
    got = checks["all"]
    false = got["policy.falseRollbackRate"]
    assert (false.hits, len(false.values), false.passed) == (0, SEEDS, True)
    assert false.seeds == [1, 2, 3, 4, 5, 6]  # from the scenario's seed 1, shared by releases
    # Wilson, 0 of 6: high = z²/(n + z²) = 3.8415 / 9.8415 = 0.3903.
    assert false.ci95[0] == 0.0 and false.ci95[1] == pytest.approx(0.3903, abs=1e-4)
    caught = got["policy.detects[0]"]
    assert (caught.hits, caught.passed, caught.regression, caught.kind) == (
        SEEDS,
        True,
        0.05,
        "errors",
    )
    slow = got["policy.detects[1]"]
    assert (slow.hits, slow.passed) == (0, False)
    assert slow.failed_seeds == slow.seeds  # every run missed the 10 s
    assert "rolled back within 10 s in 0 of 6 runs" in slow.line


def test_require_mean_needs_the_whole_interval_inside(
    checks: dict[str, dict[str, PolicyCheck]],
) -> None:
    got = checks["mean"]
    # 0 of 6: the interval [0, 0.390] reaches above 0.1, though the share is 0.
    false = got["policy.falseRollbackRate"]
    assert not false.passed and false.failed_seeds == []
    # 6 of 6: low = n / (n + z²) = 6 / 9.8415 = 0.6097 < 0.9.
    caught = got["policy.detects[0]"]
    assert caught.ci95[0] == pytest.approx(0.6097, abs=1e-4) and not caught.passed


def test_check_seeds_returns_field_and_policy_checks() -> None:
    sc = canary({"falseRollbackRate": "<= 0.5"}, outcome="rolled_back")
    out, runs = check_seeds(sc, 1)
    assert [c.field for c in out] == ["outcome", "policy.falseRollbackRate"]
    assert all(c.passed for c in out) and len(runs) == 1
    # Only a policy: the file's own scenario is not run at all.
    only, runs = check_seeds(canary({"falseRollbackRate": "<= 0.5"}), 1)
    assert [c.field for c in only] == ["policy.falseRollbackRate"] and runs == []


def test_the_reproducing_command_names_the_release() -> None:
    check = PolicyCheck(
        "policy.detects",
        "errorRate 0.02 rolled back with probability >= 0.95",
        False,
        "all",
        [1, 2],
        [1, 0],
        0.02,
        "errors",
    )
    assert check.command("my file.yaml") == (
        "simdeploy policy 'my file.yaml' --regressions 0.02 --kind errors --seeds 2"
    )
    assert check.mean == 0.5 and check.actual == 0.5
