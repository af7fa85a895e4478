"""The work and memory estimate (``spec/budget.py``): huge scenarios are refused up front,
naming the field to change; every bundled scenario and every small one is accepted."""

from __future__ import annotations

import math
from array import array
from pathlib import Path

import pytest

from simdeploy import load_scenario
from simdeploy.spec import budget
from simdeploy.spec.budget import MAX_BYTES, MAX_SECONDS, estimate, over_budget
from simdeploy.world.recorder import LAT_BINS, Recorder
from tests.conftest import SCENARIOS, errors_of, scenario

CANARY = {"type": "Canary", "rollingUpdate": None}


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_scenarios_are_well_within_the_budget(path: Path) -> None:
    """The module docstring's promise: under 5 s and 50 MiB each (limits: 600 s, 4 GiB)."""
    est = estimate(load_scenario(path))
    assert est.seconds < 5 and est.bytes < 50 * 2**20


@pytest.mark.parametrize(
    ("over", "field", "what"),
    [
        pytest.param(
            {"traffic": {"users": 1e11}},
            "traffic.users",
            "1e11 users; estimated 279 GiB of memory (limit 4 GiB); lower traffic.users",
            id="users-1e11",
        ),
        pytest.param(
            {"simulation": {"duration": 1e9}},
            "traffic.rate",
            "about 1e11 simulated requests (100 req/s for 1e9 s)",
            id="duration-1e9",
        ),
        pytest.param(
            {"simulation": {"bucket": 1e-9}},
            "simulation.bucket",
            "9e10 time buckets (simulation.bucket 1e-09 s over 1.5 min)",
            id="bucket-1e-9",
        ),
        pytest.param(
            {"traffic": {"rate": 1e9}},
            "traffic.rate",
            "about 9e10 simulated requests (1e9 req/s for 1.5 min)",
            id="rate-1e9",
        ),
        pytest.param(
            {
                "traffic": {
                    "rate": None,
                    "profile": {
                        "type": "steps",
                        "steps": [{"at": 0, "rate": 5}, {"at": "30s", "rate": 1e8}],
                    },
                }
            },
            "traffic.profile",
            "a steps profile peaking at 1e8 req/s",
            id="steps-1e8",
        ),
        pytest.param(
            {"service": {"replicas": 1_000_000}},
            "service.replicas",
            "up to 1e6 pods at once",
            id="replicas-1e6",
        ),
        pytest.param(
            {"service": {"strategy": {"rollingUpdate": {"maxSurge": 10**6}}}},
            "service.strategy.rollingUpdate.maxSurge",
            "up to 1e6 pods at once",
            id="max-surge-1e6",
        ),
        pytest.param(
            {
                "plan": [
                    {
                        "at": "10s",
                        "action": "deploy",
                        "version": "v2",
                        "strategy": {
                            "canary": {
                                "trafficRouting": {"istio": {}},
                                "steps": [{"setCanaryScale": {"replicas": 1e6}}, {"setWeight": 20}],
                            }
                        },
                    }
                ]
            },
            "plan[0].strategy.canary.steps[0].setCanaryScale.replicas",
            "up to 1e6 pods at once",
            id="set-canary-scale-1e6",
        ),
        pytest.param(
            {
                "service": {
                    "strategy": {
                        "type": "BlueGreen",
                        "rollingUpdate": None,
                        "blueGreen": {"previewTraffic": 1e8},
                    }
                }
            },
            "traffic.rate",
            "1e8 req/s preview traffic",
            id="preview-traffic-1e8",
        ),
        pytest.param(
            {"service": {"pod": {"readinessProbe": {"periodSeconds": 1e-6}}}},
            "service.pod.readinessProbe.periodSeconds",
            "4.5e8 probes",
            id="probe-every-microsecond",
        ),
        pytest.param(
            # Kayenta samples each version once per step since the analysis began: an hour
            # in 1 s steps is 3600 samples a side, ranked some 150 times (the Brent searches),
            # and that every second: 3601 measurements of about 1.5 s each.
            {
                "simulation": {"duration": "1h"},
                "analysisTemplates": {
                    "t": {
                        "metrics": [
                            {
                                "name": "m",
                                "interval": "1s",
                                "provider": {
                                    "kayenta": {
                                        "step": 1,
                                        "lookback": True,
                                        "thresholds": {"pass": 90, "marginal": 75},
                                        "metrics": [
                                            {"name": "e", "metric": "error_rate", "groups": ["g"]}
                                        ],
                                    }
                                },
                            }
                        ]
                    }
                },
            },
            "analysisTemplates.t.metrics[0].provider.kayenta.step",
            "3,601 measurements of m",
            id="kayenta-1s-steps-every-second-for-an-hour",
        ),
        pytest.param(
            {"traffic": {"timeout": 1e7}, "simulation": {"duration": 1e6}},
            "traffic.rate",
            "about 1e8 simulated requests",
            id="timeout-1e7",
        ),
    ],
)
def test_too_large_is_refused_naming_the_field(over: dict, field: str, what: str) -> None:
    errors = errors_of(**over)
    assert errors, over
    assert errors[0].startswith(f"{field}: too large to simulate: ")
    assert what in errors[0]
    for line in errors:
        assert "too large to simulate" in line and "estimated " in line and "(limit " in line


