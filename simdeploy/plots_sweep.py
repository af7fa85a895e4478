"""Figures of a sweep (``simdeploy sweep --plot``): a metric against one swept field, one line
per variant with its 95% confidence band; or, for two swept fields, a heatmap per variant.

A front end, as :mod:`simdeploy.plots`: it draws, the CLI saves (with mathtext off, so a
``$`` in a value is a dollar sign).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _positions(values: Sequence[object]) -> tuple[np.ndarray, list[str] | None]:
    """Numeric values as they are; others (``"25%"``, ``"500ms"``) at 0, 1, 2... with labels."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=float), None
    return np.arange(len(values), dtype=float), [str(v) for v in values]


#: Characters per title line: a line figure's title (7 in wide at 12 pt) and a heatmap's
#: (5 in per variant), so that no title is wider than its figure.
_TITLE_WIDTH = 60
_HEATMAP_TITLE_WIDTH = 38


def sweep_figure(
    table: pd.DataFrame, paths: Sequence[str], metric: str = "errors", seeds: int | None = None
) -> Figure:
    """``metric`` of :func:`simdeploy.sweep`'s table against ``paths`` (one or two of its
    swept fields), over ``seeds`` seeds per point (None: told by the table, a CI column with
    a value meaning several). KeyError for a metric the table lacks; ValueError for more
    paths."""
    if metric not in table.columns:
        raise KeyError(metric)
    if len(paths) == 1:
        return _lines(table, paths[0], metric, seeds)
    if len(paths) == 2:
        return _heatmaps(table, paths[0], paths[1], metric, seeds)
    raise ValueError(f"a sweep figure shows one or two swept fields, not {len(paths)}")


def _has_ci(table: pd.DataFrame, metric: str) -> bool:
    column = f"{metric}_ci95"
    return column in table and bool(pd.to_numeric(table[column], errors="coerce").notna().any())


def _what(table: pd.DataFrame, metric: str, seeds: int | None, band: bool) -> str:
    """What a point is: "mean of 5 seeds, 95% CI" (``band``: the figure draws the interval),
    "mean of 1 seed, no CI"; without ``seeds``, "mean, 95% CI" or "mean, no CI" as the
    table has an interval or not."""
    several = _has_ci(table, metric) if seeds is None else seeds > 1
    of = "" if seeds is None else f" of {seeds} seed{'s' if seeds != 1 else ''}"
    if not several:
        return f"mean{of}, no CI"
    return f"mean{of}, 95% CI" if band else f"mean{of}"


def _title(text: str, note: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters, broken after a space or a dot (a
    long swept path is cut at its dots, never clipped by the figure's edge), then
    ``(note)`` on a line of its own."""
    lines = [""]
    for piece in re.split(r"(?<=[ .])", text):
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join([*(line.rstrip() for line in lines), f"({note})"])


def _lines(table: pd.DataFrame, path: str, metric: str, seeds: int | None) -> Figure:
    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    values = list(dict.fromkeys(table[path]))
    x_all, labels = _positions(values)
    where = dict(zip(values, x_all, strict=True))
    for variant, rows in table.groupby("variant", sort=False):
        x = np.array([where[v] for v in rows[path]])
        y = rows[metric].to_numpy(dtype=float)
        ax.plot(x, y, marker="o", label=str(variant))
        half_col = f"{metric}_ci95"
        if half_col in rows:
            half = rows[half_col].to_numpy(dtype=float)
            ok = ~np.isnan(half)
            if ok.any():
                ax.fill_between(x[ok], (y - half)[ok], (y + half)[ok], alpha=0.2)
    if labels is not None:
        ax.set_xticks(x_all, labels)
    ax.set_xlabel(path)
    ax.set_ylabel(metric)
    ax.set_title(
        _title(f"{metric} against {path}", _what(table, metric, seeds, True), _TITLE_WIDTH)
    )
    ax.legend(title="variant")
    ax.grid(alpha=0.3)
    return fig


def _heatmaps(
    table: pd.DataFrame, rows_path: str, cols_path: str, metric: str, seeds: int | None
) -> Figure:
    variants = list(dict.fromkeys(table["variant"]))
    fig = Figure(figsize=(5.0 * len(variants), 4.2), layout="constrained")
    axes = fig.subplots(1, len(variants), squeeze=False)[0]
    for ax, variant in zip(axes, variants, strict=True):
        part = table[table["variant"] == variant]
        grid = part.pivot_table(index=rows_path, columns=cols_path, values=metric, sort=False)
        image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns])
        ax.set_yticks(range(len(grid.index)), [str(i) for i in grid.index])
        ax.set_xlabel(cols_path)
        ax.set_ylabel(rows_path)
        ax.set_title(
            _title(f"{variant}: {metric}", _what(table, metric, seeds, False), _HEATMAP_TITLE_WIDTH)
        )
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            ax.text(
                j,
                i,
                "n/a" if np.isnan(value) else f"{value:.3g}",
                ha="center",
                va="center",
                color="white",
                fontsize=8,
            )
        fig.colorbar(image, ax=ax)
    return fig
