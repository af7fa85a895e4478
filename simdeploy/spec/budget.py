"""How much work and memory a run would take, estimated from the scenario before it runs.

:func:`estimate` is pure arithmetic on a validated scenario; :func:`over_budget` turns an
estimate beyond :data:`MAX_SECONDS` of computing or :data:`MAX_BYTES` of memory into one
line per exceeded limit that states the estimate and names the field to change. The root
model (``Scenario``) calls it, so ``load_scenario``, ``Scenario.parse``, ``simulate`` (which
re-validates) and every command refuse the same inputs, before any allocation.

The unit costs below were measured on the request-level data plane (one core, CPython 3.11)
and round towards the expensive side:

- **requests**: ~100,000 simulated requests per second of computing
  (:data:`SECONDS_PER_REQUEST`; the bundled scenarios run at 50,000–160,000). A request is
  ∫ rate dt over the run, plus mirrored copies (shadow, ``setMirrorRoute``, Flagger mirror:
  up to one per request) and synthetic preview traffic (``previewTraffic`` × duration). A
  ``steps`` or ``diurnal`` profile also draws candidates at its peak rate (thinning), and
  looks up the rate in its step list for each one.
- **buckets**: one state sample and one timeline row each (~50 µs, ~5 KiB with two versions),
  plus per (bucket, version column) 8 outcome and 2 shadow counters and per (bucket, version)
  a latency histogram of :data:`LATENCY_BINS` 4-byte bins (808: 3.2 KiB). The SLO alert sums
  its window of buckets once per bucket; an analysis query sums its window once per
  measurement.
- **pods**: the control plane costs ~1 ms per pod created, linear in pods
  (``benchmarks/bench_control_plane.py``: a rolling update of N replicas creates or deletes
  2N pods at 0.8–0.95 s per 1,000 replicas for N = 1,000 to 5,000, ~0.45 ms per pod with its
  ~45 probe ticks; doubled for slower machines); each probe tick ~3 µs.
- **users**: 3 bytes each for the recorder, 11 per version whose bug hits a share of users,
  24 for a zipf distribution, 40 and ~1.5 µs per flag or sticky cohort (one hash per user),
  and ~80 bytes per distinct user with an error (at most min(users, requests)).
- **requests in flight**: ~500 bytes each; at most the peak rate × (client timeout + twice
  the slowest service time's tail + the longest lock a migration or long transaction holds).

Limits: :data:`MAX_SECONDS` (600 s: about 6·10⁷ simulated requests) and :data:`MAX_BYTES`
(4 GiB). Every bundled scenario estimates under 5 s and 50 MiB. Worked example: ``rate: 1e6``
for ``duration: 10m`` is 6·10⁸ requests → ~6,000 s → refused, naming ``traffic.rate``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Protocol

from simdeploy.rules.latency_bins import N_BINS
from simdeploy.spec.database import Database
from simdeploy.spec.distributions import DistSpec
from simdeploy.spec.flags import Flag
from simdeploy.spec.plan import Action
from simdeploy.spec.progressive import AnalysisTemplate, Metric
from simdeploy.spec.rollback import Rollback
from simdeploy.spec.service import Service, Strategy
from simdeploy.spec.settings import Simulation
from simdeploy.spec.traffic import Profile, Traffic
from simdeploy.spec.versions import Version

#: Longest run accepted, in seconds of computing.
MAX_SECONDS = 600.0
#: Most memory a run may need, in bytes.
MAX_BYTES = 4 * 2**30
#: Simulated requests per second of computing assumed (the throughput figure).
REQUESTS_PER_SECOND = 100_000
SECONDS_PER_REQUEST = 1 / REQUESTS_PER_SECOND
SECONDS_PER_CANDIDATE = 1e-6  # a thinned arrival candidate, plus per step of its profile:
SECONDS_PER_PROFILE_STEP = 1e-7
SECONDS_PER_BUCKET = 5e-5
#: The fluid data plane (``world/fluid.py``): per interval, per pod and interval, and per
#: pod and backlog step (an hour at 10k req/s on 50 pods: 3,600 intervals, 0.6-0.8 s).
SECONDS_PER_FLUID_INTERVAL = 2e-4
SECONDS_PER_FLUID_POD = 2e-6
SECONDS_PER_FLUID_POD_STEP = 3e-5
SECONDS_PER_POD = 1e-3
SECONDS_PER_PROBE = 3e-6
SECONDS_PER_EVENT = 2e-5  # a logged control-plane event: measurement, batch, restart
SECONDS_PER_CELL_SCAN = 1e-8  # one counter summed by a window query
SECONDS_PER_USER_HASH = 1.5e-6
#: Latency histogram bins per (bucket, version) (``rules/latency_bins.py``, kept by
#: ``world/recorder.py`` as int32; tests/spec/test_budget.py checks that the estimate covers
#: the recorder's real arrays).
LATENCY_BINS = N_BINS
BYTES_PER_BIN = 4
BYTES_PER_COUNTER = 8
COUNTERS_PER_CELL = 8 + 2  # outcomes, shadow ok / error
BYTES_PER_SAMPLE_VALUE = 250  # a state sample's dict entry and its timeline cells
BYTES_PER_REQUEST = 500
BYTES_PER_EVENT = 400
BYTES_PER_USER = 3
BYTES_PER_BUG_USER = 11
BYTES_PER_ZIPF_USER = 24
BYTES_PER_HASHED_USER = 40
BYTES_PER_ERROR_USER = 80


class ScenarioParts(Protocol):
    """What the estimate reads of a scenario (``spec.scenario.Scenario`` has it all)."""

    @property
    def service(self) -> Service: ...
    @property
    def traffic(self) -> Traffic: ...
    @property
    def versions(self) -> dict[str, Version]: ...
    @property
    def plan(self) -> list[Action]: ...
    @property
    def rollback(self) -> Rollback: ...
    @property
    def simulation(self) -> Simulation: ...
    @property
    def compare(self) -> dict[str, Strategy]: ...
    @property
    def analysis_templates(self) -> dict[str, AnalysisTemplate]: ...
    @property
    def database(self) -> Database | None: ...
    @property
    def flags(self) -> dict[str, Flag]: ...


@dataclass(frozen=True)
class Cost:
    """One part of the estimate: seconds of computing, bytes of memory, what it counts,
    the field a user changes to shrink it (the line names it first) and the advice."""

    seconds: float
    bytes: float
    what: str
    path: str
    advice: str

    def __post_init__(self) -> None:  # inf × 0 is NaN: an unbounded part stays unbounded
        for name in ("seconds", "bytes"):
            if math.isnan(getattr(self, name)):
                object.__setattr__(self, name, math.inf)


@dataclass
class Estimate:
    """The parts of a run's cost (see the module docstring for the unit costs)."""

    parts: dict[str, Cost] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return math.fsum(c.seconds for c in self.parts.values())

    @property
    def bytes(self) -> float:
        return math.fsum(c.bytes for c in self.parts.values())


