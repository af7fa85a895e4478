"""Durations as the scenario file spells them (``250ms``, ``5m``, ``1m30s``, bare seconds).

Every ``Duration`` field of :mod:`simdeploy.spec.base` parses with these rules.
"""

from __future__ import annotations

import pytest

from simdeploy.rules.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("250ms", 0.25, id="milliseconds"),
        pytest.param("30s", 30.0, id="seconds-suffix"),
        pytest.param("5m", 300.0, id="minutes"),
        pytest.param("1h", 3600.0, id="hours"),
        pytest.param("1m30s", 90.0, id="compound"),
        pytest.param(12, 12.0, id="bare-int-is-seconds"),
        pytest.param("2.5", 2.5, id="numeric-string-is-seconds"),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["5x", "-3", "", "s", True, None, "1m-2s"])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(bad)


def test_format_duration_round_trips_common_values() -> None:
    for s in (0.25, 30, 90, 3600, 5400):
        assert parse_duration(format_duration(s)) == pytest.approx(s)
