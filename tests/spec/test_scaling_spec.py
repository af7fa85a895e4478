"""The fields of proportional scaling, autoscaling, revision history and liveness probes:
defaults, the API server's validation messages (every problem at once), and the strategies
they are modelled with."""

from __future__ import annotations

import pytest

from simdeploy.spec.scenario import Scenario
from tests.conftest import base_dict, errors_of, scenario

HPA = {"minReplicas": 2, "maxReplicas": 8}


def test_defaults_are_upstreams() -> None:
    sc = scenario(service={"autoscaler": {"maxReplicas": 5}})
    hpa = sc.service.autoscaler
    assert hpa is not None
    assert (hpa.min_replicas, hpa.target_cpu_utilization_percentage) == (1, 80)
    assert (hpa.sync_period, hpa.tolerance, hpa.downscale_stabilization) == (15.0, 0.1, 300.0)
    assert (hpa.cpu_initialization_period, hpa.initial_readiness_delay) == (300.0, 30.0)
    assert sc.service.revision_history_limit == 10
    assert sc.service.pod.liveness_probe is None


def test_autoscaler_spelling_and_durations() -> None:
    sc = scenario(
        service={
            "autoscaler": {
                **HPA,
                "targetCPUUtilizationPercentage": 60,
                "syncPeriod": "30s",
                "downscaleStabilization": "1m",
            }
        }
    )
    hpa = sc.service.autoscaler
    assert hpa is not None
    assert (hpa.target_cpu_utilization_percentage, hpa.sync_period) == (60, 30.0)
    assert hpa.downscale_stabilization == 60.0


def test_every_autoscaler_problem_is_reported_at_once_with_the_api_servers_words() -> None:
    errors = errors_of(
        service={
            "autoscaler": {"minReplicas": 0, "maxReplicas": -1, "targetCPUUtilizationPercentage": 0}
        }
    )
    assert errors == [
        "service.autoscaler.minReplicas: Invalid value: 0: must be greater than or equal to 1",
        "service.autoscaler.maxReplicas: Invalid value: -1: must be greater than 0",
        "service.autoscaler.maxReplicas: Invalid value: -1: "
        "must be greater than or equal to `minReplicas`",
        "service.autoscaler.targetCPUUtilizationPercentage: Invalid value: 0: "
        "must be greater than 0",
    ]


def test_max_below_min() -> None:
    assert errors_of(service={"autoscaler": {"minReplicas": 5, "maxReplicas": 3}}) == [
        "service.autoscaler.maxReplicas: Invalid value: 3: "
        "must be greater than or equal to `minReplicas`"
    ]


def test_max_replicas_is_required() -> None:
    assert errors_of(service={"autoscaler": {"minReplicas": 2}}) == [
        "service.autoscaler.maxReplicas: required field is missing"
    ]


@pytest.mark.parametrize(
    ("over", "fragment"),
    [
        pytest.param(
            {"service": {"pod": {"livenessProbe": {"successThreshold": 2}}}},
            "service.pod.livenessProbe.successThreshold: Invalid value: 2: must be 1",
            id="liveness-success-threshold-must-be-1",
        ),
        pytest.param(
            {"service": {"revisionHistoryLimit": -1}},
            "service.revisionHistoryLimit:",
            id="negative-revision-history-limit",
        ),
        pytest.param(
            {"plan": [{"at": "10s", "action": "scale"}]},
            "scale needs 'replicas'",
            id="scale-without-replicas",
        ),
        pytest.param(
            {"plan": [{"at": "10s", "action": "scale", "replicas": -2}]},
            "plan[0].replicas:",
            id="negative-replicas",
        ),
        pytest.param(
            {"plan": [{"at": "10s", "action": "deploy", "version": "v2", "replicas": 3}]},
            "replicas belongs to a scale action",
            id="replicas-on-a-deploy",
        ),
        pytest.param(
            {"plan": [{"at": "10s", "action": "scale", "replicas": 3, "version": "v2"}]},
            "scale takes only 'at' and 'replicas'",
            id="scale-with-a-version",
        ),
    ],
)
def test_bad_fields_are_named(over: dict, fragment: str) -> None:
    errors = errors_of(**over)
    assert any(fragment in line for line in errors), errors


def test_liveness_probe_with_success_threshold_one_is_valid() -> None:
    sc = scenario(service={"pod": {"livenessProbe": {"successThreshold": 1, "periodSeconds": 3}}})
    probe = sc.service.pod.liveness_probe
    assert probe is not None and probe.period_seconds == 3.0 and probe.failure_threshold == 3


@pytest.mark.parametrize(
    ("over", "who", "strategy"),
    [
        pytest.param(
            {"service": {"autoscaler": HPA}, "compare": {"canary": {"canary": {"steps": []}}}},
            "service.autoscaler",
            "Canary strategy of compare.canary",
            id="autoscaler-with-an-argo-canary-variant",
        ),
        pytest.param(
            {
                "plan": [
                    {
                        "at": "10s",
                        "action": "deploy",
                        "version": "v2",
                        "strategy": {"blueGreen": {}},
                    },
                    {"at": "20s", "action": "scale", "replicas": 6},
                ]
            },
            "plan[1]",
            "BlueGreen strategy of plan[0].strategy",
            id="scale-with-a-blue-green-deploy",
        ),
    ],
)
def test_replica_changes_need_a_kubernetes_strategy(over: dict, who: str, strategy: str) -> None:
    (line,) = errors_of(**over)
    assert line.startswith(f"{who}: a replica change is modelled for Recreate and RollingUpdate")
    assert line.endswith(strategy)


def test_kubernetes_strategies_take_replica_changes() -> None:
    d = base_dict(
        service={"autoscaler": HPA},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2", "strategy": {"type": "Recreate"}},
            {"at": "20s", "action": "scale", "replicas": 6},
        ],
        compare={"rolling": {"type": "RollingUpdate"}, "recreate": {"type": "Recreate"}},
    )
    assert Scenario.parse(d).plan[1].replicas == 6


@pytest.mark.parametrize(
    ("over", "field"),
    [
        pytest.param(
            {"plan": [{"at": "10s", "action": "scale", "replicas": 1_000_000}]},
            "plan[0].replicas",
            id="scale-action",
        ),
        pytest.param(
            {"service": {"autoscaler": {"maxReplicas": 1_000_000}}},
            "service.autoscaler.maxReplicas",
            id="autoscaler-max",
        ),
        pytest.param(
            {"service": {"pod": {"livenessProbe": {"periodSeconds": 1e-6}}}},
            "service.pod.livenessProbe.periodSeconds",
            id="liveness-period",
        ),
    ],
)
def test_the_size_estimate_counts_replica_changes_and_liveness_probes(
    over: dict, field: str
) -> None:
    """A run these fields would make too large is refused up front, naming the field."""
    errors = errors_of(**over)
    assert any(e.startswith(f"{field}: too large to simulate") for e in errors), errors
