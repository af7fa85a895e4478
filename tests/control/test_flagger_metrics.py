"""What a Flagger metric measures (control/strategies/flagger.py ``metric_value``).

Flagger's built-ins: ``request-success-rate`` in percent and ``request-duration`` as the p99
in milliseconds; any other metric names a ``query`` (a MetricTemplate), scaled into the
units of its ``thresholdRange``. Each is read over the metric's ``interval`` up to now, for
the version asked (the canary), and is no data below ``minRequests`` (the larger of the
metric's and its query's).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from simdeploy.control.analysis import query
from simdeploy.control.strategies.flagger import metric_value
from simdeploy.spec.progressive import FlaggerMetric
from simdeploy.world import recorder as rec

NOW = 60.0


def recorder() -> rec.Recorder:
    """60 one-second buckets. v2 (the canary): 10 requests a second of 250 ms, all fine in
    [0, 30 s), 2 of the 10 failing in [30, 60 s); v1: 10 a second of 100 ms, all fine."""
    r = rec.Recorder(("v1", "v2"), NOW, 1.0)
    for b in range(60):
        for v, latency_s, errors in (("v1", 0.1, 0), ("v2", 0.25, 2 if b >= 30 else 0)):
            col = r.version_index[v]
            for i in range(10):
                outcome = rec.I_APP_ERROR if i < errors else rec.I_OK
                r.count(b, col, outcome, latency_s, i)
    return r


def value(version: str = "v2", **metric: Any) -> float | None:
    world = SimpleNamespace(env=SimpleNamespace(now=NOW), recorder=recorder())
    m = FlaggerMetric.model_validate({"thresholdRange": {"min": 0}, **metric})
    return metric_value(world, m, version)  # type: ignore[arg-type]


def test_the_success_rate_is_in_percent_over_the_interval() -> None:
    assert value(name="request-success-rate", interval="30s") == pytest.approx(80.0)
    assert value(name="request-success-rate", interval="60s") == pytest.approx(90.0)
    assert value("v1", name="request-success-rate", interval="30s") == pytest.approx(100.0)


def test_the_request_duration_is_the_p99_in_milliseconds() -> None:
    assert value(name="request-duration", interval="30s") == pytest.approx(250, rel=0.01)
    # Exactly the recorder's p99 (its bins are within 1%), times 1000.
    p99_s = query(recorder(), "v2", "latency_p99", NOW, 30.0, 1)
    assert p99_s is not None
    assert value(name="request-duration", interval="30s") == 1000.0 * p99_s
    assert value("v1", name="request-duration", interval="30s") == pytest.approx(100, rel=0.01)
    # 300 requests in the last 30 s: fewer than minRequests is no data.
    assert value(name="request-duration", interval="30s", minRequests=300) is not None
    assert value(name="request-duration", interval="30s", minRequests=301) is None


def error_rate(**query: Any) -> dict[str, Any]:
    return {"name": "error-rate", "interval": "30s", "query": {"metric": "error_rate", **query}}


def test_a_query_metric_reads_its_query_over_the_interval_scaled() -> None:
    assert value(**error_rate()) == pytest.approx(0.2)
    assert value(**error_rate(scale=100)) == pytest.approx(20.0)
    assert value("v1", **error_rate(scale=100)) == 0.0
    assert value(**{**error_rate(), "interval": "60s"}) == pytest.approx(0.1)


def test_a_query_metric_needs_the_larger_of_both_min_requests() -> None:
    assert value(**error_rate(minRequests=300)) is not None
    assert value(**error_rate(minRequests=301)) is None
    assert value(**error_rate(), minRequests=301) is None
    assert value(**error_rate(minRequests=5), minRequests=300) == pytest.approx(0.2)
