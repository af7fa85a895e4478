"""Metric queries over the recorder, and analysis runs as SimPy processes (control plane).

``query`` is what a Prometheus query is to Argo Rollouts or Flagger: a number over a
window for one version (success rate, error rate, error count, request count, latency
percentiles), or ``None`` — "no data" — when fewer than ``min_requests`` requests
completed in the window. No data is not a bad value: Argo turns it into an Error
measurement (or what the metric's ``noData`` says), Flagger counts it as a failed check.

The evaluation rules (measurement phases, limits, worst-phase aggregation, Flagger's
cumulative failed checks) are the pure ``rules.analysis_argo`` and
``rules.analysis_flagger``; this module feeds them.

Two providers judge for themselves instead of through conditions:

- ``kayenta``: per-step samples (:func:`samples`) of each metric for the baseline and the
  canary over the metric's interval (or since the run began, with ``lookback``), judged by
  Kayenta's NetflixACAJudge (``rules.kayenta``); the measurement is the score's integer
  part, its phase Argo's provider's (≥ pass Successful, ≥ marginal Inconclusive, else
  Failed). Per-step samples of a version are what a Prometheus range query with a step
  gives Kayenta; Kayenta's own backends can also give per-instance series, which the
  recorder does not keep.
- ``sequential``: the canary's and the baseline's errors and requests in each bucket since
  the run began (:func:`bucket_counts`), tested by ``rules.sequential`` with each bucket's
  share: the measurement is the e-value, Failed once it reaches 1/alpha, Successful before.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from simdeploy.rules import kayenta, latency_bins, sequential
from simdeploy.rules.analysis_argo import MetricRun, assess_run
from simdeploy.rules.analysis_expr import parse_condition
from simdeploy.rules.analysis_phase import Phase
from simdeploy.spec.progressive import (
    AnalysisTemplate,
    KayentaMetric,
    KayentaQuery,
    Metric,
    SequentialQuery,
)
from simdeploy.world import recorder as rec

#: Argo's Kayenta provider reads the score this long after it starts a judgement
#: (metricproviders/kayenta/kayenta.go: ``resumeDelay``); the measurement finishes then, and
#: the next one is due an interval after that.
KAYENTA_RESUME_DELAY_S = 15.0

#: Roles a query may name instead of a version; strategies map them to versions.
ROLES = ("canary", "stable", "preview", "active")


def query(
    r: rec.Recorder, version: str, metric: str, now: float, window_s: float, min_requests: int = 1
) -> float | None:
    """``metric`` of ``version`` over the buckets inside [now - window, now), or None.

    Buckets count requests by arrival, so the newest bucket may still have requests in
    flight; the window covers whole buckets only. Shadow and synthetic traffic to the
    version counts too (it is all the traffic a shadow gets). Latency quantiles (seconds)
    are read from the user requests' histograms (``rules.latency_bins``: within 1% of the
    exact quantile); shadow copies carry no latency, so a version with none gives None.

    Example: 40 requests in the last minute, 2 errors → success_rate 0.95, error_rate
    0.05, error_count 2, request_count 40; with ``min_requests`` 50 → None.
    """
    v = r.version_index.get(version)
    if v is None:
        return None
    b1 = min(r.n_buckets, int(now / r.bucket_s + 1e-9))
    b0 = max(0, math.ceil((now - window_s) / r.bucket_s - 1e-9))
    n = r.n_cols
    ok = err = 0
    for b in range(b0, b1):
        cell = b * n + v
        ok += r.counts[0][cell] + r.mirror_counts[0][cell]
        err += sum(c[cell] for c in r.counts[1:]) + r.mirror_counts[1][cell]
    done = ok + err
    if done < min_requests or done == 0:
        return None
    if metric == "success_rate":
        return ok / done
    if metric == "error_rate":
        return err / done
    if metric == "error_count":
        return float(err)
    if metric == "request_count":
        return float(done)
    q = {"latency_p50": 0.5, "latency_p95": 0.95, "latency_p99": 0.99}[metric]
    return _latency_quantile(r, v, b0, b1, q)


def samples(
    r: rec.Recorder,
    version: str,
    metric: str,
    start: float,
    now: float,
    step: float,
    min_requests: int = 1,
) -> list[float]:
    """``metric`` of ``version`` once per ``step`` back from ``now`` to ``start``, oldest
    first: what a range query with that step gives. A step with no data is NaN.

    Example: start 0, now 60, step 20 → the values over [0, 20), [20, 40), [40, 60).
    """
    n = int((now - start) / step + 1e-9)
    out = []
    for i in range(n - 1, -1, -1):
        value = query(r, version, metric, now - i * step, step, min_requests)
        out.append(math.nan if value is None else value)
    return out


def counts(r: rec.Recorder, version: str, start: float, now: float) -> tuple[int, int]:
    """(requests, errors) of ``version`` in the buckets inside [start, now)."""
    done = query(r, version, "request_count", now, now - start)
    if done is None:
        return 0, 0
    errors = query(r, version, "error_count", now, now - start)
    return int(done), int(errors or 0)


def bucket_counts(
    r: rec.Recorder, version: str, start: float, now: float
) -> tuple[np.ndarray, np.ndarray]:
    """(requests, errors) of ``version`` in each bucket inside [start, now), oldest first:
    :func:`counts` before the sum (int64 arrays; zeros for a version the run has not seen)."""
    b1 = min(r.n_buckets, int(now / r.bucket_s + 1e-9))
    b0 = max(0, math.ceil(start / r.bucket_s - 1e-9))
    n = max(0, b1 - b0)
    v = r.version_index.get(version)
    if v is None or n == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)

    def column(a: Any) -> np.ndarray:
        return np.frombuffer(a, dtype=np.int64).reshape(r.n_buckets, r.n_cols)[b0:b1, v]

    ok = column(r.counts[0]) + column(r.mirror_counts[0])
    err = sum((column(c) for c in r.counts[1:]), np.zeros(n, dtype=np.int64))
    err = err + column(r.mirror_counts[1])
    return ok + err, err


def _metric_config(km: KayentaMetric) -> kayenta.MetricConfig:
    es = km.effect_size
    return kayenta.MetricConfig(
        name=km.name,
        groups=tuple(km.groups),
        direction=km.direction,
        nan_strategy=km.nan_strategy,
        outlier_strategy=km.outliers.strategy,
        outlier_factor=km.outliers.outlier_factor,
        critical=km.critical,
        must_have_data=km.must_have_data,
        muted=km.muted,
        effect_size_measure=es.measure,
        allowed_increase=es.allowed_increase,
        allowed_decrease=es.allowed_decrease,
        critical_increase=es.critical_increase,
        critical_decrease=es.critical_decrease,
    )


def kayenta_measurement(
    r: rec.Recorder,
    k: KayentaQuery,
    roles: Mapping[str, str],
    start: float,
    now: float,
    seed: str,
) -> tuple[Phase, float, str]:
    """One Kayenta judgement over [start, now): (phase, measured value, message).

    ``seed`` seeds the noise the judge adds to two constant samples, so a run repeats."""
    baseline, canary = roles.get(k.baseline, k.baseline), roles.get(k.canary, k.canary)
    data = {
        km.name: (
            samples(r, baseline, km.metric, start, now, k.step, km.min_requests),
            samples(r, canary, km.metric, start, now, k.step, km.min_requests),
        )
        for km in k.metrics
    }
    configs = [_metric_config(km) for km in k.metrics]
    passing, marginal = k.thresholds.pass_, k.thresholds.marginal
    result = kayenta.judge(configs, data, k.group_weights, passing, marginal, random.Random(seed))
    score = result.score.summary
    phase = kayenta.argo_phase(score, passing, marginal)
    labels = ", ".join(f"{m.name} {m.classification}" for m in result.metrics)
    message = f"kayenta score={score:.2f} ({result.classification}; {labels}) → {phase.value}"
    return phase, float(math.trunc(score)), message


def sequential_measurement(
    r: rec.Recorder, q: SequentialQuery, roles: Mapping[str, str], start: float, now: float
) -> tuple[Phase, float, str]:
    """The sequential test on the errors since ``start``: (phase, e-value, message).

    Bucket by bucket (``rules.sequential.log_e_value``): the null share of bucket b is the
    canary's share of that bucket's requests, so the test stays valid when the canary's
    weight changes during the run. The message gives the totals and the pooled share."""
    baseline, canary = roles.get(q.baseline, q.baseline), roles.get(q.canary, q.canary)
    c_done, c_err = bucket_counts(r, canary, start, now)
    b_done, b_err = bucket_counts(r, baseline, start, now)
    done = c_done + b_done
    shares = np.divide(c_done, done, out=np.zeros(len(done)), where=done > 0)
    d = sequential.decide_by_bucket(c_err, b_err, shares, q.alpha, q.concentration, q.direction)
    phase = Phase.FAILED if d.reject else Phase.SUCCESSFUL
    share = float(c_done.sum() / done.sum()) if done.sum() else 0.0
    message = (
        f"e-value={d.e_value:.4g} (1/alpha {1 / q.alpha:g}; errors {int(c_err.sum())} canary, "
        f"{int(b_err.sum())} baseline; canary share of requests {share:.3f}) → {phase.value}"
    )
    return phase, d.e_value, message


def _latency_quantile(r: rec.Recorder, v: int, b0: int, b1: int, q: float) -> float | None:
    """The q-quantile of version column ``v``'s user latencies over buckets [b0, b1),
    within 1% (``rules.latency_bins``); None when none reached an app."""
    return latency_bins.quantile(r.latency_window(v, b0, b1), q)


@dataclass
class RunResult:
    """How an AnalysisRun ended: its phase and Argo's message."""

    name: str
    phase: Phase
    message: str


