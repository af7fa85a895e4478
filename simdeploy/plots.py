"""Matplotlib figures of a run and of a comparison.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through
``pyplot``: nothing is registered in pyplot's global figure list, nothing is shown, and
the module works under any backend (Agg included). Each function returns the figure;
the caller displays it (a notebook does so by itself) or writes it with :func:`save`.

Timeline columns are per bucket (``result.timeline``): counts are divided by the bucket
length to give rates (req/s); pod and endpoint columns are instantaneous samples taken
at the start of each bucket, so they are drawn as steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from simdeploy.experiments.compare import Comparison, aggregate
from simdeploy.run.result import Result, version_column
from simdeploy.world.recorder import ERROR_CAUSES

#: Control-plane events marked on timelines, with their line style.
MARKED_EVENTS: dict[str, dict[str, Any]] = {
    "DeploymentStarted": {"color": "tab:blue", "linestyle": "--"},
    "NewReplicaSetAvailable": {"color": "tab:green", "linestyle": "--"},
    "RollbackRequested": {"color": "tab:red", "linestyle": "-."},
    "RolloutUndo": {"color": "tab:purple", "linestyle": "-."},
    "ProgressDeadlineExceeded": {"color": "tab:brown", "linestyle": ":"},
    "ActiveServiceSwitched": {"color": "tab:cyan", "linestyle": "--"},
    "Promoting": {"color": "tab:olive", "linestyle": "--"},
    "RolloutPromoted": {"color": "tab:green", "linestyle": ":"},
    "RolloutAborted": {"color": "tab:red", "linestyle": ":"},
    "MigrationStarted": {"color": "tab:gray", "linestyle": "--"},
    "PgrollStarted": {"color": "tab:gray", "linestyle": "--"},
    "PgrollCompleted": {"color": "tab:gray", "linestyle": ":"},
    "FlagChanged": {"color": "tab:pink", "linestyle": "--"},
}

#: Summary fields drawn by :func:`comparison_figure` unless told otherwise.
DEFAULT_METRICS: tuple[str, ...] = (
    "downtime_s",
    "errors",
    "users_affected",
    "rollback_time_s",
    "extra_cost",
)

#: Axis labels (with units) of the summary fields.
METRIC_LABELS: dict[str, str] = {
    "downtime_s": "downtime (s)",
    "degraded_s": "degraded (s)",
    "requests": "requests",
    "errors": "errors (requests)",
    "error_rate": "error rate (fraction)",
    "users_affected": "users affected",
    "rollout_duration_s": "rollout duration (s)",
    "time_to_detect_s": "time to detect (s)",
    "rollback_time_s": "rollback time (s)",
    "peak_pods": "peak pods",
    "pod_seconds": "pod-seconds (pod·s)",
    "extra_cost": "extra cost (ratio)",
}

_CAUSE_COLORS: dict[str, str] = {
    "no_endpoint": "#d62728",
    "connection_refused": "#ff7f0e",
    "killed_in_flight": "#8c564b",
    "timeout": "#e377c2",
    "app_error": "#bcbd22",
    "schema_error": "#9467bd",
    "data_incompatible": "#7f7f7f",
}
_VERSION_COLORS = ("#1f77b4", "#2ca02c", "#17becf", "#9467bd", "#8c564b", "#e377c2")
_VARIANT_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


# --- timeline ---------------------------------------------------------------------------


def _versions_with(timeline: pd.DataFrame, kind: str) -> list[str]:
    """Versions with a ``<kind>[<version>]`` column, in column order."""
    return [
        c[len(kind) + 1 : -1]
        for c in timeline.columns
        if isinstance(c, str) and c.startswith(f"{kind}[") and c.endswith("]")
    ]


def versions_of(timeline: pd.DataFrame) -> list[str]:
    """Version names present in a timeline, in column order (from ``pods[<v>]``)."""
    return _versions_with(timeline, "pods")


def causes_of(timeline: pd.DataFrame) -> list[str]:
    """Error causes with a column (``errors_<cause>``) in the timeline, in the recorder's order."""
    return [c for c in ERROR_CAUSES if f"errors_{c}" in timeline]


def _request_versions(timeline: pd.DataFrame) -> list[str]:
    return _versions_with(timeline, "requests")


