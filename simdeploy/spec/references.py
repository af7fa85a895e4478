"""The checks that span sections of a scenario: references and plan-wide rules, all at once.

A section's own rules are its model's (``service.py``, ``progressive.py``, ...). What needs two
sections is here: versions, flags, tables, columns and analysis templates that a section names
must exist; a metric's ``of:`` must be a role of the strategy that runs it or a version; plan
actions and long transactions must fall within the run; every migration must apply to the
schema as the plan leaves it (PostgreSQL's refusal, from :func:`~simdeploy.rules.schema_changes.
apply`, is the message); ``complete`` needs a pgroll migration before it; a version may only
read and write columns that exist at some point of the plan; ``expect:`` names summary fields,
error causes, migration phases and outcomes that exist.

The checks run on whatever sections validated (:class:`Sections`), so one pass reports the
mistakes of a broken section *and* the independent reference errors elsewhere; a check that
needs a broken section is skipped (that section's own errors are reported already).
:func:`reference_problems` returns the problems; the root model raises them together.

Pure: pydantic only.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails

from simdeploy.rules.durations import format_duration
from simdeploy.rules.schema import Schema
from simdeploy.rules.schema_changes import SchemaChangeError, apply
from simdeploy.spec.base import Loc, problem
from simdeploy.spec.database import Database
from simdeploy.spec.expect import Expect, Expectation
from simdeploy.spec.flags import Flag
from simdeploy.spec.metrics import ERROR_CAUSES, FIRST_PHASE, OUTCOMES_OF_ROLLOUT, SUMMARY_FIELDS
from simdeploy.spec.plan import Action
from simdeploy.spec.progressive import QUERY_ROLES, ROLES_OF, AnalysisTemplate, RunRef
from simdeploy.spec.service import Service, Strategy
from simdeploy.spec.settings import Simulation
from simdeploy.spec.versions import Version

__all__ = ["Sections", "reference_problems"]


@dataclass
class Sections:
    """The sections of a scenario that validated, for the checks that span them.

    A section that failed is None. A mapping keeps every name it was given, with None for an
    entry that failed, so that a reference to it is not reported as unknown. ``plan`` keeps
    the actions that validated, with their index; ``whole_plan`` says whether that is all.
    """

    service: Service | None = None
    versions: dict[str, Version | None] | None = None
    plan: list[tuple[int, Action]] = field(default_factory=list)
    whole_plan: bool = True
    simulation: Simulation | None = None
    database: Database | None = None
    has_database: bool = False
    flags: dict[str, Flag | None] | None = None
    templates: dict[str, AnalysisTemplate | None] | None = None
    expect: dict[str, Expectation | None] | None = None
    compare: dict[str, Strategy | None] | None = None

    @classmethod
    def of(cls, sc: Any) -> Sections:
        """The sections of a validated scenario (every one is there)."""
        return cls(
            service=sc.service,
            versions=dict(sc.versions),
            plan=list(enumerate(sc.plan)),
            simulation=sc.simulation,
            database=sc.database,
            has_database=sc.database is not None,
            flags=dict(sc.flags),
            templates=dict(sc.analysis_templates),
            expect=sc.expect.fields,
            compare=dict(sc.compare),
        )

    @classmethod
    def parse(cls, data: dict[Any, Any]) -> Sections:
        """Validate each section of ``data`` on its own (and each entry of a mapping or list).

        Used when the whole scenario failed, so that the checks can still run on the rest.
        """

        def raw(name: str, default: Any = None) -> Any:
            return data.get(to_camel(name), data.get(name, default))

        plan_raw = raw("plan", [])
        actions = [_one(Action, a) for a in plan_raw] if isinstance(plan_raw, list) else []
        db_raw = raw("database")
        return cls(
            service=_one(Service, raw("service")),
            versions=_mapping(Version, raw("versions")),
            plan=[(i, a) for i, a in enumerate(actions) if a is not None],
            whole_plan=isinstance(plan_raw, list) and None not in actions,
            simulation=_one(Simulation, raw("simulation", {})),
            database=_one(Database, db_raw),
            has_database=db_raw is not None,
            flags=_mapping(Flag, raw("flags", {})),
            templates=_mapping(AnalysisTemplate, raw("analysis_templates", {})),
            expect=_expect_fields(raw("expect", {})),
            compare=_mapping(Strategy, raw("compare", {})),
        )


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _one(tp: Any, value: Any) -> Any:
    """``value`` validated as ``tp``, or None where it is missing or fails."""
    if value is None:
        return None
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        adapter = _ADAPTERS[tp] = TypeAdapter(tp)
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _expect_fields(value: Any) -> dict[str, Any] | None:
    """The field expectations of a raw ``expect:`` mapping (``policy:`` is not one)."""
    if not isinstance(value, dict):
        return None
    return _mapping(Expect, {k: v for k, v in value.items() if k != "policy"})


def _mapping(tp: Any, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): _one(tp, v) for k, v in value.items()}


# --- the checks -------------------------------------------------------------------------------


def reference_problems(s: Sections) -> list[InitErrorDetails]:
    """Every cross-section problem of ``s``, in the order of the file's sections."""
    return [
        *_version_refs(s),
        *_plan_refs(s),
        *_database_refs(s),
        *_flag_refs(s),
        *_template_refs(s),
        *_metric_roles(s),
        *_kayenta_steps(s),
        *_expect_refs(s),
    ]


