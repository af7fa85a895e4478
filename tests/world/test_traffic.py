"""Arrivals of the data plane (``world/traffic.py``): the Poisson process ends with the run.

A ``steps`` profile whose last step has rate 0 (or 1e-300) drops every later candidate of
the thinning; before the end time was passed in, the search for the next arrival never ended
(found by tests/frontends/test_fuzz_scenarios.py: ``run`` hung on such a file).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simdeploy import simulate
from simdeploy.world.traffic import arrivals
from tests.conftest import scenario


def _traffic(last_rate: float):
    sc = scenario(
        traffic={
            "rate": None,
            "profile": {
                "type": "steps",
                "steps": [{"at": 0, "rate": 50}, {"at": "10s", "rate": last_rate}],
            },
        }
    )
    return sc.traffic


@pytest.mark.parametrize("last_rate", [0, 1e-300])
def test_arrivals_end_at_the_end_of_the_run(last_rate: float) -> None:
    traffic = _traffic(last_rate)
    gaps = [g for g, _, _ in arrivals(traffic.rate_profile, traffic, np.random.default_rng(1), 30)]
    times = np.cumsum(gaps)
    assert 350 < len(gaps) < 650  # ~50 req/s for 10 s
    assert times[-1] < 10.0


def test_the_end_does_not_change_the_arrivals_before_it() -> None:
    traffic = _traffic(20)
    ended = list(arrivals(traffic.rate_profile, traffic, np.random.default_rng(7), 30.0))
    endless = arrivals(traffic.rate_profile, traffic, np.random.default_rng(7))
    assert ended == list(itertools.islice(endless, len(ended)))
    assert sum(g for g, _, _ in ended) < 30.0


def test_a_run_whose_traffic_stops_completes() -> None:
    result = simulate(
        scenario(
            traffic={
                "rate": None,
                "profile": {
                    "type": "steps",
                    "steps": [{"at": 0, "rate": 50}, {"at": "20s", "rate": 0}],
                },
            },
            simulation={"duration": "60s"},
        )
    )
    tl = result.timeline
    assert tl.loc[tl["t"] >= 21, "requests"].sum() == 0
    assert tl.loc[tl["t"] < 20, "requests"].sum() > 500