def metric_run(m: Metric) -> MetricRun:
    """The evaluation state of one template metric (``analysis_argo.MetricRun``)."""
    return MetricRun(
        name=m.name,
        success=parse_condition(m.success_condition) if m.success_condition else None,
        failure=parse_condition(m.failure_condition) if m.failure_condition else None,
        interval=m.interval,
        initial_delay=m.initial_delay,
        count=m.count,
        failure_limit=m.failure_limit,
        inconclusive_limit=m.inconclusive_limit,
        consecutive_error_limit=m.consecutive_error_limit,
        consecutive_success_limit=m.consecutive_success_limit,
        dry_run=m.dry_run,
        no_data=Phase(m.no_data),
    )


def analysis_run(
    env: simpy.Environment,
    name: str,
    templates: Sequence[AnalysisTemplate],
    r: rec.Recorder,
    roles: Mapping[str, str],
) -> Generator[simpy.Event, Any, RunResult]:
    """An Argo AnalysisRun: measure each metric on its schedule until the run completes.

    Returns the run's phase and message. Interrupting the process terminates the run
    (as a rollout does with background analysis on full promotion or abort); a terminated
    run with no failure counts as Successful. ``roles`` maps ``canary`` / ``stable`` /
    ``preview`` / ``active`` to versions for the queries.
    """
    pairs: list[tuple[MetricRun, Metric]] = [
        (metric_run(m), m) for t in templates for m in t.metrics
    ]
    runs = [m for m, _ in pairs]
    started = env.now
    r.event(started, "AnalysisRunStarted", name, roles.get("canary", ""))
    terminate = False
    #: Kayenta judgements in progress: metric → (resume time, its result). Argo's provider
    #: starts a judgement of the data up to its start, and reads the score when it resumes.
    judging: dict[str, tuple[float, Judgement]] = {}
    while True:
        phase, message = assess_run(runs, terminate=terminate)
        if phase.completed:
            r.event(env.now, f"AnalysisRun{phase.value}", name, roles.get("canary", ""), message)
            return RunResult(name, phase, message)
        due = [
            judging[m.name][0] if m.name in judging else m.next_measurement_at(started)
            for m in runs
        ]
        due = [t for t in due if t is not None]
        if not due:  # nothing more to measure yet the run is not complete: end it
            terminate = True
            continue
        wait = min(due) - env.now
        if wait > 0:
            try:
                yield env.timeout(wait)
            except simpy.Interrupt:
                terminate = True  # a judgement in progress is dropped with the run
                continue
        now = env.now
        for m, spec in pairs:
            if m.name in judging:
                resume_at, judgement = judging[m.name]
                if resume_at <= now + 1e-9 and m.phase is None:
                    del judging[m.name]
                    _record(r, name, m, judgement, now)
                continue
            t = m.next_measurement_at(started)
            if t is None or t > now + 1e-9 or m.phase is not None:
                continue
            if spec.provider.simdeploy is None:
                judgement = _judge(r, name, m, spec, roles, started, now)
                if spec.provider.kayenta is not None:
                    judging[m.name] = (now + KAYENTA_RESUME_DELAY_S, judgement)
                else:
                    _record(r, name, m, judgement, now)
                continue
            q = spec.provider.simdeploy
            version = roles.get(q.of, q.of)
            value = query(r, version, q.metric, now, q.window, q.min_requests)
            if value is not None:
                value *= q.scale  # the units the condition is written in
            m.observe(value, now)
            shown = "no data" if value is None else f"{value:.4g}"
            r.event(
                now,
                "AnalysisMeasurement",
                f"{name}/{m.name}",
                version,
                f"{q.metric}={shown} → {m.measurements[-1].phase.value}",
            )


