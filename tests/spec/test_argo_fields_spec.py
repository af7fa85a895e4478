"""The Argo fields issue 8 brought in line with upstream, as the scenario file spells them.

``pause.duration`` is Argo's int-or-string in whole seconds (RolloutPause.DurationSeconds);
``replicaProgressThreshold`` is ``{type: Percent|Pods, value}``; ``abortScaleDownDelaySeconds``
is "explicit" when present in the file, whatever its value.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy.spec.progressive import ArgoBlueGreen, ArgoCanary
from tests.conftest import errors_of, scenario

ROUTER = {"istio": {}}


def _deploy(strategy: dict[str, Any]) -> dict[str, Any]:
    return {"plan": [{"at": "10s", "action": "deploy", "version": "v2", "strategy": strategy}]}


def _pause(duration: Any) -> dict[str, Any]:
    return _deploy({"canary": {"steps": [{"setWeight": 50}, {"pause": {"duration": duration}}]}})


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        pytest.param(10, 10, id="int"),
        pytest.param("10", 10, id="digits"),
        pytest.param("10s", 10, id="go-seconds"),
        pytest.param("1h", 3600, id="go-hour"),
        pytest.param("1m30s", 90, id="go-two-units"),
        pytest.param("1ms", 0, id="ms-truncated-to-0"),
        pytest.param("1500ms", 1, id="fraction-truncated"),
        pytest.param("0", 0, id="zero"),
        pytest.param(2**31 - 1, 2**31 - 1, id="int32-max"),
    ],
)
def test_pause_duration_is_whole_seconds(duration: Any, seconds: int) -> None:
    sc = scenario(**_pause(duration))
    canary = sc.plan[0].strategy.canary
    assert canary is not None
    pause = canary.steps[1].pause
    assert pause is not None and pause.duration == seconds
    assert isinstance(pause.duration, int)


@pytest.mark.parametrize(
    ("duration", "needle"),
    [
        pytest.param("1z", "invalid duration '1z'", id="unknown-unit"),
        pytest.param("20000000000", "invalid duration '20000000000'", id="digits-beyond-int32"),
        pytest.param(2**31, "more seconds than an int32 holds", id="int-beyond-int32"),
        pytest.param(-5, "must be >= 0 seconds", id="negative-int"),
        pytest.param("-2s", "must be >= 0 seconds", id="negative-duration"),
        pytest.param(1.5, "whole seconds (an integer)", id="yaml-float"),
        pytest.param("10 s", "invalid duration '10 s'", id="space-before-unit"),
        pytest.param("1d", "invalid duration '1d'", id="no-day-unit"),
    ],
)
def test_bad_pause_duration_gets_one_line(duration: Any, needle: str) -> None:
    errors = errors_of(**_pause(duration))
    assert len(errors) == 1, errors
    assert "plan[0].strategy.canary.steps[1].pause.duration" in errors[0]
    assert needle in errors[0]


@pytest.mark.parametrize("kind", ["Percent", "Pods", "Pod"])
def test_replica_progress_threshold_types(kind: str) -> None:
    c = ArgoCanary.model_validate(
        {"trafficRouting": ROUTER, "replicaProgressThreshold": {"type": kind, "value": 50}}
    )
    assert c.replica_progress_threshold is not None
    rule = c.replica_progress_threshold.to_rule()
    assert (rule.type, rule.value) == (kind, 50)


@pytest.mark.parametrize(
    ("threshold", "needle"),
    [
        pytest.param({"type": "Percent", "value": 150}, "can never be met", id="percent-above-100"),
        pytest.param({"type": "Pods", "value": 0}, "greater than or equal to 1", id="zero"),
        pytest.param({"type": "Pods", "value": -3}, "greater than or equal to 1", id="negative"),
        pytest.param({"type": "Ratio", "value": 5}, "'Percent', 'Pods' or 'Pod'", id="bad-type"),
        pytest.param({"type": "Pods"}, "value", id="value-required"),
        pytest.param({"value": 5}, "type", id="type-required"),
    ],
)
def test_bad_replica_progress_threshold(threshold: dict[str, Any], needle: str) -> None:
    canary = {"trafficRouting": ROUTER, "steps": [], "replicaProgressThreshold": threshold}
    errors = errors_of(**_deploy({"canary": canary}))
    assert len(errors) == 1, errors
    assert "replicaProgressThreshold" in errors[0]
    assert needle in errors[0]


@pytest.mark.parametrize(
    ("model", "data", "given"),
    [
        pytest.param(ArgoCanary, {}, None, id="canary-absent"),
        pytest.param(ArgoCanary, {"abortScaleDownDelaySeconds": 30}, 30.0, id="canary-30-given"),
        pytest.param(ArgoCanary, {"abortScaleDownDelaySeconds": 0}, 0.0, id="canary-0-given"),
        pytest.param(ArgoBlueGreen, {}, None, id="blue-green-absent"),
        pytest.param(ArgoBlueGreen, {"abortScaleDownDelaySeconds": 0}, 0.0, id="blue-green-0"),
    ],
)
def test_abort_scale_down_delay_given_means_present(
    model: type[ArgoCanary] | type[ArgoBlueGreen], data: dict[str, Any], given: float | None
) -> None:
    spec = model.model_validate(data)
    assert spec.abort_scale_down_delay_seconds == (30.0 if given is None else given)
    assert spec.abort_scale_down_delay_given == given