def estimate(sc: ScenarioParts) -> Estimate:
    """The estimated cost of one run of ``sc`` (the heaviest of its strategies)."""
    d = sc.simulation.duration
    bucket = sc.simulation.bucket
    n_versions = len(sc.versions)
    cols = n_versions + 1
    strategies = _strategies(sc)
    out = Estimate()

    # Requests: user arrivals, mirrored copies, synthetic preview traffic.
    profile = sc.traffic.rate_profile
    user = _integral(profile, d)
    mirrors = any(_mirrors(st) for _, st in strategies)
    preview = max((_preview_rate(st) for _, st in strategies), default=0.0)
    requests = user * (2.0 if mirrors else 1.0) + preview * d
    peak = _peak(profile)
    candidates = 0.0 if profile.type == "constant" else peak * d
    steps = len(profile.steps or [])
    rate_path = "traffic.rate" if profile.type == "constant" else "traffic.profile"
    if sc.traffic.profile is not None and profile.type == "constant":
        rate_path = "traffic.profile.rate"
    fluid = sc.simulation.data_plane == "fluid"
    pods, pods_path = _peak_pods(sc, strategies)
    if fluid:
        # The fluid plane's cost is in intervals (one per bucket, at most 1 s, plus one per
        # control-plane change) and, while pods are overloaded, in their backlog steps.
        intervals = d / min(bucket, 1.0) if d < 1e300 else math.inf
        load = peak * max(v.service_time.build().mean for v in sc.versions.values())
        overloaded = load >= 0.9 * _f(sc.service.replicas) * sc.service.pod.concurrency
        steps_n = d / sc.simulation.fluid_step if overloaded and d < 1e300 else 0.0
        if overloaded and d >= 1e300:
            steps_n = math.inf
        out.parts["requests"] = Cost(
            intervals * (SECONDS_PER_FLUID_INTERVAL + pods * SECONDS_PER_FLUID_POD)
            + steps_n * pods * SECONDS_PER_FLUID_POD_STEP,
            0.0,
            f"{_count(intervals)} fluid intervals over up to {_count(pods)} pods"
            + (f", overloaded: steps of {_dur(sc.simulation.fluid_step)}" if overloaded else "")
            + f" ({_dur(d)})",
            "simulation.fluidStep" if overloaded else "simulation.duration",
            "raise simulation.fluidStep or lower simulation.duration"
            if overloaded
            else "lower simulation.duration",
        )
    else:
        out.parts["requests"] = Cost(
            requests * SECONDS_PER_REQUEST
            + candidates * (SECONDS_PER_CANDIDATE + steps * SECONDS_PER_PROFILE_STEP),
            0.0,
            f"about {_count(requests)} simulated requests ({_rate(profile)} for "
            f"{_dur(d)}{', mirrored' if mirrors else ''}"
            f"{f', {_num(preview)} req/s preview traffic' if preview else ''})",
            rate_path,
            f"lower {rate_path} or simulation.duration, or use simulation.dataPlane: fluid",
        )

    # Buckets: counters, histograms, state samples, timeline rows.
    n_buckets = max(1.0, math.ceil(d / bucket)) if d / bucket < 1e300 else math.inf
    cell_bytes = COUNTERS_PER_CELL * BYTES_PER_COUNTER  # per version column and "no pod"
    histogram_bytes = LATENCY_BINS * BYTES_PER_BIN  # per version
    row_bytes = BYTES_PER_SAMPLE_VALUE * (3 * n_versions + 8)
    out.parts["buckets"] = Cost(
        n_buckets * SECONDS_PER_BUCKET,
        n_buckets * (cols * cell_bytes + n_versions * histogram_bytes + row_bytes),
        f"{_count(n_buckets)} time buckets (simulation.bucket {_dur(bucket)} over {_dur(d)})",
        "simulation.bucket",
        "raise simulation.bucket or lower simulation.duration",
    )

    # Pods: created, alive at the peak, probed.
    actions = sum(1 for a in sc.plan if a.action in ("deploy", "rollback"))
    created = _f(sc.service.replicas) * (1 + actions + (sc.rollback.slo_alert is not None))
    created = max(created, pods)
    probe = sc.service.pod.readiness_probe
    ticks = pods * d / probe.period_seconds if probe is not None else 0.0
    live = sc.service.pod.liveness_probe
    live_ticks = pods * d / live.period_seconds if live is not None else 0.0
    ticks += live_ticks + (pods * d if sc.service.autoscaler is not None else 0.0)  # HPA: 1/s
    crashing = sum(1 for v in sc.versions.values() if v.crash_on_start)
    restarts = crashing * pods * d / (1.0 + sc.service.pod.crash_loop_back_off)
    probing = ticks * SECONDS_PER_PROBE
    lifecycle = created * SECONDS_PER_POD
    period = "service.pod.readinessProbe.periodSeconds"
    if live_ticks > ticks / 2:  # the liveness probe is the one ticking fastest
        period = "service.pod.livenessProbe.periodSeconds"
    advice = f"lower {pods_path}" + (f" or raise {period}" if ticks > created else "")
    if probing > lifecycle:  # the probes cost most: 5 pods probed every µs
        pods_path, advice = period, f"raise {period} or lower {pods_path}"
    out.parts["pods"] = Cost(
        lifecycle + probing + restarts * SECONDS_PER_EVENT,
        (created * 10 + restarts) * BYTES_PER_EVENT,
        f"up to {_count(pods)} pods at once, {_count(created)} created"
        + (f", {_count(ticks)} probes" if ticks else ""),
        pods_path,
        advice,
    )

    # Window queries: the SLO alert each bucket, analysis measurements.
    alert = sc.rollback.slo_alert
    if alert is not None:
        scanned = n_buckets * min(alert.window / bucket, n_buckets) * cols * 8
        out.parts["alert"] = Cost(
            scanned * SECONDS_PER_CELL_SCAN,
            0.0,
            f"an SLO alert summing {_count(alert.window / bucket)} buckets "
            f"{_count(n_buckets)} times",
            "rollback.sloAlert.window",
            "lower rollback.sloAlert.window or raise simulation.bucket",
        )
    for name, tpl in sc.analysis_templates.items():
        for i, m in enumerate(tpl.metrics):
            n = _measurements(m.interval, m.count, d)
            cells, judge_s = _measurement_work(m, bucket, d)
            path = f"analysisTemplates.{name}.metrics[{i}].interval"
            advice = f"raise {path} or set a count"
            if m.provider.kayenta is not None:  # its samples: one per step of the window
                path = f"analysisTemplates.{name}.metrics[{i}].provider.kayenta.step"
                advice = f"raise {path}"
            cost = Cost(
                n * (cells * SECONDS_PER_CELL_SCAN + judge_s + SECONDS_PER_EVENT),
                n * BYTES_PER_EVENT,
                f"{_count(n)} measurements of {m.name}",
                path,
                advice,
            )
            out.parts[f"analysis:{name}:{i}"] = cost
    for where, st in strategies:
        if st.flagger is not None:
            fa = st.flagger.analysis
            ticks_f = d / fa.interval
            cells = sum((fm.interval / bucket + 1) * (8 + LATENCY_BINS) for fm in fa.metrics)
            out.parts[f"flagger:{where}"] = Cost(
                ticks_f * (cells * SECONDS_PER_CELL_SCAN + SECONDS_PER_EVENT),
                ticks_f * BYTES_PER_EVENT,
                f"{_count(ticks_f)} Flagger checks",
                f"{where}.flagger.analysis.interval",
                f"raise {where}.flagger.analysis.interval",
            )
        if st.shadow is not None and st.shadow.analysis is not None:
            ticks_s = d / st.shadow.analysis.interval
            out.parts[f"shadow:{where}"] = Cost(
                ticks_s * SECONDS_PER_EVENT,
                ticks_s * BYTES_PER_EVENT,
                f"{_count(ticks_s)} shadow comparisons",
                f"{where}.shadow.analysis.interval",
                f"raise {where}.shadow.analysis.interval",
            )

    # Users: per-user arrays, hashed flags and cohorts, users who saw an error.
    users = _f(sc.traffic.users)
    hashed = len(sc.flags) + max((_cohorts(st) for _, st in strategies), default=0)
    bug = sum(1 for v in sc.versions.values() if v.bug is not None and v.bug.user_share < 1)
    per_user = (
        BYTES_PER_USER
        + BYTES_PER_BUG_USER * bug
        + BYTES_PER_ZIPF_USER * (sc.traffic.user_distribution == "zipf")
        + BYTES_PER_HASHED_USER * hashed
    )
    out.parts["users"] = Cost(
        users * hashed * SECONDS_PER_USER_HASH,
        users * per_user + min(users, requests) * BYTES_PER_ERROR_USER,
        f"{_count(users)} users" + (f" hashed for {hashed} flags or cohorts" if hashed else ""),
        "traffic.users",
        "lower traffic.users",
    )

    # Requests in flight: queued and in service at once.
    hold = sc.traffic.timeout + 2 * max(_tail(v.service_time) for v in sc.versions.values())
    db = sc.database
    if db is not None:
        longest = max((lt.duration for lt in db.long_transactions), default=0.0)
        rows = max((_f(t.rows) for t in db.tables.values()), default=0.0)
        hold += min(d, longest + rows / db.rows_per_second)
    in_flight = min(requests, (peak * (2.0 if mirrors else 1.0) + preview) * hold)
    if fluid:  # per pod, one waiting cohort per step at most, not one object per request
        in_flight = min(in_flight, pods * hold / sc.simulation.fluid_step)
    out.parts["in_flight"] = Cost(
        0.0,
        in_flight * BYTES_PER_REQUEST,
        f"up to {_count(in_flight)} requests in flight (queued for up to {_dur(hold)})",
        *(  # a long hold (timeout: 1h) or a high rate: name the one that is out of scale
            ("traffic.timeout", f"lower traffic.timeout or the service times, or {rate_path}")
            if hold > 60
            else (rate_path, f"lower {rate_path}")
        ),
    )

    # Backfills: one batch event each (and on the fluid plane, one interval each: the rows
    # change under the traffic).
    per_batch = SECONDS_PER_EVENT
    if fluid:
        per_batch += SECONDS_PER_FLUID_INTERVAL + pods * SECONDS_PER_FLUID_POD
    if db is not None:
        for i, act in enumerate(sc.plan):
            for j, op in enumerate(act.operations):
                bf = op.backfill
                if bf is None:
                    continue
                table = db.tables.get(bf.table)
                rows = (_f(table.rows) if table is not None else 0.0) + requests
                size = _f(bf.batch_size)
                step = size / db.rows_per_second + bf.batch_delay
                batches = min(rows / size + 1, d / step + 1 if step > 0 else math.inf)
                path = f"plan[{i}].operations[{j}].backfill.batchSize"
                out.parts[f"backfill:{i}:{j}"] = Cost(
                    batches * per_batch,
                    0.0,
                    f"{_count(batches)} backfill batches",
                    path,
                    f"raise {path}",
                )
    if db is not None and fluid:
        # Requests that wait for a table lock are a backlog on every pod, stepped every
        # fluidStep: at most while long transactions hold their locks and migrations scan.
        rows = max((_f(t.rows) for t in db.tables.values()), default=0.0)
        ops = sum(len(a.operations) for a in sc.plan if a.action == "migrate")
        blocked = min(
            d, sum(lt.duration for lt in db.long_transactions) + ops * rows / db.rows_per_second
        )
        out.parts["lock_waits"] = Cost(
            blocked / sc.simulation.fluid_step * pods * SECONDS_PER_FLUID_POD_STEP,
            0.0,
            f"up to {_dur(blocked)} of requests waiting for table locks on {_count(pods)} pods",
            "simulation.fluidStep",
            "raise simulation.fluidStep or lower simulation.duration",
        )
    return out


