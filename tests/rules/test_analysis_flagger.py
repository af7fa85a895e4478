"""Table tests for simdeploy.rules.analysis_flagger.

Rows follow fluxcd/flagger ``pkg/controller/scheduler.go`` (rollback test before the checks)
and ``scheduler_metrics.go``.
"""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from simdeploy.rules import analysis_flagger
from simdeploy.rules.analysis_flagger import (
    REQUEST_DURATION,
    REQUEST_SUCCESS_RATE,
    FlaggerChecks,
    FlaggerTick,
    ThresholdRange,
    check_range,
    legacy_threshold_range,
)

NAN = float("nan")
INF = float("inf")


# ============================================================================================
# Flagger
# ============================================================================================


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        pytest.param(0, 1, id="unset-is-1"),
        pytest.param(-3, 1, id="negative-is-1"),
        pytest.param(1, 1, id="one"),
        pytest.param(10, 10, id="ten"),
    ],
)
def test_flagger_threshold_default(threshold: int, expected: int) -> None:
    assert FlaggerChecks(threshold=threshold).threshold == expected
    assert FlaggerChecks().threshold == 1


SR, RD = REQUEST_SUCCESS_RATE, REQUEST_DURATION


@pytest.mark.parametrize(
    ("values", "ranges", "passed", "reason"),
    [
        pytest.param({SR: 99.5}, {SR: (99, None)}, True, None, id="success-rate-above-min"),
        pytest.param({SR: 99.0}, {SR: (99, None)}, True, None, id="success-rate-min-inclusive"),
        pytest.param(
            {SR: 98.9},
            {SR: (99, None)},
            False,
            "request-success-rate 98.9% < 99%",
            id="success-rate-below-min",
        ),
        pytest.param({RD: 500}, {RD: (None, 500)}, True, None, id="duration-max-inclusive"),
        pytest.param(
            {RD: 501},
            {RD: (None, 500)},
            False,
            "request-duration 501ms > 500ms",
            id="duration-above-max",
        ),
        pytest.param({"errors": 5}, {"errors": (1, 10)}, True, None, id="custom-in-range"),
        pytest.param(
            {"errors": 0.5},
            {"errors": ThresholdRange(1, 10)},
            False,
            "errors 0.5 < 1",
            id="custom-below",
        ),
        pytest.param(
            {"errors": 11},
            {"errors": ThresholdRange(max=10)},
            False,
            "errors 11 > 10",
            id="custom-above",
        ),
        pytest.param(
            {},
            {SR: (99, None)},
            False,
            "no values found for metric request-success-rate",
            id="missing-value-fails",
        ),
        pytest.param({SR: None}, {SR: (99, None)}, False, "no values found", id="no-data-fails"),
        pytest.param(
            {SR: None},
            {SR: (None, None)},
            False,
            "no values found",
            id="no-data-fails-without-range",
        ),
        pytest.param({SR: 0.0}, {SR: (None, None)}, True, None, id="no-range-passes-any-value"),
        pytest.param({SR: NAN}, {SR: (99, None)}, True, None, id="nan-passes-like-upstream"),
        pytest.param(
            {SR: 50, RD: 900},
            {SR: (99, None), RD: (None, 500)},
            False,
            "request-success-rate 50% < 99%",
            id="first-failing-metric-reported",
        ),
        pytest.param(
            {SR: 99.9, RD: 900},
            {SR: (99, None), RD: (None, 500)},
            False,
            "request-duration 900ms > 500ms",
            id="second-metric-fails",
        ),
        pytest.param(
            {SR: 99.9, "other": -1}, {SR: (99, None)}, True, None, id="values-without-range-ignored"
        ),
    ],
)
def test_flagger_check(
    values: dict[str, float | None], ranges: dict[str, Any], passed: bool, reason: str | None
) -> None:
    fc = FlaggerChecks(threshold=5)
    assert fc.check(values, ranges) is passed
    assert fc.failed_checks == (0 if passed else 1)  # at most one per tick
    if reason is None:
        assert fc.last_failure is None
    else:
        assert fc.last_failure is not None and fc.last_failure.startswith(reason)


A, H, R = FlaggerTick.ADVANCE, FlaggerTick.HALT, FlaggerTick.ROLLBACK
GOOD, LOW = 99.9, 90.0


