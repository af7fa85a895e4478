"""Data-plane throughput: simdeploy against a plain, hand-written SimPy model.

Both models simulate the same steady state: 10 pods with 8 workers each, Poisson
arrivals at 1000 req/s, exponential service times with a mean of 50 ms, round-robin
pod selection, a 10 s client timeout, 120 simulated seconds (~120k requests). The
figure of merit is *simulated requests per wall-clock second*; the last line printed is
``ratio: X.XX`` = simdeploy req/s / plain SimPy req/s.

The plain model (a) is the textbook way: one SimPy process per request, each pod a
``simpy.Resource(capacity=8)``, the request yields ``pod.request()`` then a service
``Timeout``; it counts outcomes (ok, or timeout when the latency exceeds the client
timeout). To make it a fair baseline rather than a straw man, it draws its random
numbers (gaps, service times) in numpy batches too, so what the comparison measures is
the structure of the event loop, not the cost of scalar ``rng`` calls.

simdeploy (b) models more per request: the load balancer's routing table, the pod's
accepting / warm-up / health checks, per-bucket outcome counters and a log-scaled latency
histogram per (bucket, version), a user id and a read/write flag per request, plus a
readiness-probe process per pod and a state sampler once per bucket. Yet it avoids a
process per request: arrivals are drawn in numpy batches, completions wait in the data
plane's own heap, and both run in time order inside one callback for as long as they come
before SimPy's next event (SimPy is woken only for the first that does not), with no
generator, no ``Process``, no ``Resource`` request/release events and no SimPy event per
request. The benchmark shows whether that pays for the extra modelling.

Memory: the recorder keeps counters, not requests, so a one-hour run (3.6M requests)
should stay small; its peak traced memory (``tracemalloc``) and wall time are printed too.

Run: ``.venv/bin/python benchmarks/bench_dataplane.py [--quick] [--json]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from simdeploy import Scenario, simulate

PODS = 10
CONCURRENCY = 8
RATE = 1000.0  # req/s
MEAN_SERVICE_S = 0.050
TIMEOUT_S = 10.0
SEED = 42
BATCH = 4096
MIB = 1024 * 1024


@dataclass
class Counts:
    """What one run simulated: arrivals and the outcomes of completed requests."""

    arrivals: int
    ok: int
    errors: int

    @property
    def completed(self) -> int:
        return self.ok + self.errors


# --- (a) plain SimPy: one process per request ------------------------------------------


def run_plain(duration_s: float, seed: int = SEED) -> Counts:
    """The hand-written model: a process per request, pods as ``simpy.Resource``."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    pods = [simpy.Resource(env, capacity=CONCURRENCY) for _ in range(PODS)]
    outcome = {"ok": 0, "timeout": 0}
    arrivals = 0

    def request(pod: simpy.Resource, service_s: float) -> Generator[simpy.Event, Any, None]:
        t0 = env.now
        with pod.request() as slot:
            yield slot
            yield env.timeout(service_s)
        # The client gave up if the answer came after its timeout (counted, like simdeploy).
        outcome["ok" if env.now - t0 <= TIMEOUT_S else "timeout"] += 1

    def source() -> Generator[simpy.Event, Any, None]:
        nonlocal arrivals
        rr = -1
        while True:
            gaps = rng.exponential(1.0 / RATE, BATCH).tolist()
            services = rng.exponential(MEAN_SERVICE_S, BATCH).tolist()
            for gap, service_s in zip(gaps, services, strict=True):
                yield env.timeout(gap)
                rr = (rr + 1) % PODS
                arrivals += 1
                env.process(request(pods[rr], service_s))

    env.process(source())
    env.run(until=duration_s)
    return Counts(arrivals, outcome["ok"], outcome["timeout"])


# --- (b) simdeploy on the equivalent steady-state scenario ---------------------------


def steady_scenario(duration_s: float, seed: int = SEED) -> Scenario:
    """The same system as a simdeploy scenario: no plan, so steady state throughout."""
    mean = f"{MEAN_SERVICE_S * 1000:g}ms"
    return Scenario.parse(
        {
            "name": "bench-steady-state",
            "service": {
                "version": "v1",
                "replicas": PODS,
                "pod": {
                    "concurrency": CONCURRENCY,
                    "readinessProbe": {"periodSeconds": 10, "failureThreshold": 3},
                },
                "balancer": {"policy": "round_robin"},
            },
            "traffic": {"rate": RATE, "users": 10_000, "timeout": f"{TIMEOUT_S:g}s"},
            "versions": {"v1": {"serviceTime": {"dist": "exponential", "mean": mean}}},
            "simulation": {"duration": f"{duration_s:g}s", "seed": seed},
        }
    )


