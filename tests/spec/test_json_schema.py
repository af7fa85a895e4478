"""``simdeploy schema``: a JSON Schema that editors can trust.

It accepts every bundled scenario and every YAML example of the README, as written (camelCase
keys, ``250ms`` durations, ``"25%"``, ``expect:`` shorthand), and rejects what ``validate``
rejects wherever JSON Schema can say it. Checked with the ``jsonschema`` package's Draft 2020-12
validator on the data ``yaml.safe_load`` gives, as an editor sees it.

What JSON Schema cannot express, so only ``validate`` catches it (``CROSS_REFERENCES`` pins
that the schema lets these through, so that a row moves if the schema ever learns one):

- references between sections: ``service.version`` and ``plan[].version`` name a version,
  ``plan[].flag`` a flag, ``versions.*.reads`` and ``longTransactions[].table`` a table,
  ``templateName`` an analysis template; ``plan[].at`` within ``simulation.duration``;
- a duration's value once it is a string: ``periodSeconds: "0s"`` (the bound is on numbers);
- rules across fields: ``low <= high``, lognormal ``mean < p99 <= 15 x mean``, RollingUpdate's
  "may not both be 0", ``progressDeadlineSeconds > minReadySeconds``, which fields belong to
  which plan action, a strategy ``type`` that matches its block, an analysis condition's syntax;
- non-finite numbers from YAML (``.inf``, ``.nan``): JSON has none, so a JSON Schema cannot
  name them;
- snake_case spellings, which pydantic also takes: the schema shows the documented camelCase.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import re
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, BeforeValidator, PlainValidator, WithJsonSchema, WrapValidator
from pydantic_core import PydanticUndefined

import simdeploy.spec
from simdeploy import ScenarioError
from simdeploy.rules.durations import parse_duration
from simdeploy.spec.base import DURATION_PATTERN
from simdeploy.spec.scenario import Scenario, json_schema
from tests.conftest import ROOT, SCENARIOS, base_dict

SCHEMA = json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
README = (ROOT / "README.md").read_text()


def schema_errors(doc: Any, schema: dict[str, Any] = SCHEMA) -> list[str]:
    """One line per place the schema rejects ``doc`` (empty: accepted)."""
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)]


def validate_accepts(doc: Any, base_dir: Any = None) -> bool:
    """Whether ``Scenario.parse`` accepts ``doc`` (``manifests:`` relative to ``base_dir``)."""
    try:
        Scenario.parse(copy.deepcopy(doc), base_dir=base_dir)
    except ScenarioError:
        return False
    return True


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_scenario_validates(path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert validate_accepts(doc, base_dir=path.parent)
    assert schema_errors(doc) == []


# --- the README's YAML ------------------------------------------------------------------------


def _fragment_schema(kind: str) -> dict[str, Any]:
    """The part of the schema a README fragment (``# scenario fragment: <kind>``) is of."""
    props = SCHEMA["properties"]
    sub = (
        SCHEMA["$defs"]["Service"]["properties"]["strategy"] if kind == "strategy" else props[kind]
    )
    return {"$defs": SCHEMA["$defs"], **sub}


def test_the_readme_scenario_example_validates() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.S)
    full = [b for b in blocks if "\nservice:" in "\n" + b]
    assert len(full) == 1
    doc = yaml.safe_load(full[0])
    assert validate_accepts(doc)
    assert schema_errors(doc) == []


FRAGMENTS = re.findall(r"```yaml\n# scenario fragment: (\w+)\n(.*?)```", README, re.S)


@pytest.mark.parametrize(
    ("kind", "body"), FRAGMENTS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(FRAGMENTS)]
)
def test_every_readme_fragment_validates(kind: str, body: str) -> None:
    assert schema_errors(yaml.safe_load(body), _fragment_schema(kind)) == []


def test_the_readme_has_fragments_of_each_kind() -> None:
    assert {k for k, _ in FRAGMENTS} == {
        "service",
        "strategy",
        "analysisTemplates",
        "database",
        "plan",
        "flags",
    }


# --- accepted and rejected alike ----------------------------------------------------------------


