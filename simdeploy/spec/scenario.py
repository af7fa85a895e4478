"""The scenario file as a whole: the root model, its cross-section checks, loading, schema.

Each section has its own module (``service``, ``traffic``, ``versions``, ``plan``,
``rollback``, ``settings``, ``expect``, ``progressive``, ``database``); this one holds the
root :class:`Scenario`, which checks what spans sections (version, flag, table and
analysis-template references, plan times within the run, expectation field names).

Field names follow Kubernetes where it has one (camelCase in YAML, snake_case in
Python through aliases) so a user can paste ``maxSurge``, ``readinessProbe`` or
``terminationGracePeriodSeconds`` from a manifest. Unknown keys are errors with a
"did you mean" hint; every error names its field path (``service.pod.concurrency``).

Pure core: no SimPy, no pandas. ``load_scenario(path)`` and ``Scenario.parse(dict)``
raise :class:`ScenarioError`, whose ``errors`` are the one-line messages the CLI prints.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from simdeploy.rules.durations import format_duration
from simdeploy.spec.base import ScenarioError, Strict
from simdeploy.spec.database import Database
from simdeploy.spec.errors import format_validation_error
from simdeploy.spec.expect import Expect
from simdeploy.spec.flags import Flag
from simdeploy.spec.metrics import SUMMARY_FIELDS
from simdeploy.spec.plan import Action
from simdeploy.spec.progressive import AnalysisTemplate
from simdeploy.spec.rollback import Rollback, Slo
from simdeploy.spec.service import Service, Strategy
from simdeploy.spec.settings import Simulation
from simdeploy.spec.traffic import Traffic
from simdeploy.spec.versions import Version


class Scenario(Strict):
    """A whole scenario file. See ``scenarios/`` for examples and ``simdeploy schema``."""

    name: str = "scenario"
    description: str = ""
    service: Service
    traffic: Traffic = Traffic()
    versions: dict[str, Version]
    plan: list[Action] = Field(default_factory=list)
    rollback: Rollback = Rollback()
    slo: Slo = Slo()
    simulation: Simulation = Simulation()
    expect: dict[str, Expect] = Field(default_factory=dict)
    compare: dict[str, Strategy] = Field(default_factory=dict)
    analysis_templates: dict[str, AnalysisTemplate] = Field(default_factory=dict)
    database: Database | None = None
    flags: dict[str, Flag] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_refs(self) -> Scenario:
        known = sorted(self.versions)
        if self.service.version not in self.versions:
            raise _ref_error("service.version", self.service.version, known)
        for i, act in enumerate(self.plan):
            if act.version is not None and act.version not in self.versions:
                raise _ref_error(f"plan[{i}].version", act.version, known)
            if act.at > self.simulation.duration:
                raise PydanticCustomError(
                    "after_end",
                    "plan[{i}].at: {at} is after the end of the run ({end})",
                    {
                        "i": i,
                        "at": format_duration(act.at),
                        "end": format_duration(self.simulation.duration),
                    },
                )
        for i, act in enumerate(self.plan):
            if act.flag is not None and act.flag not in self.flags:
                raise _named_error(f"plan[{i}].flag", "unknown flag", act.flag, sorted(self.flags))
            if act.action in ("migrate", "complete") and self.database is None:
                raise PydanticCustomError(
                    "no_database",
                    "plan[{i}]: {a} needs a database section",
                    {"i": i, "a": act.action},
                )
        tables = set(self.database.tables) if self.database else set()
        for act in self.plan:
            tables |= {o.add_table.table for o in act.operations if o.add_table is not None}
        for vname, ver in self.versions.items():
            for kind, access in (("reads", ver.reads), ("writes", ver.writes)):
                for t in access:
                    if self.database is None:
                        raise PydanticCustomError(
                            "no_database",
                            "versions.{v}.{k}: needs a database section",
                            {"v": vname, "k": kind},
                        )
                    if t not in tables:
                        raise _named_error(
                            f"versions.{vname}.{kind}.{t}", "unknown table", t, sorted(tables)
                        )
        for i, lt in enumerate(self.database.long_transactions if self.database else []):
            if lt.table not in tables:
                raise _named_error(
                    f"database.longTransactions[{i}].table",
                    "unknown table",
                    lt.table,
                    sorted(tables),
                )
        for name, fl in self.flags.items():
            for v in fl.versions or []:
                if v not in self.versions:
                    raise _ref_error(f"flags.{name}.versions", v, known)
        strategies = [("service.strategy", self.service.strategy)]
        strategies += [
            (f"plan[{i}].strategy", a.strategy)
            for i, a in enumerate(self.plan)
            if a.strategy is not None
        ]
        strategies += [(f"compare.{n}", st) for n, st in self.compare.items()]
        for path, st in strategies:
            for sub_path, ref in _template_refs(st):
                if ref not in self.analysis_templates:
                    known = sorted(self.analysis_templates)
                    close = difflib.get_close_matches(ref, known, n=1)
                    hint = (
                        f"; did you mean '{close[0]}'?"
                        if close
                        else (f"; known: {', '.join(known)}" if known else "; none are defined")
                    )
                    raise PydanticCustomError(
                        "unknown_template",
                        "{path}: unknown analysis template '{ref}' (analysisTemplates){hint}",
                        {"path": f"{path}.{sub_path}", "ref": ref, "hint": hint},
                    )
        for key in self.expect:
            root = key.split(".", 1)[0]
            if root not in SUMMARY_FIELDS:
                close = difflib.get_close_matches(root, SUMMARY_FIELDS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise PydanticCustomError(
                    "unknown_metric",
                    "expect.{key}: unknown summary field{hint}",
                    {"key": key, "hint": hint},
                )
        return self

    # Convenience --------------------------------------------------------------------
    @classmethod
    def parse(cls, data: Any, source: str = "scenario") -> Scenario:
        """Validate a mapping (from YAML or code); raise :class:`ScenarioError`."""
        if not isinstance(data, dict):
            raise ScenarioError([f"{source}: expected a mapping at the top level"])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(format_validation_error(exc)) from None

    def with_strategy(self, strategy: Strategy, name: str | None = None) -> Scenario:
        """The same scenario with every deploy (and the service default) using ``strategy``."""
        plan = [a.model_copy(update={"strategy": strategy}) for a in self.plan]
        service = self.service.model_copy(update={"strategy": strategy})
        return self.model_copy(update={"plan": plan, "service": service, "name": name or self.name})

    def with_seed(self, seed: int) -> Scenario:
        sim = self.simulation.model_copy(update={"seed": seed})
        return self.model_copy(update={"simulation": sim})


def _template_refs(st: Strategy) -> list[tuple[str, str]]:
    """(path below the strategy, template name) of every analysis reference."""
    runs: list[tuple[str, Any]] = []
    if st.canary is not None:
        runs += [
            (f"canary.steps[{i}].analysis", step.analysis)
            for i, step in enumerate(st.canary.steps)
            if step.analysis is not None
        ]
        runs.append(("canary.analysis", st.canary.analysis))
    if st.blue_green is not None:
        runs += [
            ("blueGreen.prePromotionAnalysis", st.blue_green.pre_promotion_analysis),
            ("blueGreen.postPromotionAnalysis", st.blue_green.post_promotion_analysis),
        ]
    return [
        (f"{path}.templates[{k}].templateName", t.template_name)
        for path, r in runs
        if r is not None
        for k, t in enumerate(r.templates)
    ]


def _named_error(path: str, what: str, value: str, known: list[str]) -> PydanticCustomError:
    close = difflib.get_close_matches(value, known, n=1)
    hint = (
        f"; did you mean '{close[0]}'?"
        if close
        else (f"; known: {', '.join(known)}" if known else "; none are defined")
    )
    return PydanticCustomError(
        "unknown_ref",
        "{path}: {what} '{value}'{hint}",
        {"path": path, "what": what, "value": value, "hint": hint},
    )


def _ref_error(path: str, value: str, known: list[str]) -> PydanticCustomError:
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(known)}"
    return PydanticCustomError(
        "unknown_version",
        "{path}: unknown version '{value}'{hint}",
        {"path": path, "value": value, "hint": hint},
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario file (safe loading only).

    Raises :class:`ScenarioError` for a missing file, bad YAML or invalid content.
    """
    p = Path(path)
    if not p.is_file():
        raise ScenarioError([f"{p}: no such scenario file"])
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([f"{p}: invalid YAML{where}: {problem}"]) from None
    try:
        return Scenario.parse(data, source=str(p))
    except ScenarioError as exc:
        raise ScenarioError([f"{p}: {line}" for line in exc.errors]) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the scenario format (camelCase, as written in files)."""
    return Scenario.model_json_schema(by_alias=True)
