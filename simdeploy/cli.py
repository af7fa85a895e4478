"""The ``simdeploy`` command: run, compare, sweep, report, check, validate, import, schema.

The only module that prints. Exit codes: 0 fine, 1 an expectation failed (``check``),
2 bad input (a scenario error, a missing file, a bad option) — always one line per
problem on stderr, never a traceback. User text (scenario and variant names, versions,
paths, messages) is printed as plain text: nothing here reads it as Rich markup or emoji
codes, and figures are drawn with matplotlib's mathtext off.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from simdeploy.ci_report import (
    FileReport,
    expectation_lines,
    failure_detail,
    github_annotations,
    junit_xml,
)
from simdeploy.experiments.compare import Comparison, compare, variants_of
from simdeploy.experiments.gate import REQUIRE, check_seeds
from simdeploy.experiments.policy import checked_regressions, policy
from simdeploy.experiments.run_cache import RunCache
from simdeploy.experiments.sweep import for_parquet, grid_problems, parse_set, sweep
from simdeploy.run.simulation import simulate
from simdeploy.spec.base import ScenarioError, UsageError
from simdeploy.spec.manifests.importer import import_scenario
from simdeploy.spec.metrics import ARTICLE_FIELDS, SUMMARY, SUMMARY_FIELDS
from simdeploy.spec.plan_check import lint
from simdeploy.spec.scenario import Scenario, json_schema, load_scenario

if TYPE_CHECKING:
    from simdeploy.report_html import Source

EXIT_OK, EXIT_EXPECTATION, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Most replications ``compare --seeds`` runs per variant (a typo such as 1000000 would run
#: for days; the library's ``compare(seeds=...)`` has no such cap).
MAX_SEEDS = 1000

#: Columns of the comparison table: the reference article's questions.
COMPARE_COLUMNS = ARTICLE_FIELDS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every bad input
        self.exit(EXIT_BAD_INPUT, f"simdeploy: error: {message}\n")


def _int_arg(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in [low, high]; the message names the bounds."""

    def parse(text: str) -> int:
        want = f"an integer >= {low}" + (f" and <= {high:,}" if high is not None else "")
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {want}, got {text[:40]!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {want}, got {text[:40]!r}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="simdeploy", description="Simulate deployment strategies.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    # Every command that reads scenarios: a manifest field that is not simulated is a warning,
    # or with --strict an error (exit 2), for CI.
    reads = _Parser(add_help=False)
    reads.add_argument(
        "--strict",
        action="store_true",
        help="refuse manifests with fields the simulator does not model (warnings → exit 2)",
    )

    run = sub.add_parser("run", parents=[reads], help="run one scenario and print its summary")
    run.add_argument("file")
    run.add_argument("--seed", type=_int_arg(0), help="override simulation.seed")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    run.add_argument("--csv", metavar="PATH", help="write the timeline (one row per bucket)")
    run.add_argument("--events", metavar="PATH", help="write the event log as CSV")
    run.add_argument("--plot", metavar="PNG", help="write the timeline figure (.png, .svg, .pdf)")

    cmp_ = sub.add_parser(
        "compare", parents=[reads], help="compare strategies or files on the same seeds"
    )
    cmp_.add_argument("files", nargs="+", help="scenario files (a compare: block expands)")
    cmp_.add_argument(
        "--seeds", type=_int_arg(1, MAX_SEEDS), default=1, help="replications per variant (CI95)"
    )
    cmp_.add_argument("--jobs", type=_int_arg(1), default=1, help="local worker processes")
    cmp_.add_argument("--json", action="store_true", help="print a JSON list, one per variant")
    cmp_.add_argument("--csv", metavar="PATH", help="write the comparison table as CSV")
    cmp_.add_argument(
        "--plot", metavar="PNG", help="write the comparison figure (.png, .svg, .pdf)"
    )

    chk = sub.add_parser(
        "check", parents=[reads], help="run scenarios and evaluate their expect: blocks"
    )
    chk.add_argument("files", nargs="+")
    chk.add_argument("--seed", type=_int_arg(0), help="override simulation.seed (the first seed)")
    chk.add_argument(
        "--seeds", type=_int_arg(1, MAX_SEEDS), default=1, help="run each file on N seeds"
    )
    chk.add_argument(
        "--require",
        choices=REQUIRE,
        default="all",
        help="with --seeds: hold on every seed, or the mean's 95%% CI inside the bound",
    )
    chk.add_argument("--json", action="store_true")
    chk.add_argument("--junit", metavar="PATH", help="write a JUnit XML report")
    chk.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="github: also print ::error annotations at each failed expectation's line",
    )

    val = sub.add_parser(
        "validate", parents=[reads], help="validate scenario files without running them"
    )
    val.add_argument("files", nargs="+")

    # The grid of a sweep (sweep, report --sweep): the file's sweep: block, plus --set.
    grid = _Parser(add_help=False)
    grid.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=V1,V2",
        help="a scenario field (dotted path, camelCase) and its values; a range: 100..1000:100 "
        "(added to the file's sweep: block)",
    )

    swp = sub.add_parser(
        "sweep",
        parents=[reads, grid],
        help="run a scenario over a grid of field values and seeds",
    )
    swp.add_argument("file")
    swp.add_argument(
        "--seeds", type=_int_arg(1, MAX_SEEDS), default=1, help="replications per point (CI95)"
    )
    swp.add_argument("--jobs", type=_int_arg(1), default=1, help="local worker processes")
    swp.add_argument(
        "--dask",
        metavar="local|ADDRESS",
        help="run on Dask: a LocalCluster of --jobs workers, or a scheduler (tcp://host:8786)",
    )
    swp.add_argument("--json", action="store_true", help="print a JSON list, one per row")
    swp.add_argument("--csv", metavar="PATH", help="write the table as CSV")
    swp.add_argument("--parquet", metavar="PATH", help="write the table as Parquet")
    swp.add_argument(
        "--plot", metavar="PNG", help="one field: metric vs values with CI bands; two: heatmaps"
    )
    swp.add_argument("--metric", default="errors", help="the summary field --plot draws")
    swp.add_argument(
        "--cache",
        metavar="DIR",
        default=".simdeploy/cache",
        help="where finished runs are kept (default .simdeploy/cache)",
    )
    swp.add_argument(
        "--resume", action="store_true", help="read the runs the cache holds instead of rerunning"
    )

    rep = sub.add_parser(
        "report",
        parents=[reads, grid],
        help="write one self-contained HTML page of a run, a comparison or a sweep",
    )
    rep.add_argument("files", nargs="+", help="scenario files (a compare: block expands)")
    rep.add_argument(
        "-o", "--output", metavar="HTML", required=True, help="the page to write (.html)"
    )
    rep.add_argument("--seed", type=_int_arg(0), help="override simulation.seed (the first seed)")
    rep.add_argument(
        "--seeds", type=_int_arg(1, MAX_SEEDS), default=1, help="replications (mean, CI95)"
    )
    rep.add_argument("--jobs", type=_int_arg(1), default=1, help="local worker processes")
    rep.add_argument(
        "--sweep",
        action="store_true",
        help="report the file's sweep (its sweep: block and --set) instead of its run; "
        "--set implies it",
    )

    pol = sub.add_parser(
        "policy",
        parents=[reads],
        help="how often the rollout policy rolls back releases of each regression, how fast",
    )
    pol.add_argument("file")
    pol.add_argument(
        "--regressions",
        default="0,0.005,0.01,0.02,0.05",
        metavar="R1,R2",
        help="added error rates (or service-time factors - 1, --kind latency), each in [0, 1)",
    )
    pol.add_argument(
        "--seeds", type=_int_arg(2, MAX_SEEDS), default=20, help="runs per regression (>= 2)"
    )
    pol.add_argument("--kind", choices=["errors", "latency", "both"], default="errors")
    pol.add_argument("--jobs", type=_int_arg(1), default=1, help="local worker processes")
    pol.add_argument(
        "--dask",
        metavar="local|ADDRESS",
        help="run on Dask: a LocalCluster of --jobs workers, or a scheduler (tcp://host:8786)",
    )
    pol.add_argument(
        "--data-plane",
        choices=["auto", "requests", "fluid"],
        default="auto",
        help="auto: the fluid data plane when it accepts the scenario",
    )
    pol.add_argument("--json", action="store_true", help="print a JSON list, one per regression")
    pol.add_argument("--csv", metavar="PATH", help="write the table as CSV")
    pol.add_argument(
        "--plot", metavar="PNG", help="P(rollback) vs regression (95%% CI) and time to detect"
    )

    imp = sub.add_parser(
        "import",
        parents=[reads],
        help="write a scenario file from Kubernetes / Argo Rollouts manifests",
    )
    imp.add_argument("manifests", nargs="+", help="manifest files (multi-document allowed)")
    imp.add_argument("-o", "--output", metavar="PATH", help="write here instead of stdout")

    sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (``python -m simdeploy`` and the console script).

    A bad option returns 2 as well (argparse's own exit is caught); ``--help`` returns 0.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse printed its one line (or the help)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    # Plain text only: user strings must not be read as markup ("[/bold]") or emoji (":x:").
    plain: dict[str, Any] = {"highlight": False, "soft_wrap": True, "markup": False, "emoji": False}
    out = Console(**plain)
    if not out.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
        out = Console(**plain, width=200)
    err = Console(stderr=True, **plain)
    try:
        if args.command == "schema":
            print(json.dumps(json_schema(), indent=2))
            return EXIT_OK
        load = _Loader(err, args.strict)
        if args.command == "import":
            return _import(args, out, err)
        if args.command == "sweep":
            return _sweep(args, out, err, load)
        if args.command == "report":
            return _report(args, out, err, load)
        if args.command == "policy":
            return _policy(args, out, err, load)
        if args.command == "validate":
            return _validate(args.files, out, err, load)
        if args.command == "run":
            return _run(args, out, load)
        if args.command == "compare":
            return _compare(args, out, err, load)
        return _check(args, out, load)
    except ScenarioError as exc:
        _print_errors(err, exc.errors)
        return EXIT_BAD_INPUT
    except OSError as exc:
        _print_errors(err, [f"{exc.filename or ''}: {exc.strerror or exc}"])
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _print_errors(err, ["interrupted"])
        return EXIT_INTERRUPTED


def _print_errors(err: Console, lines: Sequence[str]) -> None:
    for line in lines:
        err.print(Text(f"simdeploy: error: {line}"))


class _Loader:
    """``load_scenario`` that prints what reading a scenario's manifests had to say (notes and
    warnings, on stderr) and, with ``--strict``, refuses warnings as errors."""

    def __init__(self, err: Console, strict: bool) -> None:
        self.err = err
        self.strict = strict

    def __call__(self, file: str) -> Scenario:
        sc = load_scenario(file)
        for line in sc.notes:
            self.err.print(Text(f"simdeploy: note: {line}"))
        if self.strict and sc.warnings:
            raise ScenarioError([f"{line} (--strict)" for line in sc.warnings])
        for line in sc.warnings:
            self.err.print(Text(f"simdeploy: warning: {line}"))
        return sc


def _load_all(files: Sequence[str], load: _Loader) -> list[Scenario]:
    scenarios, errors = [], []
    for f in files:
        try:
            scenarios.append(load(f))
        except ScenarioError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ScenarioError(errors)
    return scenarios


def _validate(files: Sequence[str], out: Console, err: Console, load: _Loader) -> int:
    """Each file on its own: ``FILE: ok (...)`` or its error lines; 2 if any is bad."""
    bad = False
    for f in files:
        try:
            sc = load(f)
        except ScenarioError as exc:
            bad = True
            _print_errors(err, exc.errors)
            continue
        out.print(Text(f"{f}: ok ({sc.name}, {len(sc.plan)} plan actions)"))
    return EXIT_BAD_INPUT if bad else EXIT_OK


def _output(option: str, path: str | None, figure: bool = False) -> Path | None:
    """Check an output option before anything runs: a file path (not a folder) whose folder
    exists or can be made and is writable, and for a figure a format matplotlib writes."""
    if path is None:
        return None
    p = Path(path)
    if not path.strip():
        raise ScenarioError([f"{option}: expected a file path, got an empty string"])
    if p.is_dir():
        raise ScenarioError([f"{option}: {path}: is a directory; give a file name"])
    if figure:
        formats = _figure_formats()
        ext = p.suffix.lower().removeprefix(".")
        if ext not in formats:
            got = f"'.{ext}'" if ext else "no extension"
            raise ScenarioError(
                [
                    f"{option}: {path}: cannot write a figure with {got}; use one of "
                    + ", ".join(f".{f}" for f in formats)
                ]
            )
    if p.parent.exists() and not p.parent.is_dir():
        raise ScenarioError([f"{option}: {path}: {p.parent} is a file, not a folder"])
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(
            [f"{option}: {path}: cannot create its folder: {exc.strerror or exc}"]
        ) from None
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ScenarioError([f"{option}: {path}: permission denied"])
    return p


def _figure_formats() -> list[str]:
    """The extensions matplotlib writes here (``pgf`` needs a LaTeX installation: left out)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(set(FigureCanvasBase.get_supported_filetypes()) - {"pgf"})


def _write(option: str, path: Path, write: Callable[[Path], object]) -> None:
    """Write an output, turning a failure into one line naming the option and the path."""
    try:
        write(path)
    except OSError as exc:
        raise ScenarioError([f"{option}: {path}: {exc.strerror or exc}"]) from None


def _save_figure(path: Path, draw: Callable[[], Any]) -> None:
    """Draw and save a figure with mathtext off: a ``$`` in a name stays a dollar sign."""
    import matplotlib

    from simdeploy import plots

    with matplotlib.rc_context({"text.parse_math": False}):
        try:
            plots.save(draw(), path)
        except OSError as exc:
            raise ScenarioError([f"--plot: {path}: {exc.strerror or exc}"]) from None
        except (ValueError, RuntimeError) as exc:  # a format this matplotlib cannot write
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ScenarioError([f"--plot: {path}: cannot write the figure: {first}"]) from None


def _fmt(value: Any, field: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if field in ("requests", "errors", "users_affected", "peak_pods", "in_flight"):
            return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
        if field == "error_rate":
            return f"{value:.2%}"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _run(args: argparse.Namespace, out: Console, load: _Loader) -> int:
    sc = load(args.file)
    csv = _output("--csv", args.csv)
    events = _output("--events", args.events)
    plot = _output("--plot", args.plot, figure=True)
    result = simulate(sc, seed=args.seed)
    if csv is not None:
        _write("--csv", csv, lambda p: result.timeline.to_csv(p, index=False))
    if events is not None:
        _write("--events", events, lambda p: result.events.to_csv(p, index=False))
    if plot is not None:
        from simdeploy import plots

        _save_figure(plot, lambda: plots.timeline_figure(result, title=sc.name))
    if args.json:
        print(json.dumps({"name": sc.name, "seed": result.seed, **result.record}))
        return EXIT_OK
    table = Table(title=Text(f"{sc.name} (seed {result.seed})"))
    table.add_column("field")
    table.add_column("value", justify="right")
    table.add_column("meaning", style="dim")
    for field, (unit, meaning) in SUMMARY.items():
        value = result.record[field]
        if isinstance(value, dict):
            value = ", ".join(f"{c} {n}" for c, n in value.items() if n) or "none"
        shown = _fmt(value, field) + (f" {unit}" if unit and value is not None else "")
        table.add_row(field, Text(shown), meaning)  # errors_by_phase names user phases
    out.print(table)
    return EXIT_OK


def _variants(scenarios: Sequence[Scenario]) -> dict[str, Scenario]:
    """Every variant of the scenarios by name (a ``compare:`` block expands; a name seen
    before is prefixed with its scenario's: ``seed-table:canary``)."""
    named: dict[str, Scenario] = {}
    for sc in scenarios:
        for name, variant in variants_of(sc).items():
            key = name if name not in named else f"{sc.name}:{name}"
            named[key] = variant
    return named


def _compare(args: argparse.Namespace, out: Console, err: Console, load: _Loader) -> int:
    named = _variants(_load_all(args.files, load))
    csv = _output("--csv", args.csv)
    plot = _output("--plot", args.plot, figure=True)
    total = len(named) * args.seeds
    if total > 1 and not args.json and err.is_terminal:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("simulating", total=total)
            comparison = compare(
                named,
                args.seeds,
                args.jobs,
                on_progress=lambda done, _n: bar.update(task, completed=done),
            )
    else:
        comparison = compare(named, args.seeds, args.jobs)
    records = comparison.records()
    if csv is not None:
        _write("--csv", csv, lambda p: comparison.table().to_csv(p))
    if plot is not None:
        from simdeploy import plots

        _save_figure(plot, lambda: plots.comparison_figure(comparison))
    if args.json:
        print(json.dumps(records))
        return EXIT_OK
    out.print(_compare_table(comparison, records))
    if args.plot:
        out.print(Text(f"figure written to {args.plot}"))
    return EXIT_OK


def _mean_cell(mean: Any, half: Any, field: str) -> str:
    """A mean, with `` ±half`` (of its 95% CI) when the interval has a width."""
    cell = _fmt(mean, field)
    if isinstance(half, int | float) and not math.isnan(half) and half > 0:
        cell += f" ±{_fmt(half, field)}"
    return cell


def _compare_table(comparison: Comparison, records: list[dict[str, Any]]) -> Table:
    n = len(comparison.seeds)
    title = f"{n} seed{'s' if n > 1 else ''} ({', '.join(map(str, comparison.seeds[:5]))}"
    title += ", ...)" if n > 5 else ")"
    table = Table(title=Text(f"comparison on common random numbers, {title}"))
    table.add_column("variant")
    for col in COMPARE_COLUMNS:
        table.add_column(col, justify="right")
    for rec in records:
        cells: list[str | Text] = [Text(rec["name"])]  # a variant key or a scenario name
        for col in COMPARE_COLUMNS:
            ci = rec.get(f"{col}_ci95")
            cells.append(_mean_cell(rec.get(col), None if ci is None else (ci[1] - ci[0]) / 2, col))
        table.add_row(*cells)
    return table


def _policy(args: argparse.Namespace, out: Console, err: Console, load: _Loader) -> int:
    """One row per regression: how often the policy rolled back, how fast, at what cost."""
    regressions = []
    for text in args.regressions.split(","):
        try:
            regressions.append(float(text))
        except ValueError:
            raise UsageError([f"--regressions: {text!r} is not a number"]) from None
    checked_regressions(regressions)
    csv = _output("--csv", args.csv)
    plot = _output("--plot", args.plot, figure=True)
    sc = load(args.file)
    table = policy(
        sc, regressions, args.seeds, args.kind, args.jobs, args.data_plane, executor=args.dask
    )
    if csv is not None:
        _write("--csv", csv, lambda p: table.to_csv(p, index=False))
    if plot is not None:
        from simdeploy.plots_policy import policy_figure

        _save_figure(plot, lambda: policy_figure(table, args.kind))
    if args.json:
        print(table.to_json(orient="records"))
        return EXIT_OK
    title = f"policy of {sc.name}: {args.seeds} runs per regression ({args.kind})"
    view = Table(title=Text(title))
    for col in (
        "regression",
        "p_rollback",
        "95% CI",
        "p_promote",
        "detect (median)",
        "detect (p90)",
        "users_affected",
        "errors",
        "extra_cost",
    ):
        view.add_column(col, justify="right")
    for row in table.to_dict(orient="records"):
        lo, hi = row["p_rollback_ci95"]
        view.add_row(
            Text(f"{row['regression']:g}"),
            Text(f"{row['p_rollback']:.2f}"),
            Text(f"[{lo:.2f}, {hi:.2f}]"),
            Text(f"{row['p_promote']:.2f}"),
            Text(_seconds(row["time_to_detect_s"])),
            Text(_seconds(row["time_to_detect_s_p90"])),
            Text(_mean_cell(row["users_affected"], row["users_affected_ci95"], "users_affected")),
            Text(_mean_cell(row["errors"], row["errors_ci95"], "errors")),
            Text("-" if row["extra_cost"] is None else f"{row['extra_cost']:.3g}"),
        )
    out.print(view)
    if table["p_rollback"].iloc[0] > 0 and float(regressions[0]) == 0:
        err.print(
            Text(
                "simdeploy: note: regression 0 is a release identical to the old version: "
                "its rollbacks are false alarms"
            )
        )
    return EXIT_OK


def _seconds(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{float(value):.1f} s"


def _sweep(args: argparse.Namespace, out: Console, err: Console, load: _Loader) -> int:
    """One row per grid point and variant: the swept values, then the comparison columns."""
    sc, grid = _sweep_grid(args.sets, args.file, load)
    csv = _output("--csv", args.csv)
    parquet = _output("--parquet", args.parquet)
    plot = _output("--plot", args.plot, figure=True)
    if plot is not None and (len(grid) > 2 or args.metric not in SUMMARY_FIELDS):
        what = f"{len(grid)} swept fields" if len(grid) > 2 else f"no summary field {args.metric!r}"
        raise UsageError([f"--plot: draws one or two swept fields and a summary field ({what})"])
    cache = RunCache(args.cache)
    if not args.json and err.is_terminal:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("sweeping", total=None)
            table = sweep(
                sc,
                grid,
                args.seeds,
                args.jobs,
                on_progress=lambda done, n: bar.update(task, completed=done, total=n),
                cache=cache,
                resume=args.resume,
                executor=args.dask,
            )
    else:
        table = sweep(
            sc, grid, args.seeds, args.jobs, cache=cache, resume=args.resume, executor=args.dask
        )
    if csv is not None:
        _write("--csv", csv, lambda p: table.to_csv(p, index=False))
    if parquet is not None:
        _write("--parquet", parquet, lambda p: for_parquet(table).to_parquet(p, index=False))
    if plot is not None:
        from simdeploy.plots_sweep import sweep_figure

        _save_figure(plot, lambda: sweep_figure(table, list(grid), args.metric, args.seeds))
    if args.json:
        print(table.to_json(orient="records"))
        return EXIT_OK
    view = Table(title=Text(f"sweep of {sc.name}: {len(table)} rows, {args.seeds} seed(s) each"))
    for path in grid:
        view.add_column(Text(path), justify="right")
    view.add_column("variant")
    for col in COMPARE_COLUMNS:
        view.add_column(col, justify="right")
    for row in table.to_dict(orient="records"):
        cells: list[str | Text] = [Text(str(row[path])) for path in grid]
        cells.append(Text(str(row["variant"])))
        for col in COMPARE_COLUMNS:
            cells.append(Text(_mean_cell(row.get(col), row.get(f"{col}_ci95"), col)))
        view.add_row(*cells)
    out.print(view)
    return EXIT_OK


def _sweep_grid(
    sets: Sequence[str], file: str, load: _Loader
) -> tuple[Scenario, dict[str, list[Any]]]:
    """The scenario and the grid a sweep runs (``sweep``, ``report --sweep``): the file's
    ``sweep:`` block, to which each ``--set PATH=V1,V2`` adds its path or replaces it. The
    ``--set`` arguments are read first: a bad one is an error before the file is read."""
    grid: dict[str, list[Any]] = {}
    for arg in sets:
        path, values = parse_set(arg)
        grid[path] = values
    sc = load(file)
    # The file's own sweep: block was checked as the file was read; these are --set's.
    problems = grid_problems(sc, grid)
    if problems:
        raise ScenarioError([f"--set {line}" for line in problems])
    return sc, {**sc.sweep, **grid}


def _report(args: argparse.Namespace, out: Console, err: Console, load: _Loader) -> int:
    """One HTML page: the file's sweep (``--sweep`` or ``--set``), or the run of each
    variant of the files (one: a run; more: a comparison) on ``--seeds`` seeds."""
    from simdeploy import report_html

    output = _output("--output", args.output)
    assert output is not None  # required by the parser
    if args.sweep or args.sets:
        if len(args.files) != 1:
            raise UsageError([f"--sweep: reports one scenario file's sweep, got {len(args.files)}"])
        sc, grid = _sweep_grid(args.sets, args.files[0], load)
        seeds = _seed_list(sc, args.seed, args.seeds)
        table = _with_progress(
            err,
            "sweeping",
            lambda progress: sweep(sc, grid, seeds, args.jobs, on_progress=progress),
        )
        page = report_html.sweep_page(_source(args.files[0], sc), grid, table, seeds)
    else:
        scenarios = _load_all(args.files, load)
        named = _variants(scenarios)
        seeds = _seed_list(next(iter(named.values())), args.seed, args.seeds)
        comparison = _with_progress(
            err,
            "simulating",
            lambda progress: compare(named, seeds, args.jobs, on_progress=progress),
        )
        sources = [_source(f, sc) for f, sc in zip(args.files, scenarios, strict=True)]
        page = report_html.run_page(sources, named, comparison)
    _write("--output", output, lambda p: p.write_text(page, encoding="utf-8"))
    out.print(Text(f"wrote {output}"))
    return EXIT_OK


def _seed_list(sc: Scenario, first: int | None, n: int) -> list[int]:
    """``n`` consecutive seeds from ``first`` (``--seed``) or the scenario's own seed."""
    start = sc.simulation.seed if first is None else first
    return [start + i for i in range(n)]


def _source(file: str, sc: Scenario) -> Source:
    """A scenario file as the report shows it (its text as written)."""
    from simdeploy.report_html import Source

    return Source(file, Path(file).read_text(encoding="utf-8"), sc)


R = TypeVar("R")


def _with_progress(err: Console, what: str, work: Callable[[Any], R]) -> R:
    """``work(on_progress)``, with a progress bar on stderr when it is a terminal."""
    if not err.is_terminal:
        return work(None)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(what, total=None)
        return work(lambda done, n: bar.update(task, completed=done, total=n))


def _import(args: argparse.Namespace, out: Console, err: Console) -> int:
    """The manifests as a scenario file: to ``--output`` or stdout; messages on stderr."""
    output = _output("--output", args.output)
    text, warnings, notes = import_scenario(args.manifests)
    for line in notes:
        err.print(Text(f"simdeploy: note: {line}"))
    if args.strict and warnings:
        raise ScenarioError([f"{line} (--strict)" for line in warnings])
    for line in warnings:
        err.print(Text(f"simdeploy: warning: {line}"))
    if output is None:
        print(text, end="")
    else:
        _write("--output", output, lambda p: p.write_text(text, encoding="utf-8"))
        out.print(Text(f"wrote {output}"))
    return EXIT_OK


def _check(args: argparse.Namespace, out: Console, load: _Loader) -> int:
    scenarios = _load_all(args.files, load)
    junit = _output("--junit", args.junit)
    failed = 0
    reports: list[FileReport] = []
    report_json = []
    for f, sc in zip(args.files, scenarios, strict=True):
        findings = lint(sc)
        if not args.json:
            for finding in findings:
                out.print(Text(f"{f}: plan: {finding}"))
        if sc.expect.empty:
            out.print(Text(f"{f}: no expect: block, nothing to check"))
            continue
        if args.seed is not None:
            sc = sc.with_seed(args.seed)
        checks, runs = check_seeds(sc, args.seeds, args.require)
        report = FileReport(
            f,
            sc.name,
            checks,
            [r.record for r in runs],
            [r.seed for r in runs],
            expectation_lines(f),
        )
        reports.append(report)
        failed += len(report.failed)
        report_json.append(
            {
                "file": f,
                "passed": not report.failed,
                "seeds": report.seeds,
                "require": args.require,
                "checks": [
                    {
                        "field": c.field,
                        "expected": c.expected,
                        "actual": c.actual,
                        "passed": c.passed,
                        "values": c.values,
                        "failed_seeds": c.failed_seeds,
                        "ci95": list(c.ci95) if c.ci95 else None,
                    }
                    for c in checks
                ],
                "plan_findings": [
                    {"phase": x.phase, "rule": x.rule, "reason": x.reason} for x in findings
                ],
            }
        )
        if not args.json:
            status = "FAIL" if report.failed else "ok"
            n = len(checks)
            seeds = f", {len(report.seeds)} seeds" if len(report.seeds) > 1 else ""
            out.print(Text(f"{f}: {status} ({n - len(report.failed)}/{n} expectations{seeds})"))
            for c in report.failed:
                out.print(Text(f"  {c.line}"))
                for line in failure_detail(report, c)[1:]:  # [0] repeats the line above
                    out.print(Text(f"    {line}"))
        if args.format == "github":
            for line in github_annotations(report):
                print(line)
    if junit is not None:
        text = junit_xml(reports)
        _write("--junit", junit, lambda p: p.write_text(text, encoding="utf-8"))
    if args.json:
        print(json.dumps(report_json, default=str))
    return EXIT_EXPECTATION if failed else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