def over_budget(sc: ScenarioParts) -> list[str]:
    """One line per exceeded limit (computing time, memory), naming the largest part."""
    est = estimate(sc)
    lines = []
    seconds, mem = est.seconds, est.bytes
    if not seconds <= MAX_SECONDS:
        top = max(est.parts.values(), key=lambda c: c.seconds)
        lines.append(
            f"{top.path}: too large to simulate: {top.what}; estimated {_time(seconds)} of "
            f"computing (limit {_time(MAX_SECONDS)}"
            + (
                ""
                if sc.simulation.data_plane == "fluid"
                else f", at about {REQUESTS_PER_SECOND:,} simulated requests per second"
            )
            + f"); {top.advice}"
        )
    if not mem <= MAX_BYTES:
        top = max(est.parts.values(), key=lambda c: c.bytes)
        lines.append(
            f"{top.path}: too large to simulate: {top.what}; estimated {_size(mem)} of "
            f"memory (limit {_size(MAX_BYTES)}); {top.advice}"
        )
    return lines


# --- the pieces --------------------------------------------------------------------------


def _strategies(sc: ScenarioParts) -> list[tuple[str, Strategy]]:
    out = [("service.strategy", sc.service.strategy)]
    out += [(f"plan[{i}].strategy", a.strategy) for i, a in enumerate(sc.plan) if a.strategy]
    out += [(f"compare.{n}", st) for n, st in sc.compare.items()]
    return out