@pytest.mark.parametrize(
    ("threshold", "values", "expected"),
    [
        pytest.param(1, [LOW, GOOD], [H, R], id="threshold-1-rollback-on-next-tick"),
        pytest.param(0, [LOW, GOOD], [H, R], id="threshold-unset-is-1"),
        pytest.param(2, [LOW, GOOD, LOW, GOOD], [H, A, H, R], id="cumulative-not-reset-by-success"),
        pytest.param(2, [None, None, GOOD], [H, H, R], id="no-data-counts-as-failed-check"),
        pytest.param(
            3, [GOOD, LOW, None, GOOD, LOW, GOOD], [A, H, H, A, H, R], id="mixed-bad-and-no-data"
        ),
        pytest.param(5, [LOW] * 6, [H] * 5 + [R], id="rollback-after-threshold-intervals"),
        pytest.param(2, [GOOD] * 4, [A] * 4, id="all-good-advances"),
        pytest.param(1, [LOW, LOW, LOW], [H, R, R], id="rollback-repeats-without-checks"),
    ],
)
def test_flagger_tick_order(
    threshold: int, values: list[float | None], expected: list[FlaggerTick]
) -> None:
    fc = FlaggerChecks(threshold=threshold)
    ranges = {SR: ThresholdRange(min=99)}
    got = [fc.tick({SR: v}, ranges) for v in values]
    assert got == expected
    assert fc.failed_checks == sum(1 for t in got if t is H)  # rollback ticks run no checks


def test_flagger_threshold_reached_rolls_back_only_on_next_tick() -> None:
    fc = FlaggerChecks(threshold=2)
    ranges = {SR: (99, None)}
    fc.tick({SR: LOW}, ranges)
    assert not fc.should_rollback()
    assert fc.tick({SR: LOW}, ranges) is H  # the threshold-th failure halts ...
    assert fc.should_rollback()  # ... and is acted on at the start of the next tick
    assert fc.tick({SR: GOOD}, ranges) is R


@pytest.mark.parametrize(
    ("first_tick", "webhooks_ok", "value", "expected", "failed", "reason"),
    [
        pytest.param(True, True, None, A, 0, None, id="first-tick-queries-no-metric"),
        pytest.param(
            True, False, GOOD, H, 1, "pre-rollout webhook failed", id="pre-rollout-webhook-fails"
        ),
        pytest.param(
            False, False, GOOD, H, 1, "rollout webhook failed", id="rollout-webhook-fails"
        ),
        pytest.param(False, True, None, H, 1, "no values found", id="later-tick-queries-metrics"),
    ],
)
def test_flagger_first_tick_and_webhooks(
    first_tick: bool,
    webhooks_ok: bool,
    value: float | None,
    expected: FlaggerTick,
    failed: int,
    reason: str | None,
) -> None:
    fc = FlaggerChecks(threshold=3)
    assert (
        fc.tick({SR: value}, {SR: (99, None)}, first_tick=first_tick, webhooks_ok=webhooks_ok)
        is expected
    )
    assert fc.failed_checks == failed
    assert (fc.last_failure or "").startswith(reason or "")


def test_flagger_new_revision_resets() -> None:
    fc = FlaggerChecks(threshold=1)
    fc.tick({SR: LOW}, {SR: (99, None)})
    assert fc.should_rollback()
    fc.reset()
    assert (fc.failed_checks, fc.last_failure, fc.should_rollback()) == (0, None, False)
    with pytest.raises(ValueError):
        FlaggerChecks(failed_checks=-1)


@pytest.mark.parametrize(
    ("name", "threshold", "expected"),
    [
        pytest.param(SR, 99, ThresholdRange(min=99), id="success-rate-threshold-is-min"),
        pytest.param(RD, 500, ThresholdRange(max=500), id="duration-threshold-is-max"),
        pytest.param("custom", 5, ThresholdRange(max=5), id="custom-threshold-is-max"),
    ],
)
def test_legacy_threshold_range(name: str, threshold: float, expected: ThresholdRange) -> None:
    assert legacy_threshold_range(name, threshold) == expected


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        pytest.param(1.0, (None, None), None, id="unbounded"),
        pytest.param(-INF, (0, None), "m -inf < 0", id="minus-inf-below"),
        pytest.param(INF, (None, 1e9), "m inf > 1e+09", id="inf-above"),
        pytest.param(NAN, (0, 1), None, id="nan-outside-no-range"),
    ],
)
def test_check_range_edges(
    value: float, bounds: tuple[float | None, float | None], expected: str | None
) -> None:
    assert check_range("m", value, bounds) == expected


# ============================================================================================
# Docstring examples
# ============================================================================================


def test_docstring_examples() -> None:
    result = doctest.testmod(analysis_flagger, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8
    assert result.failed == 0
