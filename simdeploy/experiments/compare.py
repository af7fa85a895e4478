"""Replications and comparisons on common random numbers.

``compare`` runs every variant on the same seeds: the same seed gives the same
arrivals and users whatever the strategy (see ``simulation.stream``), so differences
between variants come from the strategy, not from noise. With several seeds each
metric gets a mean and a 95% confidence interval (Student's t over replications).

Executors: runs go one after another by default; ``jobs > 1`` spreads them over local
processes (``concurrent.futures``). The library stays silent: ``on_progress`` lets a
front end draw a progress bar.
"""

from __future__ import annotations

import math
import numbers
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
from scipy import stats

from simdeploy.run.result import Result
from simdeploy.run.simulation import checked_scenario, checked_seed, simulate
from simdeploy.spec.base import UsageError
from simdeploy.spec.metrics import SUMMARY_FIELDS
from simdeploy.spec.scenario import Scenario

Progress = Callable[[int, int], None]
J = TypeVar("J")
R = TypeVar("R")


def seeds_for(scenario: Scenario, n: int) -> list[int]:
    """``n`` consecutive seeds starting at the scenario's own seed."""
    return [scenario.simulation.seed + i for i in range(max(1, n))]


def variants_of(scenario: Scenario) -> dict[str, Scenario]:
    """The scenario's ``compare:`` block as named scenarios (itself alone if none)."""
    if not scenario.compare:
        return {scenario.name: scenario}
    return {name: scenario.with_strategy(s, name) for name, s in scenario.compare.items()}


def own_run_data(scenario: Scenario) -> dict[str, Any]:
    """``scenario`` as a file would spell it, for a variant of its own run: without
    ``manifests:`` (already read into ``service:``), ``sweep:``, ``compare:`` and ``expect:``."""
    data = scenario.model_dump(by_alias=True, exclude_unset=True, warnings=False)
    for key in ("manifests", "sweep", "compare", "expect"):
        data.pop(key, None)
    return data


def run_one(args: tuple[Scenario, int]) -> Result:
    """One run of (scenario, seed); module-level, so local processes can run it."""
    scenario, seed = args
    return simulate(scenario, seed=seed)


def run_each(jobs_list: Sequence[J], jobs: int, run: Callable[[J], R]) -> Iterator[tuple[int, R]]:
    """(index in ``jobs_list``, ``run(job)``) of each job as it finishes: one after another,
    or on up to ``jobs`` local processes (``run`` must then be a module-level function)."""
    workers = min(jobs, len(jobs_list), os.cpu_count() or 1)
    if workers <= 1:
        for i, job in enumerate(jobs_list):
            yield i, run(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run, job): i for i, job in enumerate(jobs_list)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _run_all(
    jobs_list: list[tuple[Scenario, int]], jobs: int, on_progress: Progress | None
) -> list[Result]:
    results: list[Result | None] = [None] * len(jobs_list)
    for done, (i, result) in enumerate(run_each(jobs_list, jobs, run_one), start=1):
        results[i] = result
        if on_progress:
            on_progress(done, len(jobs_list))
    return [r for r in results if r is not None]


def replicate(
    scenario: Scenario,
    seeds: int | Sequence[int] = 1,
    jobs: int = 1,
    on_progress: Progress | None = None,
) -> list[Result]:
    """Run ``scenario`` once per seed (an int ``n`` means ``seeds_for(scenario, n)``).

    Raises :class:`ScenarioError` for an invalid scenario, :class:`UsageError` for a bad
    argument (see :func:`compare`).
    """
    scenario = checked_scenario(scenario)
    seed_list = checked_seeds(seeds, scenario)
    return _run_all([(scenario, s) for s in seed_list], checked_jobs(jobs), on_progress)


