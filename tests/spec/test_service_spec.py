"""The ``service:`` section (:mod:`simdeploy.spec.service`): Kubernetes' defaults, its
validation messages, and one line naming the field per bad input."""

from __future__ import annotations

import pytest

from simdeploy.spec.scenario import Scenario
from tests.conftest import errors_of, merge


@pytest.mark.parametrize(
    ("over", "message"),
    [
        pytest.param(
            {"service": {"replicass": 3}},
            "service.replicass: unknown field; did you mean 'replicas'?",
            id="typo-gets-did-you-mean",
        ),
        pytest.param(
            {"service": {"pod": {"readinessProbe": {"periodSecond": 3}}}},
            "service.pod.readinessProbe.periodSecond: unknown field; did you mean 'periodSeconds'?",
            id="nested-typo-names-full-path",
        ),
        pytest.param(
            {"service": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}}},
            'service.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": '
            "may not be 0 when `maxSurge` is 0",
            id="both-zero-k8s-message",
        ),
        pytest.param(
            {"service": {"strategy": {"rollingUpdate": {"maxUnavailable": "101%"}}}},
            'service.strategy.rollingUpdate.maxUnavailable: Invalid value: "101%": '
            "must not be greater than 100%",
            id="max-unavailable-over-100pct",
        ),
        pytest.param(
            {"service": {"strategy": {"type": "Recreate"}}},
            "service.strategy.rollingUpdate: Forbidden: may not be specified when "
            "strategy `type` is 'Recreate'",
            id="recreate-with-rolling-params",
        ),
        pytest.param(
            {"service": {"replicas": -1}},
            "service.replicas: Input should be greater than or equal to 0",
            id="negative-replicas",
        ),
        pytest.param(
            {"service": {"progressDeadlineSeconds": 0, "minReadySeconds": 5}},
            "service.progressDeadlineSeconds: Invalid value: must be greater than minReadySeconds",
            id="deadline-not-above-min-ready",
        ),
    ],
)
def test_bad_input_gets_one_line_naming_the_field(over: dict, message: str) -> None:
    assert errors_of(**over) == [message]


def test_several_k8s_errors_are_several_lines() -> None:
    errs = errors_of(
        service={"strategy": {"rollingUpdate": {"maxSurge": "5", "maxUnavailable": "101%"}}}
    )
    assert len(errs) == 2
    assert errs[0].startswith('service.strategy.rollingUpdate.maxSurge: Invalid value: "5"')
    assert errs[1].startswith("service.strategy.rollingUpdate.maxUnavailable")


def test_defaults_follow_kubernetes() -> None:
    sc = Scenario.parse({"service": {"version": "v1"}, "versions": {"v1": {}}})
    assert sc.service.strategy.type == "RollingUpdate"
    assert (sc.service.strategy.rolling.max_surge, sc.service.strategy.rolling.max_unavailable) == (
        "25%",
        "25%",
    )
    assert sc.service.progress_deadline_seconds == 600
    assert sc.service.pod.termination_grace_period_seconds == 30
    assert sc.service.pod.readiness_probe is None  # Kubernetes has no default probe
    probe = Scenario.parse(
        merge(
            {"service": {"version": "v1"}, "versions": {"v1": {}}},
            {"service": {"pod": {"readinessProbe": {}}}},
        )
    )
    p = probe.service.pod.readiness_probe
    assert p is not None
    assert (p.period_seconds, p.success_threshold, p.failure_threshold) == (10, 1, 3)
