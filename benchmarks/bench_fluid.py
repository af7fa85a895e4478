"""The fluid data plane at production traffic, against the plain SimPy model.

One simulated hour at 10,000 req/s (36M requests) on 50 pods, two runs on the fluid data
plane (``simulation.dataPlane: fluid``): a full rolling update, and an Argo canary with a
success-rate analysis (5% → 25% → 50%, two minutes each) that promotes. Side by side, in
the same process, the plain hand-written SimPy model of ``bench_dataplane.py`` (a process
per request; 60 simulated seconds at its 1,000 req/s), normalised to requests per wall
second.

Printed: each fluid run's wall time and request-equivalents per second; the plain model's
requests per second; the traced memory peak of the fluid rolling update at 10 min and 1 h
and at 10k and 20k req/s (flat in horizon and rate); the last line ``ratio: X`` = fluid
request-equivalents per second ÷ plain SimPy requests per second.

Run: ``.venv/bin/python benchmarks/bench_fluid.py [--quick]`` (``--quick``: 10 simulated
minutes instead of the hour).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from typing import Any

from bench_dataplane import run_plain

from simdeploy import Scenario, simulate

RATE = 10_000.0
PODS = 50
PLAIN_S = 60.0  # the plain model's horizon: 60k requests at its 1,000 req/s
MIB = 1024 * 1024


def scenario(kind: str, duration_s: float, rate: float = RATE) -> Scenario:
    """50 pods × 8 workers at ``rate`` req/s (ρ = 0.5 at 10k req/s: 20 ms service)."""
    strategy: dict[str, Any]
    extra: dict[str, Any] = {}
    if kind == "rolling":
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}
    else:
        strategy = {
            "canary": {
                "trafficRouting": {"istio": {}},
                "analysis": {"templates": [{"templateName": "success-rate"}]},
                "steps": [
                    {"setWeight": 5},
                    {"pause": {"duration": "2m"}},
                    {"setWeight": 25},
                    {"pause": {"duration": "2m"}},
                    {"setWeight": 50},
                    {"pause": {"duration": "2m"}},
                ],
            }
        }
        extra["analysisTemplates"] = {
            "success-rate": {
                "metrics": [
                    {
                        "name": "success-rate",
                        "provider": {
                            "simdeploy": {"metric": "success_rate", "of": "canary", "window": "30s"}
                        },
                        "interval": "30s",
                        "successCondition": "result >= 0.99",
                        "failureLimit": 1,
                    }
                ]
            }
        }
    return Scenario.parse(
        {
            "name": f"bench-fluid-{kind}",
            "service": {
                "version": "v1",
                "replicas": PODS,
                "pod": {
                    "concurrency": 8,
                    "startupDelay": {"dist": "uniform", "low": "5s", "high": "10s"},
                    "readinessProbe": {"periodSeconds": 10},
                },
            },
            "traffic": {"rate": rate, "users": 100_000, "timeout": "5s"},
            "versions": {
                "v1": {"serviceTime": {"dist": "exponential", "mean": "20ms"}},
                "v2": {"serviceTime": {"dist": "exponential", "mean": "20ms"}},
            },
            "plan": [{"at": "5m", "action": "deploy", "version": "v2", "strategy": strategy}],
            "simulation": {"duration": f"{duration_s:g}s", "dataPlane": "fluid"},
            **extra,
        }
    )


def timed_run(sc: Scenario) -> tuple[float, int, str]:
    gc.collect()
    t0 = time.perf_counter()
    result = simulate(sc)
    return time.perf_counter() - t0, int(result.record["requests"]), str(result.record["outcome"])


def peak_mib(sc: Scenario) -> float:
    gc.collect()
    tracemalloc.start()
    simulate(sc)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / MIB


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10 simulated minutes, not 1 h")
    args = parser.parse_args(argv)
    hour = 600.0 if args.quick else 3600.0

    run_plain(1.0)  # warm-up
    t0 = time.perf_counter()
    plain = run_plain(PLAIN_S)
    plain_wall = time.perf_counter() - t0
    plain_rps = plain.arrivals / plain_wall
    print(
        f"plain SimPy: {plain.arrivals:,} requests (bench_dataplane's model: {PLAIN_S:g} s at "
        f"1,000 req/s, 10 pods x 8 workers) in {plain_wall:.2f} s: {plain_rps:,.0f} req/s"
    )
    walls, total = 0.0, 0
    for kind in ("rolling", "canary"):
        wall, requests, outcome = timed_run(scenario(kind, hour))
        walls += wall
        total += requests
        print(
            f"fluid {kind:<8}: {hour / 60:g} min, {PODS} pods, {requests:,} requests "
            f"({outcome}) in {wall:.2f} s: {requests / wall:,.0f} request-equivalents/s"
        )
    fluid_rps = total / walls
    short, rate2 = 600.0, 2 * RATE
    print(
        "fluid memory peak (rolling): "
        f"{short / 60:g} min {peak_mib(scenario('rolling', short)):.1f} MiB, "
        f"{hour / 60:g} min {peak_mib(scenario('rolling', hour)):.1f} MiB, "
        f"{rate2:,.0f} req/s for {short / 60:g} min "
        f"{peak_mib(scenario('rolling', short, rate2)):.1f} MiB"
    )
    print(f"ratio: {fluid_rps / plain_rps:.1f}")


if __name__ == "__main__":
    main()
