"""The scenario file: pydantic models, strict validation, one error line per problem.

Field names follow Kubernetes where it has one (camelCase in YAML, snake_case in
Python through aliases) so a user can paste ``maxSurge``, ``readinessProbe`` or
``terminationGracePeriodSeconds`` from a manifest. Unknown keys are errors with a
"did you mean" hint; every error names its field path (``service.pod.concurrency``).

Pure core: no SimPy, no pandas. ``load_scenario(path)`` and ``Scenario.parse(dict)``
raise :class:`ScenarioError`, whose ``errors`` are the one-line messages the CLI prints.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simdeploy.rules import dists
from simdeploy.rules.durations import format_duration
from simdeploy.rules.replica_math import InvalidRolloutSpec, validate_rolling_update
from simdeploy.spec.base import Duration, Fraction, IntOrPercent, ScenarioError, Strict
from simdeploy.spec.database import Database, Flag, Operation
from simdeploy.spec.metrics import SUMMARY_FIELDS
from simdeploy.spec.progressive import (
    AnalysisTemplate,
    ArgoBlueGreen,
    ArgoCanary,
    FlaggerCanary,
    Shadow,
)

# --- distributions -------------------------------------------------------------------


class DistSpec(Strict):
    """A duration distribution: ``{dist: exponential, mean: 50ms}`` and friends.

    A bare duration (``2s``) anywhere a distribution is expected means a constant.
    """

    dist: Literal["constant", "exponential", "uniform", "lognormal"] = "constant"
    value: Duration | None = None
    mean: Duration | None = None
    low: Duration | None = None
    high: Duration | None = None
    p99: Duration | None = None

    @model_validator(mode="after")
    def _params(self) -> DistSpec:
        need = {
            "constant": ("value",),
            "exponential": ("mean",),
            "uniform": ("low", "high"),
            "lognormal": ("mean", "p99"),
        }[self.dist]
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"dist {self.dist} needs '{name}'")
        if self.dist == "uniform" and self.low > self.high:  # type: ignore[operator]
            raise ValueError("uniform needs low <= high")
        if self.dist == "lognormal":
            mean, p99 = self.mean or 0.0, self.p99 or 0.0
            if not 0 < mean < p99 <= 15 * mean:
                raise ValueError("lognormal needs 0 < mean < p99 <= 15 x mean")
        return self

    def build(self) -> dists.Distribution:
        if self.dist == "constant":
            return dists.Constant(self.value or 0.0)
        if self.dist == "exponential":
            return dists.Exponential(self.mean or 0.0)
        if self.dist == "uniform":
            return dists.Uniform(self.low or 0.0, self.high or 0.0)
        return dists.LogNormal(self.mean or 0.0, self.p99 or 0.0)


def _dist_shorthand(value: Any) -> Any:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value


Dist = Annotated[DistSpec, BeforeValidator(_dist_shorthand)]


# --- service: pods, probes, termination, balancer, strategy ------------------------------


class Probe(Strict):
    """A readiness probe with Kubernetes' defaults (period 10 s, thresholds 1 / 3)."""

    initial_delay_seconds: Duration = 0.0
    period_seconds: Annotated[Duration, Field(gt=0)] = 10.0
    timeout_seconds: Annotated[Duration, Field(gt=0)] = 1.0
    success_threshold: Annotated[int, Field(ge=1)] = 1
    failure_threshold: Annotated[int, Field(ge=1)] = 3


class SleepAction(Strict):
    seconds: Duration


class PreStop(Strict):
    sleep: SleepAction


class Lifecycle(Strict):
    """``lifecycle.preStop.sleep.seconds`` exactly as in a Kubernetes pod spec."""

    pre_stop: PreStop | None = None


class PodSpec(Strict):
    """The pod template's timing: scheduling, start-up, probes, termination, workers."""

    scheduling_delay: Dist = DistSpec(dist="constant", value=0.5)
    startup_delay: Dist = DistSpec(dist="constant", value=2.0)
    concurrency: Annotated[int, Field(ge=1)] = 8
    readiness_probe: Probe | None = None
    lifecycle: Lifecycle | None = None
    termination_grace_period_seconds: Duration = 30.0
    crash_loop_back_off: Duration = Field(10.0, description="first restart back-off; doubles to 5m")

    @property
    def pre_stop_sleep_s(self) -> float:
        if self.lifecycle is None or self.lifecycle.pre_stop is None:
            return 0.0
        return self.lifecycle.pre_stop.sleep.seconds