def bucket_seconds(timeline: pd.DataFrame) -> float:
    """The bucket length (s) of a timeline: the spacing of ``t`` (1.0 if it has one row)."""
    t = timeline["t"].to_numpy(dtype=float)
    return float(t[1] - t[0]) if len(t) > 1 else 1.0


def _step_x(timeline: pd.DataFrame) -> np.ndarray:
    """Bucket edges: each row's start plus the end of the last bucket (for step plots)."""
    t = timeline["t"].to_numpy(dtype=float)
    return np.append(t, t[-1] + bucket_seconds(timeline)) if len(t) else t


def _col(timeline: pd.DataFrame, name: str) -> np.ndarray:
    """A column as floats (zeros when missing; missing samples carried forward)."""
    if name not in timeline:
        return np.zeros(len(timeline))
    return timeline[name].ffill().fillna(0.0).to_numpy(dtype=float)


def _stack_steps(
    ax: Axes, x: np.ndarray, layers: Sequence[tuple[str, np.ndarray, dict[str, Any]]]
) -> None:
    """Stacked step areas: each layer ``(label, values per bucket, fill kwargs)``."""
    base = np.zeros(len(x))
    for label, values, style in layers:
        top = base + np.append(values, values[-1] if len(values) else 0.0)
        ax.fill_between(x, base, top, step="post", label=label, linewidth=0, **style)
        base = top


def _requests_panel(ax: Axes, tl: pd.DataFrame, x: np.ndarray, colors: dict[str, str]) -> None:
    per_s = 1.0 / bucket_seconds(tl)
    layers: list[tuple[str, np.ndarray, dict[str, Any]]] = []
    for v in _request_versions(tl):
        ok = _col(tl, version_column("requests", v)) - _col(tl, version_column("errors", v))
        ok *= per_s
        if ok.any():
            layers.append((f"ok {v}", ok, {"color": colors.get(v, "tab:gray"), "alpha": 0.6}))
    for cause in causes_of(tl):
        errs = _col(tl, f"errors_{cause}") * per_s
        if errs.any():
            color = _CAUSE_COLORS.get(cause, "black")
            layers.append((f"error: {cause}", errs, {"color": color, "alpha": 0.85}))
    _stack_steps(ax, x, layers)
    ax.set_ylabel("requests (req/s)")
    ax.set_title(
        "Requests by outcome: served by version, errors by cause", loc="left", fontsize="medium"
    )
    ax.set_ylim(bottom=0)
    if layers:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")


def has_weights(timeline: pd.DataFrame) -> bool:
    """Whether a timeline carries a canary weight (``weight_asked`` with a value)."""
    return "weight_asked" in timeline and bool(timeline["weight_asked"].notna().any())


def _weights_twin(ax: Axes, tl: pd.DataFrame, x: np.ndarray) -> Axes:
    """The canary weight on a twin y axis (0-100 %) of the requests panel.

    ``weight_asked`` (what the strategy asked for: setWeight, Flagger's step) is a step
    line; ``weight_served`` (the share of completed user requests the new version really
    served in each bucket: that of the rollout in progress, the last deploy at or before the
    bucket's start) a thin line at the bucket centres. Without a traffic router the
    two differ: the split follows pod counts.
    """
    twin = ax.twinx()
    asked = tl["weight_asked"].to_numpy(dtype=float)
    twin.step(
        x,
        np.append(asked, asked[-1]),
        where="post",
        color="black",
        linewidth=1.6,
        label="weight asked (%)",
        gid="weight:asked",
    )
    if "weight_served" in tl:
        mid = tl["t"].to_numpy(dtype=float) + bucket_seconds(tl) / 2
        twin.plot(
            mid,
            tl["weight_served"].to_numpy(dtype=float),
            color="black",
            linewidth=0.8,
            alpha=0.7,
            label="weight served (%)",
            gid="weight:served",
        )
    twin.set_ylim(0.0, 104.0)  # a little headroom so a line at 100 % clears the frame
    twin.set_yticks(np.arange(0, 101, 20))
    twin.set_ylabel("canary weight (%)")
    twin.legend(loc="lower left", bbox_to_anchor=(1.07, 0.0), fontsize="small")
    return twin


