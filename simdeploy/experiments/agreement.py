"""Do the fluid and the request-level data planes give the same answers?

:func:`agreement` runs one scenario on both planes over the same seeds and compares each
metric's mean and 95% confidence interval. A metric agrees when the two intervals overlap
(|mean_f - mean_r| <= h_f + h_r, the half-widths), widened for latency quantiles by the
histograms' precision (1% relative error each side, so 2% of the value) and, for a metric
that does not vary between seeds (a downtime the control plane alone decides), by 1e-6.
The outcome agrees when both planes give the same outcome on the same share of seeds within
the same overlap rule. With a database, the errors of each migration phase are compared too
(``errors_in_<phase>``, as the summary names them). ``docs/fluid-agreement.md`` is the table
of every bundled scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from simdeploy.experiments.compare import mean_ci95, own_run_data, replicate
from simdeploy.run.result import Result
from simdeploy.spec.metrics import ERROR_CAUSES
from simdeploy.spec.scenario import Scenario

#: What is compared, as named in the summary (errors by cause as ``errors_<cause>``).
METRICS: tuple[str, ...] = (
    "downtime_s",
    "errors",
    *(f"errors_{c}" for c in ERROR_CAUSES),
    "users_affected",
    "rollback_time_s",
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "latency_mean_s",
    "mirrored_requests",
    "shadow_mismatches",
    "duplicate_writes",
    "lock_wait_s",
    "flag_exposed_users",
    "flagged_errors",
    "unflagged_errors",
    "dark_launch_errors",
    "kill_to_last_flagged_error_s",
)
#: Relative precision of a latency read from the histograms, per plane.
LATENCY_PRECISION = 0.01


def on_plane(scenario: Scenario, plane: str) -> Scenario:
    """``scenario`` with ``simulation.dataPlane`` set to ``plane`` (validated again), its
    ``expect:``, ``sweep:`` and ``compare:`` left out (not part of its own run)."""
    data = own_run_data(scenario)
    data.setdefault("simulation", {})["dataPlane"] = plane
    return Scenario.parse(data, source=scenario.name)


def _value(result: Result, metric: str) -> float | None:
    v = result.summary[metric]
    return None if v is None or pd.isna(v) else float(v)


def agreement(scenario: Scenario, seeds: int | Sequence[int] = 10, jobs: int = 1) -> pd.DataFrame:
    """One row per metric (and one for the outcome): each plane's mean and 95% CI, and
    whether they agree; :data:`METRICS`, then the errors of each migration phase with a
    database. Raises :class:`ScenarioError` when the fluid plane refuses the scenario
    (``spec/fluid.py``)."""
    fluid = on_plane(scenario, "fluid")
    requests = on_plane(scenario, "requests")
    runs = {
        "requests": replicate(requests, seeds, jobs),
        "fluid": replicate(fluid, seeds, jobs),
    }
    phases = dict.fromkeys(
        p for results in runs.values() for r in results for p in r.record["errors_by_phase"]
    )
    rows: list[dict[str, Any]] = []
    for metric in [*METRICS, *(f"errors_in_{p}" for p in phases)]:
        row: dict[str, Any] = {"metric": metric}
        present = {}
        for plane, results in runs.items():
            values = [v for r in results if (v := _value(r, metric)) is not None]
            present[plane] = len(values)
            mean, ci = mean_ci95(values) if values else (None, None)
            row[f"{plane}_mean"] = mean
            row[f"{plane}_ci95"] = None if ci is None or mean is None else (ci[1] - ci[0]) / 2
        row["agree"] = _agree(metric, row, present)
        rows.append(row)
    outcome: dict[str, Any] = {"metric": "outcome"}
    shares = {}
    for plane, results in runs.items():
        outcomes = [r.summary["outcome"] for r in results]
        top = max(set(outcomes), key=outcomes.count)
        shares[plane] = {o: outcomes.count(o) / len(outcomes) for o in set(outcomes)}
        outcome[f"{plane}_mean"] = f"{top} ({outcomes.count(top)}/{len(outcomes)})"
        outcome[f"{plane}_ci95"] = None
    outcome["agree"] = _same_outcomes(shares["requests"], shares["fluid"], len(runs["fluid"]))
    rows.append(outcome)
    return pd.DataFrame(rows)


def _agree(metric: str, row: dict[str, Any], present: dict[str, int]) -> bool:
    if not present["fluid"] or not present["requests"]:  # e.g. never rolled back: the
        return present["fluid"] == present["requests"]  # outcome row compares how often
    mr, mf = row["requests_mean"], row["fluid_mean"]
    hr, hf = row["requests_ci95"] or 0.0, row["fluid_ci95"] or 0.0
    slack = 1e-6
    if metric.startswith("latency_"):
        slack += 2 * LATENCY_PRECISION * max(abs(mr), abs(mf))
    return bool(abs(mf - mr) <= hr + hf + slack)


def _same_outcomes(a: dict[str, float], b: dict[str, float], n: int) -> bool:
    """Each outcome's share of seeds within the overlap of two Wilson-free binomial
    intervals: |pa - pb| <= 2 · 1.96 · sqrt(p(1-p)/n) around the pooled p."""
    for o in set(a) | set(b):
        pa, pb = a.get(o, 0.0), b.get(o, 0.0)
        p = (pa + pb) / 2
        half = 1.96 * (p * (1 - p) / n) ** 0.5
        if abs(pa - pb) > 2 * half + 1e-9:
            return False
    return True
