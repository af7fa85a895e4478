"""The ``simdeploy`` command: run, compare, check, validate, schema.

The only module that prints. Exit codes: 0 fine, 1 an expectation failed (``check``),
2 bad input (a scenario error, a missing file, a bad option) — always one line per
problem on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from simdeploy.experiments.compare import Comparison, compare, variants_of
from simdeploy.run.checks import evaluate
from simdeploy.run.simulation import simulate
from simdeploy.spec.base import ScenarioError
from simdeploy.spec.metrics import SUMMARY
from simdeploy.spec.plan_check import lint
from simdeploy.spec.scenario import Scenario, json_schema, load_scenario

EXIT_OK, EXIT_EXPECTATION, EXIT_BAD_INPUT = 0, 1, 2

#: Columns of the comparison table: the reference article's questions.
COMPARE_COLUMNS = (
    "downtime_s",
    "errors",
    "users_affected",
    "time_to_detect_s",
    "rollback_time_s",
    "extra_cost",
    "peak_pods",
    "outcome",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every bad input
        self.exit(EXIT_BAD_INPUT, f"simdeploy: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="simdeploy", description="Simulate deployment strategies.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run one scenario and print its summary")
    run.add_argument("file")
    run.add_argument("--seed", type=int, help="override simulation.seed")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    run.add_argument("--csv", metavar="PATH", help="write the timeline (one row per bucket)")
    run.add_argument("--events", metavar="PATH", help="write the event log as CSV")
    run.add_argument("--plot", metavar="PNG", help="write the timeline figure")

    cmp_ = sub.add_parser("compare", help="compare strategies or files on the same seeds")
    cmp_.add_argument("files", nargs="+", help="scenario files (a compare: block expands)")
    cmp_.add_argument("--seeds", type=int, default=1, help="replications per variant (CI95)")
    cmp_.add_argument("--jobs", type=int, default=1, help="local worker processes")
    cmp_.add_argument("--json", action="store_true", help="print a JSON list, one per variant")
    cmp_.add_argument("--csv", metavar="PATH", help="write the comparison table as CSV")
    cmp_.add_argument("--plot", metavar="PNG", help="write the comparison figure")

    chk = sub.add_parser("check", help="run scenarios and evaluate their expect: blocks")
    chk.add_argument("files", nargs="+")
    chk.add_argument("--seed", type=int, help="override simulation.seed")
    chk.add_argument("--json", action="store_true")

    val = sub.add_parser("validate", help="validate scenario files without running them")
    val.add_argument("files", nargs="+")

    sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (``python -m simdeploy`` and the console script)."""
    args = _parser().parse_args(argv)
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
        out = Console(highlight=False, soft_wrap=True, width=200)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if args.command == "schema":
            print(json.dumps(json_schema(), indent=2))
            return EXIT_OK
        if args.command == "validate":
            return _validate(args.files, out)
        if args.command == "run":
            return _run(args, out)
        if args.command == "compare":
            return _compare(args, out, err)
        return _check(args, out)
    except ScenarioError as exc:
        for line in exc.errors:
            err.print(f"simdeploy: error: {line}", markup=False)
        return EXIT_BAD_INPUT
    except OSError as exc:
        err.print(f"simdeploy: error: {exc.filename or ''}: {exc.strerror}", markup=False)
        return EXIT_BAD_INPUT


def _load_all(files: Sequence[str]) -> list[Scenario]:
    scenarios, errors = [], []
    for f in files:
        try:
            scenarios.append(load_scenario(f))
        except ScenarioError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ScenarioError(errors)
    return scenarios


def _validate(files: Sequence[str], out: Console) -> int:
    for f, sc in zip(files, _load_all(files), strict=True):
        out.print(f"{f}: ok ({sc.name}, {len(sc.plan)} plan actions)", markup=False)
    return EXIT_OK


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