class Balancer(Strict):
    """How requests pick a ready endpoint, and how late endpoint changes reach it."""

    policy: Literal["round_robin", "random", "least_outstanding"] = "round_robin"
    endpoint_propagation_delay: Duration = 1.0


class RollingUpdate(Strict):
    max_surge: IntOrPercent = "25%"
    max_unavailable: IntOrPercent = "25%"


#: Strategy block key → strategy type; Kubernetes' own types use ``type:``.
BLOCKS = {
    "canary": "Canary",
    "blueGreen": "BlueGreen",
    "flagger": "Flagger",
    "shadow": "Shadow",
}


class Strategy(Strict):
    """A deployment strategy, spelled as its tool spells it.

    Kubernetes: ``{type: Recreate}`` or ``{type: RollingUpdate, rollingUpdate: {...}}``.
    Argo Rollouts: ``{canary: {steps: [...]}}`` or ``{blueGreen: {...}}``. Flagger:
    ``{flagger: {analysis: {...}}}``. Shadow: ``{shadow: {...}}``. The block names the type.
    """

    type: Literal["Recreate", "RollingUpdate", "Canary", "BlueGreen", "Flagger", "Shadow"] = (
        "RollingUpdate"
    )
    rolling_update: RollingUpdate | None = None
    canary: ArgoCanary | None = None
    blue_green: ArgoBlueGreen | None = None
    flagger: FlaggerCanary | None = None
    shadow: Shadow | None = None

    @model_validator(mode="before")
    @classmethod
    def _type_from_block(cls, data: Any) -> Any:
        if isinstance(data, dict):
            spelled = {k: (k, _FIELD[BLOCKS[k]]) for k in BLOCKS}
            blocks = [
                k for k, names in spelled.items() if any(data.get(n) is not None for n in names)
            ]
            if len(blocks) > 1:
                raise ValueError(f"give one strategy block, not {' and '.join(blocks)}")
            if blocks:
                want = BLOCKS[blocks[0]]
                if data.get("type", want) != want:
                    raise ValueError(f"type: {data['type']} does not match the {blocks[0]} block")
                data = {**data, "type": want}
        return data

    @model_validator(mode="after")
    def _k8s_rules(self) -> Strategy:
        if self.type == "Recreate" and self.rolling_update is not None:
            raise ValueError(
                "rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
            )
        if self.type in BLOCKS.values() and getattr(self, _field(self.type)) is None:
            raise ValueError(f"type {self.type} needs its {_block(self.type)} block")
        if self.type == "RollingUpdate":
            ru = self.rolling_update or RollingUpdate()
            try:
                validate_rolling_update(ru.max_surge, ru.max_unavailable)
            except InvalidRolloutSpec as exc:
                # One line per Kubernetes validation error (see format_validation_error).
                raise PydanticCustomError(
                    "k8s_invalid", "{first}", {"first": exc.errors[0], "errors": exc.errors}
                ) from None
        return self

    @property
    def rolling(self) -> RollingUpdate:
        return self.rolling_update or RollingUpdate()

    @property
    def label(self) -> str:
        if self.type == "Recreate":
            return "Recreate"
        if self.type == "RollingUpdate":
            ru = self.rolling
            return f"RollingUpdate(maxSurge={ru.max_surge}, maxUnavailable={ru.max_unavailable})"
        if self.type == "Canary" and self.canary is not None:
            router = "traffic router" if self.canary.routed else "no traffic router"
            return f"Canary ({len(self.canary.steps)} steps, {router})"
        return self.type


def _block(type_: str) -> str:
    return next(k for k, v in BLOCKS.items() if v == type_)


def _field(type_: str) -> str:
    return _FIELD[type_]


#: Strategy type → its block's Python field name.
_FIELD = {"Canary": "canary", "BlueGreen": "blue_green", "Flagger": "flagger", "Shadow": "shadow"}


