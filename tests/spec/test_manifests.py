"""``manifests:``: a scenario's service: read from real Kubernetes manifests.

The fixtures in ``tests/manifests/`` have the shape of upstream examples: the Kubernetes docs'
nginx Deployment, and a team's file with a Service, a Deployment (probes with handlers, a
preStop ``exec`` of ``sleep 10``, a sidecar), an ``autoscaling/v2`` HPA and a ConfigMap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simdeploy import Scenario, ScenarioError, load_scenario, simulate
from simdeploy.cli import main
from tests.conftest import ROOT

MANIFESTS = ROOT / "tests" / "manifests"
NGINX = (MANIFESTS / "nginx-deployment.yaml").read_text()
SCENARIO = {
    "versions": {"v1": {}, "v2": {}},
    "traffic": {"rate": 20, "users": 100},
    "plan": [{"at": "10s", "action": "deploy", "version": "v2"}],
    "simulation": {"duration": "1m"},
}


def write(folder: Path, files: dict[str, str], **scenario: Any) -> Path:
    """The files, and ``scenario.yaml`` (SCENARIO with ``scenario`` over it) in ``folder``."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump({**SCENARIO, **scenario}))
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    return exc.value.errors


# --- what is read ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """Manifest paths are shown relative to the working directory: the repository's root."""
    monkeypatch.chdir(ROOT)


def test_the_kubernetes_docs_nginx_deployment_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, {"nginx-deployment.yaml": NGINX}, manifests=["nginx-deployment.yaml"])
    sc = load_scenario(path)
    assert sc.name == "nginx-deployment"
    assert sc.service.replicas == 3
    assert sc.service.version == "v1"  # the first of versions:
    assert sc.service.strategy.type == "RollingUpdate"  # Kubernetes' default, 25% / 25%
    assert sc.service.pod.readiness_probe is None  # none in the manifest, none simulated
    # Its image and port are not simulated: one warning each, at their lines.
    assert sc.warnings == [
        "nginx-deployment.yaml:20: spec.template.spec.containers[0].image: not simulated",
        "nginx-deployment.yaml:21: spec.template.spec.containers[0].ports: not simulated",
    ]
    result = simulate(sc)
    assert result.record["outcome"] == "completed"


def test_a_multi_document_file_fills_service() -> None:
    sc = load_scenario(MANIFESTS / "checkout.yaml")
    s = sc.service
    assert sc.name == "checkout"
    assert (s.replicas, s.revision_history_limit, s.min_ready_seconds) == (6, 5, 5.0)
    assert s.progress_deadline_seconds == 300.0
    assert (s.strategy.rolling.max_surge, s.strategy.rolling.max_unavailable) == (2, 0)
    assert s.pod.termination_grace_period_seconds == 45.0
    ready = s.pod.readiness_probe
    assert ready is not None  # httpGet handler: its timing fields are read
    assert (ready.initial_delay_seconds, ready.period_seconds, ready.failure_threshold) == (
        5.0,
        2.0,
        2,
    )
    live = s.pod.liveness_probe
    assert live is not None  # tcpSocket handler
    assert (live.initial_delay_seconds, live.period_seconds) == (15.0, 10.0)
    assert s.pod.pre_stop_sleep_s == 10.0  # exec ["/bin/sh", "-c", "sleep 10"]
    hpa = s.autoscaler
    assert hpa is not None
    assert (hpa.min_replicas, hpa.max_replicas, hpa.target_cpu_utilization_percentage) == (
        4,
        12,
        60,
    )
    # Sorted by line; the sidecar and the app's image and resources are not simulated.
    assert [w.split(": ", 1)[0] for w in sc.warnings] == [
        "tests/manifests/app.yaml:33",
        "tests/manifests/app.yaml:34",
        "tests/manifests/app.yaml:49",
    ]
    assert "container 'envoy' not simulated" in sc.warnings[2]
    assert sc.notes[:2] == [
        "tests/manifests/app.yaml:2: Service 'checkout': skipped (not simulated)",
        "tests/manifests/app.yaml:48: spec.template.spec.containers[0].lifecycle.preStop.exec."
        "command: read as a sleep of 10 s",
    ]
    assert "ConfigMap 'checkout-config': skipped" in sc.notes[2]