def _run(args: argparse.Namespace, out: Console) -> int:
    sc = load_scenario(args.file)
    result = simulate(sc, seed=args.seed)
    if args.csv:
        _ensure_parent(args.csv)
        result.timeline.to_csv(args.csv, index=False)
    if args.events:
        _ensure_parent(args.events)
        result.events.to_csv(args.events, index=False)
    if args.plot:
        from simdeploy import plots

        plots.save(plots.timeline_figure(result, title=sc.name), args.plot)
    if args.json:
        print(json.dumps({"name": sc.name, "seed": result.seed, **result.record}))
        return EXIT_OK
    table = Table(title=f"{sc.name} (seed {result.seed})")
    table.add_column("field")
    table.add_column("value", justify="right")
    table.add_column("meaning", style="dim")
    for field, (unit, meaning) in SUMMARY.items():
        value = result.record[field]
        if isinstance(value, dict):
            value = ", ".join(f"{c} {n}" for c, n in value.items() if n) or "none"
        shown = _fmt(value, field) + (f" {unit}" if unit and value is not None else "")
        table.add_row(field, shown, meaning)
    out.print(table)
    return EXIT_OK


def _variants(files: Sequence[str]) -> dict[str, Scenario]:
    scenarios = _load_all(files)
    named: dict[str, Scenario] = {}
    for sc in scenarios:
        for name, variant in variants_of(sc).items():
            key = name if name not in named else f"{sc.name}:{name}"
            named[key] = variant
    return named


def _compare(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.seeds < 1:
        raise ScenarioError(["--seeds: must be at least 1"])
    if args.jobs < 1:
        raise ScenarioError(["--jobs: must be at least 1"])
    named = _variants(args.files)
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
    if args.csv:
        _ensure_parent(args.csv)
        comparison.table().to_csv(args.csv)
    if args.plot:
        from simdeploy import plots

        plots.save(plots.comparison_figure(comparison), args.plot)
    if args.json:
        print(json.dumps(records))
        return EXIT_OK
    out.print(_compare_table(comparison, records))
    if args.plot:
        out.print(f"figure written to {args.plot}", markup=False)
    return EXIT_OK


def _compare_table(comparison: Comparison, records: list[dict[str, Any]]) -> Table:
    n = len(comparison.seeds)
    title = f"{n} seed{'s' if n > 1 else ''} ({', '.join(map(str, comparison.seeds[:5]))}"
    title += ", ...)" if n > 5 else ")"
    table = Table(title=f"comparison on common random numbers, {title}")
    table.add_column("variant")
    for col in COMPARE_COLUMNS:
        table.add_column(col, justify="right")
    for rec in records:
        cells = [rec["name"]]
        for col in COMPARE_COLUMNS:
            cell = _fmt(rec.get(col), col)
            ci = rec.get(f"{col}_ci95")
            if ci is not None and ci[0] != ci[1]:
                cell += f" ±{_fmt((ci[1] - ci[0]) / 2, col)}"
            cells.append(cell)
        table.add_row(*cells)
    return table


def _check(args: argparse.Namespace, out: Console) -> int:
    scenarios = _load_all(args.files)
    failed = 0
    report = []
    for f, sc in zip(args.files, scenarios, strict=True):
        findings = lint(sc)
        if not args.json:
            for finding in findings:
                out.print(f"{f}: plan: {finding}", markup=False)
        if not sc.expect:
            out.print(f"{f}: no expect: block, nothing to check", markup=False)
            continue
        result = simulate(sc, seed=args.seed)
        checks = evaluate(sc.expect, result.record)
        bad = [c for c in checks if not c.passed]
        failed += len(bad)
        report.append(
            {
                "file": f,
                "passed": not bad,
                "checks": [vars(c) for c in checks],
                "plan_findings": [
                    {"phase": x.phase, "rule": x.rule, "reason": x.reason} for x in findings
                ],
            }
        )
        if not args.json:
            status = "FAIL" if bad else "ok"
            out.print(
                f"{f}: {status} ({len(checks) - len(bad)}/{len(checks)} expectations)", markup=False
            )
            for c in checks:
                if not c.passed:
                    out.print(f"  {c.line}", markup=False)
    if args.json:
        print(json.dumps(report, default=str))
    return EXIT_EXPECTATION if failed else EXIT_OK


def _ensure_parent(path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
