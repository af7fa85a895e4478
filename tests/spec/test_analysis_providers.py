"""``provider: {kayenta: ...}`` and ``provider: {sequential: ...}``: the file format.

Exactly one provider per metric; Kayenta's names and defaults; one line per problem, naming
the field.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy.spec.progressive import KayentaQuery, Metric, SequentialQuery
from tests.conftest import errors_of, scenario

P = "analysisTemplates.t.metrics[0]"


def kayenta(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "thresholds": {"pass": 90, "marginal": 75},
        "metrics": [
            {"name": "errors", "metric": "error_rate", "groups": ["errors"]},
            {"name": "p95", "metric": "latency_p95", "groups": ["latency"]},
        ],
    }
    spec.update(over)
    return spec


def templates(provider: dict[str, Any], **metric: Any) -> dict[str, Any]:
    return {"t": {"metrics": [{"name": "m", "interval": "1m", "provider": provider, **metric}]}}


def test_kayenta_defaults_are_kayentas() -> None:
    q = KayentaQuery.model_validate(kayenta())
    m = q.metrics[0]
    assert (m.direction, m.nan_strategy, m.outliers.strategy, m.outliers.outlier_factor) == (
        "either",
        "remove",
        "keep",
        3.0,
    )
    assert (m.critical, m.must_have_data, m.muted, m.effect_size.measure) == (
        False,
        False,
        False,
        "meanRatio",
    )
    assert (q.baseline, q.canary, q.step, q.lookback) == ("stable", "canary", 10.0, False)
    assert (q.thresholds.pass_, q.thresholds.marginal) == (90, 75)


def test_sequential_defaults() -> None:
    q = SequentialQuery()
    assert (q.metric, q.baseline, q.canary, q.alpha, q.concentration, q.direction) == (
        "error_count",
        "stable",
        "canary",
        0.05,
        100.0,
        "increase",
    )


def test_a_scenario_with_both_judges_validates() -> None:
    sc = scenario(
        analysisTemplates={
            "k": templates(
                {"kayenta": kayenta(groupWeights={"errors": 70, "latency": 30}, step="15s")}
            )["t"],
            "s": templates({"sequential": {"alpha": 0.01}})["t"],
        }
    )
    assert sc.analysis_templates["k"].metrics[0].provider.kind == "kayenta"
    assert sc.analysis_templates["s"].metrics[0].provider.sequential.alpha == 0.01  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("provider", "metric", "line"),
    [
        ({}, {}, f"{P}.provider: give exactly one of simdeploy, kayenta, sequential (got none)"),
        (
            {"simdeploy": {"metric": "error_rate"}, "sequential": {}},
            {},
            f"{P}.provider: give exactly one of simdeploy, kayenta, sequential "
            "(got simdeploy and sequential)",
        ),
        (
            {"kayenta": kayenta(thresholds={"pass": 70, "marginal": 80})},
            {},
            f"{P}.provider.kayenta.thresholds.marginal: above pass (70): no score could be "
            "Inconclusive",
        ),
        (
            {"kayenta": kayenta(groupWeights={"errors": 50, "latnecy": 50})},
            {},
            f"{P}.provider.kayenta.groupWeights.latnecy: no metric is in group 'latnecy' "
            "(groups: errors, latency)",
        ),
        (
            {"kayenta": kayenta(groupWeights={"errors": 80, "latency": 30})},
            {},
            f"{P}.provider.kayenta.groupWeights: the weights add up to 110: Kayenta's weights "
            "total 100",
        ),
        (
            {"kayenta": kayenta(groupWeights={"errors": 50, "latency": 30})},
            {},
            f"{P}.provider.kayenta.groupWeights: the weights add up to 80, so no score could "
            "reach 100: they total 100",
        ),
        (
            {
                "kayenta": kayenta(
                    metrics=[
                        {"name": "a", "metric": "error_rate", "groups": ["g"]},
                        {"name": "a", "metric": "latency_p99", "groups": ["g"]},
                    ]
                )
            },
            {},
            f"{P}.provider.kayenta.metrics[1].name: 'a' is given twice",
        ),
        (
            {"kayenta": kayenta(metrics=[{"name": "a", "metric": "error_rate", "groups": []}])},
            {},
            f"{P}.provider.kayenta.metrics[0].groups: List should have at least 1 item",
        ),
        (
            {"kayenta": kayenta(metrics=[{"name": "a", "metric": "errors", "groups": ["g"]}])},
            {},
            f"{P}.provider.kayenta.metrics[0].metric: Input should be 'success_rate'",
        ),
        (
            {"kayenta": kayenta(baseline="stabel")},
            {},
            f"{P}.provider.kayenta.baseline: unknown role or version 'stabel'; did you mean "
            "'stable'?",
        ),
        (
            {"sequential": {"canary": "v3"}},
            {},
            f"{P}.provider.sequential.canary: unknown role or version 'v3'",
        ),
        (
            {"kayenta": kayenta(step="500ms")},
            {},
            f"{P}.provider.kayenta.step: 0.5 s is shorter than simulation.bucket (1 s): a "
            "sample covers whole buckets, so every one would be empty",
        ),
        ({"sequential": {"alpha": 1}}, {}, f"{P}.provider.sequential.alpha: Input should be less"),
        (
            {"sequential": {}},
            {"successCondition": "result < 20"},
            f"{P}.successCondition: the sequential provider decides the measurement's phase "
            "itself; a condition would never be read",
        ),
        (
            {"kayenta": kayenta()},
            {"failureCondition": "result < 50"},
            f"{P}.failureCondition: the kayenta provider decides the measurement's phase",
        ),
    ],
)
def test_one_line_per_problem(provider: dict[str, Any], metric: dict[str, Any], line: str) -> None:
    errors = errors_of(analysisTemplates=templates(provider, **metric))
    assert any(e.startswith(line) for e in errors), errors
    assert len(errors) == 1, errors


def test_the_provider_names_its_roles() -> None:
    m = Metric.model_validate(
        {"name": "m", "provider": {"kayenta": kayenta(baseline="v1", canary="canary")}}
    )
    assert m.provider.role_fields() == [("baseline", "v1"), ("canary", "canary")]
    s = Metric.model_validate({"name": "m", "provider": {"sequential": {}}})
    assert s.provider.kind == "sequential"
