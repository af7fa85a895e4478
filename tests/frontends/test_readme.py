"""The README says what the code does.

Its scenario example and fragments validate, every command line parses, every option, make
target and scenario field it names exists, the summary table is ``spec.metrics.SUMMARY``,
every error cause is described (none "reserved"), nothing it calls "not modelled" is a field,
and the numbers its Python example shows are that run's.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import shlex
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

import simdeploy.spec
from simdeploy import Scenario, load_scenario, pytest_plugin, simulate
from simdeploy.cli import _parser
from simdeploy.run.checks import evaluate
from simdeploy.spec.metrics import ERROR_CAUSES, SUMMARY_FIELDS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_scenario_example_validates_runs_and_meets_its_expect_block() -> None:
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", README, re.S) if "service:" in b)
    sc = Scenario.parse(yaml.safe_load(block))
    assert sc.service.strategy.rolling.max_surge == 1
    assert set(sc.compare) == {"recreate", "rolling"}
    # The example shows `check`: it must pass its own expectations, every one of them.
    checks = evaluate(sc.expect, simulate(sc).record)
    assert len(checks) == len(sc.expect.fields) >= 5
    assert [c.line for c in checks if not c.passed] == []


def test_readme_mentions_every_subcommand() -> None:
    sub = next(a for a in _parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"simdeploy {name}" in README


def test_readme_lists_every_bundled_scenario() -> None:
    for f in (ROOT / "scenarios").glob("*.yaml"):
        assert f"`{f.name}`" in README, f.name


def _fragment_model(kind: str):  # returns a pydantic TypeAdapter
    from pydantic import TypeAdapter

    from simdeploy.spec.database import Database
    from simdeploy.spec.flags import Flag
    from simdeploy.spec.plan import Action
    from simdeploy.spec.progressive import AnalysisTemplate
    from simdeploy.spec.service import Service, Strategy

    return {
        "service": TypeAdapter(Service),
        "strategy": TypeAdapter(Strategy),
        "analysisTemplates": TypeAdapter(dict[str, AnalysisTemplate]),
        "database": TypeAdapter(Database),
        "plan": TypeAdapter(list[Action]),
        "flags": TypeAdapter(dict[str, Flag]),
    }[kind]


def test_readme_scenario_fragments_validate() -> None:
    fragments = re.findall(r"```yaml\n# scenario fragment: (\w+)\n(.*?)```", README, re.S)
    assert len(fragments) >= 7
    for kind, body in fragments:
        _fragment_model(kind).validate_python(yaml.safe_load(body))


# --- the README says what the code does: each test reads the code as the source of truth ------

PROSE = re.sub(r"```.*?```", "", README, flags=re.S)


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_field_of_the_summary_table_is_a_summary_field() -> None:
    """The table lists exactly ``spec.metrics.SUMMARY``: no field missing, none that is gone."""
    table = _section("What is reported").split("\n| field | meaning |\n", 1)[1].split("\n\n")[0]
    named = {
        name
        for row in re.findall(r"^\| (.+?) \|", table, re.M)
        for name in re.findall(r"`([^`]+)`", row)
    }
    assert sorted(named - set(SUMMARY_FIELDS)) == []
    assert sorted(set(SUMMARY_FIELDS) - named) == []


def test_every_error_cause_is_described_and_none_is_called_reserved() -> None:
    para = next(p for p in _section("What is reported").split("\n\n") if "Request outcomes" in p)
    listed = set(re.findall(r"`(\w+)`", para))
    assert listed == {"ok", *ERROR_CAUSES}
    for cause in ERROR_CAUSES:  # each has its own explanation in parentheses
        assert re.search(rf"`{cause}` \(", para) or re.search(rf"`{cause}` and `\w+` \(", para)
    # Every cause is implemented: nothing in the README may say otherwise.
    assert not re.search(r"\breserved\b|\bnot (?:yet )?implemented\b|\bTODO\b", README)


def _commands() -> list[list[str]]:
    """Each ``simdeploy ...`` line of the README's shell and text blocks, as argv."""
    out = []
    for block in re.findall(r"```(?:sh|text)\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip().removeprefix("$ ")
            if line.startswith("simdeploy "):
                out.append(shlex.split(line.split(" > ", 1)[0])[1:])
    return out


def test_every_command_line_the_readme_shows_parses() -> None:
    commands = _commands()
    assert len(commands) >= 8
    for argv in commands:
        try:
            _parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"the README shows 'simdeploy {' '.join(argv)}', which does not parse")


def _options(command: str) -> set[str]:
    sub = next(a for a in _parser()._actions if a.dest == "command")
    parser = sub.choices[command]  # type: ignore[index]
    return {o for a in parser._actions for o in a.option_strings}


