"""The root model (:mod:`simdeploy.spec.scenario`): cross-section references, loading a
file, the error lines (:mod:`simdeploy.spec.errors`) and the JSON Schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdeploy import ScenarioError, load_scenario
from simdeploy.spec.scenario import Scenario, json_schema
from tests.conftest import base_dict, errors_of


@pytest.mark.parametrize(
    ("over", "message"),
    [
        pytest.param(
            {"plan": [{"at": "50s", "action": "deploy", "version": "v3"}]},
            "plan[0].version: unknown version 'v3'; known: v1, v2",
            id="unknown-version",
        ),
        pytest.param(
            {"plan": [{"at": "50m", "action": "deploy", "version": "v2"}]},
            "plan[0].at: 50m is after the end of the run (1m30s)",
            id="action-after-end",
        ),
        pytest.param(
            {"expect": {"downtim_s": 0}},
            "expect.downtim_s: unknown summary field; did you mean 'downtime_s'?",
            id="expect-typo",
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


def test_json_schema_uses_file_spelling() -> None:
    schema = json_schema()
    text = str(schema)
    assert "maxSurge" in text and "readinessProbe" in text
    assert "max_surge" not in text
