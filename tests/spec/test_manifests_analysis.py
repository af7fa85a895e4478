"""``manifests:`` with Argo AnalysisTemplates: metrics bound to simulator queries, args.

A Rollout whose step 1 runs the template ``checks`` (with ``args``), next to the template;
each test writes its own template in the shape of Argo's analysis docs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simdeploy import Scenario, ScenarioError

ROLLOUT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "app"},
    "spec": {
        "replicas": 4,
        "template": {"spec": {"containers": [{"name": "app"}]}},
        "strategy": {
            "canary": {
                "steps": [
                    {"setWeight": 25},
                    {"analysis": {"templates": [{"templateName": "checks"}], "args": []}},
                ]
            }
        },
    },
}
SUCCESS_RATIO = (
    'sum(rate(http_requests_total{code!~"5.."}[2m])) / sum(rate(http_requests_total[2m]))'
)


def template(*metrics: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "checks"},
        "spec": {"metrics": list(metrics), **spec},
    }


def prometheus(name: str, query: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "provider": {"prometheus": {"query": query}}, **fields}


def read(
    tmp_path: Path, tmpl: dict[str, Any], args: list[dict[str, str]] | None = None, **over: Any
) -> Scenario:
    rollout = yaml.safe_load(yaml.safe_dump(ROLLOUT))
    rollout["spec"]["strategy"]["canary"]["steps"][1]["analysis"]["args"] = args or []
    (tmp_path / "m.yaml").write_text(yaml.safe_dump_all([rollout, tmpl], sort_keys=False))
    data = {"manifests": ["m.yaml"], "versions": {"v1": {}, "v2": {}}, **over}
    return Scenario.parse(data, base_dir=tmp_path)


def problems(tmp_path: Path, tmpl: dict[str, Any], **over: Any) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        read(tmp_path, tmpl, **over)
    return [line.replace(str(tmp_path.resolve()) + "/", "") for line in exc.value.errors]


def test_args_are_substituted_as_argo_does(tmp_path: Path) -> None:
    tmpl = template(
        prometheus("ok", SUCCESS_RATIO, successCondition="result[0] >= {{args.threshold}}"),
        args=[{"name": "threshold", "value": "0.9"}, {"name": "service"}],
    )
    # The template's default, then the value the Rollout's reference passes.
    (m,) = read(tmp_path, tmpl).analysis_templates["checks"].metrics
    assert m.success_condition == "result[0] >= 0.9"
    passed = [{"name": "threshold", "value": "0.99"}]
    (m,) = read(tmp_path, tmpl, args=passed).analysis_templates["checks"].metrics
    assert m.success_condition == "result[0] >= 0.99"


def test_an_argument_without_a_value_is_a_problem_where_it_is_used(tmp_path: Path) -> None:
    tmpl = template(
        prometheus("ok", SUCCESS_RATIO, failureLimit="{{args.limit}}"),
        args=[{"name": "limit", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
    )
    (line,) = problems(tmp_path, tmpl)
    assert line.startswith("m.yaml:")
    assert line.split(": ", 1)[1].startswith(
        "spec.metrics[0].failureLimit: args.limit has no value"
    )


@pytest.mark.parametrize(
    ("query", "bound"),
    [
        pytest.param(
            SUCCESS_RATIO, {"metric": "success_rate", "window": 120.0, "scale": 1.0}, id="success"
        ),
        pytest.param(
            'sum(rate(requests{status=~"5.*"}[30s])) / sum(rate(requests[30s]))',
            {"metric": "error_rate", "window": 30.0, "scale": 1.0},
            id="errors",
        ),
        pytest.param(
            "histogram_quantile(0.99, sum(rate("
            "istio_request_duration_milliseconds_bucket[1m])) by (le))",
            {"metric": "latency_p99", "window": 60.0, "scale": 1000.0},
            id="latency-ms",
        ),
        pytest.param(
            "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))",
            {"metric": "latency_p95", "window": 300.0, "scale": 1.0},
            id="latency-s",
        ),
    ],
)
def test_common_promql_shapes_are_bound(tmp_path: Path, query: str, bound: dict[str, Any]) -> None:
    sc = read(tmp_path, template(prometheus("m", query, successCondition="result[0] > 0")))
    q = sc.analysis_templates["checks"].metrics[0].provider.simdeploy
    assert {"metric": q.metric, "window": q.window, "scale": q.scale} == bound
    assert q.of == "canary"
    assert any("prometheus query of 'm' read as" in n for n in sc.notes)


def test_an_unknown_query_needs_a_binding(tmp_path: Path) -> None:
    datadog = {
        "name": "error-rate",
        "successCondition": "result < 0.05",
        "provider": {"datadog": {"query": "sum:requests.error{service:app}.as_count()"}},
    }
    (line,) = problems(tmp_path, template(datadog))
    assert "spec.metrics[0].provider: metric 'error-rate' (datadog) is not bound" in line
    assert "metricBindings: {checks/error-rate: {metric: success_rate" in line
    # Bound by template/metric, or by the metric's name alone.
    for key in ("checks/error-rate", "error-rate"):
        binding = {key: {"metric": "error_rate", "of": "canary", "window": "1m"}}
        sc = read(tmp_path, template(datadog), metricBindings=binding)
        q = sc.analysis_templates["checks"].metrics[0].provider.simdeploy
        assert (q.metric, q.window) == ("error_rate", 60.0)


def test_dry_run_metrics(tmp_path: Path) -> None:
    tmpl = template(
        prometheus("a", SUCCESS_RATIO, successCondition="result[0] > 0.9"),
        prometheus("b", SUCCESS_RATIO, successCondition="result[0] > 0.9"),
        dryRun=[{"metricName": "b"}],
    )
    metrics = read(tmp_path, tmpl).analysis_templates["checks"].metrics
    assert [(m.name, m.dry_run) for m in metrics] == [("a", False), ("b", True)]


def test_a_bad_condition_is_reported_at_the_templates_line(tmp_path: Path) -> None:
    tmpl = template(prometheus("a", SUCCESS_RATIO, successCondition="result[0] >== 1"))
    (line,) = problems(tmp_path, tmpl)
    text = (tmp_path / "m.yaml").read_text()
    metric_line = 1 + next(i for i, t in enumerate(text.splitlines()) if t.strip() == "- name: a")
    assert line.startswith(f"m.yaml:{metric_line}: spec.metrics[0].successCondition: ")
    assert "invalid condition" in line


def kayenta_metric(**provider: Any) -> dict[str, Any]:
    """The metric of Argo's Kayenta docs (docs/analysis/kayenta.md), interval and count form."""
    scope = {"scope": "app=guestbook and rollouts-pod-template-hash={{args.canary-hash}}"}
    return {
        "name": "mann-whitney",
        "interval": "60s",
        "count": 3,
        "provider": {
            "kayenta": {
                "address": "https://kayenta.example.com",
                "application": "guestbook",
                "canaryConfigName": "my-test",
                "thresholds": {"pass": 90, "marginal": 75},
                "scopes": [
                    {
                        "name": "default",
                        "controlScope": {**scope, "step": 60},
                        "experimentScope": {**scope, "step": 60},
                    }
                ],
                **provider,
            }
        },
    }