def _pods_panel(ax: Axes, tl: pd.DataFrame, x: np.ndarray, colors: dict[str, str]) -> None:
    layers: list[tuple[str, np.ndarray, dict[str, Any]]] = []
    for v in versions_of(tl):
        pods, ready = _col(tl, version_column("pods", v)), _col(tl, version_column("ready", v))
        term = _col(tl, version_column("terminating", v))
        color = colors.get(v, "tab:gray")
        states = (
            ("ready", ready, {"alpha": 0.75}),
            ("not ready", np.maximum(pods - ready - term, 0.0), {"alpha": 0.35}),
            ("terminating", term, {"alpha": 0.2, "hatch": "///", "edgecolor": color}),
        )
        for state, values, style in states:
            if values.any():
                layers.append((f"{v} {state}", values, {"facecolor": color, **style}))
    _stack_steps(ax, x, layers)
    if "serving_endpoints" in tl:
        serving = _col(tl, "serving_endpoints")
        ax.step(
            x,
            np.append(serving, serving[-1] if len(serving) else 0.0),
            where="post",
            color="black",
            linewidth=1.4,
            label="serving endpoints",
        )
    ax.set_ylabel("pods")
    ax.set_title(
        "Pods by version and state; endpoints that can serve", loc="left", fontsize="medium"
    )
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")