class Service(Strict):
    """The Deployment: replicas, the version running at t=0, its strategy and pod template."""

    version: str
    replicas: Annotated[int, Field(ge=0)] = 3
    min_ready_seconds: Duration = 0.0
    progress_deadline_seconds: Duration | None = 600.0
    strategy: Strategy = Strategy()
    pod: PodSpec = PodSpec()
    balancer: Balancer = Balancer()

    @model_validator(mode="after")
    def _deadline(self) -> Service:
        pds = self.progress_deadline_seconds
        if pds is not None and pds <= self.min_ready_seconds:
            raise ValueError(
                "progressDeadlineSeconds: Invalid value: must be greater than minReadySeconds"
            )
        return self


# --- versions --------------------------------------------------------------------------


class Bug(Strict):
    """A release bug: extra error probability, maybe only for some users or after a while.

    ``userShare`` 0.2 → the same fixed 20% of users hit it on every request (a
    "production-only" bug in data only some users have); ``after`` → errors begin that
    long after each pod of the version started (a leak).
    """

    error_rate: Fraction
    user_share: Fraction = 1.0
    after: Duration = 0.0


class Version(Strict):
    """One application version: how fast it serves, how it fails, how it starts."""

    service_time: Dist = DistSpec(dist="exponential", mean=0.05)
    warmup: Duration = 0.0
    startup_delay: Dist | None = None
    error_rate: Fraction = 0.0
    bug: Bug | None = None
    crash_on_start: bool = False
    unhealthy_after: Duration | None = None
    reads: dict[str, list[str]] = Field(default_factory=dict)
    writes: dict[str, list[str]] = Field(default_factory=dict)


# --- traffic ---------------------------------------------------------------------------


class Step(Strict):
    at: Duration
    rate: Annotated[float, Field(ge=0)]


class Profile(Strict):
    """A request-rate profile (req/s): constant, steps, or a diurnal sine."""

    type: Literal["constant", "steps", "diurnal"] = "constant"
    rate: Annotated[float, Field(ge=0)] | None = None
    steps: list[Step] | None = None
    mean: Annotated[float, Field(ge=0)] | None = None
    amplitude: Fraction = 0.5
    period: Annotated[Duration, Field(gt=0)] = 86400.0

    @model_validator(mode="after")
    def _params(self) -> Profile:
        if self.type == "constant" and self.rate is None:
            raise ValueError("constant profile needs 'rate'")
        if self.type == "steps" and not self.steps:
            raise ValueError("steps profile needs a non-empty 'steps' list")
        if self.type == "diurnal" and self.mean is None:
            raise ValueError("diurnal profile needs 'mean'")
        return self


class Traffic(Strict):
    """Arrivals (Poisson), users, the read/write mix and the client timeout."""

    rate: Annotated[float, Field(ge=0)] | None = None
    profile: Profile | None = None
    users: Annotated[int, Field(ge=1)] = 10_000
    user_distribution: Literal["uniform", "zipf"] = "uniform"
    zipf_exponent: Annotated[float, Field(gt=0)] = 1.1
    write_ratio: Fraction = 0.1
    timeout: Annotated[Duration, Field(gt=0)] = 10.0

    @model_validator(mode="after")
    def _one_rate(self) -> Traffic:
        if self.rate is not None and self.profile is not None:
            raise ValueError("give either 'rate' or 'profile', not both")
        return self

    @property
    def rate_profile(self) -> Profile:
        if self.profile is not None:
            return self.profile
        return Profile(type="constant", rate=100.0 if self.rate is None else self.rate)


# --- plan, rollback, slo, simulation, expect ----------------------------------------------


class Action(Strict):
    """A timed plan action: ``deploy`` a version (with a strategy), ``rollback`` (undo,
    or Argo's abort), ``promote`` (Argo's promote: ends a pause or an inconclusive wait)."""

    at: Duration
    action: Literal["deploy", "rollback", "promote", "migrate", "complete", "flag"]
    version: str | None = None
    strategy: Strategy | None = None
    # migrate
    name: str | None = None
    operations: list[Operation] = Field(default_factory=list)
    lock_timeout: Duration | None = None
    retries: Annotated[int, Field(ge=0)] = 0
    pgroll: bool = False
    # flag
    flag: str | None = None
    rollout: Annotated[float, Field(ge=0, le=100)] | None = None
    kill: bool | None = None

    @model_validator(mode="after")
    def _fields(self) -> Action:
        a = self.action
        if a == "deploy" and not self.version:
            raise ValueError("deploy needs 'version'")
        if a in ("rollback", "promote", "complete") and (self.version or self.strategy):
            raise ValueError(f"{a} takes only 'at' (it acts on the last deploy or migration)")
        if a == "migrate" and not self.operations:
            raise ValueError("migrate needs 'operations'")
        if a == "migrate" and self.pgroll and self.version is None:
            raise ValueError("a pgroll migration names the 'version' that sees the new schema")
        if a != "migrate" and (self.operations or self.lock_timeout is not None or self.retries):
            raise ValueError("operations, lockTimeout and retries belong to a migrate action")
        if a == "flag" and (self.flag is None or (self.rollout is None and self.kill is None)):
            raise ValueError("flag needs 'flag' and 'rollout' or 'kill'")
        if a != "flag" and (
            self.flag is not None or self.rollout is not None or self.kill is not None
        ):
            raise ValueError("flag, rollout and kill belong to a flag action")
        return self


