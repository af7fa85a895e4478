"""Sweeps: one scenario over a grid of field values × its ``compare:`` variants × seeds.

``sweep(scenario, {"service.pod.lifecycle.preStop.sleep.seconds": [0, 5, 10]}, seeds=5)``
runs every grid point (the cartesian product of the values, in the order given) with every
variant on the same seeds, so two points differ by the swept values, not by noise (common
random numbers, as :func:`~simdeploy.experiments.compare.compare`). A path is a scenario
field in the file's spelling (camelCase, dots; a list item by its index: ``plan.0.at``);
a value is what the file would hold there (``"25%"``, ``"500ms"``, ``3``).

Every point is built and validated before anything runs: a path the format does not have or
a value its field rejects raises :class:`ScenarioError` naming the path (``PATH=VALUE`` for a
value) and the field, once per path and problem (:func:`grid_problems`);
a grid whose estimated computing exceeds :data:`MAX_SWEEP_SECONDS` is refused with the
estimate. Values from text: :func:`parse_values` (``0,1,2,25%``; ``100..1000:100``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
import yaml

from simdeploy.experiments.compare import (
    Progress,
    aggregate,
    checked_jobs,
    checked_seeds,
    run_each,
    variants_of,
)
from simdeploy.experiments.dask_runs import run_on_dask
from simdeploy.experiments.run_cache import RunCache
from simdeploy.run.simulation import checked_scenario, simulate
from simdeploy.spec.base import ScenarioError, UsageError
from simdeploy.spec.budget import estimate
from simdeploy.spec.dotted import put
from simdeploy.spec.scenario import Scenario

#: Most computing a sweep may take, in estimated seconds (all points, variants and seeds).
MAX_SWEEP_SECONDS = 4 * 3600.0


def parse_values(text: str) -> list[Any]:
    """The values of ``--set PATH=<text>``: comma-separated YAML scalars, or a numeric range
    ``start..stop:step`` (stop included). ``"0,1,25%"`` → [0, 1, "25%"];
    ``"100..300:100"`` → [100, 200, 300]; ``"1s,500ms"`` → ["1s", "500ms"]."""
    text = text.strip()
    if ".." in text:
        span, _, step_text = text.partition(":")
        lo_text, _, hi_text = span.partition("..")
        try:
            lo, hi = float(lo_text), float(hi_text)
            step = float(step_text) if step_text else 1.0
        except ValueError:
            raise UsageError([f"{text}: a range is start..stop:step, numbers"]) from None
        if step <= 0 or hi < lo:
            raise UsageError([f"{text}: a range needs start <= stop and a step > 0"])
        n = int((hi - lo) / step + 1e-9) + 1
        values = [lo + k * step for k in range(n)]
        return [int(v) if v.is_integer() else v for v in values]
    out = []
    for part in text.split(","):
        try:
            out.append(yaml.safe_load(part.strip()) if part.strip() else part)
        except yaml.YAMLError:
            out.append(part.strip())
    return out


def parse_set(arg: str) -> tuple[str, list[Any]]:
    """``PATH=V1,V2`` → (path, values); :class:`UsageError` naming the argument."""
    path, eq, values = arg.partition("=")
    if not eq or not path.strip() or not values.strip():
        raise UsageError([f"--set {arg}: expected PATH=V1,V2,... (e.g. replicas=2,4,8)"])
    return path.strip(), parse_values(values)


def _base(scenario: Scenario) -> dict[str, Any]:
    """The scenario as file data, to put swept values into."""
    base = checked_scenario(scenario, "scenario").model_dump(by_alias=True, exclude_unset=True)
    base.pop("manifests", None)  # already read into service:
    base.pop("sweep", None)  # checked when the scenario was; each point would check it again
    return base


class _Probe:
    """A value no scenario field takes: a problem it shares with a swept value is the path's,
    not the value's (an unknown field, a place the scenario does not have)."""

    def __repr__(self) -> str:
        return "<probe>"


def grid_problems(scenario: Scenario, grid: Mapping[str, Sequence[Any]]) -> list[str]:
    """What is wrong with each path and value of ``grid`` on its own (each put alone into
    ``scenario``), once per path and problem: ``PATH: problem`` for a problem of the path
    whatever its value (a field the format does not have); else ``PATH=V1,V2: problem``,
    naming the values that have it. Empty when every one makes a valid scenario.

    Example: ``{"service.nope": [1, 2], "service.replicas": [-1, 2]}`` →
    ["service.nope: unknown field; known: ...", "service.replicas=-1: service.replicas:
    Input should be greater than or equal to 0"].
    """
    base = _base(scenario)
    problems: list[str] = []
    for path, values in grid.items():
        found: dict[str, list[Any]] = {}  # problem -> the values that have it, in order
        for value in values:
            for line in _problems(base, path, value):
                found.setdefault(line, []).append(value)
        if not found:
            continue
        of_path = _problems(base, path, _Probe())
        for line, bad in found.items():
            if line in of_path and len(bad) == len(values):
                problems.append(line if line.startswith(f"{path}: ") else f"{path}: {line}")
            else:
                problems.append(f"{path}={','.join(str(v) for v in bad)}: {line}")
    return problems


def _problems(base: dict[str, Any], path: str, value: Any) -> list[str]:
    """The problems of ``base`` with ``value`` at ``path`` (none when it is valid)."""
    try:
        Scenario.parse(put(base, path, value))
    except ScenarioError as exc:
        return list(dict.fromkeys(exc.errors))
    return []