def test_the_manifest_form_runs_as_the_hand_written_scenario() -> None:
    from_manifests = load_scenario(MANIFESTS / "checkout.yaml")
    data = yaml.safe_load((MANIFESTS / "checkout.yaml").read_text())
    del data["manifests"]
    data["name"] = "checkout"
    data["service"] = {
        "version": "v1",
        "replicas": 6,
        "revisionHistoryLimit": 5,
        "minReadySeconds": 5,
        "progressDeadlineSeconds": 300,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0},
        },
        "autoscaler": {"minReplicas": 4, "maxReplicas": 12, "targetCPUUtilizationPercentage": 60},
        "pod": {
            "terminationGracePeriodSeconds": 45,
            "readinessProbe": {"initialDelaySeconds": 5, "periodSeconds": 2, "failureThreshold": 2},
            "livenessProbe": {"initialDelaySeconds": 15, "periodSeconds": 10},
            "lifecycle": {"preStop": {"sleep": {"seconds": 10}}},
        },
    }
    by_hand = Scenario.parse(data)
    assert from_manifests.model_dump(exclude={"manifests"}) == by_hand.model_dump(
        exclude={"manifests"}
    )
    assert simulate(from_manifests).record == simulate(by_hand).record


def test_the_scenario_overrides_the_manifest(tmp_path: Path) -> None:
    service = {"replicas": 2, "strategy": {"type": "Recreate"}}
    path = write(tmp_path, {"deploy.yaml": NGINX}, manifests=["deploy.yaml"], service=service)
    sc = load_scenario(path)
    assert sc.service.replicas == 2
    assert sc.service.strategy.type == "Recreate"
    assert sc.name == "nginx-deployment"


def test_globs_and_folders_relative_to_the_scenario(tmp_path: Path) -> None:
    hpa = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "nginx"},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "nginx-deployment"},
            "maxReplicas": 9,
            "targetCPUUtilizationPercentage": 70,
        },
    }
    files = {"deploy/a-deployment.yaml": NGINX, "deploy/b-hpa.yaml": yaml.safe_dump(hpa)}
    path = write(tmp_path, files, manifests=["deploy/*.yaml"])
    sc = load_scenario(path)
    assert sc.service.autoscaler is not None
    assert (sc.service.autoscaler.max_replicas, sc.service.autoscaler.min_replicas) == (9, 1)
    assert sc.service.autoscaler.target_cpu_utilization_percentage == 70


@pytest.mark.parametrize(
    ("command", "seconds", "warned"),
    [
        pytest.param({"exec": {"command": ["sleep", "5"]}}, 5.0, False, id="exec-sleep"),
        pytest.param({"exec": {"command": ["sh", "-c", "sleep 7"]}}, 7.0, False, id="sh-c"),
        pytest.param({"sleep": {"seconds": 3}}, 3.0, False, id="sleep-action"),
        pytest.param({"exec": {"command": ["/app/drain"]}}, 0.0, True, id="unknown-exec"),
        pytest.param({"httpGet": {"path": "/drain", "port": 80}}, 0.0, True, id="http-get"),
    ],
)
def test_pre_stop_hooks(
    tmp_path: Path, command: dict[str, Any], seconds: float, warned: bool
) -> None:
    doc = yaml.safe_load(NGINX)
    doc["spec"]["template"]["spec"]["containers"][0]["lifecycle"] = {"preStop": command}
    path = write(tmp_path, {"d.yaml": yaml.safe_dump(doc)}, manifests=["d.yaml"])
    sc = load_scenario(path)
    assert sc.service.pod.pre_stop_sleep_s == seconds
    assert any("simdeploy.dev/prestop-seconds" in w for w in sc.warnings) == warned


def test_the_pre_stop_annotation_gives_a_hook_its_duration(tmp_path: Path) -> None:
    doc = yaml.safe_load(NGINX)
    template = doc["spec"]["template"]
    template["metadata"]["annotations"] = {"simdeploy.dev/prestop-seconds": "12"}
    template["spec"]["containers"][0]["lifecycle"] = {"preStop": {"httpGet": {"port": 80}}}
    path = write(tmp_path, {"d.yaml": yaml.safe_dump(doc)}, manifests=["d.yaml"])
    assert load_scenario(path).service.pod.pre_stop_sleep_s == 12.0


# --- bad manifests: one line each, at the manifest's file:line --------------------------------

BAD_PROBE = NGINX.replace(
    "        ports:\n", "        readinessProbe: {periodSeconds: 0}\n        ports:\n"
)
ALERT = "apiVersion: flagger.app/v1beta1\nkind: Experiment\nmetadata: {name: app}\n"


