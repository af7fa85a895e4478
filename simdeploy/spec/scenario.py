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

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from simdeploy.spec.base import (
    DurationInput,
    ScenarioError,
    Strict,
    UsageError,
    carry,
    problem,
    raise_problems,
)
from simdeploy.spec.budget import over_budget
from simdeploy.spec.database import Database
from simdeploy.spec.dotted import put
from simdeploy.spec.errors import format_validation_error
from simdeploy.spec.expect import ExpectBlock, expect_block_schema
from simdeploy.spec.flags import Flag
from simdeploy.spec.fluid import fluid_problems
from simdeploy.spec.loader import check_shape, read_scenario_data
from simdeploy.spec.manifests.expand import (
    Expansion,
    expand_manifests,
    relocate,
    without_consequences,
)
from simdeploy.spec.plan import Action
from simdeploy.spec.policy import policy_problems
from simdeploy.spec.progressive import AnalysisTemplate, MetricBinding
from simdeploy.spec.references import Sections, reference_problems
from simdeploy.spec.rollback import Rollback, Slo
from simdeploy.spec.service import Service, Strategy
from simdeploy.spec.settings import Simulation
from simdeploy.spec.traffic import Traffic
from simdeploy.spec.versions import Version


class Scenario(Strict):
    """A whole scenario file. See ``scenarios/`` for examples and ``simdeploy schema``."""

    name: str = "scenario"
    description: str = ""
    manifests: list[str] = Field(
        default_factory=list,
        description="Kubernetes manifests (paths or globs, relative to the scenario file) "
        "that fill service: (simdeploy.spec.manifests)",
    )
    service: Service
    traffic: Traffic = Traffic()
    versions: dict[str, Version]
    plan: list[Action] = Field(default_factory=list)
    rollback: Rollback = Rollback()
    slo: Slo = Slo()
    simulation: Simulation = Simulation()
    expect: ExpectBlock = Field(default_factory=ExpectBlock)
    compare: dict[str, Strategy] = Field(default_factory=dict)
    sweep: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict,
        description="the grid `simdeploy sweep` runs without --set: a scenario field's dotted "
        "path → its values",
    )
    analysis_templates: dict[str, AnalysisTemplate] = Field(default_factory=dict)
    metric_bindings: dict[str, MetricBinding] = Field(
        default_factory=dict,
        description="the simulator query each AnalysisTemplate manifest metric stands for, by "
        "<template>/<metric> or metric name, or for a Kayenta metric its canary config "
        "(metrics, groupWeights) (simdeploy.spec.manifests.analysis)",
    )
    database: Database | None = None
    flags: dict[str, Flag] = Field(default_factory=dict)
    #: What reading ``manifests`` had to say: fields not simulated (``--strict`` refuses
    #: them), and what was skipped or inferred. One line each, ``file:line: path: ...``.
    _warnings: list[str] = PrivateAttr(default_factory=list)
    _notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    @property
    def notes(self) -> list[str]:
        return list(self._notes)

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: ModelWrapValidatorHandler[Scenario]) -> Scenario:
        """The sections' own errors and every cross-section problem, in one pass.

        The cross-section checks (:mod:`simdeploy.spec.references`) run on the whole scenario
        when it validated, and otherwise on each section that validated on its own, so a
        broken section does not hide an unknown version or a migration of a missing column.
        """
        try:
            sc = handler(data)
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise
            extra = reference_problems(Sections.parse(data))
            if not extra:
                raise
            raise ValidationError.from_exception_data(cls.__name__, carry(exc) + extra) from None
        problems = reference_problems(Sections.of(sc))
        problems += [problem(path, message) for path, message in fluid_problems(sc)]
        problems += [problem(path, message) for path, message in policy_problems(sc)]
        strategies = [("service.strategy", sc.service.strategy)]
        strategies += [
            (f"plan[{i}].strategy", a.strategy)
            for i, a in enumerate(sc.plan)
            if a.strategy is not None
        ]
        strategies += [(f"compare.{n}", st) for n, st in sc.compare.items()]
        try:
            _scaling_needs_kubernetes_strategies(sc, strategies)
        except ValueError as exc:
            problems.append(problem((), str(exc)))
        raise_problems(cls.__name__, problems)
        return sc

    @model_validator(mode="after")
    def _sweep_values(self) -> Scenario:
        """Each ``sweep:`` path and value makes a valid scenario (checked here, so that
        ``validate`` refuses what ``simdeploy sweep`` would)."""
        if not self.sweep:
            return self
        base = self.model_dump(by_alias=True, exclude_unset=True)
        for key in ("sweep", "manifests"):  # not swept again; manifests already read
            base.pop(key, None)
        out = []
        for path, values in self.sweep.items():
            for value in values:
                try:
                    type(self).model_validate(put(base, path, value))
                except ScenarioError as exc:
                    out += [problem(("sweep", path), f"{value!r}: {line}") for line in exc.errors]
                except ValidationError as exc:
                    out += [
                        problem(("sweep", path), f"{value!r}: {line}")
                        for line in format_validation_error(exc)
                    ]
        raise_problems(type(self).__name__, out)
        return self

    @model_validator(mode="after")
    def _within_budget(self) -> Scenario:
        """Refuse a run too large to simulate (:mod:`simdeploy.spec.budget`): the estimate
        and the field to change, before anything is allocated."""
        raise_problems(type(self).__name__, [problem((), line) for line in over_budget(self)])
        return self

    # Convenience --------------------------------------------------------------------
    @classmethod
    def parse(
        cls, data: Any, source: str = "scenario", base_dir: str | os.PathLike[str] | None = None
    ) -> Scenario:
        """Validate a mapping (from YAML or code); raise :class:`ScenarioError`.

        ``manifests:`` paths are relative to ``base_dir`` (default: the working directory).
        """
        if not isinstance(data, dict):
            raise ScenarioError([f"{source}: expected a mapping at the top level"])
        scenario, located, problems = cls._read(data, Path(base_dir or Path.cwd()))
        if scenario is None:
            raise ScenarioError(located + problems)
        return scenario

    @classmethod
    def _read(
        cls, data: dict[str, Any], base_dir: Path
    ) -> tuple[Scenario | None, list[str], list[str]]:
        """(the scenario or None, problems located in a manifest, the other problems)."""
        check_shape(data)  # nesting and size limits before pydantic walks it
        # manifests: [] (a dumped scenario) reads nothing.
        expansion = expand_manifests(data, base_dir) if data.get("manifests") else Expansion(data)
        # Problems of the manifests: field itself belong to the scenario file; the others
        # start with the manifest's own file:line.
        own = [p for p in expansion.problems if p.startswith("manifests")]
        in_manifests = [p for p in expansion.problems if not p.startswith("manifests")]
        try:
            scenario = cls.model_validate(expansion.data)
        except ValidationError as exc:
            located, rest = relocate(format_validation_error(exc), expansion.origin)
            located = without_consequences(located, in_manifests)
            if expansion.problems:  # what the manifests would have given is missing: said once
                rest = [line for line in rest if not _consequence(line)]
            return None, in_manifests + located, own + rest
        if expansion.problems:
            return None, in_manifests, own
        scenario._warnings = expansion.warnings
        scenario._notes = expansion.notes
        return scenario, [], []

    def with_strategy(self, strategy: Strategy, name: str | None = None) -> Scenario:
        """The same scenario with every deploy (and the service default) using ``strategy``.

        Its ``expect: policy:`` is left out: it judges the file's own rollout policy, which
        another strategy replaces (and may leave with nothing that can roll back)."""
        plan = [
            a.model_copy(update={"strategy": strategy}) if a.action == "deploy" else a
            for a in self.plan
        ]
        service = self.service.model_copy(update={"strategy": strategy})
        expect = self.expect.model_copy(update={"policy": None})
        return self.model_copy(
            update={"plan": plan, "service": service, "name": name or self.name, "expect": expect}
        )

    def with_seed(self, seed: int) -> Scenario:
        sim = self.simulation.model_copy(update={"seed": seed})
        return self.model_copy(update={"simulation": sim})