def checked_seeds(seeds: object, first: Scenario) -> list[int]:
    """The seeds ``seeds`` stands for: a count ``n >= 1`` (``seeds_for(first, n)``) or a
    non-empty sequence of ints >= 0; :class:`UsageError` naming ``seeds`` otherwise."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise UsageError([f"seeds: expected a count >= 1 or a list of seeds, got {seeds}"])
        return seeds_for(first, int(seeds))
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence):
        raise UsageError(
            [f"seeds: expected a count >= 1 or a list of seeds, got {type(seeds).__name__}"]
        )
    if not seeds:
        raise UsageError(["seeds: expected a count >= 1 or a list of seeds, got an empty list"])
    return [checked_seed(s, f"seeds[{i}]") for i, s in enumerate(seeds)]


def checked_jobs(jobs: object) -> int:
    """``jobs`` as an int >= 1; :class:`UsageError` naming ``jobs`` otherwise."""
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs < 1:
        raise UsageError([f"jobs: expected an integer >= 1 (local processes), got {jobs!r:.40}"])
    return int(jobs)


@dataclass
class Comparison:
    """Results per variant, all on the same seeds."""

    runs: dict[str, list[Result]]
    seeds: list[int]

    def records(self) -> list[dict[str, Any]]:
        """One flat record per variant: ``name``, each field (mean over seeds), and with
        several seeds ``<field>_ci95`` as [low, high] (None when undefined)."""
        return [aggregate(name, runs) for name, runs in self.runs.items()]

    def table(self) -> pd.DataFrame:
        """The records as a DataFrame indexed by variant name."""
        rows = []
        for r in self.records():
            flat = {k: v for k, v in r.items() if not isinstance(v, dict)}
            for cause, n in r["errors_by_cause"].items():
                flat[f"errors_{cause}"] = n
            rows.append(flat)
        return pd.DataFrame(rows).set_index("name")


def compare(
    variants: Mapping[str, Scenario] | Sequence[Scenario] | Scenario,
    seeds: int | Sequence[int] = 1,
    jobs: int = 1,
    on_progress: Progress | None = None,
) -> Comparison:
    """Run each variant on the same seeds (common random numbers).

    ``variants``: a mapping name → scenario, a list of scenarios (named by their
    ``name``), or one scenario whose ``compare:`` block lists strategy variants.
    ``seeds``: a count >= 1 (consecutive from the first scenario's seed) or a non-empty list
    of seeds >= 0. ``jobs``: local processes, >= 1 (at most one per run and per CPU is used;
    the results do not depend on it).

    Every scenario is validated again first (``model_copy`` skips validation). Raises
    :class:`ScenarioError` for an invalid scenario, :class:`UsageError` for a bad argument.
    """
    named = _named(variants)
    first = next(iter(named.values()))
    seed_list = checked_seeds(seeds, first)
    jobs_list = [(sc, s) for sc in named.values() for s in seed_list]
    results = _run_all(jobs_list, checked_jobs(jobs), on_progress)
    n = len(seed_list)
    runs = {name: results[i * n : (i + 1) * n] for i, name in enumerate(named)}
    return Comparison(runs, seed_list)


def _named(variants: object) -> dict[str, Scenario]:
    """The variants of :func:`compare` by name, each validated again."""
    if isinstance(variants, Scenario):
        return variants_of(checked_scenario(variants, "variants"))
    if isinstance(variants, Mapping):
        named = {}
        for name, sc in variants.items():
            if not isinstance(name, str):
                raise UsageError([f"variants: names must be strings, got {name!r:.40}"])
            named[name] = checked_scenario(sc, f"variants[{name!r}]")
    elif isinstance(variants, Sequence) and not isinstance(variants, str | bytes):
        named = {}
        for i, sc in enumerate(variants):
            sc = checked_scenario(sc, f"variants[{i}]")
            name, k = sc.name, 2
            while name in named:
                name, k = f"{sc.name}#{k}", k + 1
            named[name] = sc
    else:
        raise UsageError(
            [
                "variants: expected a Scenario, a mapping name → Scenario or a list of "
                f"Scenarios, got {type(variants).__name__}"
            ]
        )
    if not named:
        raise UsageError(["variants: nothing to compare (no scenario given)"])
    return named


def mean_ci95(values: Sequence[float]) -> tuple[float | None, tuple[float, float] | None]:
    """Mean and 95% Student-t confidence interval; (None, None) for no values,
    (mean, None) for one value (no interval from a single run).

    Example: [10, 12, 14] → mean 12, sd 2, t(0.975, 2) = 4.303 → 12 ± 4.97.
    """
    xs = [float(v) for v in values]
    if not xs:
        return None, None
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, None
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))
    half = float(stats.t.ppf(0.975, len(xs) - 1)) * sd / math.sqrt(len(xs))
    return m, (m - half, m + half)


def aggregate(name: str, runs: list[Result]) -> dict[str, Any]:
    """Mean (and CI with several runs) of every summary field over ``runs``.

    Fields that are None in a run (e.g. ``rollback_time_s`` without a rollback) are
    averaged over the runs that have them; ``outcome`` is the most common one, with
    ``outcomes`` counting each.
    """
    out: dict[str, Any] = {"name": name, "runs": len(runs)}
    for field in SUMMARY_FIELDS:
        if field == "outcome":
            counts = Counter(r.record["outcome"] for r in runs)
            out["outcome"] = counts.most_common(1)[0][0] if counts else None
            continue
        if any(isinstance(r.record[field], dict) for r in runs):
            # errors_by_cause, errors_by_phase: the mean per key (a missing key counts 0)
            keys = list(dict.fromkeys(k for r in runs for k in (r.record[field] or {})))
            out[field] = {
                k: mean_ci95([(r.record[field] or {}).get(k, 0) for r in runs])[0] for k in keys
            }
            continue
        vals = [r.record[field] for r in runs if r.record[field] is not None]
        mean, ci = mean_ci95(vals)
        out[field] = mean
        if len(runs) > 1:
            out[f"{field}_ci95"] = list(ci) if ci is not None else None
    if len(runs) > 1:
        out["outcomes"] = dict(Counter(r.record["outcome"] for r in runs))
    return out