def _integral(p: Profile, d: float) -> float:
    """∫₀ᵈ rate(t) dt (requests). Steps: rate 0 before the first; diurnal: mean·d plus the
    sine's part, mean·a·P/2π·(1 − cos 2πd/P)."""
    if p.type == "constant":
        return (p.rate or 0.0) * d
    if p.type == "steps":
        total, steps = 0.0, sorted(p.steps or [], key=lambda s: s.at)
        for k, s in enumerate(steps):
            end = min(d, steps[k + 1].at if k + 1 < len(steps) else d)
            total += s.rate * max(0.0, end - s.at)
        return total
    mean = p.mean or 0.0
    wave = (
        mean * p.amplitude * p.period / (2 * math.pi) * (1 - math.cos(2 * math.pi * d / p.period))
    )
    return mean * d + wave


def _peak(p: Profile) -> float:
    if p.type == "constant":
        return p.rate or 0.0
    if p.type == "steps":
        return max((s.rate for s in p.steps or []), default=0.0)
    return (p.mean or 0.0) * (1 + p.amplitude)


def _rate(p: Profile) -> str:
    if p.type == "constant":
        return f"{_num(p.rate or 0.0)} req/s"
    return f"a {p.type} profile peaking at {_num(_peak(p))} req/s"


def _mirrors(st: Strategy) -> bool:
    if st.shadow is not None:
        return True
    if st.flagger is not None and st.flagger.analysis.mirror:
        return True
    return st.canary is not None and any(s.set_mirror_route for s in st.canary.steps)


