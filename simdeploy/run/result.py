"""Result of a run: the summary record, the timeline, the events, the deployment status.

Everything here is computed after the run from the records (recorder counters, the
pod-count step function, the rollout record); nothing here runs during the simulation.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simdeploy.rules import latency_bins
from simdeploy.spec.metrics import FIRST_PHASE, SUMMARY_FIELDS
from simdeploy.spec.plan_check import lint
from simdeploy.world import recorder as rec

if TYPE_CHECKING:
    from simdeploy.control.plane import ControlPlane
    from simdeploy.control.rollback import Rollout
    from simdeploy.spec.scenario import Scenario
    from simdeploy.world.world import World


@dataclass
class Result:
    """One run. ``record`` is the flat summary (JSON-ready); ``summary`` the same as a Series.

    ``timeline``: one row per bucket (requests, errors by cause and version, latency
    percentiles, pods by version and state, endpoints); per-version columns are
    ``<kind>[<version>]`` (see ``version_column``). ``events``: control-plane events
    with a reason, like Kubernetes events. ``status``: deployment status after each
    controller sync that changed it (spec total, replicas, updated, ready, available, pods).
    ``scaling``: every scale action of any controller (Deployment, Argo, Flagger, shadow):
    replica set, owner, version, its new spec, and the owner's Σ spec and active pods after it.
    ``pod_states``: every pod state change (``world.recorder.POD_STATES``, or ``Gone``);
    ``replica_sets``: every replica set's ``spec.replicas`` as it changed, from the steady
    start; ``steps``: an Argo canary's current step index as it moved; ``deploys``: every
    deploy action as it started (``t``, ``version``, ``strategy`` label), in time order: the
    rollout in progress at t is the last one at or before t (the replay's data,
    :mod:`simdeploy.run.replay`).
    """

    name: str
    seed: int
    record: dict[str, Any]
    timeline: pd.DataFrame
    events: pd.DataFrame
    status: pd.DataFrame
    scaling: pd.DataFrame | None = None
    pod_states: pd.DataFrame | None = None
    replica_sets: pd.DataFrame | None = None
    steps: pd.DataFrame | None = None
    deploys: pd.DataFrame | None = None

    @property
    def summary(self) -> pd.Series:
        flat = {k: v for k, v in self.record.items() if not isinstance(v, dict)}
        for cause, n in self.record["errors_by_cause"].items():
            flat[f"errors_{cause}"] = n
        for phase, n in self.record["errors_by_phase"].items():
            flat[f"errors_in_{phase}"] = n
        return pd.Series(flat, name=self.name)


def step_integral(log: list[tuple[float, int]], t0: float, t1: float) -> float:
    """∫ n(t) dt over [t0, t1] of the step function given by (time, value) changes.

    Example: [(0, 3), (10, 4), (20, 3)] over [5, 25] → 3·5 + 4·10 + 3·5 = 70.
    """
    if t1 <= t0:
        return 0.0
    total = 0.0
    for i, (t, n) in enumerate(log):
        t_next = log[i + 1][0] if i + 1 < len(log) else math.inf
        lo, hi = max(t, t0), min(t_next, t1)
        if hi > lo:
            total += n * (hi - lo)
    return total


def step_value(log: list[tuple[float, int]], t: float) -> int:
    """The value at ``t`` of the step function given by (time, value) changes in time order
    (the first value before the first change).

    Example: [(0, 3), (10, 4)] → 3 at 9.9, 4 at 10.
    """
    i = bisect.bisect_right(log, t, key=lambda row: row[0])
    return log[max(i - 1, 0)][1]


def settled_at(
    log: list[tuple[float, int]],
    ended_at: float | None,
    replicas_log: list[tuple[float, int]],
    duration: float,
) -> float:
    """End of the cost window: the first time at or after the rollout's end when no more
    pods exist (``log``) than the Deployment's ``replicas`` then (``replicas_log``): blue
    kept for scaleDownDelaySeconds, terminating pods and a canary waiting for
    abortScaleDownDelaySeconds all count; the run's end otherwise.

    Example: 10 replicas, rollout ends at 100 s with 20 pods, blue's pods gone at 165 s →
    165; with ``scale --replicas=20`` at 90 s → 100; scaled to 20 at 120 s → 120.
    """
    if ended_at is None:
        return duration
    later = {t for t, _ in log if t > ended_at} | {t for t, _ in replicas_log if t > ended_at}
    for t in sorted(later | {ended_at}):
        if t >= duration:
            break
        if step_value(log, t) <= step_value(replicas_log, t):
            return t
    return duration


def version_column(kind: str, version: str) -> str:
    """The timeline column of a per-version count: ``requests[v2]``, ``pods[v1]``.

    The brackets keep version names apart from every other column: no other column has
    one, so a version named ``timeout`` gets ``errors[timeout]``, never ``errors_timeout``
    (the per-cause column).
    """
    return f"{kind}[{version}]"


#: Buckets per block when reading the per-bucket histograms (bounds the temporary arrays:
#: 64 × 808 int64 ≈ 0.4 MiB each).
_BLOCK = 64


def _bucket_quantiles(r: rec.Recorder, qs: tuple[float, ...]) -> np.ndarray:
    """(buckets, len(qs)) latency quantiles (s) of all versions' user requests per bucket,
    within 1% (``rules.latency_bins``); NaN for a bucket with none."""
    hists = [h for h in (r.latency_counts(v) for v in range(len(r.versions))) if h is not None]
    out = np.full((r.n_buckets, len(qs)), np.nan)
    if not hists:
        return out
    for lo in range(0, r.n_buckets, _BLOCK):
        hi = min(r.n_buckets, lo + _BLOCK)
        block = hists[0][lo:hi]
        if len(hists) > 1:
            block = block.astype(np.int64)
            for h in hists[1:]:
                block += h[lo:hi]
        out[lo:hi] = latency_bins.quantiles(block, qs)
    return out


def _run_latency(r: rec.Recorder) -> tuple[float | None, ...]:
    """Whole-run (p50, p95, p99, mean) latency (s) of user requests that reached an app."""
    hist = latency_bins.merge(
        *(r.latency_window(v, 0, r.n_buckets) for v in range(len(r.versions)))
    )
    n = int(hist.sum())
    if not n:
        return None, None, None, None
    p50, p95, p99 = (float(x) for x in latency_bins.quantiles(hist, (0.5, 0.95, 0.99)))
    return p50, p95, p99, r.latency_sum_s / n


def _timeline(world: World) -> pd.DataFrame:
    r = world.recorder
    nb, nc = r.n_buckets, r.n_cols
    counts = np.array([np.frombuffer(c, dtype=np.int64) for c in r.counts]).reshape(
        len(rec.OUTCOMES), nb, nc
    )
    df = pd.DataFrame({"t": np.arange(nb) * r.bucket_s})
    df["requests"] = np.frombuffer(r.arrivals, dtype=np.int64)
    df["ok"] = counts[0].sum(axis=1)
    errs = counts[1:].sum(axis=0)  # (nb, nc)
    df["errors"] = errs.sum(axis=1)
    done = df["ok"] + df["errors"]
    df["error_ratio"] = np.where(done > 0, df["errors"] / done.where(done > 0, 1), 0.0)
    for i, cause in enumerate(rec.ERROR_CAUSES, start=1):
        df[f"errors_{cause}"] = counts[i].sum(axis=1)
    for j, v in enumerate(r.versions):
        df[version_column("requests", v)] = counts[:, :, j].sum(axis=0)
        df[version_column("errors", v)] = errs[:, j]
    df["mirrored"] = np.frombuffer(r.mirrored, dtype=np.int64)
    df["mirror_errors"] = np.frombuffer(r.mirror_errors, dtype=np.int64)
    df["synthetic"] = np.frombuffer(r.synthetic, dtype=np.int64)
    pct = _bucket_quantiles(r, (0.5, 0.95, 0.99))
    df["p50_s"], df["p95_s"], df["p99_s"] = pct[:, 0], pct[:, 1], pct[:, 2]
    if r.samples:
        samples = pd.DataFrame(r.samples)
        samples["bucket"] = (samples["t"] / r.bucket_s).round().astype(int)
        samples = samples.drop(columns="t").drop_duplicates("bucket", keep="last")
        df = df.merge(samples, left_index=True, right_on="bucket", how="left")
        df = df.drop(columns="bucket").reset_index(drop=True)
    return df


def _served_by_rollout(timeline: pd.DataFrame, rollouts: list[Rollout]) -> np.ndarray | None:
    """Per bucket, the percent of completed user requests that the version of the rollout
    in progress served: the last deploy at or before the bucket's start (before the first
    deploy, the first one's version). NaN for a bucket with no completed request; None
    without a deploy (or when no deployed version has a timeline column).

    Example: deploys of v2 at 60 s and v3 at 240 s, 1 s buckets: the bucket at 75 s is
    v2's share, at 255 s v3's (25 of 100 requests → 25.0), at 30 s v2's (0.0).
    """
    columns = [timeline.get(version_column("requests", ro.version)) for ro in rollouts]
    if all(c is None for c in columns):
        return None
    t = timeline["t"].to_numpy(dtype=float)
    starts = np.array([ro.started_at for ro in rollouts], dtype=float)
    which = np.maximum(np.searchsorted(starts, t, side="right") - 1, 0)
    served = np.zeros(len(timeline), dtype=np.int64)
    for i, column in enumerate(columns):
        if column is not None:
            served = np.where(which == i, column.to_numpy(dtype=np.int64), served)
    done = (timeline["ok"] + timeline["errors"]).to_numpy(dtype=np.int64)
    return np.where(done > 0, 100.0 * served / np.where(done > 0, done, 1), np.nan)


def _kill_to_last(world: World) -> float | None:
    """Kill switch → the last flagged error after it (0 when none came after the kill)."""
    if world.flags is None:
        return None
    kills = [f.killed_at for f in world.flags.flags.values() if f.killed_at is not None]
    if not kills:
        return None
    kill = max(kills)
    last = world.recorder.last_flagged_error_at
    return max(0.0, last - kill) if last is not None else 0.0


def _errors_by_phase(sc: Scenario, counted: dict[str, int]) -> dict[str, int]:
    """Errors per migration phase, every phase of the plan named (0 when it had none), so
    that ``expect: {errors_by_phase.expand: 0}`` can hold. Empty without a database."""
    if sc.database is None:
        return dict(counted)
    names = [FIRST_PHASE] + [a.phase_name for a in sc.plan if a.action == "migrate"]
    return {**dict.fromkeys(names, 0), **counted}


def build_result(cp: ControlPlane, seed: int) -> Result:
    """Assemble the :class:`Result` of a finished run (see ``spec.metrics.SUMMARY``)."""
    world = cp.world
    sc = world.scenario
    r = world.recorder
    duration = sc.simulation.duration
    timeline = _timeline(world)
    served = _served_by_rollout(timeline, cp.rollouts)
    if served is not None:
        timeline["weight_served"] = served
    by_cause = {c: int(timeline[f"errors_{c}"].sum()) for c in rec.ERROR_CAUSES}
    errors = sum(by_cause.values())
    ok = int(timeline["ok"].sum())
    lengths = np.minimum(r.bucket_s, np.maximum(0.0, duration - timeline["t"].to_numpy()))
    degraded = float(lengths[(timeline["error_ratio"] > sc.slo.error_rate).to_numpy()].sum())

    ro = cp.rollout
    outcome, rollout_s, detect_s, rollback_s = "none", None, None, None
    extra_cost = 0.0
    if ro is not None:
        outcome = ro.outcome
        if outcome == "running" and cp.deployment.timed_out:
            outcome = "stuck"
        if ro.ended_at is not None:
            rollout_s = ro.ended_at - ro.started_at
        if ro.rollback is not None:
            # None when the trigger came before the new version served anything (e.g.
            # Recreate's own downtime set off the alert): there was nothing to detect.
            # The first user request the new version served; for a shadow, which never
            # serves users, its first mirrored request.
            first = r.first_served_at.get(ro.version, r.first_mirrored_at.get(ro.version))
            if first is not None and first <= ro.rollback.at:
                detect_s = ro.rollback.at - first
            if ro.rollback_done_at is not None and ro.rollback_started_at is not None:
                rollback_s = ro.rollback_done_at - ro.rollback_started_at
        # The baseline is the capacity the Deployment asked for at each moment: a `scale`
        # action or the autoscaler moves it (10 → 20 replicas halfway: 15 on average).
        replicas_log = cp.deployment.replicas_log
        end = settled_at(world.cluster.pod_count_log, ro.ended_at, replicas_log, duration)
        steady = step_integral(replicas_log, ro.started_at, end)
        if steady > 0:
            used = step_integral(world.cluster.pod_count_log, ro.started_at, end)
            extra_cost = used / steady - 1.0

    in_flight = world.data_plane.in_flight(world.cluster.pods())
    p50, p95, p99, mean = _run_latency(r)
    record: dict[str, Any] = {
        "downtime_s": world.balancer.downtime_s,
        "degraded_s": degraded,
        "requests": int(timeline["requests"].sum()),
        "errors": errors,
        "error_rate": errors / (ok + errors) if ok + errors else 0.0,
        "errors_by_cause": by_cause,
        "users_affected": len(r.users_with_error),
        "latency_p50_s": p50,
        "latency_p95_s": p95,
        "latency_p99_s": p99,
        "latency_mean_s": mean,
        "rollout_duration_s": rollout_s,
        "time_to_detect_s": detect_s,
        "rollback_time_s": rollback_s,
        "peak_pods": max(n for _, n in world.cluster.pod_count_log),
        "pod_seconds": step_integral(world.cluster.pod_count_log, 0.0, duration),
        "extra_cost": extra_cost,
        "outcome": outcome,
        "in_flight": in_flight,
        "users_flipped": (
            float("nan") if sc.simulation.data_plane == "fluid" else r.users_flipped()
        ),
        "mirrored_requests": int(sum(r.mirrored)),
        "shadow_mismatches": r.shadow_mismatches,
        "duplicate_writes": r.duplicate_writes,
        "schema_errors": by_cause["schema_error"],
        "data_incompatible_errors": by_cause["data_incompatible"],
        "lock_wait_s": r.lock_wait_s,
        "errors_by_phase": _errors_by_phase(sc, r.phase_errors),
        "plan_findings": len(lint(sc)),
        "flag_exposed_users": sum(r.flag_exposed_users),
        "flagged_errors": r.flagged_errors,
        "unflagged_errors": r.unflagged_errors,
        "dark_launch_errors": r.dark_launch_errors,
        "kill_to_last_flagged_error_s": _kill_to_last(world),
    }
    assert tuple(record) == SUMMARY_FIELDS, "metrics.SUMMARY and the record disagree"
    events = pd.DataFrame(
        [(e.t, e.reason, e.object, e.version, e.message) for e in r.events],
        columns=["t", "reason", "object", "version", "message"],
    )
    status = pd.DataFrame(
        [vars(s) for s in cp.deployment.status_log],
        columns=[
            "t",
            "spec_total",
            "replicas",
            "updated",
            "ready",
            "available",
            "pods",
            "template",
        ],
    )
    scaling = pd.DataFrame(
        world.cluster.scale_log,
        columns=[
            "t",
            "replica_set",
            "owner",
            "version",
            "spec",
            "owner_spec_total",
            "owner_active_pods",
        ],
    )
    pod_states = pd.DataFrame(r.pod_states, columns=["t", "pod", "replica_set", "version", "state"])
    replica_sets = pd.DataFrame(
        r.replica_set_specs, columns=["t", "replica_set", "owner", "version", "spec"]
    )
    steps = pd.DataFrame(
        [
            (t, ro.version, index, _steps_of(ro), step)
            for ro in cp.rollouts
            for t, index, step in ro.step_log
        ],
        columns=["t", "version", "index", "steps", "step"],
    )
    deploys = pd.DataFrame(
        [(ro.started_at, ro.version, ro.strategy.label) for ro in cp.rollouts],
        columns=["t", "version", "strategy"],
    )
    return Result(
        sc.name,
        seed,
        record,
        timeline,
        events,
        status,
        scaling,
        pod_states,
        replica_sets,
        steps,
        deploys,
    )


def _steps_of(ro: Rollout) -> int:
    """How many steps the rollout ``ro``'s strategy has (an Argo canary's; 0 for others)."""
    canary = ro.strategy.canary
    return len(canary.steps) if canary is not None else 0
