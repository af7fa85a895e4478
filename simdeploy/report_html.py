"""One self-contained HTML page of a run, a comparison or a sweep (``simdeploy report``).

A front end, like :mod:`simdeploy.plots`: it reads results and draws; the CLI writes the page.
The page needs no network to open: the figures are inline SVG (matplotlib, mathtext off),
the style and the replay's script are inlined, nothing is fetched. It prints: the script's
``beforeprint`` handler opens every collapsed section; an ``@media print`` rule hides the
replay's buttons and slider and shows a note of the t its frame is at (the slider's).

It is built by Jinja2 with autoescape on, so a name, description, variant key or message
from a scenario is text on the page, never markup. The replay's data is JSON inside a
``<script type="application/json">`` element with ``<``, ``>`` and ``&`` written as
``\\u003c``, ``\\u003e``, ``\\u0026`` (:func:`script_json`): no user text can close that
element, and the script puts user text on the page only through ``textContent``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Any

import jinja2
import matplotlib
import pandas as pd
from markupsafe import Markup
from matplotlib.artist import Artist
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simdeploy import plots
from simdeploy.experiments.compare import Comparison, aggregate
from simdeploy.experiments.gate import AnyCheck, seeds_check
from simdeploy.experiments.policy_gate import check_policy
from simdeploy.plots_sweep import sweep_figure
from simdeploy.run.replay import frame_times, frames
from simdeploy.run.result import Result
from simdeploy.spec.metrics import ARTICLE_FIELDS, SUMMARY
from simdeploy.spec.plan import Action
from simdeploy.spec.plan_check import lint
from simdeploy.spec.scenario import Scenario
from simdeploy.world.recorder import POD_STATES

#: Most rows of a variant's event log on the page (the replay's data keeps every event).
MAX_EVENT_ROWS = 2000
#: Most frames of a replay (every bucket up to this, then every k-th bucket).
REPLAY_FRAMES = 1200
#: Events the replay lists under the state at t.
LAST_EVENTS = 8
#: Summary fields a sweep page draws, each against the swept fields.
SWEEP_METRICS = ("errors", "users_affected", "downtime_s", "extra_cost")

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("simdeploy", "templates"),
    autoescape=True,  # the template is .html.j2: select_autoescape would not match it
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Source:
    """A scenario file as the page shows it: the path given, its text, the scenario read."""

    path: str
    text: str
    scenario: Scenario


# --- the two pages -----------------------------------------------------------------------


def run_page(
    sources: Sequence[Source], variants: Mapping[str, Scenario], comparison: Comparison
) -> str:
    """The page of one run (one variant) or of a comparison (several, side by side).

    ``variants``: name → the scenario each variant ran (``comparison.runs`` has its runs,
    one per seed of ``comparison.seeds``). Figures and the replay show each variant's first
    seed; tables show the mean over the seeds and its 95% CI.
    """
    names = list(comparison.runs)
    records = {name: aggregate(name, comparison.runs[name]) for name in names}
    several = len(comparison.seeds) > 1
    figures = []
    if len(names) > 1:
        figures.append(
            {
                "title": "Variants side by side",
                "svg": svg(lambda: plots.comparison_figure(comparison), "comparison"),
            }
        )
    sections = [
        _variant(i, name, variants[name], comparison.runs[name], comparison.seeds, len(names))
        for i, name in enumerate(names)
    ]
    title = names[0] if len(names) == 1 else ", ".join(s.scenario.name for s in sources)
    return _render(
        kind="run" if len(names) == 1 else "compare",
        title=title,
        seeds=comparison.seeds,
        sources=[_source(s) for s in sources],
        variant_names=names,
        summary=_summary(records, several),
        causes=_by_key(records, "errors_by_cause"),
        phases=_by_key(records, "errors_by_phase"),
        figures=figures,
        variants=sections,
        sweep=None,
    )


def sweep_page(
    source: Source, grid: Mapping[str, Sequence[Any]], table: pd.DataFrame, seeds: Sequence[int]
) -> str:
    """The page of a sweep: the scenario, the grid, its table (one row per point and
    variant, mean ± the half-width of the 95% CI) and its figures (one or two swept
    fields: :func:`simdeploy.plots_sweep.sweep_figure` for each of :data:`SWEEP_METRICS`)."""
    paths = list(grid)
    figures = []
    if len(paths) <= 2:
        for metric in SWEEP_METRICS:
            figure = svg(partial(sweep_figure, table, paths, metric, len(seeds)), metric)
            figures.append({"title": f"{metric} against {' × '.join(paths)}", "svg": figure})
    columns = [*paths, "variant", *ARTICLE_FIELDS]
    rows = []
    for row in table.to_dict(orient="records"):
        cells = [number(row[p]) for p in paths] + [str(row["variant"])]
        cells += [ci_cell(row.get(f), _half(row.get(f"{f}_ci95")), f) for f in ARTICLE_FIELDS]
        rows.append(cells)
    return _render(
        kind="sweep",
        title=f"sweep of {source.scenario.name}",
        seeds=list(seeds),
        sources=[_source(source)],
        variant_names=[],
        summary=None,
        causes=None,
        phases=None,
        figures=figures,
        variants=[],
        sweep={
            "grid": [(p, ", ".join(number(v) for v in values)) for p, values in grid.items()],
            "columns": columns,
            "rows": rows,
            "drawn": len(paths) <= 2,
        },
    )


def _render(**context: Any) -> str:
    """The page: the template with the inlined style and script, and a Content Security
    Policy that lets only that script run (by its SHA-256) and fetches nothing."""
    script = _static("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return _ENV.get_template("report.html.j2").render(
        **context,
        version=_version(),
        css=Markup(_static("report.css")),  # the package's own file
        script=Markup(script),  # the package's own file
        script_hash=f"sha256-{digest}",
        pod_states=POD_STATES,
        last_events=LAST_EVENTS,
    )


def _static(name: str) -> str:
    """A file of ``simdeploy/templates`` as text (the page's style or script)."""
    loader = _ENV.loader
    assert loader is not None
    return loader.get_source(_ENV, name)[0]


# --- figures -----------------------------------------------------------------------------


def svg(draw: Callable[[], Figure], salt: str) -> Markup:
    """The figure ``draw()`` makes, as an inline ``<svg>`` element: drawn with mathtext off
    (a ``$`` in a name is a dollar sign: texts read the setting when they are made), text
    kept as text (``svg.fonttype: none``), no date, ids salted by ``salt`` so two figures of
    one page never share a clip-path id; its heavy artists drawn as an embedded image
    (:func:`rasterize_heavy`). Matplotlib escapes the text it writes (``<`` becomes
    ``&lt;``), so the element is safe to insert as markup."""
    buf = io.StringIO()
    style = {"text.parse_math": False, "svg.fonttype": "none", "svg.hashsalt": salt}
    with matplotlib.rc_context(style):
        figure = draw()
        rasterize_heavy(figure)
        figure.savefig(buf, format="svg", metadata={"Date": None}, dpi=RASTER_DPI)
    text = buf.getvalue()
    return Markup(text[text.index("<svg") :])  # matplotlib's escaped output


#: Most vertices a line or a filled area keeps as vector paths on the page; above, it is
#: drawn as an image. A timeline of n buckets has areas of about 4n vertices (steps): a
#: 12-minute run in 1 s buckets (2,885) stays vectors; an hour (14,400; ~3 MB of path text
#: per timeline) is drawn as an image.
MAX_VECTOR_POINTS = 5000
#: Resolution (dots per inch) of those images: 1.5 device pixels per point of the figure.
RASTER_DPI = 108


def rasterize_heavy(figure: Figure, most: int = MAX_VECTOR_POINTS) -> list[Artist]:
    """Mark every line and collection (filled areas, stacks) of ``figure`` with more than
    ``most`` vertices to be drawn as an image in vector output (``rasterized``); axes,
    text, legends and event lines stay vectors. The artists marked, in drawing order."""
    heavy = [
        a
        for a in figure.findobj(lambda a: isinstance(a, Line2D | Collection))
        if _vertices(a) > most
    ]
    for artist in heavy:
        artist.set_rasterized(True)
    return heavy


def _vertices(artist: Artist) -> int:
    if isinstance(artist, Line2D):
        return len(artist.get_xdata())
    assert isinstance(artist, Collection)
    return sum(len(path.vertices) for path in artist.get_paths())


# --- sections ----------------------------------------------------------------------------


def _source(s: Source) -> dict[str, Any]:
    return {
        "path": s.path,
        "name": s.scenario.name,
        "description": s.scenario.description or "",
        "words": describe(s.scenario),
        "yaml": s.text,
        "findings": [
            {"phase": f.phase, "rule": f.rule, "reason": f.reason} for f in lint(s.scenario)
        ],
    }


def describe(sc: Scenario) -> list[str]:
    """What the scenario simulates, in sentences: the service, the traffic, each plan
    action (or that there is no deploy), the rollback triggers and the run."""
    svc, tr, sim = sc.service, sc.traffic, sc.simulation
    profile = tr.rate_profile
    rate = (
        f"{profile.rate:g} requests/s"
        if profile.type == "constant" and profile.rate is not None
        else f"a {profile.type} rate profile"
    )
    out = [
        f"{svc.replicas} replicas of {svc.version} behind a {svc.balancer.policy} balancer "
        f"(endpoint changes reach it after {svc.balancer.endpoint_propagation_delay:g} s); "
        f"versions: {', '.join(sc.versions)}.",
        f"Traffic: {rate} from {tr.users:,} users, client timeout {tr.timeout:g} s.",
    ]
    out += [f"At {a.at:g} s: {_action(a, sc)}." for a in sc.plan]
    if not any(a.action == "deploy" for a in sc.plan):
        out.append("No deploy in the plan: the run is steady state.")
    if sc.compare:
        shown = "; ".join(f"{name} ({st.label})" for name, st in sc.compare.items())
        out.append(f"Compared: every deploy with each strategy in turn: {shown}.")
    alert = sc.rollback.slo_alert
    if alert is not None:
        out.append(
            f"An SLO alert requests a rollback when the error ratio over {alert.window:g} s "
            f"exceeds {alert.error_rate:.2%}; a human carries it out {alert.reaction_delay:g} s "
            "later."
        )
    if sc.rollback.on_progress_deadline:
        out.append("The progress deadline rolls the release back.")
    out.append(
        f"{sim.duration:g} s simulated in {sim.bucket:g} s buckets ({sim.data_plane} data "
        f"plane), SLO error rate {sc.slo.error_rate:.2%}."
    )
    return out


def _action(a: Action, sc: Scenario) -> str:
    if a.action == "deploy":
        return f"deploy {a.version} with {(a.strategy or sc.service.strategy).label}"
    if a.action == "scale":
        return f"scale to {a.replicas} replicas"
    if a.action == "migrate":
        n = len(a.operations)
        return f"migration {a.phase_name} ({n} operation{'s' if n != 1 else ''})"
    if a.action == "flag":
        what = "kill switch" if a.kill else f"rollout {a.rollout:g}%"
        return f"flag {a.flag}: {what}"
    return a.action  # rollback, promote, complete


def _summary(records: Mapping[str, dict[str, Any]], several: bool) -> list[dict[str, Any]]:
    """One row per scalar summary field: its unit, meaning and a cell per variant."""
    rows = []
    for field, (unit, meaning) in SUMMARY.items():
        values = [rec.get(field) for rec in records.values()]
        if any(isinstance(v, dict) for v in values):
            continue  # errors_by_cause, errors_by_phase: tables of their own
        cells = [
            ci_cell(rec.get(field), _half(rec.get(f"{field}_ci95")) if several else None, field)
            for rec in records.values()
        ]
        rows.append({"field": field, "unit": unit, "meaning": meaning, "cells": cells})
    return rows


def _by_key(records: Mapping[str, dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Rows of a per-key field (errors by cause or phase) with a count in any variant."""
    keys = list(dict.fromkeys(k for rec in records.values() for k in rec.get(field) or {}))
    rows = []
    for key in keys:
        values = [(rec.get(field) or {}).get(key) or 0 for rec in records.values()]
        if any(values) or field == "errors_by_phase":
            rows.append({"key": key, "cells": [ci_cell(v, None, "errors") for v in values]})
    return rows


def _half(ci: Any) -> float | None:
    """Half the width of a 95% CI given as [low, high] (compare) or as a half-width (sweep)."""
    if isinstance(ci, list | tuple) and len(ci) == 2 and None not in ci:
        return (float(ci[1]) - float(ci[0])) / 2
    if isinstance(ci, int | float) and not math.isnan(ci):
        return float(ci)
    return None


def ci_cell(value: Any, half: float | None, field: str) -> str:
    """A table cell: ``-`` for no value, then :func:`number` and `` ± half`` (the 95% CI's
    half-width) when the interval has a width, the half-width in the value's unit and to
    the value's decimals (:func:`like`). E.g. an error_rate of 0.00015 ± 0.00004 →
    "0.0150% ± 0.0040%"; 13935.2 ± 390.4 requests → "13,935 ± 390"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    shown = number(value, field)
    if not half:
        return shown
    return f"{shown} ± {like(half, shown, field)}"


def like(x: float, shown: str, field: str = "") -> str:
    """``x`` (≥ 0) as :func:`number` shows ``field``'s values (``error_rate`` in percent,
    thousands separators), to as many decimals as ``shown`` has; when that rounds ``x`` to
    0, to its first significant digit instead (a mean of 2 ± 0.3 is not "2 ± 0")."""
    percent = field == "error_rate"
    value = 100.0 * x if percent else x
    suffix = "%" if percent else ""
    body = shown.removesuffix("%")
    if "e" in body:  # a tiny or huge value in exponent notation: the same for its interval
        return f"{value:.2g}{suffix}"
    decimals = len(body.partition(".")[2])
    text = f"{value:,.{decimals}f}"
    if value > 0 and float(text.replace(",", "")) == 0:
        text = f"{value:.{max(0, -math.floor(math.log10(value)))}f}"
    return text + suffix


def number(value: Any, field: str = "", digits: int = 4) -> str:
    """A summary value as the page shows it: text as is, ``error_rate`` in percent (at least
    ``digits`` - 1 decimals, and ``digits`` - 1 significant digits), a whole number with
    thousands separators, from 1,000 on no decimals, else ``digits`` significant digits.
    E.g. 215600.5 → "215,600"; 0.0399412 → "0.03994"; 12.0 → "12"; an error_rate of 0.0123
    → "1.230%", of 0.00015 → "0.0150%"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if field == "error_rate":
        places = max(1, digits - 1)
        percent = 100.0 * abs(value)
        if 0 < percent < 1:  # 0.015 % to 3 significant digits: 4 decimals, not 3
            places = max(places, places - 1 - math.floor(math.log10(percent)))
        return f"{value:.{places}%}"
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


#: The timeline's size (inches) alone on the page, and beside other variants' (a column of
#: at least 560 px: text at about 80 % of its size, not 55 %).
TIMELINE_SIZE = (11.0, 9.0)
TIMELINE_SIZE_SIDE_BY_SIDE = (7.5, 8.5)


def _variant(
    index: int, name: str, sc: Scenario, runs: list[Result], seeds: list[int], of: int = 1
) -> dict[str, Any]:
    """A variant's section: its outcome, expectations, timeline figure, events and replay
    (the figure, events and replay of its first seed's run), one of ``of`` side by side."""
    first = runs[0]
    records = [r.record for r in runs]
    checks: list[AnyCheck] = [
        seeds_check(field, exp, records, seeds, "all") for field, exp in sc.expect.items()
    ]
    checks += check_policy(sc)  # expect: policy:, on its own releases and seeds
    outcomes = sorted({str(r.record["outcome"]) for r in runs})
    events = first.events
    return {
        "id": f"v{index}",
        "name": name,
        "seed": first.seed,
        "outcomes": outcomes,
        "checks": [
            {"field": c.field, "expected": c.expected, "passed": c.passed, "evidence": c.evidence}
            for c in checks
        ],
        "has_expect": bool(sc.expect),
        "failed": sum(not c.passed for c in checks),
        "timeline": svg(
            lambda: plots.timeline_figure(
                first,
                title=f"{name} (seed {first.seed})",
                figsize=TIMELINE_SIZE if of == 1 else TIMELINE_SIZE_SIDE_BY_SIDE,
            ),
            f"t{index}",
        ),
        "events": [_event_row(e) for e in events.head(MAX_EVENT_ROWS).itertuples(index=False)],
        "events_total": len(events),
        "replay": script_json(replay_data(first)),
        "frames": len(frame_times(first, REPLAY_FRAMES)),
    }


#: Event reasons Kubernetes would show as ``Warning`` (the rest are ``Normal``, but see
#: :func:`event_type`): Flagger records ``Halt`` ("Halt advancement ...") and ``Rollback``
#: ("Rolling back ...") with ``recordEventWarningf`` (pkg/controller/scheduler*.go); a DDL
#: statement that gave up waiting for its lock (``LockTimeout``) failed.
_WARNING_WORDS = ("Fail", "Error", "Abort", "Exceeded", "Unhealthy", "BackOff", "NotFound")
_WARNING_REASONS = frozenset(
    {"SIGKILL", "RollbackRequested", "NotReady", "Halt", "Rollback", "LockTimeout"}
)
#: A measurement's message ends with its phase: ``errors=3 → Failed``.
_FAILED_MEASUREMENT = re.compile(r"→ (Failed|Error)$")
#: A shadow analysis's message starts with its count: ``574/5813 mismatches (9.87%)``.
_MISMATCHES = re.compile(r"^(\d+)/\d+ mismatches")


def event_type(reason: str, message: str = "") -> str:
    """``Warning`` or ``Normal``, as ``kubectl get events`` types them, from the reason and,
    for the reasons whose type depends on what happened, the message: an
    ``AnalysisMeasurement`` that ended ``Failed`` or ``Error`` (as Argo types an
    AnalysisRun's), a ``ShadowAnalysis`` that found a mismatch."""
    if reason in _WARNING_REASONS or any(w in reason for w in _WARNING_WORDS):
        return "Warning"
    if reason == "AnalysisMeasurement" and _FAILED_MEASUREMENT.search(message.rstrip()):
        return "Warning"
    if reason == "ShadowAnalysis":
        found = _MISMATCHES.match(message)
        if found and int(found.group(1)) > 0:
            return "Warning"
    return "Normal"


def _event_row(e: Any) -> dict[str, Any]:
    return {
        "t": f"{float(e.t):.3f}",
        "type": event_type(str(e.reason), str(e.message)),
        "reason": str(e.reason),
        "object": str(e.object),
        "version": str(e.version),
        "message": str(e.message),
    }


# --- the replay's data ---------------------------------------------------------------------


def replay_data(result: Result) -> dict[str, Any]:
    """What the replay script shows, frame by frame (:mod:`simdeploy.run.replay`).

    ``frames``: one object per frame: ``t``, ``step``, ``status``, ``version`` (the rollout
    in progress: the last deploy by t, or null), ``asked`` and ``served`` (percent or null),
    ``ratio`` (error ratio of the bucket), ``requests``, ``errors``,
    ``events`` (how many events by t) and ``rs``: ``[name, version, desired, pods by state
    in the order of ``states``]`` per replica set. ``events``: every event as ``[t, type,
    reason, object, message]``.
    """
    shown = frames(result, frame_times(result, REPLAY_FRAMES))
    return {
        "states": list(POD_STATES),
        "frames": [
            {
                "t": f.t,
                "step": f.step,
                "status": f.status,
                "version": f.version,
                "asked": f.weight_asked,
                "served": None if f.weight_served is None else round(f.weight_served, 2),
                "ratio": round(f.error_ratio, 6),
                "requests": f.requests,
                "errors": f.errors,
                "events": f.events,
                "rs": [
                    [rs.name, rs.version, rs.desired, *(rs.pods[s] for s in POD_STATES)]
                    for rs in f.replica_sets
                ],
            }
            for f in shown
        ],
        "events": [
            [
                round(float(e.t), 3),
                event_type(str(e.reason), str(e.message)),
                str(e.reason),
                str(e.object),
                str(e.message),
            ]
            for e in result.events.itertuples(index=False)
        ],
    }


def script_json(data: Any) -> Markup:
    """``data`` as JSON to place inside a ``<script type="application/json">`` element:
    ``<``, ``>`` and ``&`` escaped as ``\\u003c``, ``\\u003e``, ``\\u0026`` (JSON.parse reads
    them back), so a ``</script>`` or ``<!--`` in user text cannot end or alter it."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # escaped above for a script element


def _version() -> str:
    try:
        return metadata.version("simdeploy")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"