def _preview_rate(st: Strategy) -> float:
    return st.blue_green.preview_traffic if st.blue_green is not None else 0.0


def _cohorts(st: Strategy) -> int:
    n = 0
    if st.canary is not None:
        n += sum(1 for s in st.canary.steps if s.set_header_route is not None)
    if st.flagger is not None and st.flagger.analysis.match:
        n += 1
    return n


def _peak_pods(sc: ScenarioParts, strategies: list[tuple[str, Strategy]]) -> tuple[float, str]:
    """(pods alive at the peak, the field that sets it): replicas plus the largest extra
    (a surge, a second full set for blue/green, Flagger and shadow, a canary scale)."""
    n = _f(sc.service.replicas)
    extra, path = 0.0, "service.replicas"
    # A replica change can raise the count: the autoscaler's maxReplicas, a scale action.
    hpa = sc.service.autoscaler
    if hpa is not None and _f(hpa.max_replicas) > n:
        n, path = _f(hpa.max_replicas), "service.autoscaler.maxReplicas"
    for i, a in enumerate(sc.plan):
        if a.action == "scale" and a.replicas is not None and _f(a.replicas) > n:
            n, path = _f(a.replicas), f"plan[{i}].replicas"

    def more(pods: float, field: str) -> None:
        nonlocal extra, path
        if pods > extra:
            extra = pods
            if pods > n:  # the extra outweighs the replicas: name the field that sets it
                path = field

    for where, st in strategies:
        if st.type in ("BlueGreen", "Flagger", "Shadow"):
            more(n, "service.replicas")
        if st.type == "RollingUpdate":
            more(_resolve(st.rolling.max_surge, n), f"{where}.rollingUpdate.maxSurge")
        if st.canary is not None:
            more(_resolve(st.canary.max_surge, n), f"{where}.canary.maxSurge")
            for k, step in enumerate(st.canary.steps):
                scale = step.set_canary_scale
                if scale is not None and scale.replicas is not None:
                    more(_f(scale.replicas), f"{where}.canary.steps[{k}].setCanaryScale.replicas")
        if st.blue_green is not None and st.blue_green.preview_replica_count is not None:
            more(_f(st.blue_green.preview_replica_count), f"{where}.blueGreen.previewReplicaCount")
    return n + extra, path