def test_every_option_named_in_the_prose_exists() -> None:
    """Inline spans such as `simdeploy run --json` and the pytest plugin's `--simdeploy-seed N`."""
    spans = re.findall(r"`(simdeploy \w+[^`]*)`", PROSE)
    assert spans
    for span in spans:
        command, *rest = span.split()[1:]
        for opt in (t for t in rest if t.startswith("--")):
            assert opt in _options(command), f"`{span}`: simdeploy {command} has no {opt}"
    registered: list[str] = []

    class _Parser:
        def addoption(self, *names: str, **_: Any) -> None:
            registered.extend(names)

    pytest_plugin.pytest_addoption(_Parser())  # type: ignore[arg-type]
    plugin_options = set(re.findall(r"(--simdeploy-[\w-]+)", README))
    assert plugin_options and plugin_options <= set(registered)


def test_every_make_target_the_readme_names_exists() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"`make (\w+)`|^make (\w+)", README, re.M))
    named_targets = {a or b for a, b in named}
    assert {"demo", "test", "lab"} <= named_targets
    assert named_targets <= targets


def _scenario_fields() -> set[str]:
    """Every field name of the scenario format, as files spell it (and as Python does)."""
    names: set[str] = set()
    for info in pkgutil.iter_modules(simdeploy.spec.__path__):
        module = importlib.import_module(f"simdeploy.spec.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel):
                for name, field in obj.model_fields.items():
                    names |= {name, field.alias or name}
    return names


#: camelCase names in the README that are not fields of the scenario format, and why.
NOT_FIELDS = {
    "failedChecks": "Flagger's status counter, which the text explains",
    # Kubernetes manifest fields (manifests:), read or reported by spec/manifests/kubernetes.py
    "httpGet": "a probe or preStop handler in a manifest",
    "tcpSocket": "a probe handler in a manifest",
    "workloadRef": "an Argo Rollout's reference to a Deployment's pod template",
    "valueFrom": "an AnalysisTemplate argument's source (Secret or Rollout field)",
    "targetRef": "a Flagger Canary's Deployment",
    "autoscalerRef": "a Flagger Canary's HPA",
    "templateRef": "a Flagger Canary metric's MetricTemplate",
    "canaryConfigName": "an Argo Kayenta provider's canary config, in a manifest",
    "meanRatio": "a value of a Kayenta metric's effectSize.measure",
    # Functions of analysis conditions (rules/analysis_expr.py), not fields
    "isNaN": "a condition function",
    "isInf": "a condition function",
    "isNil": "a condition function",
    "asFloat": "a condition function",
    "asInt": "a condition function",
}

#: Fields a "not modelled" sentence names on purpose, and why.
PARTLY_MODELLED = {"maxTrafficWeight": "named as the exception: it is modelled"}


def _camel_names(text: str) -> set[str]:
    """camelCase words inside backticks (`lifecycle.preStop` gives preStop)."""
    return {
        word
        for span in re.findall(r"`([^`\n]+)`", text)
        for word in re.split(r"[^A-Za-z0-9]+", span)
        if re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", word)
    }


def test_every_scenario_field_the_readme_names_exists() -> None:
    named = _camel_names(PROSE)
    assert len(named) > 30
    assert sorted(named - _scenario_fields() - set(NOT_FIELDS)) == []


def test_what_the_readme_calls_not_modelled_is_not_a_field() -> None:
    """A feature added to the format must leave the README's list of what is not modelled."""
    fields = _scenario_fields()
    sentences = [s for s in re.split(r"(?<=[.;])\s", PROSE) if "not modelled" in s]
    assert sentences
    for sentence in sentences:
        for name in _camel_names(sentence) & fields:
            assert name in PARTLY_MODELLED, f"the README says {name} is not modelled: {sentence}"


def test_the_python_example_shows_what_the_run_gives() -> None:
    """`result.record["errors_by_cause"]  # {'connection_refused': 725, ...}` is that run's."""
    block = next(b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "simulate(" in b)
    call = re.search(r'simulate\(load_scenario\("([^"]+)"\), seed=(\d+)\)', block)
    shown = re.search(r'result\.record\["(\w+)"\]\s+# \{(.*)\}', block)
    assert call is not None and shown is not None
    pairs = dict(re.findall(r"'(\w+)': (\d+)", shown.group(2)))
    assert pairs
    record = simulate(load_scenario(ROOT / call.group(1)), seed=int(call.group(2))).record
    assert {k: record[shown.group(1)][k] for k in pairs} == {k: int(v) for k, v in pairs.items()}
