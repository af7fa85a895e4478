"""``expect: policy:``: what it accepts, and one line per problem naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy import Scenario
from simdeploy.spec.base import ScenarioError
from simdeploy.spec.expect import POLICY_SEEDS
from tests.conftest import SCENARIOS, base_dict


def canary(policy: Any) -> dict[str, Any]:
    """The bundled canary-analysis scenario (its analysis can roll back) with ``policy``."""
    import yaml

    data = yaml.safe_load((SCENARIOS / "canary-analysis.yaml").read_text())
    data["expect"] = {"outcome": "rolled_back", "policy": policy}
    return data


def test_the_issue_example_reads() -> None:
    sc = Scenario.parse(
        canary(
            {
                "falseRollbackRate": "<= 0.01",
                "detects": {"errorRate": 0.02, "probability": ">= 0.95", "within": "10m"},
            }
        )
    )
    p = sc.expect.policy
    assert p is not None and p.seeds == POLICY_SEEDS == 20
    assert p.false_rollback_rate is not None and p.false_rollback_rate.text == "<= 0.01"
    (d,) = p.detection
    assert (d.kind, d.regression, d.within) == ("errors", 0.02, 600.0)
    assert p.names() == ["policy.falseRollbackRate", "policy.detects"]
    # The field expectations are apart from the policy's.
    assert list(sc.expect.fields) == ["outcome"] and "policy" not in sc.expect


def test_a_list_of_releases_and_a_latency_regression() -> None:
    sc = Scenario.parse(
        canary(
            {
                "detects": [
                    {"errorRate": 0.05, "probability": {"min": 0.9}},
                    {"latency": 0.5, "probability": "> 0.5", "within": "90s"},
                ],
                "seeds": 8,
            }
        )
    )
    p = sc.expect.policy
    assert p is not None and p.seeds == 8
    assert [(d.kind, d.regression) for d in p.detection] == [("errors", 0.05), ("latency", 0.5)]
    assert p.names() == ["policy.detects[0]", "policy.detects[1]"]


@pytest.mark.parametrize(
    ("policy", "lines"),
    [
        ({}, ["expect.policy: give falseRollbackRate, detects or both"]),
        (
            {"falseRollbackRate": "<= 2"},
            ["expect.policy.falseRollbackRate: '<= 2': a probability is between 0 and 1"],
        ),
        (
            {"falseRollbackRate": "== rolled_back"},
            [
                "expect.policy.falseRollbackRate: '== rolled_back': a probability compares "
                "with a number in [0, 1]"
            ],
        ),
        (
            {"detects": {"probability": ">= 0.9"}},
            ["expect.policy.detects: give errorRate or latency: the release to detect"],
        ),
        (
            {"detects": {"errorRate": 0.1, "latency": 0.1, "probability": ">= 0.9"}},
            ["expect.policy.detects: give errorRate or latency, not both: one release each"],
        ),
        (
            {"detects": [{"errorRate": 1.5, "probability": ">= 0.9", "within": "soon"}]},
            [
                "expect.policy.detects[0].errorRate: Input should be less than 1",
                "expect.policy.detects[0].within",
            ],
        ),
        (
            {"detects": 0.02},
            ["expect.policy.detects: expected a mapping (one release to detect) or a list of them"],
        ),
        ({"falseRollbackRate": 0, "seeds": 1}, ["expect.policy.seeds"]),
        # Every independent problem in one pass.
        (
            {
                "falseRollbackRate": "<= 2",
                "detects": {"errorRate": 0.1, "latency": 0.1, "probability": "x"},
                "seedz": 3,
            },
            [
                "expect.policy.seedz: unknown field; did you mean 'seeds'?",
                "expect.policy.falseRollbackRate: '<= 2'",
                "expect.policy.detects.probability: '== x'",
                "expect.policy.detects: give errorRate or latency, not both",
            ],
        ),
    ],
    ids=lambda v: str(v)[:40],
)
def test_bad_policy_expectations(policy: Any, lines: list[str]) -> None:
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(canary(policy))
    assert len(exc.value.errors) == len(lines), exc.value.errors
    for got, want in zip(exc.value.errors, lines, strict=True):
        assert got.startswith(want), (got, want)


def test_a_policy_that_cannot_roll_back_or_has_no_release_is_refused() -> None:
    # The small base scenario deploys v2 with a rolling update and no alert: nothing rolls back.
    no_trigger = base_dict(expect={"policy": {"falseRollbackRate": "<= 0.1"}})
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(no_trigger)
    assert exc.value.errors == [
        "expect.policy: the scenario's policy can never roll a release back (no analysis, "
        "Flagger checks, SLO alert or shadow comparison): its false-rollback rate would be 0 "
        "and its power 0 by construction"
    ]
    no_deploy = canary({"falseRollbackRate": "<= 0.1"})
    no_deploy["plan"] = []
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(no_deploy)
    assert exc.value.errors == [
        "expect.policy: no deploy action, so there is no release for a policy to judge"
    ]


def test_another_strategy_leaves_the_policy_expectations_out() -> None:
    # A rolling update in place of the canary has nothing that rolls back: the variant runs,
    # without the file's policy expectations (they judge the file's own policy).
    from simdeploy import simulate
    from simdeploy.spec.service import RollingUpdate, Strategy

    sc = Scenario.parse(canary({"falseRollbackRate": "<= 0.1"}))
    rolling = sc.with_strategy(
        Strategy(type="RollingUpdate", rolling_update=RollingUpdate(max_surge=1)), "rolling"
    )
    assert rolling.expect.policy is None and list(rolling.expect.fields) == ["outcome"]
    assert simulate(rolling, seed=1).record["outcome"] == "completed"