class SloAlert(Strict):
    """An alert on the user-facing error ratio over a sliding window, then a human.

    Fires when errors / completed requests over the last ``window`` exceeds
    ``errorRate`` (with at least ``minRequests`` completed); the rollback is requested
    at the firing time and carried out ``reactionDelay`` later (someone gets paged).
    """

    error_rate: Fraction = 0.05
    window: Annotated[Duration, Field(gt=0)] = 60.0
    reaction_delay: Duration = 120.0
    min_requests: Annotated[int, Field(ge=1)] = 20


class Rollback(Strict):
    slo_alert: SloAlert | None = None
    on_progress_deadline: bool = False


class Slo(Strict):
    error_rate: Fraction = 0.01


class Simulation(Strict):
    duration: Duration = 600.0
    seed: Annotated[int, Field(ge=0)] = 1
    bucket: Annotated[Duration, Field(gt=0)] = 1.0
    data_plane: Literal["request"] = "request"


_OPS = ("<=", ">=", "==", "!=", "<", ">")


class Expectation(Strict):
    """``field: 0`` (equals), ``field: "<= 5"``, or ``field: {min: 1, max: 5}``."""

    op: Literal["<=", ">=", "==", "!=", "<", ">", "range"]
    value: float | str | None = None
    min: float | None = None
    max: float | None = None

    @property
    def text(self) -> str:
        if self.op == "range":
            lo = "-inf" if self.min is None else f"{self.min:g}"
            hi = "inf" if self.max is None else f"{self.max:g}"
            return f"in [{lo}, {hi}]"
        return f"{self.op} {self.value}"


def _expectation(value: Any) -> Any:
    if isinstance(value, dict):
        return {"op": "range", **value}
    if isinstance(value, str):
        for op in _OPS:
            if value.startswith(op):
                rest = value[len(op) :].strip()
                try:
                    return {"op": op, "value": float(rest)}
                except ValueError:
                    return {"op": op, "value": rest}
        return {"op": "==", "value": value}
    if isinstance(value, bool | int | float):
        return {"op": "==", "value": float(value)}
    return value


Expect = Annotated[Expectation, BeforeValidator(_expectation)]


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


_SUBPATH = re.compile(
    r"^(?:spec\.strategy\.)?([A-Za-z]\w*(?:(?:\.[A-Za-z]\w*)|(?:\[\d+\]))*): (.+)$"
)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "constrained-")):
            continue
        else:
            out += ("." if out else "") + part
    return out


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per error: ``field.path: message``, unknown keys with their hint."""
    lines = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "unknown_field":
            loc = (*loc, ctx["key"])
        if err["type"] in (
            "unknown_version",
            "after_end",
            "unknown_metric",
            "unknown_template",
            "unknown_ref",
            "no_database",
        ):
            lines.append(msg)
            continue
        if err["type"] == "missing":
            msg = "required field is missing"
        messages = list(ctx["errors"]) if err["type"] == "k8s_invalid" else [msg]
        lines.extend(_line(_loc(loc), m.removeprefix("Value error, ")) for m in messages)
    return lines


def _line(path: str, msg: str) -> str:
    # Model validators name the sub-field they reject as "sub.field: message";
    # Kubernetes' own messages say "spec.strategy.rollingUpdate.maxSurge: ...".
    m = _SUBPATH.match(msg)
    if m:
        path = f"{path}.{m.group(1)}" if path else m.group(1)
        msg = m.group(2)
        path = path.replace(".[", "[")
    return f"{path}: {msg}" if path else msg


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
