"""Sweep figures: a metric against one swept field (a line per variant with its CI band), or
heatmaps over two."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simdeploy.cli import main
from simdeploy.plots_sweep import sweep_figure
from tests.conftest import base_dict

TABLE = pd.DataFrame(
    {
        "service.replicas": [2, 4, 2, 4],
        "maxSurge": ["25%", "25%", "50%", "50%"],
        "variant": ["a", "a", "a", "a"],
        "errors": [10.0, 4.0, 8.0, 2.0],
        "errors_ci95": [1.0, 0.5, float("nan"), 0.2],
    }
)


def test_one_field_is_a_line_per_variant_at_the_means() -> None:
    two = pd.concat(
        [
            TABLE[TABLE.maxSurge == "25%"],
            TABLE[TABLE.maxSurge == "25%"].assign(variant="b", errors=[5.0, 1.0]),
        ]
    )
    fig = sweep_figure(two, ["service.replicas"], "errors")
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert [list(line.get_ydata()) for line in lines] == [[10.0, 4.0], [5.0, 1.0]]
    assert list(lines[0].get_xdata()) == [2.0, 4.0]
    assert len(ax.collections) == 2  # a CI band per variant


def test_text_values_are_placed_in_order_with_their_labels() -> None:
    fig = sweep_figure(TABLE[TABLE["service.replicas"] == 2], ["maxSurge"], "errors")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["25%", "50%"]


def test_two_fields_are_a_heatmap_of_the_means() -> None:
    fig = sweep_figure(TABLE, ["service.replicas", "maxSurge"], "errors")
    ax = fig.axes[0]
    (image,) = ax.get_images()
    assert np.array_equal(image.get_array(), [[10.0, 8.0], [4.0, 2.0]])


def _inside(fig: Figure) -> list[str]:
    """The titles of ``fig`` that stick out of it (drawn, then measured in pixels)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    out = []
    for ax in fig.axes:
        extent = ax.title.get_window_extent(renderer)
        if extent.x0 < box.x0 or extent.x1 > box.x1 or extent.y1 > box.y1:
            out.append(ax.title.get_text())
    return out


LONG = "service.pod.lifecycle.preStop.sleep.seconds"


def test_a_long_swept_path_wraps_its_title_inside_the_figure() -> None:
    """ "users_affected against service.pod.lifecycle.preStop.sleep.seconds (mean, 95% CI)"
    is 83 characters at 12 pt, wider than a 7 in figure (700 px at 100 dpi): it is broken
    at the path's dots. A heatmap's title, 5 in per variant, too."""
    table = TABLE.rename(
        columns={"maxSurge": LONG, "errors": "users_affected", "errors_ci95": "users_affected_ci95"}
    )
    lines = sweep_figure(table[table["service.replicas"] == 2], [LONG], "users_affected", 5)
    assert _inside(lines) == []
    (ax,) = lines.axes
    title = ax.get_title()
    assert title.replace("\n", "") == f"users_affected against {LONG}(mean of 5 seeds, 95% CI)"
    long_variant = table.assign(variant="rolling-update-with-a-long-variant-name")
    heat = sweep_figure(long_variant, ["service.replicas", LONG], "users_affected", 5)
    assert _inside(heat) == []


def test_one_seed_has_no_ci() -> None:
    """One seed per point: a mean of one value, no interval, and the title says so."""
    one = TABLE.assign(errors_ci95=float("nan"))
    for seeds in (1, None):  # told, or read from the table (no CI anywhere)
        fig = sweep_figure(one[one.maxSurge == "25%"], ["service.replicas"], "errors", seeds)
        (ax,) = fig.axes
        assert "95% CI" not in ax.get_title() and ax.get_title().endswith("no CI)")
        assert not ax.collections  # no band
    fig = sweep_figure(one, ["service.replicas"], "errors", seeds=1)
    assert fig.axes[0].get_title().endswith("(mean of 1 seed, no CI)")
    heat = sweep_figure(one, ["service.replicas", "maxSurge"], "errors", seeds=1)
    assert heat.axes[0].get_title() == "a: errors\n(mean of 1 seed, no CI)"


def test_what_cannot_be_drawn() -> None:
    with pytest.raises(KeyError):
        sweep_figure(TABLE, ["maxSurge"], "nope")
    with pytest.raises(ValueError, match="one or two swept fields"):
        sweep_figure(TABLE, ["a", "b", "c"], "errors")


def test_sweep_plot_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(base_dict(simulation={"duration": "30s"})))
    png = tmp_path / "sweep.png"
    cache = ["--cache", str(tmp_path / "c")]
    args = ["sweep", str(f), "--set", "service.replicas=2,4", *cache]
    assert main([*args, "--plot", str(png), "--metric", "downtime_s"]) == 0
    assert png.stat().st_size > 1000
    assert main([*args, "--plot", str(png), "--metric", "nope"]) == 2
    three = [*args, "--set", "traffic.rate=5", "--set", "traffic.users=50", "--plot", str(png)]
    assert main(three) == 2
    err = capsys.readouterr().err
    assert "no summary field 'nope'" in err and "3 swept fields" in err