def _resolve(value: int | str, n: float) -> float:
    """Pods of an int-or-percent (a percentage of ``n``, rounded up), 0 if unreadable."""
    if isinstance(value, int):
        return _f(value)
    m = re.fullmatch(r"\s*(\d{1,300})\s*%?\s*", value)
    return _f(int(m.group(1))) * n / 100 if m else 0.0


def _f(x: int | float) -> float:
    """``x`` as a float; an int beyond float range (``replicas: 10**400``) is infinite."""
    try:
        return float(x)
    except OverflowError:
        return math.inf


def _measurement_work(m: Metric, bucket: float, d: float) -> tuple[float, float]:
    """(counters scanned, seconds of statistics) of one measurement of ``m``.

    A query scans its window's buckets; Kayenta samples each metric of the baseline and the
    canary once per step over the interval (since the run began with lookback: at most the
    run) and ranks the samples some 150 times (three Brent searches); the sequential test
    counts two versions since the run began."""
    p = m.provider
    if p.simdeploy is not None:
        return (p.simdeploy.window / bucket + 1) * (8 + LATENCY_BINS), 0.0
    if p.kayenta is not None:
        k = p.kayenta
        window = d if k.lookback or m.interval is None else min(m.interval, d)
        samples = window / k.step + 1
        per_metric = 2 * (window / bucket + samples) * (8 + LATENCY_BINS)
        ranked = 150 * 2 * samples * max(1.0, math.log2(2 * samples))
        n = len(k.metrics)
        return n * per_metric, n * ranked * SECONDS_PER_CELL_SCAN * 10
    return 2 * (d / bucket + 1) * 8, 0.0