def points(
    scenario: Scenario, grid: Mapping[str, Sequence[Any]]
) -> list[tuple[dict[str, Any], Scenario]]:
    """(the swept values, the scenario) of every grid point, each validated."""
    if not grid:
        raise UsageError(
            ["sweep: nothing to sweep: give --set PATH=V1,V2 or a sweep: block in the scenario"]
        )
    base = _base(scenario)
    # Each path and value on its own first: one line per bad path or PATH=VALUE, not per point.
    problems = grid_problems(scenario, grid)
    if problems:
        raise ScenarioError(problems)
    out = []
    for combo in itertools.product(*(list(v) for v in grid.values())):
        values = dict(zip(grid, combo, strict=True))
        data = base
        for path, value in values.items():
            data = put(data, path, value)
        try:
            out.append((values, Scenario.parse(data)))
        except ScenarioError as exc:  # only together are the values wrong
            shown = ", ".join(f"{p}={v}" for p, v in values.items())
            problems += [f"{shown}: {line}" for line in exc.errors]
    if problems:
        raise ScenarioError(problems)
    return out


def sweep(
    scenario: Scenario,
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | Sequence[int] = 1,
    jobs: int = 1,
    on_progress: Progress | None = None,
    cache: RunCache | None = None,
    resume: bool = False,
    executor: Any = None,
) -> pd.DataFrame:
    """One row per grid point and variant: the swept paths, ``variant``, each summary
    field's mean over the seeds and, with several seeds, ``<field>_ci95``, the half-width of
    its 95% confidence interval. ``grid`` defaults to the scenario's ``sweep:`` block.

    With a ``cache`` every finished run is kept on disk; with ``resume`` too, the runs it
    already holds are read instead of run again (an interrupted sweep goes on from there).
    ``executor``: None (``jobs`` local processes), or a Dask cluster: ``"local"``, a
    scheduler address or a ``distributed.Client`` (:mod:`.dask_runs`); same numbers.
    """
    grid_points = points(scenario, scenario.sweep if grid is None else grid)
    grid = scenario.sweep if grid is None else grid
    seed_list = checked_seeds(seeds, scenario)
    runs = sum(len(variants_of(sc)) for _, sc in grid_points) * len(seed_list)
    seconds = sum(estimate(sc).seconds * len(variants_of(sc)) for _, sc in grid_points)
    seconds *= len(seed_list)
    if seconds > MAX_SWEEP_SECONDS:
        raise ScenarioError(
            [
                f"sweep: {len(grid_points)} points × variants × {len(seed_list)} seeds = {runs} "
                f"runs, estimated {seconds / 3600:.1f} h of computing (limit "
                f"{MAX_SWEEP_SECONDS / 3600:g} h); sweep fewer values or seeds"
            ]
        )
    # Every (point, variant, seed) run: from the cache when asked to resume, else simulated,
    # each written to the cache as it finishes (an interrupted sweep keeps them).
    jobs_list = [
        (i, name, variant, seed)
        for i, (_, sc) in enumerate(grid_points)
        for name, variant in variants_of(sc).items()
        for seed in seed_list
    ]
    records: dict[tuple[int, str, int], dict[str, Any]] = {}
    if cache is not None and resume:
        for i, name, variant, seed in jobs_list:
            found = cache.get(variant, seed)
            if found is not None:
                records[(i, name, seed)] = found
    todo = [job for job in jobs_list if (job[0], job[1], job[3]) not in records]
    done = len(records)
    finished = (
        _run_each(todo, jobs)
        if executor is None
        else run_on_dask(todo, _run_one, executor, workers=checked_jobs(jobs))
    )
    for (i, name, variant, seed), record in finished:
        records[(i, name, seed)] = record
        if cache is not None:
            cache.put(variant, seed, record)
        done += 1
        if on_progress is not None:
            on_progress(done, len(jobs_list))
    rows = []
    for i, (values, sc) in enumerate(grid_points):
        for name in variants_of(sc):
            held = [_Held(records[(i, name, seed)]) for seed in seed_list]
            record = aggregate(name, held)  # type: ignore[arg-type]  # only .record is read
            row: dict[str, Any] = dict(values)
            row["variant"] = record.pop("name")
            for key, value in record.items():
                if key.endswith("_ci95"):
                    row[key] = None if value is None else (value[1] - value[0]) / 2
                elif not isinstance(value, dict):
                    row[key] = value
            rows.append(row)
    return pd.DataFrame(rows)


class _Held:
    """A finished run's summary record, as :func:`aggregate` reads a Result."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record


def _run_one(job: tuple[int, str, Scenario, int]) -> dict[str, Any]:
    """The record of one run (here, in a local process or on a Dask worker)."""
    _, _, scenario, seed = job
    return simulate(scenario, seed=seed).record


def _run_each(
    todo: list[tuple[int, str, Scenario, int]], jobs: int
) -> Iterator[tuple[tuple[int, str, Scenario, int], dict[str, Any]]]:
    """Each job with its record, as it finishes (:func:`.compare.run_each`)."""
    for i, record in run_each(todo, checked_jobs(jobs), _run_one):
        yield todo[i], record


def for_parquet(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with columns Parquet can type: a column mixing kinds of values (a swept
    ``maxSurge`` of ``1`` and ``"25%"``; a CI given as a pair) becomes text, as written."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        kinds = {type(v) for v in out[col] if v is not None and v == v}
        if len(kinds) > 1 or kinds & {list, tuple, dict}:
            out[col] = [None if v is None else str(v) for v in out[col]]
    return out