CANARY_CONFIG = {"metrics": [{"name": "errors", "metric": "error_rate", "groups": ["errors"]}]}


def test_a_kayenta_metric_reads_its_canary_config_from_the_bindings(tmp_path: Path) -> None:
    # Argo's provider: thresholds, the scope's step, lookback. The canary config (my-test)
    # lives in Kayenta: its metrics are the binding's.
    args = [{"name": "stable-hash"}, {"name": "canary-hash"}]
    tmpl = template(kayenta_metric(), args=args)
    (line,) = problems(tmp_path, tmpl)
    assert (
        "spec.metrics[0].provider.kayenta: metric 'mann-whitney' (kayenta, canaryConfigName "
        in line
    )
    assert "'my-test') judges the metrics of a canary config that lives in Kayenta" in line
    assert "add metricBindings: {checks/mann-whitney: {metrics: [{name: errors" in line
    sc = read(tmp_path, tmpl, metricBindings={"mann-whitney": CANARY_CONFIG})
    (m,) = sc.analysis_templates["checks"].metrics
    k = m.provider.kayenta
    assert k is not None and (m.interval, m.count) == (60.0, 3)
    assert (k.thresholds.pass_, k.thresholds.marginal, k.step, k.lookback) == (90, 75, 60.0, False)
    assert [km.name for km in k.metrics] == ["errors"] and (k.baseline, k.canary) == (
        "stable",
        "canary",
    )
    assert any(
        "canary config 'my-test' of 'mann-whitney' read from metricBindings" in n for n in sc.notes
    )
    # Kayenta's address and accounts are read, not warned about; `thresholds` (the docs'
    # spelling) is read, with a warning that Argo's CRD field is `threshold`.
    (warning,) = sc.warnings
    assert "spec.metrics[0].provider.kayenta.thresholds: read as threshold" in warning


def test_kayenta_spellings_and_windows(tmp_path: Path) -> None:
    # Argo's API field is `threshold` (the docs write `thresholds`); a scope with start and
    # end (the experiment example) is the window since the analysis began: lookback. A
    # condition is dropped: Argo's Kayenta provider never reads one.
    metric = kayenta_metric(threshold={"pass": 80, "marginal": 60}, lookback=True)
    del metric["provider"]["kayenta"]["thresholds"]
    metric["successCondition"] = "result > 50"
    bound = {"checks/mann-whitney": {**CANARY_CONFIG, "groupWeights": {"errors": 100}}}
    sc = read(tmp_path, template(metric), metricBindings=bound)
    (m,) = sc.analysis_templates["checks"].metrics
    assert m.success_condition is None and m.provider.kayenta is not None
    assert (m.provider.kayenta.thresholds.pass_, m.provider.kayenta.lookback) == (80, True)
    assert any("successCondition: dropped" in w for w in sc.warnings)
    assert not any("read as threshold" in w for w in sc.warnings)  # the CRD's own spelling
    timed = kayenta_metric()
    timed["provider"]["kayenta"]["scopes"][0]["experimentScope"]["start"] = "2019-03-29T01:08:34Z"
    sc = read(tmp_path, template(timed), metricBindings=bound)
    assert sc.analysis_templates["checks"].metrics[0].provider.kayenta.lookback is True  # type: ignore[union-attr]
    assert any("start and end read as lookback" in n for n in sc.notes)
