"""Flagger's check loop, as pure code: cumulative failed checks against ``threshold``, and
the built-in metrics' range checks.

A port of ``fluxcd/flagger`` (read, not copied): ``failedChecks`` is cumulative and is tested
against ``threshold`` at the *start* of a tick, before any check runs
(``pkg/controller/scheduler.go: advanceCanary``; :class:`FlaggerChecks`), and each metric value
is checked against its range as ``scheduler_metrics.go`` does (:func:`check_range`). The SimPy
process that queries the metrics every ``analysis.interval`` lives with the Flagger strategy;
this module says what the values mean. There is no clock, no SimPy and no pandas.

No data
-------
A query over a window with too few requests returns *nothing* (``None``). "No values found"
halts the tick and counts as a failed check, exactly like a value outside the range
(:meth:`FlaggerChecks.check`) — unlike Argo, where no data is an ``Error`` that is retried
(:mod:`simdeploy.rules.analysis_argo`).

A NaN is outside no range (``val < min`` is false), so it *passes* — upstream's behaviour, kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

__all__ = [
    "REQUEST_DURATION",
    "REQUEST_SUCCESS_RATE",
    "FlaggerChecks",
    "FlaggerTick",
    "ThresholdRange",
    "check_range",
    "legacy_threshold_range",
]

REQUEST_SUCCESS_RATE: Final = "request-success-rate"
"""Flagger built-in metric: percentage (0-100) of non-5xx responses; fails below ``min``."""

REQUEST_DURATION: Final = "request-duration"
"""Flagger built-in metric: request duration in milliseconds; fails above ``max``."""


class ThresholdRange(NamedTuple):
    """Flagger ``thresholdRange``: a check fails when the value is below ``min`` or above
    ``max``; either bound may be absent. A plain ``(min, max)`` tuple works too."""

    min: float | None = None
    max: float | None = None


def legacy_threshold_range(metric_name: str, threshold: float) -> ThresholdRange:
    """The range the deprecated ``threshold`` field means: a minimum for
    ``request-success-rate``, a maximum for ``request-duration`` and custom queries.

    >>> legacy_threshold_range(REQUEST_SUCCESS_RATE, 99)
    ThresholdRange(min=99, max=None)
    """
    if metric_name == REQUEST_SUCCESS_RATE:
        return ThresholdRange(min=threshold)
    return ThresholdRange(max=threshold)


_UNITS: Final = {REQUEST_SUCCESS_RATE: "%", REQUEST_DURATION: "ms"}


def check_range(
    name: str, value: float | None, bounds: ThresholdRange | tuple[float | None, float | None]
) -> str | None:
    """One Flagger metric check: None when it passes, else why it halts the canary.

    No data (``None``) fails ("no values found"). Otherwise the value fails when it is below
    ``min`` or above ``max`` (the bounds themselves pass). A NaN fails neither comparison and
    passes, as upstream. ``request-success-rate`` is a percentage (0-100) and
    ``request-duration`` milliseconds; the comparison is the same.

    >>> check_range(REQUEST_SUCCESS_RATE, 97.5, (99, None))
    'request-success-rate 97.5% < 99%'
    >>> check_range(REQUEST_DURATION, 480, (None, 500)) is None
    True
    >>> check_range(REQUEST_DURATION, None, (None, 500))
    'no values found for metric request-duration'
    """
    if value is None:
        return f"no values found for metric {name}"
    low, high = bounds
    unit = _UNITS.get(name, "")
    if low is not None and value < low:
        return f"{name} {value:g}{unit} < {low:g}{unit}"
    if high is not None and value > high:
        return f"{name} {value:g}{unit} > {high:g}{unit}"
    return None


class FlaggerTick(StrEnum):
    """What one Flagger analysis tick decided."""

    ROLLBACK = "rollback"
    """``failedChecks >= threshold`` at the start of the tick: roll back, no checks run."""
    HALT = "halt"
    """A check failed: ``failedChecks`` + 1, the weight does not move this tick."""
    ADVANCE = "advance"
    """Every check passed: the tick goes on to advance the weight (or promote)."""


@dataclass
class FlaggerChecks:
    """Flagger's failed-check accounting for one canary revision.

    ``threshold`` is ``analysis.threshold`` (1 when unset or <= 0, as
    ``GetAnalysisThreshold``). ``failed_checks`` is **cumulative**: a passing tick never
    lowers it; only a new revision does (:meth:`reset`).

    Order within a tick (``advanceCanary``, phase Progressing or WaitingPromotion):

    1. rollback test: ``failed_checks >= threshold`` → roll back, before any metric is
       queried (:meth:`should_rollback`);
    2. checks: on the first progressing tick (weight 0, no iterations, not mirroring) only the
       pre-rollout webhooks; otherwise the rollout webhooks, then the metrics in order. The
       first failure — a value out of range *or no values found* — adds 1 to
       ``failed_checks`` and ends the tick (:meth:`check`);
    3. all passed: the tick advances.

    So the threshold-th failure is not acted on in its own tick: the rollback comes on the next
    one, and time to roll back from the first failure is ``threshold`` intervals.
    :meth:`tick` runs the three steps in this order.

    >>> fc = FlaggerChecks(threshold=2)
    >>> ranges = {REQUEST_SUCCESS_RATE: (99, None)}
    >>> [fc.tick({REQUEST_SUCCESS_RATE: v}, ranges) for v in (99.5, 90.0, 99.9, None, 99.9)]
    [<FlaggerTick.ADVANCE: 'advance'>, <FlaggerTick.HALT: 'halt'>, \
<FlaggerTick.ADVANCE: 'advance'>, <FlaggerTick.HALT: 'halt'>, <FlaggerTick.ROLLBACK: 'rollback'>]
    >>> fc.failed_checks, fc.last_failure
    (2, 'no values found for metric request-success-rate')
    """

    threshold: int = 1
    failed_checks: int = 0
    last_failure: str | None = None
    """Why the last failed check failed (``None`` until one does)."""

    def __post_init__(self) -> None:
        if self.threshold <= 0:
            self.threshold = 1
        if self.failed_checks < 0:
            raise ValueError(f"failed_checks must be >= 0, got {self.failed_checks}")

    def should_rollback(self) -> bool:
        """``failedChecks >= threshold``: checked at the start of a tick, before the checks."""
        return self.failed_checks >= self.threshold

    def check(
        self,
        metric_values: Mapping[str, float | None],
        ranges: Mapping[str, ThresholdRange | tuple[float | None, float | None]],
    ) -> bool:
        """Run the metric checks of one tick; on the first failure add 1 to
        ``failed_checks``, remember why and return False.

        ``ranges`` lists the canary's metrics in order with their bounds; each needs a value
        in ``metric_values``, and a missing key counts like ``None``: no values found, a failed
        check. Values of metrics not in ``ranges`` are ignored. One tick adds at most 1, however
        many metrics fail.
        """
        for name, bounds in ranges.items():
            failure = check_range(name, metric_values.get(name), bounds)
            if failure is not None:
                return self._fail(failure)
        return True

    def _fail(self, reason: str) -> bool:
        self.failed_checks += 1
        self.last_failure = reason
        return False

    def tick(
        self,
        metric_values: Mapping[str, float | None],
        ranges: Mapping[str, ThresholdRange | tuple[float | None, float | None]],
        *,
        first_tick: bool = False,
        webhooks_ok: bool = True,
    ) -> FlaggerTick:
        """One analysis tick in Flagger's order (see the class doc).

        ``first_tick``: the first progressing tick (weight 0, no iterations, not mirroring),
        where only pre-rollout webhooks run and no metric is queried. ``webhooks_ok``: whether
        the webhooks of this tick (pre-rollout or rollout) passed; a failing webhook is a failed
        check like a failing metric, and it runs before the metrics.
        """
        if self.should_rollback():
            return FlaggerTick.ROLLBACK
        if not webhooks_ok:
            hook = "pre-rollout" if first_tick else "rollout"
            self._fail(f"{hook} webhook failed")
            return FlaggerTick.HALT
        if not first_tick and not self.check(metric_values, ranges):
            return FlaggerTick.HALT
        return FlaggerTick.ADVANCE

    def reset(self) -> None:
        """A new revision restarts the analysis: ``failed_checks`` back to 0."""
        self.failed_checks = 0
        self.last_failure = None