def _hint(value: str, known: list[str], *, none: str = "none are defined") -> str:
    close = difflib.get_close_matches(value, known, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; known: {', '.join(known)}" if known else f"; {none}"


def _unknown(loc: Loc, what: str, value: str, known: list[str]) -> InitErrorDetails:
    return problem(loc, f"unknown {what} '{value}'{_hint(value, known)}", value)


def _version_refs(s: Sections) -> list[InitErrorDetails]:
    if s.versions is None:
        return []
    known = sorted(s.versions)
    out = []
    if s.service is not None and s.service.version not in s.versions:
        out.append(_unknown(("service", "version"), "version", s.service.version, known))
    for i, act in s.plan:
        if act.version is not None and act.version not in s.versions:
            out.append(_unknown(("plan", i, "version"), "version", act.version, known))
    for name, fl in (s.flags or {}).items():
        for v in (fl.versions or []) if fl is not None else []:
            if v not in s.versions:
                out.append(_unknown(("flags", name, "versions"), "version", v, known))
    return out


def _after_end(loc: Loc, at: float, s: Sections) -> list[InitErrorDetails]:
    if s.simulation is None or at <= s.simulation.duration:
        return []
    end = format_duration(s.simulation.duration)
    return [problem(loc, f"{format_duration(at)} is after the end of the run ({end})", at)]


def _plan_refs(s: Sections) -> list[InitErrorDetails]:
    out = []
    for i, act in s.plan:
        out += _after_end(("plan", i, "at"), act.at, s)
        if act.flag is not None and s.flags is not None and act.flag not in s.flags:
            out.append(_unknown(("plan", i, "flag"), "flag", act.flag, sorted(s.flags)))
        if act.action in ("migrate", "complete") and not s.has_database:
            out.append(problem(("plan", i), f"{act.action} needs a database section"))
    return out


@dataclass
class _Walk:
    """The schema through the plan: every table and column that ever exists, and problems."""

    tables: set[str] = field(default_factory=set)
    columns: set[tuple[str, str]] = field(default_factory=set)
    problems: list[InitErrorDetails] = field(default_factory=list)

    def saw(self, schema: Schema) -> None:
        for t in schema.tables:
            self.tables.add(t.name)
            self.columns |= {(t.name, c.name) for c in t.columns}


def _walk_plan(db: Database, plan: list[tuple[int, Action]]) -> _Walk:
    """Apply every migration in plan order, as the plan leaves the schema.

    A plain migration changes the schema at once; a pgroll migration (``pgroll: true``) keeps a
    new schema version beside the old until ``complete``, and a ``rollback`` before then
    discards it. A migration PostgreSQL would refuse here is a problem at its first refused
    operation (at run time the rest of it would not run either); the walk goes on with the
    operations that apply, so that one mistake does not hide another.
    """
    walk = _Walk()
    schema = db.schema()
    walk.saw(schema)
    pending: tuple[int, Schema] | None = None  # pgroll migration started, not completed
    open_pgroll: int | None = None  # the last pgroll migration no `complete` has consumed
    for i, act in sorted(plan, key=lambda p: p[1].at):
        if act.action == "migrate":
            if act.pgroll and pending is not None:
                walk.problems.append(
                    problem(
                        ("plan", i),
                        f"a pgroll migration is already in progress (plan[{pending[0]}]); "
                        "complete it, or roll back, before starting another",
                    )
                )
            elif pending is not None:
                # The app versions read pgroll's two schema versions (views), and complete
                # makes the pending one the schema: a plain change in between would be lost.
                walk.problems.append(
                    problem(
                        ("plan", i),
                        f"a migration while the pgroll migration of plan[{pending[0]}] is in "
                        "progress: no app version would see it, and complete would drop it; "
                        "complete or roll back first, or make it part of that migration",
                    )
                )
            new = _apply_all(schema, i, act, walk)
            walk.saw(new)
            if act.pgroll:
                pending, open_pgroll = (i, new), i
            else:
                schema = new
        elif act.action == "complete":
            if open_pgroll is None:
                walk.problems.append(
                    problem(
                        ("plan", i),
                        "complete with no pgroll migration before it to complete "
                        "(complete ends a migration with pgroll: true)",
                    )
                )
            elif pending is not None:
                schema = pending[1]
            pending, open_pgroll = None, None
        elif act.action == "rollback":
            pending = None  # pgroll's rollback follows the app's; a later complete is a no-op
    return walk


def _apply_all(schema: Schema, i: int, act: Action, walk: _Walk) -> Schema:
    refused = False
    for j, op in enumerate(act.operations):
        try:
            schema = apply(schema, op.to_operation())
        except SchemaChangeError as exc:
            if not refused:
                kind = next(to_camel(k) for k, v in op if v is not None)
                walk.problems.append(problem(("plan", i, "operations", j, kind), str(exc)))
            refused = True
    return schema


def _database_refs(s: Sections) -> list[InitErrorDetails]:
    out = []
    if not s.has_database:
        for vname, ver in (s.versions or {}).items():
            for kind in ("reads", "writes"):
                if ver is not None and getattr(ver, kind):
                    out.append(problem(("versions", vname, kind), "needs a database section"))
        return out
    db = s.database
    if db is None or not s.whole_plan:
        return out  # a broken section: its own errors are reported, a walk would guess
    walk = _walk_plan(db, s.plan)
    out += walk.problems
    tables = sorted(walk.tables)
    for vname, ver in (s.versions or {}).items():
        for kind in ("reads", "writes"):
            for t, cols in (getattr(ver, kind) if ver is not None else {}).items():
                loc: Loc = ("versions", vname, kind, t)
                if t not in walk.tables:
                    out.append(_unknown(loc, "table", t, tables))
                    continue
                known = sorted(c for tt, c in walk.columns if tt == t)
                for j, c in enumerate(cols):
                    if (t, c) not in walk.columns:
                        out.append(
                            problem(
                                (*loc, j),
                                f"column '{c}' never exists in {t} (not in database.tables, "
                                f"not added by a migration of the plan){_hint(c, known)}",
                                c,
                            )
                        )
    for i, lt in enumerate(db.long_transactions):
        loc = ("database", "longTransactions", i)
        if lt.table not in walk.tables:
            out.append(_unknown((*loc, "table"), "table", lt.table, tables))
        out += _after_end((*loc, "at"), lt.at, s)
    return out


def _flag_refs(s: Sections) -> list[InitErrorDetails]:
    """The tables a flagged code path touches exist (its columns may be missing on purpose:
    a feature shipped before its migration fails with schema_error, which the run shows)."""
    if s.database is None or not s.whole_plan:
        return []
    tables = set(s.database.tables)
    for _, act in s.plan:
        tables |= {o.add_table.table for o in act.operations if o.add_table is not None}
    out = []
    for name, fl in (s.flags or {}).items():
        for kind in ("reads", "writes"):
            for t in getattr(fl.feature, kind) if fl is not None else {}:
                if t not in tables:
                    loc = ("flags", name, "feature", kind, t)
                    out.append(_unknown(loc, "table", t, sorted(tables)))
    return out


def _strategies(s: Sections) -> list[tuple[Loc, Strategy]]:
    """Every strategy of the scenario with its location."""
    out: list[tuple[Loc, Strategy]] = []
    if s.service is not None:
        out.append((("service", "strategy"), s.service.strategy))
    out += [(("plan", i, "strategy"), a.strategy) for i, a in s.plan if a.strategy is not None]
    out += [(("compare", n), st) for n, st in (s.compare or {}).items() if st is not None]
    return out


def _runs(st: Strategy) -> list[tuple[Loc, RunRef]]:
    """(location below the strategy, analysis reference) of every analysis it runs."""
    return [(loc, run) for loc, run, _ in _runs_with_roles(st)]


def _runs_with_roles(st: Strategy) -> list[tuple[Loc, RunRef, tuple[str, ...]]]:
    """Every analysis the strategy runs, with the extra roles its queries may name (an
    experiment's template names)."""
    runs: list[tuple[Loc, RunRef | None, tuple[str, ...]]] = []
    if st.canary is not None:
        for i, step in enumerate(st.canary.steps):
            runs.append((("canary", "steps", i, "analysis"), step.analysis, ()))
            if step.experiment is not None:
                names = tuple(t.name for t in step.experiment.templates)
                runs += [
                    (("canary", "steps", i, "experiment", "analyses", k), run, names)
                    for k, run in enumerate(step.experiment.run_refs())
                ]
        runs.append((("canary", "analysis"), st.canary.analysis, ()))
    if st.blue_green is not None:
        runs += [
            (("blueGreen", "prePromotionAnalysis"), st.blue_green.pre_promotion_analysis, ()),
            (("blueGreen", "postPromotionAnalysis"), st.blue_green.post_promotion_analysis, ()),
        ]
    return [(loc, r, extra) for loc, r, extra in runs if r is not None]


def _template_refs(s: Sections) -> list[InitErrorDetails]:
    if s.templates is None:
        return []
    known = sorted(s.templates)
    out = []
    for where, st in _strategies(s):
        for loc, run in _runs(st):
            for k, ref in enumerate(run.templates):
                if ref.template_name not in s.templates:
                    name = ref.template_name
                    at = (
                        (*loc, "templateName")
                        if "experiment" in loc
                        else (
                            *loc,
                            "templates",
                            k,
                            "templateName",
                        )
                    )
                    out.append(
                        problem(
                            (*where, *at),
                            f"unknown analysis template '{name}' (analysisTemplates)"
                            + _hint(name, known),
                            name,
                        )
                    )
            out += _metric_name_clash((*where, *loc, "templates"), run, s.templates)
    return out


def _metric_name_clash(
    loc: Loc, run: RunRef, templates: dict[str, AnalysisTemplate | None]
) -> list[InitErrorDetails]:
    """One analysis run's templates are merged into one list of metrics, whose names must
    differ (Argo's flattenMetrics; the Rollout becomes InvalidSpec): the same template twice,
    or two templates with a metric of the same name."""
    names = [ref.template_name for ref in run.templates]
    seen: set[str] = set()
    for name in names:
        template = templates.get(name)
        for metric in template.metrics if template is not None else []:
            if metric.name in seen:
                return [
                    problem(
                        loc,
                        f'Invalid value: "templateNames: [{", ".join(names)}]": two metrics '
                        f"have the same name '{metric.name}'",
                        names,
                    )
                ]
            seen.add(metric.name)
    return []


_STRATEGY_NAMES = {"Canary": "an Argo canary", "BlueGreen": "an Argo blue/green"}


def _path(loc: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _metric_roles(s: Sections) -> list[InitErrorDetails]:
    """A query's ``of:`` is a version, or a role that every strategy using it maps."""
    if s.templates is None or s.versions is None:
        return []
    users: dict[str, list[tuple[Loc, str, tuple[str, ...]]]] = {}
    for where, st in _strategies(s):
        for _, run, extra in _runs_with_roles(st):
            for ref in run.templates:
                users.setdefault(ref.template_name, []).append((where, st.type, extra))
    experiment_roles = {r for uses in users.values() for _, _, extra in uses for r in extra}
    versions = sorted(s.versions)
    out = []
    for tname, template in s.templates.items():
        for m, metric in enumerate(template.metrics if template is not None else []):
            provider = metric.provider
            for key, of in provider.role_fields():
                loc = ("analysisTemplates", tname, "metrics", m, "provider", provider.kind, key)
                if of in s.versions:
                    continue
                if of not in QUERY_ROLES and of not in experiment_roles:
                    close = difflib.get_close_matches(of, [*QUERY_ROLES, *versions], n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    known = f"roles: {', '.join(QUERY_ROLES)}; versions: {', '.join(versions)}"
                    msg = f"unknown role or version '{of}'{hint} ({known})"
                    out.append(problem(loc, msg, of))
                    continue
                for where, kind, extra in users.get(tname, []):
                    roles = (*ROLES_OF.get(kind, QUERY_ROLES), *extra)
                    if of not in roles:
                        out.append(
                            problem(
                                loc,
                                f"{_STRATEGY_NAMES.get(kind, kind)} has no role '{of}' "
                                f"({_path(where)} runs this template); its roles: "
                                f"{', '.join(roles)}",
                                of,
                            )
                        )
                        break
    return out


def _kayenta_steps(s: Sections) -> list[InitErrorDetails]:
    """A Kayenta step shorter than a bucket would sample no whole bucket: every value NaN."""
    if s.templates is None or s.simulation is None:
        return []
    bucket = s.simulation.bucket
    out = []
    for tname, template in s.templates.items():
        for m, metric in enumerate(template.metrics if template is not None else []):
            k = metric.provider.kayenta
            if k is not None and k.step < bucket - 1e-9:
                loc = ("analysisTemplates", tname, "metrics", m, "provider", "kayenta", "step")
                msg = (
                    f"{k.step:g} s is shorter than simulation.bucket ({bucket:g} s): a sample "
                    "covers whole buckets, so every one would be empty"
                )
                out.append(problem(loc, msg, k.step))
    return out


_NUMBER_FORMS = "write a number, '<= 5' (<, <=, >, >=, ==, !=) or {min: 1, max: 5}"


def _phases(s: Sections) -> list[str] | None:
    """The names ``errors_by_phase`` may have (None when the plan is not all there)."""
    if not s.whole_plan:
        return None
    names = [FIRST_PHASE]
    for _, a in s.plan:
        if a.action == "migrate":
            names.append(a.phase_name)
    return names


def _expect_refs(s: Sections) -> list[InitErrorDetails]:
    out = []
    for key, exp in (s.expect or {}).items():
        loc = ("expect", key)
        root, _, sub = key.partition(".")
        if root not in SUMMARY_FIELDS:
            close = difflib.get_close_matches(root, SUMMARY_FIELDS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            out.append(problem(loc, f"unknown summary field{hint}", key))
            continue
        if sub:
            names = {"errors_by_cause": list(ERROR_CAUSES), "errors_by_phase": _phases(s)}
            if root not in names:
                out.append(problem(loc, f"{root} has no fields below it", key))
                continue
            known = names[root]
            what = "error cause" if root == "errors_by_cause" else "migration phase"
            if known is not None and sub not in known:
                out.append(_unknown(loc, what, sub, known))
                continue
        if exp is None:
            continue
        if root == "outcome":
            outcomes = list(OUTCOMES_OF_ROLLOUT)
            if exp.op not in ("==", "!=") or not isinstance(exp.value, str):
                msg = f"'{exp.text}': an outcome is one of {', '.join(outcomes)} (== or !=)"
                out.append(problem(loc, msg, exp.value))
            elif exp.value not in outcomes:
                out.append(_unknown(loc, "outcome", exp.value, outcomes))
        elif isinstance(exp.value, str):
            out.append(problem(loc, f"'{exp.text}' is not a number; {_NUMBER_FORMS}", exp.value))
    return out
