"""Argo canary ``experiment`` steps (control/strategies/experiment.py).

10 replicas at 200 req/s; v2 deployed at 10 s with setWeight 10, then an experiment of a
baseline (stable) and a canary replica set of 1 replica and weight 5 each, taken from stable:
stable 80 %, canary 10 %, baseline 5 %, experiment canary 5 % → v2 serves 15 %.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy import Scenario, ScenarioError, simulate
from tests.conftest import base_dict
from tests.control.test_progressive import first_t, served_share

CHECK = {
    "metrics": [
        {
            "name": "errors",
            "provider": {
                "simdeploy": {"metric": "error_rate", "of": "exp-canary", "window": "20s"}
            },
            "interval": "10s",
            "count": 3,
            "successCondition": "result <= 0.01",
        }
    ]
}


def scenario(experiment: dict[str, Any], bug: float = 0.0, **canary: Any) -> Scenario:
    d = base_dict(
        service={"replicas": 10},
        traffic={"rate": 200, "users": 5000},
        analysisTemplates={"check": CHECK},
        plan=[
            {
                "at": "10s",
                "action": "deploy",
                "version": "v2",
                "strategy": {
                    "canary": {
                        "trafficRouting": {"istio": {}},
                        "steps": [{"setWeight": 10}, {"experiment": experiment}, {"setWeight": 50}],
                        **canary,
                    }
                },
            }
        ],
        simulation={"duration": "3m"},
    )
    if bug:
        d["versions"]["v2"]["bug"] = {"errorRate": bug}
    return Scenario.parse(d)


TEMPLATES = [
    {"name": "baseline", "specRef": "stable", "replicas": 1, "weight": 5},
    {"name": "exp-canary", "specRef": "canary", "replicas": 1, "weight": 5},
]


def test_a_healthy_experiment_runs_its_duration_with_its_weights() -> None:
    r = simulate(
        scenario(
            {
                "duration": "1m",
                "templates": TEMPLATES,
                "analyses": [{"name": "check", "templateName": "check"}],
            }
        )
    )
    started, done = first_t(r, "ExperimentStarted"), first_t(r, "ExperimentCompleted")
    ready = r.events[(r.events.reason == "Ready") & r.events.object.str.contains("experiment")]
    assert len(ready) == 2
    assert done == pytest.approx(float(ready.t.max()) + 60)  # the duration from both ready
    # v2's share while the weights are routed: 15 %; without weights, the canary's 10 %.
    window = (float(ready.t.max()) + 5, done - 2)
    assert served_share(r.timeline, *window) == pytest.approx(15, abs=3)
    unweighted = [{k: v for k, v in t.items() if k != "weight"} for t in TEMPLATES]
    analyses = [{"name": "check", "templateName": "check"}]
    plain = simulate(scenario({"duration": "1m", "templates": unweighted, "analyses": analyses}))
    assert served_share(plain.timeline, *window) == pytest.approx(10, abs=3)
    assert started > 10
    down = r.scaling[r.scaling.replica_set.str.contains("experiment") & (r.scaling.spec == 0)]
    assert sorted(down.t.tolist()) == [pytest.approx(done)] * 2
    assert r.record["outcome"] == "completed"


def test_a_failed_analysis_fails_the_experiment_and_aborts() -> None:
    r = simulate(
        scenario(
            {
                "duration": "1m",
                "templates": TEMPLATES,
                "analyses": [{"name": "check", "templateName": "check"}],
            },
            bug=0.05,
        )
    )
    failed = first_t(r, "ExperimentFailed")
    assert "ExperimentCompleted" not in set(r.events.reason)
    assert first_t(r, "RollbackRequested") == pytest.approx(failed)
    assert r.record["outcome"] == "rolled_back"
    down = r.scaling[r.scaling.replica_set.str.contains("experiment") & (r.scaling.spec == 0)]
    assert down.t.tolist() == [pytest.approx(failed)] * 2


def test_without_a_duration_the_required_analyses_end_it() -> None:
    # count 3 every 10 s from the start: the run completes at start + 20 s.
    r = simulate(
        scenario(
            {
                "templates": TEMPLATES[1:],
                "analyses": [
                    {"name": "check", "templateName": "check", "requiredForCompletion": True}
                ],
            }
        )
    )
    run_started = first_t(r, "AnalysisRunStarted")
    assert first_t(r, "ExperimentCompleted") == pytest.approx(run_started + 20)


@pytest.mark.parametrize(
    ("experiment", "canary", "message"),
    [
        pytest.param(
            {"duration": "1m", "templates": TEMPLATES},
            {"trafficRouting": None},
            "experiment.templates[0].weight: requires trafficRouting",
            id="weight-needs-a-router",
        ),
        pytest.param(
            {"duration": "1m", "templates": [TEMPLATES[0], TEMPLATES[0]]},
            {},
            "experiment.templates[1].name: 'baseline' is given twice",
            id="same-name-twice",
        ),
        pytest.param(
            {"templates": TEMPLATES, "analyses": [{"name": "a", "templateName": "check"}]},
            {},
            "without a duration an experiment runs until its analyses with requiredForCompletion",
            id="would-run-forever",
        ),
        pytest.param(
            {
                "duration": "1m",
                "templates": TEMPLATES,
                "analyses": [{"name": "a", "templateName": "chek"}],
            },
            {},
            "experiment.analyses[0].templateName: unknown analysis template 'chek'",
            id="unknown-template",
        ),
    ],
)
def test_bad_experiments(experiment: dict[str, Any], canary: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        scenario(experiment, **canary)
    assert any(message in line for line in exc.value.errors), exc.value.errors


def test_a_query_may_name_an_experiment_template_only_where_it_runs() -> None:
    # The template queries `of: exp-canary`: fine for the experiment, not for a step analysis.
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(
            base_dict(
                analysisTemplates={"check": CHECK},
                plan=[
                    {
                        "at": "10s",
                        "action": "deploy",
                        "version": "v2",
                        "strategy": {
                            "canary": {
                                "trafficRouting": {"istio": {}},
                                "steps": [{"analysis": {"templates": [{"templateName": "check"}]}}],
                            }
                        },
                    }
                ],
            )
        )
    assert any("unknown role or version 'exp-canary'" in e for e in exc.value.errors)