def _scaling_needs_kubernetes_strategies(
    sc: Scenario, strategies: list[tuple[str, Strategy]]
) -> None:
    """A replica change (``service.autoscaler``, a ``scale`` action) is modelled by the
    Deployment controller's proportional scaling: Recreate and RollingUpdate only. Argo,
    Flagger and shadow size their replica sets themselves (from the replicas at the deploy)."""
    users = [f"plan[{i}]" for i, a in enumerate(sc.plan) if a.action == "scale"]
    if sc.service.autoscaler is not None:
        users.insert(0, "service.autoscaler")
    if not users:
        return
    for path, st in strategies:
        if st.type not in ("Recreate", "RollingUpdate"):
            raise ValueError(
                f"{users[0]}: a replica change is modelled for Recreate and RollingUpdate "
                f"only (the Deployment controller's proportional scaling), not with the "
                f"{st.type} strategy of {path}"
            )


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a YAML scenario file (safe loading only, limits checked first).

    Raises :class:`ScenarioError` for a missing, unreadable, oversized or non-UTF-8 file,
    bad YAML, a key given twice, invalid content or a run too large to simulate (see
    :mod:`simdeploy.spec.loader` and :mod:`simdeploy.spec.budget`); every line starts with
    the path. :class:`UsageError` if ``path`` is not a path.
    """
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise UsageError(
            [f"load_scenario: expected a file path (str or Path), got {type(path).__name__}"]
        )
    p = Path(path)
    if p.is_dir():
        raise ScenarioError([f"{p}: is a directory, not a scenario file"])
    if not p.is_file():
        if p.exists():  # a device or a pipe (/dev/zero would never end)
            raise ScenarioError([f"{p}: not a regular file"])
        raise ScenarioError([f"{p}: no such scenario file"])
    data, problems = read_scenario_data(p)
    located: list[str] = []
    if data is None:
        problems.append("the file is empty; a scenario needs at least service: and versions:")
    elif not isinstance(data, dict):
        problems.append(
            f"expected a mapping at the top level (service:, versions:, ...), got {_kind(data)}"
        )
    else:
        try:
            scenario, located, more = Scenario._read(data, p.parent)
        except ScenarioError as exc:
            more, scenario = exc.errors, None
        problems.extend(more)
        if scenario is not None and not problems:
            return scenario
    # Lines about a manifest start with its file:line; the others with the scenario's path.
    raise ScenarioError(located + [f"{p}: {line}" for line in problems])


def _consequence(line: str) -> bool:
    """A validation line that only repeats that the manifests could not be read."""
    return line.startswith("manifests") or line in (
        "service: required field is missing",
        "service.version: required field is missing",
    )


def _kind(data: Any) -> str:
    return {list: "a list", str: "a string"}.get(type(data), f"a {type(data).__name__}")


#: pydantic's names for bounds it could not place on a union (a duration with ``gt=0``), and
#: JSON Schema's: at the top of an ``anyOf`` they constrain the numbers and pass the strings.
_BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files as users write them.

    camelCase keys, durations as ``250ms`` / ``1m30s`` / seconds, int-or-percent as pods or
    ``"25%"``, a bare duration for a constant distribution, the ``expect:`` shorthand. It
    accepts every valid file and rejects what validation rejects where JSON Schema can say
    it (unknown keys, types, bounds, enums, the duration and percent forms, a distribution's
    parameters, summary field names and outcomes); references between sections (versions,
    tables, flags, analysis templates) and rules across fields are left to ``validate``.
    """
    schema = Scenario.model_json_schema(by_alias=True)
    duration = TypeAdapter(DurationInput).json_schema()
    schema = _tidy(schema, duration["anyOf"])
    schema["$defs"]["Duration"] = duration
    block = schema["$defs"]["ExpectBlock"]
    extra = expect_block_schema()
    block["propertyNames"] = extra["propertyNames"]
    block["properties"].update(extra["properties"])
    block["description"] = (
        "summary field (or errors_by_cause.<cause>, errors_by_phase.<phase>) → expectation; "
        "policy: the rollout policy's false-rollback rate and detection"
    )
    # With manifests: the service: section (and its version) may be left to them.
    schema["required"] = [k for k in schema["required"] if k != "service"]
    service = schema["$defs"]["Service"]
    service["required"] = [k for k in service["required"] if k != "version"]
    schema["if"] = {"not": {"required": ["manifests"]}}
    schema["then"] = {
        "required": ["service"],
        "properties": {"service": {"required": ["version"]}},
    }
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _tidy(node: Any, duration: list[dict[str, Any]]) -> Any:
    """Standard bound keywords, and one ``$ref`` to ``Duration`` for each duration's forms."""
    if isinstance(node, list):
        return [_tidy(item, duration) for item in node]
    if not isinstance(node, dict):
        return node
    out = {_BOUNDS.get(k, k): _tidy(v, duration) for k, v in node.items()}
    branches = out.get("anyOf")
    if isinstance(branches, list) and all(b in branches for b in duration):
        rest = [b for b in branches if b not in duration]
        ref = {"$ref": "#/$defs/Duration"}
        if rest:
            out["anyOf"] = [*rest, ref]
        else:
            del out["anyOf"]
            out.update(ref)
    return out
