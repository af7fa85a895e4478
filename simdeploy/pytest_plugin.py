"""pytest plugin: scenario files with an ``expect:`` block become tests.

Installed with simdeploy (entry point ``pytest11``). Point pytest at a folder of
scenarios (``pytest scenarios/``, or add it to ``testpaths``) and every YAML file with
top-level ``service:`` (or ``manifests:``) and ``expect:`` keys is collected; each
expectation is one test, all of a file's expectations share one simulation run. A
scenario that does not validate fails its collection with the one-line errors.

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

from simdeploy.run.checks import check_one, lookup
from simdeploy.spec.base import ScenarioError
from simdeploy.spec.expect import Expectation
from simdeploy.spec.scenario import Scenario, load_scenario


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--simdeploy-seed",
        type=int,
        default=None,
        help="simdeploy: run collected scenarios with this seed",
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

    _record: dict[str, Any] | None = None

    def collect(self) -> Iterator[pytest.Item]:
        try:
            self.scenario: Scenario = load_scenario(self.path)
        except ScenarioError as exc:
            raise self.CollectError("\n".join(exc.errors)) from None
        for field, exp in self.scenario.expect.items():
            yield ExpectationItem.from_parent(self, name=field, field=field, expectation=exp)

    def record(self) -> dict[str, Any]:
        if self._record is None:
            from simdeploy.run.simulation import simulate

            seed = self.config.getoption("--simdeploy-seed")
            self._record = simulate(self.scenario, seed=seed).record
        return self._record


class ExpectationItem(pytest.Item):
    def __init__(self, *, field: str, expectation: Expectation, **kw: Any) -> None:
        super().__init__(**kw)
        self.field = field
        self.expectation = expectation

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, ScenarioFile)
        record = parent.record()
        try:
            actual = lookup(record, self.field)
        except KeyError:
            raise ExpectationFailed(f"{self.field}: no such field in the summary") from None
        check = check_one(self.field, self.expectation, actual)
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