@dataclass(frozen=True)
class Judgement:
    """A judge's measurement (kayenta, sequential): its phase, value and message, and the
    version the event names."""

    phase: Phase
    value: float
    message: str
    version: str


def _judge(
    r: rec.Recorder,
    name: str,
    m: MetricRun,
    spec: Metric,
    roles: Mapping[str, str],
    started: float,
    now: float,
) -> Judgement:
    """Judge a metric whose provider decides the phase (kayenta, sequential) on the data
    up to ``now``."""
    p = spec.provider
    if p.kayenta is not None:
        interval = spec.interval
        start = started if p.kayenta.lookback or interval is None else now - interval
        seed = f"{name}/{m.name}/{now!r}"
        phase, value, message = kayenta_measurement(r, p.kayenta, roles, start, now, seed)
        canary = p.kayenta.canary
        message += f" (judged at {now:g} s)"
    else:
        assert p.sequential is not None
        phase, value, message = sequential_measurement(r, p.sequential, roles, started, now)
        canary = p.sequential.canary
    return Judgement(phase, value, message, roles.get(canary, canary))


def _record(r: rec.Recorder, name: str, m: MetricRun, j: Judgement, now: float) -> None:
    """The measurement ``j`` finished at ``now``."""
    m.record(j.phase, now, value=j.value)
    r.event(now, "AnalysisMeasurement", f"{name}/{m.name}", j.version, j.message)