def _at(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``doc`` with the dotted ``path`` set to ``value`` (``plan.0.at``)."""
    out = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def _bad(path: str, value: Any) -> tuple[dict[str, Any], str]:
    """The small scenario with ``path`` set to ``value`` (None: removed), and the field path
    ``validate`` must name for it (``plan.0.at`` → ``plan[0].at``)."""
    if value is None:
        doc = copy.deepcopy(BASE)
        del doc[path]
    else:
        doc = _at(BASE, path, value)
    return doc, re.sub(r"\.(\d+)", r"[\1]", path)


BASE = base_dict()
ROLLING = "service.strategy.rollingUpdate"
CANARY = {"canary": {"steps": [{"setWeight": 50}]}}

#: Documents ``validate`` rejects; the schema must reject each too.
INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "unknown key": _bad("service.replicaz", 3),
    "unknown top-level key": _bad("servise", {}),
    "unknown key in a strategy block": _bad(f"{ROLLING}.maxSurg", 1),
    "missing service": _bad("service", None),
    "missing versions": _bad("versions", None),
    "duration with a word for the unit": _bad("traffic.timeout", "5 sec"),
    "duration with a trailing number": _bad("plan.0.at", "1m30"),
    "negative duration string": _bad("simulation.duration", "-5s"),
    "negative duration number": _bad("simulation.duration", -5),
    "duration that is not one": _bad("versions.v1.warmup", "soon"),
    "infinite duration spelled out": _bad("versions.v1.warmup", "inf"),
    "duration as a boolean": _bad("versions.v1.warmup", True),
    "zero where a duration must be > 0": _bad("service.pod.readinessProbe.periodSeconds", 0),
    "negative replicas": _bad("service.replicas", -1),
    "replicas as a word": _bad("service.replicas", "three"),
    "replicas as a boolean": _bad("service.replicas", True),
    "replicas as a fraction": _bad("service.replicas", 2.5),
    "maxSurge abc": _bad(f"{ROLLING}.maxSurge", "abc"),
    "maxSurge a bare number string (Kubernetes wants N%)": _bad(f"{ROLLING}.maxSurge", "25"),
    "maxSurge negative": _bad(f"{ROLLING}.maxSurge", -1),
    "maxUnavailable a negative percent": _bad(f"{ROLLING}.maxUnavailable", "-5%"),
    "maxUnavailable above 100%": _bad(f"{ROLLING}.maxUnavailable", "101%"),
    "Argo maxSurge abc": _bad("plan.0.strategy", {"canary": {"maxSurge": "abc"}}),
    "Argo maxSurge negative": _bad("plan.0.strategy", {"canary": {"maxSurge": -3}}),
    "Argo maxUnavailable above 100%": _bad(
        "plan.0.strategy", {"canary": {"maxUnavailable": "200%"}}
    ),
    "wrong enum: balancer policy": _bad("service.balancer.policy", "fastest"),
    "wrong enum: strategy type": _bad("service.strategy.type", "Blue"),
    "wrong enum: user distribution": _bad("traffic.userDistribution", "pareto"),
    "wrong enum: plan action": _bad("plan.0.action", "deploi"),
    "wrong enum: distribution": _bad("versions.v1.serviceTime.dist", "normal"),
    "distribution without its parameter": _bad("versions.v1.serviceTime", {"dist": "exponential"}),
    "uniform without high": _bad("service.pod.startupDelay", {"dist": "uniform", "low": 1}),
    "constant without value": _bad("service.pod.startupDelay", {}),
    "distribution as a word": _bad("versions.v1.serviceTime", "fast"),
    "fraction above 1": _bad("traffic.writeRatio", 1.5),
    "concurrency 0": _bad("service.pod.concurrency", 0),
    # setWeight's upper bound is maxTrafficWeight (another field), which validate checks.
    "negative setWeight": _bad("plan.0.strategy", {"canary": {"steps": [{"setWeight": -5}]}}),
    "unknown canary step": _bad("plan.0.strategy", {"canary": {"steps": [{"setWait": 5}]}}),
    "flagger metric that is not a built-in": _bad(
        "plan.0.strategy",
        {
            "flagger": {
                "analysis": {
                    "stepWeight": 10,
                    "metrics": [{"name": "latency", "thresholdRange": {"max": 5}}],
                }
            }
        },
    ),
    "expect: unknown summary field": _bad("expect", {"downtime": 0}),
    "expect: a field with nothing below it": _bad("expect", {"errors.total": 0}),
    "expect: unknown error cause": _bad("expect", {"errors_by_cause.oops": 0}),
    "expect: unknown outcome": _bad("expect", {"outcome": "done"}),
    "expect: unknown outcome after ==": _bad("expect", {"outcome": "== done"}),
    "expect: an outcome compared with <": _bad("expect", {"outcome": "< completed"}),
    "expect: an outcome as a number": _bad("expect", {"outcome": 1}),
    "expect: unknown operator": _bad("expect", {"errors": "=< 5"}),
    "expect: a word for a number": _bad("expect", {"errors": "<= some"}),
    "expect: a word for a count": _bad("expect", {"errors": "completed"}),
    "expect: a boolean": _bad("expect", {"errors": True}),
    "expect: an empty range": _bad("expect", {"errors": {}}),
    "expect: unknown range key": _bad("expect", {"errors": {"min": 0, "maxx": 5}}),
    "expect: a list": _bad("expect", {"errors": [0, 5]}),
    "expect: null": _bad("expect", {"errors": None}),
    "column as a number": _bad("database", {"tables": {"users": {"columns": [5]}}}),
}


@pytest.mark.parametrize(("doc", "where"), INVALID.values(), ids=list(INVALID))
def test_what_validate_rejects_the_schema_rejects(doc: dict[str, Any], where: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(copy.deepcopy(doc))
    assert any(line.startswith(where) for line in exc.value.errors), exc.value.errors
    assert schema_errors(doc), "the schema accepts a document that validate rejects"


#: Forms users write that both accept: the schema must not flag a valid file.
VALID: dict[str, dict[str, Any]] = {
    "duration in seconds": _at(BASE, "traffic.timeout", 5),
    "duration as a numeric string": _at(BASE, "traffic.timeout", "0.5"),
    "duration with parts": _at(BASE, "simulation.duration", "1m30s"),
    "duration with a space": _at(BASE, "simulation.duration", "1m 30s"),
    "duration in hours, fractional": _at(BASE, "simulation.duration", "0.5h"),
    "duration in ms": _at(BASE, "traffic.timeout", "250ms"),
    "maxSurge 0 with maxUnavailable 1": _at(BASE, ROLLING, {"maxSurge": 0, "maxUnavailable": 1}),
    "maxSurge 100%": _at(BASE, f"{ROLLING}.maxSurge", "100%"),
    "maxSurge above 100%": _at(BASE, f"{ROLLING}.maxSurge", "200%"),
    "maxUnavailable 100%": _at(BASE, f"{ROLLING}.maxUnavailable", "100%"),
    "Argo maxSurge as a bare number string": _at(
        BASE, "plan.0.strategy", {"canary": {"maxSurge": "25", "steps": [{"setWeight": 50}]}}
    ),
    "distribution as a bare duration": _at(BASE, "versions.v1.serviceTime", "20ms"),
    "distribution as seconds": _at(BASE, "service.pod.startupDelay", 2),
    "constant distribution without dist": _at(BASE, "service.pod.startupDelay", {"value": 2}),
    "Flagger block in service.strategy": _at(
        BASE, "service.strategy", {"flagger": {"analysis": {"stepWeight": 10}}}
    ),
    "canary block in service.strategy": _at(BASE, "service.strategy", CANARY),
    "expect forms": _at(
        BASE,
        "expect",
        {
            "downtime_s": 0,
            "errors": "<= 10",
            "users_affected": "> 0",
            "requests": "!= 3",
            "error_rate": 0.5,
            "rollback_time_s": {"min": 60},
            "extra_cost": {"max": 0.5},
            "errors_by_cause.timeout": 0,
            "outcome": "completed",
        },
    ),
    "expect outcome != ": _at(BASE, "expect", {"outcome": "!= stuck"}),
    "expect the phase before any migration": _at(BASE, "expect", {"errors_by_phase.before": 0}),
    "column as a bare name": _at(
        BASE, "database", {"tables": {"users": {"columns": ["id", {"name": "email"}]}}}
    ),
}


@pytest.mark.parametrize("doc", VALID.values(), ids=list(VALID))
def test_what_validate_accepts_the_schema_accepts(doc: dict[str, Any]) -> None:
    assert validate_accepts(doc)
    assert schema_errors(doc) == []


#: Only ``validate`` can tell these are wrong (see the module docstring).
CROSS_REFERENCES: dict[str, dict[str, Any]] = {
    "service.version names no version": _at(BASE, "service.version", "v9"),
    "plan[].version names no version": _at(BASE, "plan.0.version", "v3"),
    "plan[].at after the end of the run": _at(BASE, "plan.0.at", "10m"),
    "a string duration that must be > 0": _at(
        BASE, "service.pod.readinessProbe.periodSeconds", "0s"
    ),
    "uniform with low > high": _at(
        BASE, "service.pod.startupDelay", {"dist": "uniform", "low": 3, "high": 1}
    ),
    "maxSurge and maxUnavailable both 0": _at(BASE, ROLLING, {"maxSurge": 0, "maxUnavailable": 0}),
    "Argo maxSurge and maxUnavailable both 0": _at(
        BASE, "plan.0.strategy", {"canary": {"maxSurge": "0%", "maxUnavailable": 0}}
    ),
    "expect: a migration phase the plan does not have": _at(
        BASE, "expect", {"errors_by_phase.expand": 0}
    ),
    "expect: a range with min above max": _at(BASE, "expect", {"errors": {"min": 5, "max": 1}}),
}


@pytest.mark.parametrize("doc", CROSS_REFERENCES.values(), ids=list(CROSS_REFERENCES))
def test_what_only_validate_can_catch(doc: dict[str, Any]) -> None:
    assert not validate_accepts(doc)
    assert schema_errors(doc) == []


# --- the next shorthand gets a schema too -----------------------------------------------------


def _validators(tp: Any) -> list[tuple[Any, bool]]:
    """(validator, schema declared) for each Before/Plain/Wrap validator inside ``tp``."""
    out = []
    if get_origin(tp) is Annotated:
        inner, *meta = get_args(tp)
        declared = any(isinstance(m, WithJsonSchema) for m in meta)
        for m in meta:
            if isinstance(m, BeforeValidator | PlainValidator | WrapValidator):
                out.append((m, declared or m.json_schema_input_type is not PydanticUndefined))
        return out + _validators(inner)
    return [v for arg in get_args(tp) for v in _validators(arg)]


def test_every_shorthand_declares_what_it_accepts() -> None:
    """A validator that reads a shorthand (``2s`` for a distribution, ``"<= 5"``) accepts more
    than its type: without ``json_schema_input_type`` the schema would reject the shorthand."""
    found = []
    for info in pkgutil.iter_modules(simdeploy.spec.__path__):
        module = importlib.import_module(f"simdeploy.spec.{info.name}")
        for model in vars(module).values():
            if isinstance(model, type) and issubclass(model, BaseModel):
                for name, field in model.model_fields.items():
                    hints = get_type_hints(model, include_extras=True)
                    for validator, declared in _validators(hints.get(name, field.annotation)):
                        found.append(validator)
                        assert declared, f"{model.__name__}.{name}: {validator} has no schema"
    assert len(found) >= 4  # Duration, Dist, Col, Expect at least


# --- the duration pattern and parse_duration agree ----------------------------------------------

_PATTERN = re.compile(DURATION_PATTERN)


@given(st.text(alphabet="0123456789.mshe+- \t", max_size=12))
def test_every_string_the_duration_pattern_accepts_parses(text: str) -> None:
    if _PATTERN.search(text):
        assert parse_duration(text) >= 0


_NUMBER = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True)
_PART = st.tuples(_NUMBER, st.sampled_from(["ms", "s", "m", "h"]), st.sampled_from(["", " "]))


@given(st.lists(_PART, min_size=1, max_size=4), st.sampled_from(["", " ", "\t"]))
def test_every_duration_users_write_matches_the_pattern(parts, pad: str) -> None:
    text = pad + "".join(n + unit + space for n, unit, space in parts).strip() + pad
    assert parse_duration(text) >= 0
    assert _PATTERN.search(text)


@given(_NUMBER)
def test_seconds_as_a_string_match_the_pattern(number: str) -> None:
    assert parse_duration(number) == float(number)
    assert _PATTERN.search(number)