def _measurements(interval: float | None, count: int | None, d: float) -> float:
    """Measurements of an Argo metric over a run of ``d`` s (count 0 or none: until the end;
    no interval: one; interval 0 without a count: without end)."""
    limit = _f(count) if count else math.inf
    if interval is None:
        return float(min(limit, 1))
    if interval <= 0:
        return float(limit)
    return min(limit, d / interval + 1)


def _tail(dist: DistSpec) -> float:
    """A long service time of ``dist`` (its p99, or the largest it can be)."""
    if dist.dist == "exponential":
        return 4.6 * (dist.mean or 0.0)
    return max(dist.value or 0.0, dist.high or 0.0, dist.p99 or 0.0, dist.mean or 0.0)


def _num(x: float) -> str:
    """A rate as written: ``0.5``, ``300``, ``1e9``."""
    return f"{x:g}" if x < 10_000 else _count(x)


def _count(x: float) -> str:
    if not math.isfinite(x):
        return "unboundedly many"
    if x >= 1e100:
        return "more than 1e100"
    if x < 10_000:
        return f"{x:,.0f}"
    return f"{x:.2g}".replace("e+0", "e").replace("e+", "e")


def _dur(s: float) -> str:
    if s >= 1e6:
        return f"{_count(s)} s"
    if s >= 3600:
        return f"{s / 3600:.3g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    if s >= 1 or s == 0:
        return f"{s:.3g} s"
    return f"{s * 1000:.3g} ms" if s >= 1e-3 else f"{s:.2g} s"


def _time(s: float) -> str:
    return "an unbounded time" if not math.isfinite(s) else _dur(s)


def _size(b: float) -> str:
    if not math.isfinite(b):
        return "an unbounded amount"
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b / 2**10:.3g} KiB"
