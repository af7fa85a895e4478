"""The README's scenario example is a valid scenario, and its commands exist."""

from __future__ import annotations

import re

import yaml

from simdeploy import Scenario, simulate
from simdeploy.cli import _parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_scenario_example_validates_and_runs() -> None:
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", README, re.S) if "service:" in b)
    sc = Scenario.parse(yaml.safe_load(block))
    assert sc.service.strategy.rolling.max_surge == 1
    assert set(sc.compare) == {"recreate", "rolling"}
    short = sc.model_copy(update={"simulation": sc.simulation.model_copy(update={"duration": 60})})
    simulate(short.model_copy(update={"plan": [sc.plan[0]]}))


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
    from simdeploy.spec.service import Strategy

    return {
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
