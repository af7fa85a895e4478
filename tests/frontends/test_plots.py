"""Figures of simdeploy.plots build from real (short) runs, without pyplot state.

The runs are the repo's Recreate scenario cut to 90 s (deploy at 30 s, done by ~45 s),
once as written, once with a manual rollback (so the rollback markers exist) and once
without a plan (no control-plane events to mark).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from simdeploy import compare, load_scenario, plots, simulate
from simdeploy.run.result import Result
from simdeploy.spec.plan import Action
from simdeploy.spec.scenario import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _short(scenario: Scenario, duration: float = 90.0, **update: object) -> Scenario:
    sim = scenario.simulation.model_copy(update={"duration": duration})
    return scenario.model_copy(update={"simulation": sim, **update})


@pytest.fixture(scope="module")
def recreate() -> Scenario:
    return _short(load_scenario(SCENARIOS / "recreate.yaml"))


@pytest.fixture(scope="module")
def result(recreate: Scenario) -> Result:
    return simulate(recreate)


@pytest.fixture(scope="module")
def rolled_back(recreate: Scenario) -> Result:
    plan = [*recreate.plan, Action(at=60.0, action="rollback")]
    return simulate(recreate.model_copy(update={"plan": plan}))


@pytest.fixture(scope="module")
def quiet(recreate: Scenario) -> Result:
    return simulate(recreate.model_copy(update={"plan": []}))


def event_lines(fig: Figure) -> dict[str, int]:
    """Marker lines per event reason, over all axes of ``fig``."""
    counts: dict[str, int] = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            gid = line.get_gid() or ""
            if gid.startswith("event:"):
                reason = gid.removeprefix("event:")
                counts[reason] = counts.get(reason, 0) + 1
    return counts


def test_timeline_figure_has_three_panels_sharing_time(result: Result) -> None:
    fig = plots.timeline_figure(result)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    req, _pods, lat = fig.axes
    assert "req/s" in req.get_ylabel()
    assert "(s)" in lat.get_ylabel()
    assert lat.get_xlabel() == "simulated time (s)"
    assert req.get_shared_x_axes().joined(req, lat)
    assert lat.get_xlim() == (0.0, 90.0)
    assert fig.get_suptitle() == "recreate (seed 7)"


def test_timeline_figure_title_override(result: Result) -> None:
    assert plots.timeline_figure(result, title="Recreate").get_suptitle() == "Recreate"


def test_timeline_legends_name_versions_causes_and_states(result: Result) -> None:
    req, pods, _ = plots.timeline_figure(result).axes
    req_labels = [t.get_text() for t in req.get_legend().get_texts()]
    assert req_labels == ["ok v1", "ok v2", "error: no_endpoint"]
    pod_labels = {t.get_text() for t in pods.get_legend().get_texts()}
    assert {"v1 ready", "v1 terminating", "v2 ready", "v2 not ready"} <= pod_labels
    assert "serving endpoints" in pod_labels


def test_timeline_marks_deploy_and_completion_on_every_panel(result: Result) -> None:
    assert event_lines(plots.timeline_figure(result)) == {
        "DeploymentStarted": 3,
        "NewReplicaSetAvailable": 3,
    }


def test_timeline_marks_rollback_events(rolled_back: Result) -> None:
    counts = event_lines(plots.timeline_figure(rolled_back))
    assert counts["RollbackRequested"] == 3
    assert counts["RolloutUndo"] == 3
    assert counts["NewReplicaSetAvailable"] == 6  # the rollout, then the undo
    labels = {t.get_text().strip() for t in plots.timeline_figure(rolled_back).axes[0].texts}
    assert {"RollbackRequested", "RolloutUndo", "DeploymentStarted"} <= labels


def test_timeline_without_events_has_no_markers(quiet: Result) -> None:
    assert event_lines(plots.timeline_figure(quiet)) == {}


def test_comparison_figure_panels_and_bars(result: Result, rolled_back: Result) -> None:
    fig = plots.comparison_figure({"deploy": result, "deploy+undo": rolled_back})
    assert len(fig.axes) == 2 + len(plots.DEFAULT_METRICS)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:2] == ["deploy", "deploy+undo"]
    assert titles[2:] == [plots.METRIC_LABELS[m] for m in plots.DEFAULT_METRICS]
    assert event_lines(fig)["RollbackRequested"] == 1
    rollback_ax = fig.axes[2 + plots.DEFAULT_METRICS.index("rollback_time_s")]
    assert [t.get_text() for t in rollback_ax.texts].count("n/a") == 1  # no rollback in one


def test_comparison_error_axis_fits_every_variant(quiet: Result, result: Result) -> None:
    # The quiet run comes first: the shared y range must still fit the outage after it.
    first, second = plots.comparison_figure({"quiet": quiet, "recreate": result}).axes[:2]
    assert first.get_ylim() == second.get_ylim()
    assert second.get_ylim()[1] >= 100 * result.timeline["error_ratio"].max()


def test_comparison_figure_custom_metrics_and_causes(result: Result, quiet: Result) -> None:
    fig = plots.comparison_figure(
        {"a": result, "b": quiet}, metrics=("downtime_s", "errors_no_endpoint")
    )
    assert len(fig.axes) == 4
    with pytest.raises(KeyError, match="no_such_field"):
        plots.comparison_figure({"a": result}, metrics=("no_such_field",))


def test_comparison_figure_wraps_and_drops_unused_panels(result: Result) -> None:
    fig = plots.comparison_figure({f"v{i}": result for i in range(5)}, max_cols=2)
    assert len(fig.axes) == 5 + len(plots.DEFAULT_METRICS)  # 3x2 grid minus the spare


def test_comparison_of_several_seeds_has_ci_whiskers(recreate: Scenario) -> None:
    comparison = compare(
        {"recreate": recreate, "quiet": recreate.model_copy(update={"plan": []})}, seeds=2
    )
    fig = plots.comparison_figure(comparison, metrics=("downtime_s", "errors"))
    assert len(fig.axes) == 4
    assert fig.axes[0].get_title() == "recreate (seed 7, first of 2)"
    for ax in fig.axes[2:]:
        assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 2


def test_figures_leave_pyplot_alone(result: Result) -> None:
    before = plt.get_fignums()
    plots.timeline_figure(result)
    plots.comparison_figure({"a": result})
    assert plt.get_fignums() == before


def test_save_writes_png_creating_directories(result: Result, tmp_path: Path) -> None:
    out = plots.save(plots.timeline_figure(result), tmp_path / "deep" / "er" / "timeline.png")
    assert out == tmp_path / "deep" / "er" / "timeline.png"
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000


def test_metric_value_reads_fields_and_causes(result: Result) -> None:
    rec = result.record
    assert plots.metric_value(rec, "downtime_s") == rec["downtime_s"]
    n = rec["errors_by_cause"]["no_endpoint"]
    assert plots.metric_value(rec, "errors_no_endpoint") == n
    assert plots.metric_value(rec, "errors_by_cause.no_endpoint") == n
    assert plots.metric_value(rec, "rollback_time_s") is None


def test_timeline_draws_canary_weights_on_a_twin_axis() -> None:
    # Argo canary without a traffic router: asked 10% then 70%, served 20% then 75%.
    canary = _short(load_scenario(SCENARIOS / "canary-no-router.yaml"), duration=200.0)
    run = simulate(canary)
    fig = plots.timeline_figure(run)
    assert len(fig.axes) == 4  # requests, pods, latency + the requests panel's twin
    twin = fig.axes[-1]
    assert twin.get_shared_x_axes().joined(twin, fig.axes[0])
    assert twin.get_ylim()[0] == 0.0 and 100.0 <= twin.get_ylim()[1] <= 110.0
    lines = {line.get_gid(): line for line in twin.get_lines()}
    asked, served = lines["weight:asked"], lines["weight:served"]
    assert asked.get_drawstyle() == "steps-post"
    assert {10.0, 70.0, 100.0} <= set(asked.get_ydata()[~np.isnan(asked.get_ydata())])
    assert served.get_linewidth() < asked.get_linewidth()
    assert np.allclose(served.get_ydata(), run.timeline["weight_served"], equal_nan=True)
    labels = [t.get_text() for t in twin.get_legend().get_texts()]
    assert labels == ["weight asked (%)", "weight served (%)"]
    assert event_lines(fig)["RolloutPromoted"] == 3
