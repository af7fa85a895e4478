"""pytest plugin: scenario files with an ``expect:`` block become tests.

Installed with simdeploy (entry point ``pytest11``). Point pytest at a folder of
scenarios (``pytest scenarios/``, or add it to ``testpaths``) and every YAML file with
top-level ``service:`` (or ``manifests:``) and ``expect:`` keys is collected; each
expectation is one test, all of a file's expectations share one simulation run (or one
per seed with ``--simdeploy-seeds N``, held on every seed or, with
``--simdeploy-require mean``, on the mean's 95% CI). Each ``expect: policy:`` expectation
is a test too (``policy.falseRollbackRate``, ``policy.detects``), measured on its own
releases and seeds (``--simdeploy-require mean``: its whole Wilson interval inside the
bound). A scenario that does not validate fails its collection with the one-line errors.

    $ pytest scenarios/ -q
    scenarios/rolling-zero-downtime.yaml::downtime_s PASSED
    ...
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from simdeploy.experiments.gate import REQUIRE, AnyCheck, check_seeds
from simdeploy.run.checks import NO_SUCH_FIELD
from simdeploy.spec.base import ScenarioError
from simdeploy.spec.scenario import Scenario, load_scenario


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--simdeploy-seed",
        type=int,
        default=None,
        help="simdeploy: run collected scenarios with this seed (the first of --simdeploy-seeds)",
    )
    parser.addoption(
        "--simdeploy-seeds",
        type=int,
        default=1,
        help="simdeploy: run each collected scenario on N seeds",
    )
    parser.addoption(
        "--simdeploy-require",
        choices=REQUIRE,
        default="all",
        help="simdeploy: with N seeds, an expectation holds on every seed (all) or its mean's "
        "95%% CI is inside the bound (mean)",
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    try:
        data = yaml.safe_load(file_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    scenario_like = isinstance(data, dict) and ("service" in data or "manifests" in data)
    if scenario_like and "expect" in data:
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One scenario file; simulated once, on first use by one of its expectations."""

    _checks: dict[str, AnyCheck] | None = None

    def collect(self) -> Iterator[pytest.Item]:
        try:
            self.scenario: Scenario = load_scenario(self.path)
        except ScenarioError as exc:
            raise self.CollectError("\n".join(exc.errors)) from None
        for field in self.scenario.expect.fields:
            yield ExpectationItem.from_parent(self, name=field, field=field)
        if self.scenario.expect.policy is not None:
            for field in self.scenario.expect.policy.names():
                yield ExpectationItem.from_parent(self, name=field, field=field)

    def checks(self) -> dict[str, AnyCheck]:
        """Each expectation checked over the seeds (``--simdeploy-seeds``), run on first use."""
        if self._checks is None:
            seed = self.config.getoption("--simdeploy-seed")
            seeds = self.config.getoption("--simdeploy-seeds")
            require = self.config.getoption("--simdeploy-require")
            sc = self.scenario if seed is None else self.scenario.with_seed(seed)
            checks, _ = check_seeds(sc, seeds, require)
            self._checks = {c.field: c for c in checks}
        return self._checks


class ExpectationItem(pytest.Item):
    def __init__(self, *, field: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.field = field

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, ScenarioFile)
        check = parent.checks()[self.field]
        if all(v == NO_SUCH_FIELD for v in check.values):
            raise ExpectationFailed(f"{self.field}: no such field in the summary")
        if not check.passed:
            raise ExpectationFailed(check.line)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ExpectationFailed):
            return f"{self.path.name}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}::{self.field}"


class ExpectationFailed(AssertionError):
    """An expectation of a scenario file did not hold."""
