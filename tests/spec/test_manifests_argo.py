"""``manifests:`` with an Argo Rollout: its strategy becomes service.strategy.

Fixtures (``tests/manifests/argo/``) in the shape of Argo Rollouts' ``examples/`` folder and
analysis docs: a canary with pauses, a blue/green with ``autoPromotionEnabled: false`` and its
Services, a canary with background analysis and its AnalysisTemplate, and a ``workloadRef`` to
a Deployment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simdeploy import Scenario, ScenarioError, load_scenario, simulate
from tests.conftest import ROOT

ARGO = ROOT / "tests" / "manifests" / "argo"
#: The scenario's own version of the template the Rollout names (AnalysisTemplate manifests
#: are not read yet): the success rate of the canary, at least 95%.
SUCCESS_RATE = {
    "metrics": [
        {
            "name": "success-rate",
            "interval": "10s",
            "successCondition": "result >= 0.95",
            "failureLimit": 3,
            "provider": {"simdeploy": {"metric": "success_rate", "of": "canary", "window": "10s"}},
        }
    ]
}


@pytest.fixture(autouse=True)
def _in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def scenario_of(tmp_path: Path, manifest: str, **over: Any) -> Path:
    data: dict[str, Any] = {
        "manifests": [str(ARGO / manifest)],
        "versions": {"v1": {}, "v2": {}},
        "traffic": {"rate": 20, "users": 100},
        "plan": [{"at": "10s", "action": "deploy", "version": "v2"}],
        "simulation": {"duration": "3m"},
        **over,
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_canary_steps_come_from_the_rollout(tmp_path: Path) -> None:
    sc = load_scenario(scenario_of(tmp_path, "rollout-canary.yaml"))
    assert sc.name == "rollout-canary"
    assert (sc.service.replicas, sc.service.revision_history_limit) == (5, 2)
    canary = sc.service.strategy.canary
    assert canary is not None
    weights = [s.set_weight for s in canary.steps if s.set_weight is not None]
    pauses = [s.pause.duration for s in canary.steps if s.pause is not None]
    assert (weights, pauses) == ([20, 40, 60, 80], [30, 10, 10, 10])
    r = simulate(sc)
    # Deployed at 10 s; 30 + 10 + 10 + 10 s of pauses: complete well within 3 minutes.
    assert r.record["outcome"] == "completed"
    assert r.record["rollout_duration_s"] >= 60


def test_blue_green_without_auto_promotion_waits(tmp_path: Path) -> None:
    sc = load_scenario(scenario_of(tmp_path, "rollout-bluegreen.yaml"))
    bg = sc.service.strategy.blue_green
    assert bg is not None
    assert (bg.active_service, bg.preview_service) == (
        "rollout-bluegreen-active",
        "rollout-bluegreen-preview",
    )
    assert bg.auto_promotion_enabled is False
    assert [n.split(": ", 1)[1] for n in sc.notes[:2]] == [
        "Service 'rollout-bluegreen-active': skipped (not simulated)",
        "Service 'rollout-bluegreen-preview': skipped (not simulated)",
    ]
    r = simulate(sc)
    assert r.record["outcome"] == "running"  # waits for a promote that never comes
    assert r.timeline["requests[v2]"].sum() == 0


def test_background_analysis_reads_the_analysis_template(tmp_path: Path) -> None:
    sc = load_scenario(scenario_of(tmp_path, "canary-analysis.yaml"))
    canary = sc.service.strategy.canary
    assert canary is not None and canary.analysis is not None
    assert [t.template_name for t in canary.analysis.templates] == ["success-rate"]
    assert canary.analysis.starting_step == 1
    assert canary.traffic_routing == {
        "istio": {"virtualService": {"name": "guestbook-vsvc", "routes": ["primary"]}}
    }
    assert sc.service.pod.readiness_probe is not None
    assert sc.service.pod.readiness_probe.period_seconds == 2.0
    # The AnalysisTemplate as written; its Prometheus success ratio (non-5xx over all, [5m])
    # is read as the canary's success rate over 5 minutes, with a note.
    (metric,) = sc.analysis_templates["success-rate"].metrics
    assert (metric.interval, metric.failure_limit) == (300.0, 3)
    assert metric.success_condition == "result[0] >= 0.95"
    q = metric.provider.simdeploy
    assert (q.metric, q.of, q.window, q.scale) == ("success_rate", "canary", 300.0, 1.0)
    assert any(
        "prometheus query of 'success-rate' read as {metric: success_rate, of: canary, "
        "window: 5m}" in n
        for n in sc.notes
    )
    r = simulate(sc)
    assert r.record["outcome"] == "completed"
    ev = r.events
    started = ev[ev.reason == "AnalysisRunStarted"].t
    assert len(started) == 1 and float(started.iloc[0]) > 10  # after step 0, not at the deploy


def test_the_scenarios_own_template_wins(tmp_path: Path) -> None:
    path = scenario_of(
        tmp_path, "canary-analysis.yaml", analysisTemplates={"success-rate": SUCCESS_RATE}
    )
    sc = load_scenario(path)
    (metric,) = sc.analysis_templates["success-rate"].metrics
    assert (metric.interval, metric.success_condition) == (10.0, "result >= 0.95")
    r = simulate(sc)
    ev = r.events
    measured = ev[ev.reason == "AnalysisMeasurement"].message
    # Every 10 s from its start (after step 0) until the rollout ends: the canary serves
    # v2 without errors, so each measurement with data is Successful.
    assert (measured.str.endswith("→ Successful")).sum() >= 5
    assert not measured.str.endswith("→ Failed").any()
    assert list(ev[ev.reason == "AnalysisRunSuccessful"].message) == ["Run Terminated"]


def test_workload_ref_takes_the_deployments_pod_template(tmp_path: Path) -> None:
    sc = load_scenario(scenario_of(tmp_path, "workload-ref.yaml"))
    assert sc.service.replicas == 5  # the Rollout's, not the Deployment's 0
    assert sc.service.pod.termination_grace_period_seconds == 20.0
    probe = sc.service.pod.readiness_probe
    assert probe is not None
    assert (probe.initial_delay_seconds, probe.period_seconds) == (3.0, 1.0)
    assert any("the pod template of Deployment 'rollout-ref-deployment'" in n for n in sc.notes)
    # The image warning is at the Deployment's own line.
    assert sc.warnings == [
        "tests/manifests/argo/workload-ref.yaml:40: spec.template.spec.containers[0].image: "
        "not simulated"
    ]


def rollout(strategy: dict[str, Any], **spec: Any) -> str:
    doc = yaml.safe_load((ARGO / "rollout-canary.yaml").read_text())
    doc["spec"]["strategy"] = strategy
    doc["spec"].update(spec)
    return yaml.safe_dump(doc, sort_keys=False)


def errors_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "r.yaml").write_text(text)
    data = {"manifests": ["r.yaml"], "versions": {"v1": {}, "v2": {}}}
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(data, base_dir=tmp_path)
    return [line.replace(str(tmp_path.resolve()) + "/", "") for line in exc.value.errors]


def test_bad_rollouts(tmp_path: Path) -> None:
    bad_weight = rollout({"canary": {"steps": [{"setWeight": 20}, {"setWeight": 140}]}})
    (line,) = errors_of(tmp_path, bad_weight)
    step = 1 + next(i for i, t in enumerate(bad_weight.splitlines()) if "setWeight: 140" in t)
    assert line == (
        f"r.yaml:{step}: spec.strategy.canary.steps[1].setWeight: Invalid value: 140: "
        "SetWeight needs to be between 0 and 100"
    )
    experiment = rollout({"canary": {"steps": [{"experiment": {"templates": []}}]}})
    assert [e.split(": ", 1)[1] for e in errors_of(tmp_path, experiment)] == [
        "spec.strategy.canary.steps[0].experiment.templates: List should have at least 1 item "
        "after validation, not 0"
    ]
    no_strategy = rollout({})
    assert [e.split(": ", 1)[1] for e in errors_of(tmp_path, no_strategy)] == [
        "spec.strategy: a Rollout needs a canary or blueGreen strategy"
    ]
    doc = yaml.safe_load((ARGO / "workload-ref.yaml").read_text().split("---")[0])
    doc["spec"]["workloadRef"]["name"] = "elsewhere"
    (msg,) = errors_of(tmp_path, yaml.safe_dump(doc))
    assert msg.endswith("spec.workloadRef: Deployment 'elsewhere' is not among the manifests")


def test_header_route_without_a_user_share_is_a_warning(tmp_path: Path) -> None:
    route = {"name": "beta", "match": [{"headerName": "x-beta", "headerValue": {"exact": "1"}}]}
    text = rollout(
        {
            "canary": {
                "trafficRouting": {"istio": {"virtualService": {"name": "v"}}},
                "steps": [{"setHeaderRoute": route}, {"pause": {}}],
            }
        }
    )
    (tmp_path / "r.yaml").write_text(text)
    sc = Scenario.parse(
        {"manifests": ["r.yaml"], "versions": {"v1": {}, "v2": {}}}, base_dir=tmp_path
    )
    canary = sc.service.strategy.canary
    assert canary is not None and canary.steps[0].set_header_route is not None
    assert canary.steps[0].set_header_route.user_share == 0.0
    assert any("which users send a matching header" in w for w in sc.warnings)


def test_an_experiment_step_runs_as_argo_runs_it(tmp_path: Path) -> None:
    # Argo's docs (features/experiment.md, "Integration With Rollouts"): a baseline and a
    # canary of one replica each, weight 5, compared by an analysis required for completion.
    strategy = {
        "canary": {
            "trafficRouting": {"istio": {"virtualService": {"name": "v"}}},
            "steps": [
                {"setWeight": 20},
                {
                    "experiment": {
                        "templates": [
                            {"name": "baseline", "specRef": "stable", "weight": 5},
                            {"name": "canary", "specRef": "canary", "weight": 5},
                        ],
                        "analyses": [
                            {
                                "name": "compare",
                                "templateName": "errors",
                                "requiredForCompletion": True,
                                "args": [{"name": "limit", "value": "0.05"}],
                            }
                        ],
                    }
                },
            ],
        }
    }
    template = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "errors"},
        "spec": {
            "args": [{"name": "limit"}],
            "metrics": [
                {
                    "name": "errors",
                    "interval": "10s",
                    "count": 2,
                    "successCondition": "result[0] <= {{args.limit}}",
                    "provider": {
                        "prometheus": {
                            "query": 'sum(rate(req{code=~"5.."}[30s])) / sum(rate(req[30s]))'
                        }
                    },
                }
            ],
        },
    }
    text = rollout(strategy) + "---\n" + yaml.safe_dump(template)
    (tmp_path / "r.yaml").write_text(text)
    data = {"manifests": ["r.yaml"], "versions": {"v1": {}, "v2": {}}, "traffic": {"rate": 20}}
    sc = Scenario.parse(
        {**data, "plan": [{"at": "10s", "action": "deploy", "version": "v2"}]}, base_dir=tmp_path
    )
    canary = sc.service.strategy.canary
    assert canary is not None
    exp = canary.steps[1].experiment
    assert exp is not None
    assert [(t.name, t.spec_ref, t.replicas, t.weight) for t in exp.templates] == [
        ("baseline", "stable", 1, 5),
        ("canary", "canary", 1, 5),
    ]
    assert [(a.template_name, a.required_for_completion) for a in exp.analyses] == [
        ("errors", True)
    ]
    metric = sc.analysis_templates["errors"].metrics[0]
    assert metric.success_condition == "result[0] <= 0.05"  # the reference's args.limit
    r = simulate(sc)
    ev = r.events
    assert (ev.reason == "ExperimentCompleted").sum() == 1
    assert r.record["outcome"] == "completed"