def run_simdeploy(scenario: Scenario) -> Counts:
    """One full ``simulate()`` call: world building, the run and the Result tables."""
    result = simulate(scenario)
    rec = result.record
    ok = int(result.timeline["ok"].sum())
    return Counts(int(rec["requests"]), ok, int(rec["errors"]))


# --- timing -------------------------------------------------------------------------


def timed(fn: Callable[[], Counts]) -> tuple[float, Counts]:
    gc.collect()
    t0 = time.perf_counter()
    counts = fn()
    return time.perf_counter() - t0, counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20 s runs, 300 s memory run, 1 rep")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    duration = 20.0 if args.quick else 120.0
    mem_duration = 300.0 if args.quick else 3600.0
    reps = 1 if args.quick else 3
    scenario = steady_scenario(duration)

    # Warm-up (imports, first-call caches) so that no repetition pays for it.
    run_plain(1.0)
    run_simdeploy(steady_scenario(1.0))

    plain_times: list[float] = []
    sim_times: list[float] = []
    plain_counts = sim_counts = Counts(0, 0, 0)
    for _ in range(reps):  # alternate a / b so drift in machine load hits both alike
        t, plain_counts = timed(lambda: run_plain(duration))
        plain_times.append(t)
        t, sim_counts = timed(lambda: run_simdeploy(scenario))
        sim_times.append(t)

    plain_best, sim_best = min(plain_times), min(sim_times)
    plain_rps = plain_counts.arrivals / plain_best
    sim_rps = sim_counts.arrivals / sim_best
    ratio = sim_rps / plain_rps

    # One long run under tracemalloc: peak traced bytes (tracing slows the run down, so
    # the wall time printed alongside is that of the traced run).
    mem_scenario = steady_scenario(mem_duration)
    gc.collect()
    tracemalloc.start()
    mem_wall, mem_counts = timed(lambda: run_simdeploy(mem_scenario))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The same run untraced: the wall time a user would see.
    mem_wall_untraced, _ = timed(lambda: run_simdeploy(mem_scenario))

    print(
        f"steady state: {PODS} pods x {CONCURRENCY} workers, {RATE:g} req/s, "
        f"exp. service mean {MEAN_SERVICE_S * 1000:g} ms, {duration:g} s simulated, "
        f"best of {reps}"
    )
    for label, c, best, rps in (
        ("plain SimPy", plain_counts, plain_best, plain_rps),
        ("simdeploy  ", sim_counts, sim_best, sim_rps),
    ):
        print(
            f"{label}: {c.arrivals:>9,} requests ({c.ok:,} ok, {c.errors:,} errors/timeouts, "
            f"{c.arrivals - c.completed:,} in flight at end) in {best:.3f} s "
            f"-> {rps:,.0f} simulated req/s"
        )
    print(
        f"simdeploy {mem_duration:g} s run: {mem_counts.arrivals:,} requests, "
        f"peak traced memory {peak / MIB:.2f} MiB, wall {mem_wall:.2f} s under tracemalloc, "
        f"{mem_wall_untraced:.2f} s untraced "
        f"({mem_counts.arrivals / mem_wall_untraced:,.0f} req/s)"
    )
    if args.json:
        figures = {
            "duration_s": duration,
            "repetitions": reps,
            "plain_requests": plain_counts.arrivals,
            "plain_wall_s": plain_best,
            "plain_wall_all_s": plain_times,
            "plain_req_per_s": plain_rps,
            "simdeploy_requests": sim_counts.arrivals,
            "simdeploy_wall_s": sim_best,
            "simdeploy_wall_all_s": sim_times,
            "simdeploy_req_per_s": sim_rps,
            "ratio": round(ratio, 2),
            "memory_run_duration_s": mem_duration,
            "memory_run_requests": mem_counts.arrivals,
            "memory_peak_mib": peak / MIB,
            "memory_run_wall_traced_s": mem_wall,
            "memory_run_wall_s": mem_wall_untraced,
        }
        print(json.dumps(figures))
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
