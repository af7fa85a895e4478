"""Control-plane cost at scale: a RollingUpdate of N pods, as seconds per 1,000 pods.

simdeploy runs the same 3-minute scenario at 300 req/s for N in {500, 1000, 2000, 5000}
replicas: v1 runs N ready pods from t=0, and at t=30 s a deploy of v2 rolls them over with
maxSurge 25%, maxUnavailable 25%, a readiness probe that waits for the 5 s warm-up and a
5 s preStop sleep. Every pod of both versions is scheduled, started, probed, made Ready,
deleted, drained and gone within the run, so the control plane handles ~2N pod lifecycles
(~3.6 logged events each) while the data plane serves the same ~54,000 requests for every N.

When the control plane's cost is linear in the pods, *seconds per 1,000 pods* is the same
for every N (a little lower at large N when the data plane's fixed ~0.5 s weighs); the last
line printed, ``per_1000_pods_ratio: X``, is that figure at the largest N divided by the
figure at N = 1,000 (about 1 when linear; a per-event scan of all pods makes it grow with N,
towards 5,000 / 1,000 = 5 for a purely quadratic cost). The line
before it gives the *marginal* cost, (wall(5,000) - wall(1,000)) / 4: the pods' own cost,
without the data plane's share. Wall time is ``time.perf_counter``; the CPU time of the
process (``time.process_time``) is printed too, as it is less disturbed by other jobs.

A plain, hand-written SimPy model of the same churn is timed alongside as the reference
(like ``bench_dataplane.py`` does for requests): the N old pods start ready; a controller
process with O(1) counters keeps the new pods within N + maxSurge and the available ones
above N - maxUnavailable; each new pod is a process (scheduling delay, start-up, probe ticks
until warm, Ready after the propagation delay) and each deleted old pod one too (endpoint
removal, preStop, gone); requests at 300 req/s are one process each, sent round-robin to a
ready pod (a list with O(1) swap-removal). It models less than simdeploy (no probe ticks
after Ready, no event log, no status, no per-bucket counters), so it is the floor a linear
simulator can be compared to.

Run: ``.venv/bin/python benchmarks/bench_control_plane.py [--quick] [--json] [--sizes ...]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import time
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from simdeploy import Scenario, simulate

RATE = 300.0  # req/s
DURATION_S = 180.0
DEPLOY_AT_S = 30.0
SURGE = 0.25
UNAVAILABLE = 0.25
SCHEDULING_S = 0.5
STARTUP_LOW_S, STARTUP_HIGH_S = 2.0, 4.0
WARMUP_S = 5.0
PROBE_DELAY_S, PROBE_PERIOD_S = 5.0, 2.0
PRE_STOP_S = 5.0
PROPAGATION_S = 2.0
MEAN_SERVICE_S = 0.040
SEED = 42
SIZES = (500, 1000, 2000, 5000)
QUICK_SIZES = (200, 500, 1000)


# --- simdeploy ---------------------------------------------------------------------------


def rolling_scenario(replicas: int, duration_s: float = DURATION_S, seed: int = SEED) -> Scenario:
    """A RollingUpdate of ``replicas`` pods v1 → v2 at t=30 s (25%/25%, probe, preStop)."""
    service = {"dist": "exponential", "mean": f"{MEAN_SERVICE_S * 1000:g}ms"}
    return Scenario.parse(
        {
            "name": f"bench-rolling-{replicas}",
            "service": {
                "version": "v1",
                "replicas": replicas,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {
                        "maxSurge": f"{SURGE:.0%}",
                        "maxUnavailable": f"{UNAVAILABLE:.0%}",
                    },
                },
                "pod": {
                    "schedulingDelay": {"dist": "constant", "value": f"{SCHEDULING_S:g}s"},
                    "startupDelay": {
                        "dist": "uniform",
                        "low": f"{STARTUP_LOW_S:g}s",
                        "high": f"{STARTUP_HIGH_S:g}s",
                    },
                    "readinessProbe": {
                        "initialDelaySeconds": PROBE_DELAY_S,
                        "periodSeconds": PROBE_PERIOD_S,
                    },
                    "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_S}}},
                    "terminationGracePeriodSeconds": 30,
                },
                "balancer": {
                    "policy": "round_robin",
                    "endpointPropagationDelay": f"{PROPAGATION_S:g}s",
                },
            },
            "traffic": {"rate": RATE, "users": 10_000, "timeout": "5s"},
            "versions": {
                "v1": {"serviceTime": service, "warmup": f"{WARMUP_S:g}s"},
                "v2": {"serviceTime": service, "warmup": f"{WARMUP_S:g}s"},
            },
            "plan": [{"at": f"{DEPLOY_AT_S:g}s", "action": "deploy", "version": "v2"}],
            "simulation": {"duration": f"{duration_s:g}s", "seed": seed},
        }
    )


def run_simdeploy(scenario: Scenario) -> dict[str, Any]:
    """One ``simulate()``: what it simulated (to check every size did the same work)."""
    result = simulate(scenario)
    rec = result.record
    return {
        "events": len(result.events),
        "requests": int(rec["requests"]),
        "errors": int(rec["errors"]),
        "outcome": rec["outcome"],
    }


# --- plain SimPy: the same pod churn, O(1) bookkeeping -----------------------------------


class _ReadySet:
    """Ready pods in a list with O(1) add and swap-removal, for round-robin picks."""

    def __init__(self) -> None:
        self.pods: list[int] = []
        self.where: dict[int, int] = {}

    def add(self, pod: int) -> None:
        if pod not in self.where:
            self.where[pod] = len(self.pods)
            self.pods.append(pod)

    def remove(self, pod: int) -> None:
        i = self.where.pop(pod, None)
        if i is None:
            return
        last = self.pods.pop()
        if last != pod:
            self.pods[i] = last
            self.where[last] = i


def run_plain(replicas: int, duration_s: float = DURATION_S, seed: int = SEED) -> dict[str, Any]:
    """The hand-written model of the rolling update (see the module docstring)."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    surge = math.ceil(SURGE * replicas)
    unavailable = math.floor(UNAVAILABLE * replicas)
    endpoints = _ReadySet()
    old = list(range(replicas))  # old pod ids, all ready at t=0
    for pod in old:
        endpoints.add(pod)
    state = {"new": 0, "old": replicas, "available": replicas, "next_id": replicas}
    counts = {"events": 0, "requests": 0, "errors": 0}

    def later(delay: float, fn: Callable[[], None]) -> None:
        env.timeout(delay).callbacks.append(lambda _e: fn())

    def new_pod(pod: int) -> Generator[simpy.Event, Any, None]:
        counts["events"] += 1  # created
        yield env.timeout(SCHEDULING_S)
        yield env.timeout(float(rng.uniform(STARTUP_LOW_S, STARTUP_HIGH_S)))
        started = env.now
        counts["events"] += 1  # started
        t = started + PROBE_DELAY_S
        while t < started + WARMUP_S:  # probe ticks fail until the app is warm
            t += PROBE_PERIOD_S
        yield env.timeout(t - env.now)
        counts["events"] += 1  # ready
        state["available"] += 1
        later(PROPAGATION_S, lambda: endpoints.add(pod))
        reconcile()

    def old_pod_gone(pod: int) -> Generator[simpy.Event, Any, None]:
        counts["events"] += 1  # killing
        later(PROPAGATION_S, lambda: endpoints.remove(pod))
        yield env.timeout(PRE_STOP_S)
        counts["events"] += 2  # SIGTERM, deleted (drained at once: requests are short)

    def reconcile() -> None:
        """The controller: O(1) per call, counters only."""
        while state["new"] < replicas and state["new"] + state["old"] < replicas + surge:
            state["new"] += 1
            pod = state["next_id"]
            state["next_id"] += 1
            env.process(new_pod(pod))
        while state["old"] > 0 and state["available"] - 1 >= replicas - unavailable:
            state["old"] -= 1
            state["available"] -= 1
            env.process(old_pod_gone(old.pop()))

    def deploy() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(DEPLOY_AT_S)
        reconcile()

    def request(service_s: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(service_s)

    def source() -> Generator[simpy.Event, Any, None]:
        rr = -1
        while True:
            gaps = rng.exponential(1.0 / RATE, 4096).tolist()
            services = rng.exponential(MEAN_SERVICE_S, 4096).tolist()
            for gap, service_s in zip(gaps, services, strict=True):
                yield env.timeout(gap)
                counts["requests"] += 1
                pods = endpoints.pods
                if not pods:
                    counts["errors"] += 1
                    continue
                rr = (rr + 1) % len(pods)
                env.process(request(service_s))

    env.process(deploy())
    env.process(source())
    env.run(until=duration_s)
    return {**counts, "outcome": "completed" if state["new"] == replicas else "in progress"}


# --- timing ------------------------------------------------------------------------------


def timed(fn: Callable[[], dict[str, Any]]) -> tuple[float, float, dict[str, Any]]:
    """(wall seconds, CPU seconds of this process, what ``fn`` returned)."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"N in {QUICK_SIZES}, 1 repetition")
    parser.add_argument("--sizes", type=int, nargs="+", help=f"replica counts (default {SIZES})")
    parser.add_argument("--reps", type=int, help="repetitions per size (best of; default 3)")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain SimPy model")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    sizes = tuple(args.sizes or (QUICK_SIZES if args.quick else SIZES))
    reps = args.reps or (1 if args.quick else 3)
    # The ratio compares the largest N with N = 1,000 (with the smallest N when 1,000 is
    # the largest or not run, as in --quick).
    reference = 1000 if 1000 in sizes and max(sizes) > 1000 else min(sizes)

    run_simdeploy(rolling_scenario(20, duration_s=60.0))  # warm-up: imports, first calls
    run_plain(20, duration_s=60.0)

    print(
        f"RollingUpdate of N pods v1 -> v2 at t={DEPLOY_AT_S:g} s ({SURGE:.0%} surge, "
        f"{UNAVAILABLE:.0%} unavailable, readiness probe, preStop {PRE_STOP_S:g} s), "
        f"{DURATION_S:g} s simulated at {RATE:g} req/s, best of {reps} "
        "(wall = perf_counter, cpu = process_time)"
    )
    print(
        f"{'N':>6} {'wall s':>8} {'s/1000 pods':>12} {'cpu s':>8} {'events':>8} {'outcome':>10}"
        f" | {'plain s':>8} {'s/1000 pods':>12} {'simdeploy/plain':>15}"
    )
    rows = []
    for n in sizes:
        scenario = rolling_scenario(n)
        sim_times: list[tuple[float, float]] = []
        plain_times: list[tuple[float, float]] = []
        sim_out: dict[str, Any] = {}
        plain_out: dict[str, Any] = {}
        for _ in range(reps):  # alternate the two so drift in machine load hits both alike
            wall, cpu, sim_out = timed(lambda sc=scenario: run_simdeploy(sc))  # type: ignore[misc]
            sim_times.append((wall, cpu))
            if not args.no_plain:
                wall, cpu, plain_out = timed(lambda n=n: run_plain(n))  # type: ignore[misc]
                plain_times.append((wall, cpu))
        sim_best = min(w for w, _ in sim_times)
        sim_cpu = min(c for _, c in sim_times)
        plain_best = min((w for w, _ in plain_times), default=float("nan"))
        row = {
            "n": n,
            "simdeploy_s": sim_best,
            "simdeploy_all_s": [w for w, _ in sim_times],
            "simdeploy_cpu_s": sim_cpu,
            "simdeploy_s_per_1000_pods": sim_best * 1000 / n,
            "simdeploy_cpu_s_per_1000_pods": sim_cpu * 1000 / n,
            "events": sim_out["events"],
            "requests": sim_out["requests"],
            "outcome": sim_out["outcome"],
            "plain_s": plain_best,
            "plain_s_per_1000_pods": plain_best * 1000 / n,
            "plain_events": plain_out.get("events"),
            "simdeploy_over_plain": sim_best / plain_best,
        }
        rows.append(row)
        print(
            f"{n:>6} {sim_best:>8.3f} {row['simdeploy_s_per_1000_pods']:>12.3f} {sim_cpu:>8.3f}"
            f" {row['events']:>8,} {row['outcome']:>10} | {plain_best:>8.3f}"
            f" {row['plain_s_per_1000_pods']:>12.3f} {row['simdeploy_over_plain']:>15.2f}",
            flush=True,
        )
    per = {r["n"]: r["simdeploy_s_per_1000_pods"] for r in rows}
    per_cpu = {r["n"]: r["simdeploy_cpu_s_per_1000_pods"] for r in rows}
    ratio = per[max(sizes)] / per[reference]
    # The cost of the pods alone: what the pods between N = reference and the largest N added
    # (the data plane's fixed share cancels out); with a linear control plane, the same for
    # any pair of sizes.
    wall = {r["n"]: r["simdeploy_s"] for r in rows}
    big = max(sizes)
    marginal = (wall[big] - wall[reference]) * 1000 / (big - reference) if big > reference else 0
    if args.json:
        print(
            json.dumps(
                {
                    "repetitions": reps,
                    "reference_n": reference,
                    "marginal_s_per_1000_pods": marginal,
                    "per_1000_pods_ratio": ratio,
                    "rows": rows,
                }
            )
        )
    print(f"marginal cost N={reference} -> {big}: {marginal:.3f} s per 1,000 pods (wall)")
    print(
        f"s/1000 pods at N={max(sizes)} / at N={reference}: "
        f"cpu {per_cpu[max(sizes)] / per_cpu[reference]:.2f}, wall:"
    )
    print(f"per_1000_pods_ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
