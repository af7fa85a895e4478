"""The scenario format: durations, distributions, and one clear line per bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simdeploy import ScenarioError, load_scenario
from simdeploy.rules.dists import BatchSampler, Exponential, LogNormal
from simdeploy.rules.durations import format_duration, parse_duration
from simdeploy.spec.scenario import Scenario, json_schema
from tests.conftest import base_dict, merge


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("250ms", 0.25, id="milliseconds"),
        pytest.param("30s", 30.0, id="seconds-suffix"),
        pytest.param("5m", 300.0, id="minutes"),
        pytest.param("1h", 3600.0, id="hours"),
        pytest.param("1m30s", 90.0, id="compound"),
        pytest.param(12, 12.0, id="bare-int-is-seconds"),
        pytest.param("2.5", 2.5, id="numeric-string-is-seconds"),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["5x", "-3", "", "s", True, None, "1m-2s"])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(bad)


def test_format_duration_round_trips_common_values() -> None:
    for s in (0.25, 30, 90, 3600, 5400):
        assert parse_duration(format_duration(s)) == pytest.approx(s)


def test_lognormal_matches_its_mean_and_p99() -> None:
    d = LogNormal(0.05, 0.3)
    x = d.sample(np.random.default_rng(1), 200_000)
    assert x.mean() == pytest.approx(0.05, rel=0.02)
    assert np.quantile(x, 0.99) == pytest.approx(0.3, rel=0.05)


def test_batch_sampler_is_reproducible() -> None:
    a = BatchSampler(Exponential(1.0), np.random.default_rng(5), batch=7)
    b = BatchSampler(Exponential(1.0), np.random.default_rng(5), batch=7)
    assert [a.next() for _ in range(20)] == [b.next() for _ in range(20)]


def errors_of(**over: object) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(base_dict(**over))
    return exc.value.errors


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
            {"plan": [{"at": "5m", "action": "deploy", "version": "v3"}]},
            "plan[0].version: unknown version 'v3'; known: v1, v2",
            id="unknown-version",
        ),
        pytest.param(
            {"plan": [{"at": "50m", "action": "deploy", "version": "v2"}]},
            "plan[0].at: 50m is after the end of the run (1m30s)",
            id="action-after-end",
        ),
        pytest.param(
            {"plan": [{"at": "5x", "action": "deploy", "version": "v2"}]},
            "plan[0].at: invalid duration '5x': use seconds or 250ms / 30s / 5m / 1h",
            id="bad-duration",
        ),
        pytest.param(
            {"plan": [{"at": "5s", "action": "deploy"}]},
            "plan[0]: deploy needs 'version'",
            id="deploy-without-version",
        ),
        pytest.param(
            {"expect": {"downtim_s": 0}},
            "expect.downtim_s: unknown summary field; did you mean 'downtime_s'?",
            id="expect-typo",
        ),
        pytest.param(
            {"versions": {"v1": {"serviceTime": {"dist": "lognormal", "mean": "1s"}}}},
            "versions.v1.serviceTime: dist lognormal needs 'p99'",
            id="distribution-missing-parameter",
        ),
        pytest.param(
            {"traffic": {"profile": {"type": "constant", "rate": 3}}},
            "traffic: give either 'rate' or 'profile', not both",
            id="rate-and-profile",
        ),
        pytest.param(
            {"service": {"progressDeadlineSeconds": 0, "minReadySeconds": 5}},
            "service.progressDeadlineSeconds: Invalid value: must be greater than minReadySeconds",
            id="deadline-not-above-min-ready",
        ),
        pytest.param(
            {"simulation": {"seed": -1}},
            "simulation.seed: Input should be greater than or equal to 0",
            id="negative-seed",
        ),
    ],
)
def test_bad_input_gets_one_line_naming_the_field(over: dict, message: str) -> None:
    assert errors_of(**over) == [message]


def test_missing_required_field() -> None:
    d = base_dict()
    del d["service"]["version"]
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(d)
    assert exc.value.errors == ["service.version: required field is missing"]


def test_several_k8s_errors_are_several_lines() -> None:
    errs = errors_of(
        service={"strategy": {"rollingUpdate": {"maxSurge": "5", "maxUnavailable": "101%"}}}
    )
    assert len(errs) == 2
    assert errs[0].startswith('service.strategy.rollingUpdate.maxSurge: Invalid value: "5"')
    assert errs[1].startswith("service.strategy.rollingUpdate.maxUnavailable")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("service:\n  version: v1\n   replicas: [\n")
    with pytest.raises(ScenarioError, match=r"invalid YAML \(line \d+\)"):
        load_scenario(f)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    f = tmp_path / "list.yaml"
    f.write_text("- a\n- b\n")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(f)


def test_file_errors_are_prefixed_with_the_file(tmp_path: Path) -> None:
    f = tmp_path / "typo.yaml"
    f.write_text("service: {version: v1, replica: 3}\nversions: {v1: {}}\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    assert exc.value.errors == [f"{f}: service.replica: unknown field; did you mean 'replicas'?"]


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


def test_json_schema_uses_file_spelling() -> None:
    schema = json_schema()
    text = str(schema)
    assert "maxSurge" in text and "readinessProbe" in text
    assert "max_surge" not in text
