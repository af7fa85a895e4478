"""``manifests:`` with a Flagger Canary: its analysis becomes service.strategy.flagger, its
targetRef Deployment gives the pods (tests/manifests/flagger/podinfo.yaml: the shape of
Flagger's Istio tutorial)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simdeploy import Scenario, ScenarioError, simulate
from tests.conftest import ROOT

PODINFO = ROOT / "tests" / "manifests" / "flagger" / "podinfo.yaml"
STARTER = {
    "versions": {"v1": {}, "v2": {}},
    "traffic": {"rate": 20, "users": 100},
    "plan": [{"at": "10s", "action": "deploy", "version": "v2"}],
    "simulation": {"duration": "3m"},
}


@pytest.fixture(autouse=True)
def _in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_the_tutorial_canary_runs() -> None:
    sc = Scenario.parse({"manifests": [str(PODINFO)], **STARTER})
    flagger = sc.service.strategy.flagger
    assert flagger is not None
    a = flagger.analysis
    assert (a.interval, a.threshold, a.max_weight, a.step_weight) == (10.0, 5, 50, 10)
    assert [(m.name, m.interval) for m in a.metrics] == [
        ("request-success-rate", 60.0),
        ("request-duration", 30.0),
    ]
    assert a.metrics[0].threshold_range.min == 99 and a.metrics[1].threshold_range.max == 500
    # The pods are the targetRef Deployment's (Kubernetes' default replicas 1).
    s = sc.service
    assert (s.replicas, s.min_ready_seconds, s.revision_history_limit) == (1, 3.0, 5)
    probe = s.pod.readiness_probe
    assert probe is not None and (probe.initial_delay_seconds, probe.timeout_seconds) == (5, 5)
    assert [n.split(": ", 2)[2] for n in sc.notes[:2]] == [
        "pre-rollout webhook 'acceptance-test': taken to pass",
        "rollout webhook 'load-test': taken to pass",
    ]
    assert [(h.name, h.type) for h in sc.service.strategy.flagger.analysis.webhooks] == [
        ("acceptance-test", "pre-rollout"),
        ("load-test", "rollout"),
    ]
    assert any(
        "spec.autoscalerRef: the autoscaler of a Flagger canary is not simulated" in w
        for w in sc.warnings
    )
    r = simulate(sc)
    # Deployed at 10 s; 5 steps of 10 s to 50%, then promotion: complete within 3 minutes.
    assert r.record["outcome"] == "completed"
    assert r.timeline["requests[v2]"].sum() > 0


def canary(**analysis: Any) -> str:
    docs = list(yaml.safe_load_all(PODINFO.read_text()))
    docs[2]["spec"]["analysis"].update(analysis)
    return yaml.safe_dump_all(docs, sort_keys=False)


def problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse({"manifests": ["c.yaml"], **STARTER}, base_dir=tmp_path)
    return [
        line.split(": ", 2)[1:] and ": ".join(line.split(": ")[1:]) for line in exc.value.errors
    ]


def test_gates_wait_for_a_promote(tmp_path: Path) -> None:
    gate = {"name": "approve", "type": "confirm-promotion", "url": "http://gate/"}
    (tmp_path / "c.yaml").write_text(canary(webhooks=[gate]))
    sc = Scenario.parse({"manifests": ["c.yaml"], **STARTER}, base_dir=tmp_path)
    flagger = sc.service.strategy.flagger
    assert flagger is not None
    assert [(h.name, h.type, h.approved) for h in flagger.analysis.webhooks] == [
        ("approve", "confirm-promotion", False)
    ]
    assert any(
        "confirm-promotion webhook 'approve': waits for a promote plan action" in n
        for n in sc.notes
    )
    # Without a promote action the canary waits at maxWeight to the end of the run.
    assert simulate(sc).record["outcome"] == "running"


def test_a_missing_target_is_a_problem(tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all(PODINFO.read_text()))[1:]  # without the Deployment
    (tmp_path / "c.yaml").write_text(yaml.safe_dump_all(docs))
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse({"manifests": ["c.yaml"], **STARTER}, base_dir=tmp_path)
    assert any(
        "spec.targetRef: Deployment 'podinfo' is not among the manifests" in e
        for e in exc.value.errors
    )


#: Flagger's docs' custom metric (usage/metrics.md): a MetricTemplate with a Prometheus query
#: of the 404 percentage, used by the Canary with thresholdRange max 5.
NOT_FOUND_TEMPLATE = {
    "apiVersion": "flagger.app/v1beta1",
    "kind": "MetricTemplate",
    "metadata": {"name": "not-found-percentage"},
    "spec": {
        "provider": {"type": "prometheus", "address": "http://prometheus.istio-system:9090"},
        "query": 'sum(rate(istio_requests_total{response_code="404"}[{{ interval }}])) / '
        "sum(rate(istio_requests_total[{{ interval }}])) * 100",
    },
}
NOT_FOUND = {
    "name": "404s percentage",
    "templateRef": {"name": "not-found-percentage"},
    "thresholdRange": {"max": 5},
    "interval": "1m",
}
ERRORS_TEMPLATE = {
    **NOT_FOUND_TEMPLATE,
    "metadata": {"name": "error-rate"},
    "spec": {
        "provider": {"type": "prometheus"},
        "query": 'sum(rate(http_requests_total{status=~"5.*"}[1m])) / '
        "sum(rate(http_requests_total[1m]))",
    },
}


def with_template(template: dict[str, Any], metric: dict[str, Any]) -> str:
    return canary(metrics=[metric]) + "---\n" + yaml.safe_dump(template)


def test_a_metric_template_needs_a_binding_or_a_known_query(tmp_path: Path) -> None:
    # The 404 percentage is no shape simdeploy knows: the problem names the binding to add.
    (line,) = problems(tmp_path, with_template(NOT_FOUND_TEMPLATE, NOT_FOUND))
    assert line.startswith(
        "spec.analysis.metrics[0].templateRef: metric '404s percentage' (prometheus query of "
        "MetricTemplate 'not-found-percentage') is not bound to a simulator metric"
    )
    # Bound by the scenario (the error rate, in percent), it runs.
    (tmp_path / "c.yaml").write_text(with_template(NOT_FOUND_TEMPLATE, NOT_FOUND))
    binding = {"404s percentage": {"metric": "error_rate", "of": "canary", "scale": 100}}
    sc = Scenario.parse(
        {"manifests": ["c.yaml"], **STARTER, "metricBindings": binding}, base_dir=tmp_path
    )
    flagger = sc.service.strategy.flagger
    assert flagger is not None
    (m,) = flagger.analysis.metrics
    assert m.query is not None and (m.query.metric, m.query.scale) == ("error_rate", 100.0)
    assert simulate(sc).record["outcome"] == "completed"


def test_a_recognised_metric_template_query_is_bound_with_a_note(tmp_path: Path) -> None:
    metric = {**NOT_FOUND, "name": "error-rate", "templateRef": {"name": "error-rate"}}
    (tmp_path / "c.yaml").write_text(with_template(ERRORS_TEMPLATE, metric))
    sc = Scenario.parse({"manifests": ["c.yaml"], **STARTER}, base_dir=tmp_path)
    flagger = sc.service.strategy.flagger
    assert flagger is not None
    (m,) = flagger.analysis.metrics
    assert m.query is not None and m.query.metric == "error_rate"
    assert any("spec.query of MetricTemplate 'error-rate' read as" in n for n in sc.notes)