@pytest.mark.parametrize(
    ("files", "manifests", "expected"),
    [
        pytest.param(
            {"d.yaml": BAD_PROBE},
            ["d.yaml"],
            [
                "d.yaml:21: spec.template.spec.containers[0].readinessProbe.periodSeconds: "
                "Input should be greater than 0"
            ],
            id="bad-value-at-its-line",
        ),
        pytest.param(
            {"d.yaml": NGINX.replace("maxSurge", "x").replace("replicas: 3", "replicas: -1")},
            ["d.yaml"],
            ["d.yaml:9: spec.replicas: Input should be greater than or equal to 0"],
            id="negative-replicas",
        ),
        pytest.param(
            {
                "d.yaml": NGINX.replace(
                    "  replicas: 3\n", "  replicas: 3\n  strategy: {type: Blue}\n"
                )
            },
            ["d.yaml"],
            ["d.yaml:10: spec.strategy.type: Input should be"],
            id="unknown-strategy-type",
        ),
        pytest.param(
            {},
            ["missing.yaml"],
            ["scenario.yaml: manifests[0]: 'missing.yaml': no such file"],
            id="missing",
        ),
        pytest.param(
            {},
            ["k8s/*.yaml"],
            ["scenario.yaml: manifests[0]: no file matches 'k8s/*.yaml'"],
            id="glob",
        ),
        pytest.param(
            {"c.yaml": ALERT},
            ["c.yaml"],
            [
                "c.yaml:1: Experiment 'app' (flagger.app/v1beta1): Flagger Experiment "
                "manifests are not read yet"
            ],
            id="flagger-kind-not-read",
        ),
        pytest.param(
            {"a.yaml": NGINX, "b.yaml": NGINX},
            ["a.yaml", "b.yaml"],
            [
                "scenario.yaml: manifests: 2 workloads (Deployment a.yaml:2, Deployment b.yaml:2); "
                "a scenario has one"
            ],
            id="two-deployments",
        ),
        pytest.param(
            {"c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"},
            ["c.yaml"],
            [
                "scenario.yaml: manifests: no apps/v1 Deployment, Argo Rollout or Flagger "
                "Canary in c.yaml"
            ],
            id="no-deployment",
        ),
        pytest.param(
            {"d.yaml": NGINX + "---\nkind: [\n"},
            ["d.yaml"],
            ["d.yaml: invalid YAML"],
            id="bad-yaml-in-a-later-document",
        ),
        pytest.param(
            {"d.yaml": NGINX.replace("  replicas: 3\n", "  replicas: 3\n  replicas: 4\n")},
            ["d.yaml"],
            ["d.yaml: spec.replicas: duplicate key (lines 9 and 10)"],
            id="duplicate-key",
        ),
        pytest.param(
            {"d.yaml": "- just\n- a list\n"},
            ["d.yaml"],
            ["d.yaml:1: not a Kubernetes object (no kind:)"],
            id="not-an-object",
        ),
    ],
)
def test_bad_manifests(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    manifests: list[str],
    expected: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # manifest paths are shown relative to the working directory
    path = write(tmp_path, files, manifests=manifests)
    # Problems of the scenario's own manifests: field start with the scenario's path.
    lines = [line.replace(f"{path}: ", "scenario.yaml: ") for line in errors(path)]
    for want in expected:
        assert any(line.startswith(want) for line in lines), (want, lines)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert all(line.startswith("simdeploy: error: ") for line in err.splitlines())


def test_manifests_not_a_list_is_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path, {}, manifests="app.yaml")
    assert errors(path) == [f"{path}: manifests: expected a list of file paths or globs"]


def test_strict_refuses_what_is_not_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, {"d.yaml": NGINX}, manifests=["d.yaml"])
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert (
        "simdeploy: warning: d.yaml:20: spec.template.spec.containers[0].image: not simulated"
        in err
    )
    assert main(["validate", "--strict", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert (
        "simdeploy: error: d.yaml:20: spec.template.spec.containers[0].image: not simulated "
        "(--strict)"
    ) in err


def test_a_scenario_without_manifests_has_no_messages() -> None:
    sc = load_scenario(ROOT / "scenarios" / "rolling-zero-downtime.yaml")
    assert sc.warnings == sc.notes == sc.manifests == []


def test_the_json_schema_leaves_service_to_the_manifests() -> None:
    import jsonschema

    from simdeploy.spec.scenario import json_schema

    validator = jsonschema.Draft202012Validator(json_schema())
    checkout = yaml.safe_load((MANIFESTS / "checkout.yaml").read_text())
    assert list(validator.iter_errors(checkout)) == []
    partial = {"manifests": ["a.yaml"], "versions": {"v1": {}}, "service": {"replicas": 2}}
    assert list(validator.iter_errors(partial)) == []
    # Without manifests, service: and its version stay required.
    no_service = {"versions": {"v1": {}}}
    assert [e.message for e in validator.iter_errors(no_service)] == [
        "'service' is a required property"
    ]
    no_version = {"versions": {"v1": {}}, "service": {"replicas": 2}}
    assert [e.message for e in validator.iter_errors(no_version)] == [
        "'version' is a required property"
    ]