def _latency_panel(ax: Axes, tl: pd.DataFrame) -> None:
    t = tl["t"].to_numpy(dtype=float) + bucket_seconds(tl) / 2
    styles = (("p50_s", "p50", "-"), ("p95_s", "p95", "--"), ("p99_s", "p99", ":"))
    drawn = False
    for col, label, ls in styles:
        if col in tl and tl[col].notna().any():
            ax.plot(
                t,
                tl[col].to_numpy(dtype=float),
                linestyle=ls,
                color="tab:gray" if label == "p95" else "black",
                linewidth=1.2,
                label=label,
            )
            drawn = True
    if drawn:
        ax.set_yscale("log")
        _plain_log_labels(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.set_ylabel("latency (s)")
    ax.set_title(
        "Latency percentiles of completed requests (errors included)", loc="left", fontsize="medium"
    )


def _plain_log_labels(ax: Axes) -> None:
    """Label a log y axis with plain numbers (0.03, 0.1), minor 2s and 5s on short spans."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:g}"))

    def minor(y: float, _pos: int | None) -> str:
        lo, hi = ax.get_ylim()
        if y <= 0 or lo <= 0 or hi / lo > 100:
            return ""
        mantissa = y / 10 ** math.floor(math.log10(y) + 1e-9)
        return f"{y:g}" if round(mantissa) in (2, 5) else ""

    ax.yaxis.set_minor_formatter(FuncFormatter(minor))


def mark_events(
    axes: Iterable[Axes], events: pd.DataFrame, *, label_axis: Axes | None = None
) -> list[str]:
    """Draw a vertical line on every axis for each marked control-plane event.

    Only the reasons of :data:`MARKED_EVENTS` are drawn; each line gets the gid
    ``event:<reason>`` so tests and callers can find them. With ``label_axis`` the reason
    is written at the top of that axis. Returns the reasons drawn, in time order.
    """
    if events is None or events.empty:
        return []
    marked = events[events["reason"].isin(list(MARKED_EVENTS))].sort_values("t")
    axes = list(axes)
    for row in marked.itertuples(index=False):
        style = MARKED_EVENTS[row.reason]
        for ax in axes:
            line = ax.axvline(float(row.t), linewidth=1.0, alpha=0.8, **style)
            line.set_gid(f"event:{row.reason}")
        if label_axis is not None:
            label_axis.text(
                float(row.t),
                1.0,
                f" {row.reason}",
                rotation=90,
                va="top",
                ha="right",
                fontsize="x-small",
                color=style["color"],
                transform=label_axis.get_xaxis_transform(),
                clip_on=False,
                bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1.0},
            )
    return [str(r) for r in marked["reason"]]


def timeline_figure(
    result: Result, *, title: str | None = None, figsize: tuple[float, float] = (11.0, 9.0)
) -> Figure:
    """Three stacked panels over simulated time (shared x axis, seconds).

    1. Requests per second: served requests by version and errors by cause, stacked
       (the top of the stack is the completed requests per second).
    2. Pods by version and state (ready / not ready / terminating, stacked) and the
       endpoints that can serve users (black line).
    3. Latency p50 / p95 / p99 (log scale) of the requests completed in each bucket.

    When the timeline has a canary weight (``weight_asked`` with a value: Argo canary,
    Flagger), the requests panel gets a twin y axis (0-100 %) with the weight asked for
    (step line) and the weight served (thin line), so the figure has four axes.

    Control-plane events of :data:`MARKED_EVENTS` present in ``result.events`` are drawn
    as vertical lines on every panel and labelled on the top one. ``figsize``: inches
    (the report draws a narrower one for variants side by side).
    """
    tl = result.timeline
    fig = Figure(figsize=figsize, layout="constrained")
    ax_req, ax_pods, ax_lat = fig.subplots(3, 1, sharex=True)
    names = list(dict.fromkeys([*_request_versions(tl), *versions_of(tl)]))
    colors = {v: _VERSION_COLORS[i % len(_VERSION_COLORS)] for i, v in enumerate(names)}
    x = _step_x(tl)
    if len(tl):
        _requests_panel(ax_req, tl, x, colors)
        if has_weights(tl):
            _weights_twin(ax_req, tl, x)
            legend = ax_req.get_legend()
            if legend is not None:  # make room for the twin's axis labels
                legend.set_bbox_to_anchor((1.07, 1.0), transform=ax_req.transAxes)
        _pods_panel(ax_pods, tl, x, colors)
        _latency_panel(ax_lat, tl)
        ax_lat.set_xlim(float(x[0]), float(x[-1]))
    ax_lat.set_xlabel("simulated time (s)")
    mark_events((ax_req, ax_pods, ax_lat), result.events, label_axis=ax_req)
    fig.suptitle(title or f"{result.name} (seed {result.seed})")
    return fig


# --- comparison -------------------------------------------------------------------------


Results = Mapping[str, Result | Sequence[Result]] | Comparison


def _runs_of(results: Results) -> dict[str, list[Result]]:
    """Runs per variant name: a Comparison's runs, or each mapping value as a list."""
    if isinstance(results, Comparison):
        return {name: list(runs) for name, runs in results.runs.items() if runs}
    return {
        name: [r] if isinstance(r, Result) else list(r)
        for name, r in results.items()
        if isinstance(r, Result) or len(r)
    }


def metric_value(record: Mapping[str, Any], metric: str) -> float | None:
    """A summary field of a record (``errors_by_cause.<cause>`` or ``errors_<cause>`` too).

    None when the field is undefined for the run (e.g. ``rollback_time_s`` without a
    rollback). Raises KeyError for a name that is no field at all.
    """
    if metric in record:
        value = record[metric]
    else:
        cause = metric.removeprefix("errors_by_cause.").removeprefix("errors_")
        by_cause = record.get("errors_by_cause") or {}
        if cause not in by_cause:
            raise KeyError(f"unknown summary field {metric!r}")
        value = by_cause[cause]
    return None if value is None else float(value)


def _short(value: float) -> str:
    """A bar label: 12.6, 0.25, 2,561 (thousands separated, no exponent)."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _bars(ax: Axes, names: list[str], agg: list[dict[str, Any]], metric: str) -> None:
    """One bar per variant (mean over seeds) with 95% CI whiskers where defined.

    Each bar is labelled with its value; a variant without a value (e.g. no rollback,
    so no ``rollback_time_s``) gets "n/a" at the foot of its slot.
    """
    lowest = 0.0
    for i, rec in enumerate(agg):
        value = metric_value(rec, metric)
        if value is None or math.isnan(value):
            ax.text(
                i,
                0.02,
                "n/a",
                ha="center",
                va="bottom",
                fontsize="small",
                color="gray",
                transform=ax.get_xaxis_transform(),
            )
            continue
        ax.bar(i, value, color=_VARIANT_COLORS[i % len(_VARIANT_COLORS)], alpha=0.8)
        top = value
        ci = rec.get(f"{metric}_ci95")
        if ci is not None and None not in ci:
            low, high = float(ci[0]), float(ci[1])
            yerr = [[max(value - low, 0.0)], [max(high - value, 0.0)]]
            ax.errorbar(i, value, yerr=yerr, color="black", capsize=4, linewidth=1.0)
            lowest, top = min(lowest, low), max(value, high)
        lowest = min(lowest, value)
        ax.annotate(
            _short(value),
            (i, top),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="x-small",
        )
    ax.set_xticks(np.arange(len(names)), names, rotation=30, ha="right", fontsize="small")
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_title(METRIC_LABELS.get(metric, metric), fontsize="medium")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.margins(y=0.15)
    if lowest >= 0.0:
        ax.set_ylim(bottom=0.0)


def _event_legend(ax: Axes, results: Sequence[Result]) -> None:
    """A legend of the marked event styles that occur in any of ``results``."""
    present = set().union(*(set(r.events["reason"]) for r in results if not r.events.empty))
    handles = [
        Line2D([], [], linewidth=1.0, label=reason, **style)
        for reason, style in MARKED_EVENTS.items()
        if reason in present
    ]
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize="x-small")


def comparison_figure(
    results: Results,
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    max_cols: int = 4,
) -> Figure:
    """Variants side by side: error ratio over time, then summary fields as bars.

    Top: one panel per variant (shared axes, wrapped after ``max_cols``) with the
    user-facing error ratio (%) per bucket and the variant's marked events. Bottom: one
    bar chart per field of ``metrics`` (one bar per variant). ``results`` is either a
    mapping name → Result (or → list of Results, one per seed) or a
    :class:`~simdeploy.experiments.compare.Comparison`; with several seeds the panels show the
    first seed's run and the bars the mean over seeds with 95% confidence-interval
    whiskers. A field undefined for a variant is marked "n/a". ``metrics`` are summary
    fields, ``errors_<cause>`` included; an unknown name raises KeyError.
    """
    runs = _runs_of(results)
    names = list(runs)
    n = max(1, len(names))
    ncols = min(n, max(1, max_cols))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(max(10.0, 3.0 * ncols), 3.0 * nrows + 3.8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[2.6 * nrows, 3.4])
    grid = top.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    panels = list(grid.ravel())
    for ax in panels[len(names) :]:
        ax.remove()
    peak = 0.0
    for i, (name, ax) in enumerate(zip(names, panels, strict=False)):
        first = runs[name][0]
        tl = first.timeline
        ratio = _col(tl, "error_ratio") * 100.0
        x = _step_x(tl)
        color = _VARIANT_COLORS[i % len(_VARIANT_COLORS)]
        y = np.append(ratio, ratio[-1] if len(ratio) else 0.0)
        ax.fill_between(x, 0, y, step="post", color=color, alpha=0.35, linewidth=0)
        ax.step(x, y, where="post", color=color, linewidth=1.0)
        mark_events([ax], first.events)
        k = len(runs[name])
        seeds = "" if k == 1 else f" (seed {first.seed}, first of {k})"
        ax.set_title(f"{name}{seeds}", fontsize="medium")
        peak = max(peak, float(y.max(initial=0.0)))
        if i % ncols == 0:
            ax.set_ylabel("error ratio (%)")
        if i >= len(names) - ncols:
            ax.set_xlabel("simulated time (s)")
    if names:
        # Shared y: set once, after every panel is drawn (at least 0-1 % when all is quiet).
        panels[0].set_ylim(0.0, max(1.0, peak * 1.05))
        _event_legend(panels[len(names) - 1], [runs[name][0] for name in names])
    top.suptitle("User-facing error ratio per bucket", fontsize="medium")
    agg = [aggregate(name, runs[name]) for name in names]
    bars = bottom.subplots(1, max(1, len(metrics)), squeeze=False).ravel()
    for ax, metric in zip(bars, metrics, strict=False):
        _bars(ax, names, agg, metric)
    several = any(len(r) > 1 for r in runs.values())
    bottom.suptitle("Summary: mean over seeds, 95% CI" if several else "Summary", fontsize="medium")
    return fig


# --- output -----------------------------------------------------------------------------


def save(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix), creating parent directories."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out