def test_the_worked_example_of_the_docstring() -> None:
    """``rate: 1e6`` for 10 minutes: 6·10⁸ requests, ~6,000 s of computing."""
    sc = scenario(simulation={"duration": "10m"})
    est = estimate(sc.model_copy(update={"traffic": sc.traffic.model_copy(update={"rate": 1e6})}))
    assert est.parts["requests"].seconds == pytest.approx(6000, rel=0.01)
    assert est.parts["requests"].path == "traffic.rate"


def test_the_limits_are_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scenario estimated exactly at the limit passes; a hair above it is refused."""
    sc = scenario()
    est = estimate(sc)
    monkeypatch.setattr(budget, "MAX_SECONDS", est.seconds)
    monkeypatch.setattr(budget, "MAX_BYTES", est.bytes)
    assert over_budget(sc) == []
    monkeypatch.setattr(budget, "MAX_SECONDS", est.seconds * (1 - 1e-9))
    monkeypatch.setattr(budget, "MAX_BYTES", est.bytes * (1 - 1e-9))
    lines = over_budget(sc)
    assert len(lines) == 2
    assert "of computing (limit" in lines[0] and "of memory (limit" in lines[1]


def test_unbounded_parts_stay_unbounded() -> None:
    """``replicas: 10**400`` (an int beyond float range) is infinitely expensive, not NaN."""
    sc = scenario()
    huge = sc.model_copy(update={"service": sc.service.model_copy(update={"replicas": 10**400})})
    est = estimate(huge)
    assert est.seconds == math.inf and est.bytes == math.inf
    assert "an unbounded time" in over_budget(huge)[0]


def test_the_estimate_covers_the_recorders_arrays() -> None:
    """The bucket part's memory is at least what the recorder allocates per bucket:
    the outcome and shadow counters and a latency histogram per version."""
    sc = scenario(simulation={"duration": "10m", "bucket": "1s"})
    rec = Recorder(tuple(sc.versions), sc.simulation.duration, sc.simulation.bucket, 1)
    hist = [array("i", [0]) * (rec.n_buckets * LAT_BINS) for _ in rec.versions]
    arrays = [*rec.counts, *rec.mirror_counts, rec.arrivals, rec.mirrored, rec.synthetic, *hist]
    allocated = sum(a.itemsize * len(a) for a in arrays)
    assert budget.LATENCY_BINS == LAT_BINS
    assert estimate(sc).parts["buckets"].bytes >= allocated


def test_limits_are_the_documented_ones() -> None:
    assert MAX_SECONDS == 600 and MAX_BYTES == 4 * 2**30
