"""Is a rollout policy any good? Its operating characteristics, by replication.

A canary policy is a statistical test: it can roll back a good release (a false alarm) and
promote a bad one (a miss), and it takes time to decide. :func:`policy` runs the scenario's
own policy (Argo analysis, Flagger checks, blue/green pre/post-promotion analysis, an SLO
alert, a shadow comparison) against a family of releases of the new version: regression 0
is a release that behaves as the old version (:func:`release`); each other adds that error
rate for all users (``kind="errors"``), or multiplies its service time by 1 + regression
(``"latency"``), or both.

Per regression: ``p_rollback`` with its Wilson 95% interval, ``p_promote``,
``time_to_detect_s`` (median and p90 over the runs that rolled back), ``users_affected``
and ``errors`` (mean and 95% CI half-width) and ``extra_cost``. The regression-0 row is the
false-rollback rate; the others are the power curve. Seeds are shared across regressions
(common random numbers), so the rows differ by the release, not by the traffic.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from simdeploy.experiments.agreement import on_plane
from simdeploy.experiments.compare import (
    checked_jobs,
    checked_seeds,
    mean_ci95,
    own_run_data,
    run_each,
    run_one,
)
from simdeploy.experiments.dask_runs import run_on_dask
from simdeploy.rules.proportions import wilson
from simdeploy.run.simulation import checked_scenario
from simdeploy.spec import policy as spec_policy
from simdeploy.spec.base import ScenarioError, UsageError
from simdeploy.spec.scenario import Scenario

Kind = Literal["errors", "latency", "both"]
KINDS: tuple[str, ...] = ("errors", "latency", "both")
#: The columns of a policy table, in order.
COLUMNS: tuple[str, ...] = (
    "regression",
    "p_rollback",
    "p_rollback_ci95",
    "p_promote",
    "time_to_detect_s",
    "time_to_detect_s_p90",
    "users_affected",
    "users_affected_ci95",
    "errors",
    "errors_ci95",
    "extra_cost",
    "runs",
)


def new_version(scenario: Scenario) -> str:
    """The version the plan deploys (its first ``deploy``); :class:`UsageError` if none."""
    version = spec_policy.new_version(scenario)
    if version is None:
        raise UsageError([spec_policy.NO_DEPLOY])
    return version


triggers = spec_policy.triggers


#: What a version does when it serves, starts and fails (``Version`` fields), as opposed
#: to what it reads and writes of the database: a release of regression 0 does these as
#: the old version does.
BEHAVIOUR = (
    "service_time",
    "warmup",
    "startup_delay",
    "error_rate",
    "bug",
    "crash_on_start",
    "unhealthy_after",
)


def release(scenario: Scenario, regression: float, kind: Kind = "errors") -> Scenario:
    """``scenario`` with its new version replaced by a release of ``regression``.

    The release behaves as the old version (``service.version``: its service time, warm-up,
    start, error rate and bug, :data:`BEHAVIOUR`) and keeps the new version's reads and
    writes; then ``errors`` adds ``regression`` to its error rate (for all users: 0.5% and
    a 2% regression → 2.5%), ``latency`` multiplies its service time by 1 + regression,
    ``both`` does both.
    """
    version = new_version(scenario)
    data = own_run_data(scenario)
    old = scenario.versions[scenario.service.version]
    spec = scenario.versions[version].model_dump(
        by_alias=True, exclude_none=True, exclude=set(BEHAVIOUR)
    )
    spec |= old.model_dump(by_alias=True, exclude_none=True, include=set(BEHAVIOUR))
    if kind in ("errors", "both"):
        spec["errorRate"] = min(1.0, old.error_rate + regression)
    if kind in ("latency", "both"):
        spec["serviceTime"] = _slower(old.service_time.model_dump(exclude_none=True), regression)
    data["versions"][version] = spec
    return Scenario.parse(data, source=scenario.name)


def _slower(dist: dict[str, Any], regression: float) -> dict[str, Any]:
    """A service-time distribution with every duration × (1 + regression)."""
    out = dict(dist)
    for key in ("value", "mean", "low", "high", "p99"):
        if out.get(key) is not None:
            out[key] = out[key] * (1.0 + regression)
    return out


def checked_regressions(regressions: object) -> list[float]:
    """The regressions as floats in [0, 1); :class:`UsageError` naming each bad one."""
    if isinstance(regressions, str | bytes) or not isinstance(regressions, Sequence):
        raise UsageError(["regressions: expected a list of numbers in [0, 1)"])
    if not regressions:
        raise UsageError(["regressions: expected at least one number in [0, 1)"])
    out, problems = [], []
    for i, r in enumerate(regressions):
        if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r):
            problems.append(f"regressions[{i}]: expected a number in [0, 1), got {r!r}")
        elif not 0 <= r < 1:
            problems.append(f"regressions[{i}]: {r:g} is outside [0, 1)")
        else:
            out.append(float(r))
    if problems:
        raise UsageError(problems)
    return out


def policy(
    scenario: Scenario,
    regressions: Sequence[float] = (0.0, 0.005, 0.01, 0.02, 0.05),
    seeds: int | Sequence[int] = 20,
    kind: Kind = "errors",
    jobs: int = 1,
    data_plane: Literal["auto", "requests", "fluid"] = "auto",
    executor: Any = None,
) -> pd.DataFrame:
    """The operating characteristics of ``scenario``'s rollout policy: one row per
    regression (:data:`COLUMNS`).

    ``data_plane``: ``auto`` runs on the fluid data plane when it accepts the scenario
    (many runs: the point of it), else as the file says; ``requests`` or ``fluid`` force one.
    Raises :class:`UsageError` for a bad argument, a scenario without a deploy or without
    any rollback trigger, or fewer than 2 seeds; :class:`ScenarioError` when ``fluid`` is
    forced on a scenario the fluid plane refuses."""
    regs = checked_regressions(list(regressions))
    if kind not in KINDS:
        raise UsageError([f"kind: expected one of {', '.join(KINDS)}, got {kind!r}"])
    releases = [(r, kind) for r in regs]
    records = release_records(scenario, releases, seeds, jobs, data_plane, executor)
    rows = [_row(r, recs) for r, recs in zip(regs, records, strict=True)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def release_records(
    scenario: Scenario,
    releases: Sequence[tuple[float, Kind]],
    seeds: int | Sequence[int] = 20,
    jobs: int = 1,
    data_plane: Literal["auto", "requests", "fluid"] = "auto",
    executor: Any = None,
) -> list[list[dict[str, Any]]]:
    """The run records of each release (regression, kind) on ``seeds``, in order: what
    :func:`policy` and ``expect: policy:`` measure. ``executor``: None (``jobs`` local
    processes) or a Dask cluster, as :func:`simdeploy.sweep` takes it (``"local"``, a
    scheduler address or a ``distributed.Client``); the same seeds, the same numbers.
    Raises as :func:`policy` does."""
    scenario = checked_scenario(scenario)
    if data_plane not in ("auto", "requests", "fluid"):
        raise UsageError([f"data_plane: expected auto, requests or fluid, got {data_plane!r}"])
    if data_plane == "auto":
        with contextlib.suppress(ScenarioError):
            scenario = on_plane(scenario, "fluid")
    else:
        scenario = on_plane(scenario, data_plane)
    seed_list = checked_seeds(seeds, scenario)
    if len(seed_list) < 2:
        raise UsageError(["seeds: a policy needs at least 2 seeds per regression"])
    new_version(scenario)
    if not triggers(scenario):
        raise UsageError([spec_policy.NO_TRIGGER])
    variants = [release(scenario, r, kind) for r, kind in releases]
    jobs_list = [(sc, s) for sc in variants for s in seed_list]
    records: list[Any] = [None] * len(jobs_list)
    if executor is None:
        for i, record in run_each(jobs_list, checked_jobs(jobs), _record):
            records[i] = record
    else:
        indexed = list(enumerate(jobs_list))
        for (i, _), record in run_on_dask(indexed, _indexed_record, executor, checked_jobs(jobs)):
            records[i] = record
    n = len(seed_list)
    return [records[j * n : (j + 1) * n] for j in range(len(variants))]


def _record(job: tuple[Scenario, int]) -> dict[str, Any]:
    """The record of one run (in a local process)."""
    return run_one(job).record


def _indexed_record(job: tuple[int, tuple[Scenario, int]]) -> dict[str, Any]:
    """The record of one run (on a Dask worker)."""
    return run_one(job[1]).record


def _row(regression: float, records: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    rolled = [rec for rec in records if rec["outcome"] == "rolled_back"]
    promoted = sum(1 for rec in records if rec["outcome"] == "completed")
    detect = [rec["time_to_detect_s"] for rec in rolled if rec["time_to_detect_s"] is not None]
    row: dict[str, Any] = {
        "regression": regression,
        "p_rollback": len(rolled) / n,
        "p_rollback_ci95": list(wilson(len(rolled), n)),
        "p_promote": promoted / n,
        "time_to_detect_s": float(np.median(detect)) if detect else None,
        "time_to_detect_s_p90": float(np.quantile(detect, 0.9)) if detect else None,
        "runs": n,
    }
    for metric in ("users_affected", "errors"):
        mean, ci = mean_ci95([float(rec[metric]) for rec in records])
        row[metric] = mean
        row[f"{metric}_ci95"] = None if ci is None or mean is None else (ci[1] - ci[0]) / 2
    costs = [rec["extra_cost"] for rec in records if rec["extra_cost"] is not None]
    row["extra_cost"] = float(np.mean(costs)) if costs else None
    return row
