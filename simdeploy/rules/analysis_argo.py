"""Argo Rollouts' analysis rules: measurements, metrics and runs, as pure code.

A SimPy process elsewhere queries the recorder for a metric value now and then and feeds it
here; this module says what that value means. There is no clock, no SimPy and no pandas: times
are plain floats (simulated seconds) passed in by the caller.

Three pieces, each a port of the upstream rules (``argoproj/argo-rollouts``, read, not copied):

1. **Measurements** (:func:`measure`): one value against the two conditions
   (:mod:`simdeploy.rules.analysis_expr`) gives a phase (``EvaluateResult``).
2. **Metrics** (:class:`MetricRun`): the counters of ``analysis/analysis.go: runMeasurements``,
   the phase of ``assessMetricStatus`` (with the ``consecutiveSuccessLimit`` rules of v1.8) and
   the schedule of ``generateMetricTasks`` / ``calculateNextReconcileTime``.
3. **Runs** (:func:`assess_run`): ``assessRunStatus`` — fail fast, worst phase wins
   (:mod:`simdeploy.rules.analysis_phase`), dry-run metrics never count.

No data
-------
A query over a window with too few requests returns *nothing* (``None``). Upstream, the
expression then has nothing to compare, the evaluation errors and the measurement is ``Error``.
``Error`` does not count toward ``count``, is retried 10 s later and fails the metric only on
the 5th error in a row (``consecutiveErrorLimit`` 4). Here: a condition that cannot be
evaluated without data (:class:`~simdeploy.rules.analysis_expr.ConditionEvalError`) makes
:func:`measure` return ``no_data`` — ``Error`` by default, or ``Inconclusive`` / ``Failed`` when
the caller asks. Guarded conditions (``isNil(result) || result >= 0.99``) evaluate normally. A
metric with no condition at all is ``Successful`` whatever the value, as upstream (nothing is
evaluated, so nothing can error). (Flagger treats no data differently:
:mod:`simdeploy.rules.analysis_flagger`.)

NaN is a number: comparisons with it are false, so ``result >= 0.99`` fails and
``result >= 0.95`` with ``result < 0.95`` is ``Inconclusive``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from simdeploy.rules.analysis_expr import Condition, ConditionEvalError
from simdeploy.rules.analysis_phase import Phase, is_worse

__all__ = [
    "DEFAULT_CONSECUTIVE_ERROR_LIMIT",
    "ERROR_RETRY_INTERVAL_S",
    "Measurement",
    "MetricRun",
    "assess_run",
    "measure",
]

DEFAULT_CONSECUTIVE_ERROR_LIMIT: Final = 4
"""Argo's ``DefaultConsecutiveErrorLimit``: the 5th Error in a row makes the metric Error."""

ERROR_RETRY_INTERVAL_S: Final = 10.0
"""Argo's ``DefaultErrorRetryInterval``: an errored measurement is retried 10 s later."""

_MEASUREMENT_PHASES: Final = frozenset(
    {Phase.SUCCESSFUL, Phase.FAILED, Phase.INCONCLUSIVE, Phase.ERROR}
)
"""The phases one finished measurement can have (:meth:`MetricRun.record`)."""

_NO_DATA_PHASES: Final = frozenset({Phase.ERROR, Phase.INCONCLUSIVE, Phase.FAILED})
"""What a measurement without data may be made (``no_data``); Error is upstream's."""


# ============================================================================================
# Measurements
# ============================================================================================


def _measure(
    value: float | None,
    success: Condition | None,
    failure: Condition | None,
    no_data: Phase,
) -> tuple[Phase, str]:
    """``EvaluateResult``; the phase and, for a no-data phase, the reason."""
    if no_data not in _NO_DATA_PHASES:
        raise ValueError(f"no_data must be Error, Inconclusive or Failed, not {no_data}")
    try:
        ok = success.evaluate(value) if success is not None else False
        bad = failure.evaluate(value) if failure is not None else False
    except ConditionEvalError as exc:
        return no_data, str(exc)
    if success is None and failure is None:
        return Phase.SUCCESSFUL, ""
    if failure is None:
        bad = not ok
    elif success is None:
        ok = not bad
    if bad:
        return Phase.FAILED, ""
    if not ok:
        return Phase.INCONCLUSIVE, ""
    return Phase.SUCCESSFUL, ""


def measure(
    value: float | None,
    success: Condition | None,
    failure: Condition | None,
    *,
    no_data: Phase = Phase.ERROR,
) -> Phase:
    """The phase of one measurement (Argo ``EvaluateResult``).

    - only ``success`` set: success → Successful, otherwise Failed;
    - only ``failure`` set: failure → Failed, otherwise Successful;
    - both: failure → Failed (it wins), else success → Successful, else Inconclusive;
    - neither: Successful (nothing is evaluated, so even no data is Successful);
    - a condition that cannot be evaluated because ``value`` is ``None`` (no data) →
      ``no_data``: Error by default (upstream), or Inconclusive / Failed.

    >>> from simdeploy.rules.analysis_expr import parse_condition
    >>> ok, bad = parse_condition("result >= 0.99"), parse_condition("result < 0.95")
    >>> [measure(v, ok, bad) for v in (0.995, 0.97, 0.5, float("nan"), None)]
    [<Phase.SUCCESSFUL: 'Successful'>, <Phase.INCONCLUSIVE: 'Inconclusive'>, \
<Phase.FAILED: 'Failed'>, <Phase.INCONCLUSIVE: 'Inconclusive'>, <Phase.ERROR: 'Error'>]
    >>> measure(None, ok, None, no_data=Phase.INCONCLUSIVE)
    <Phase.INCONCLUSIVE: 'Inconclusive'>
    """
    return _measure(value, success, failure, no_data)[0]


# ============================================================================================
# One metric
# ============================================================================================


@dataclass(frozen=True)
class Measurement:
    """One finished measurement: its phase, when it finished, the value (``None`` = no data)
    and, for an Error, why."""

    phase: Phase
    at: float
    value: float | None = None
    message: str = ""


@dataclass
class MetricRun:
    """One metric of an AnalysisRun: its spec (Argo ``Metric`` fields, in seconds) and the
    state its measurements build up (Argo ``MetricResult``).

    Spec (upstream defaults):

    - ``interval`` [None]: seconds between measurements. No interval and no count: measured
      once. An interval and no count: measured until the run is terminated.
    - ``initial_delay`` [0]: seconds from the run's start to the first measurement.
    - ``count`` [None; 0 means unset]: measurements to take (Errors do not count).
    - ``failure_limit`` [0]: Failed once ``failed > failure_limit``; ``-1`` disables it (then
      ``consecutive_success_limit`` must be set).
    - ``inconclusive_limit`` [0]: Inconclusive once ``inconclusive > inconclusive_limit``.
    - ``consecutive_error_limit`` [4]: Error once ``consecutive_error > limit`` (5th in a row).
    - ``consecutive_success_limit`` [0 = off]: Successful once that many Successful in a row.
    - ``dry_run``: evaluated and counted, but never affects the run (:func:`assess_run`).
    - ``no_data``: the phase of a measurement whose condition needs data and has none.

    Feed it with :meth:`observe` (a value) or :meth:`record` (a phase); both return the
    metric's phase after the measurement (:meth:`assess`). Ask :meth:`next_measurement_at`
    when to measure next. Counters, as ``runMeasurements``: Successful, Failed and
    Inconclusive add 1 to ``counted`` (Argo's ``count``) and reset ``consecutive_error``;
    Error adds 1 to ``error`` and ``consecutive_error`` only; ``consecutive_success`` grows on
    Successful and resets on anything else.

    Example: a background analysis every 60 s that tolerates one failure.

    >>> from simdeploy.rules.analysis_expr import parse_condition
    >>> m = MetricRun("success-rate", success=parse_condition("result >= 0.99"),
    ...               interval=60, failure_limit=1)
    >>> m.next_measurement_at(run_started_at=100.0)
    100.0
    >>> m.observe(0.999, at=100.0), m.next_measurement_at(100.0)
    (<Phase.RUNNING: 'Running'>, 160.0)
    >>> m.observe(0.90, at=160.0), m.observe(None, at=220.0), m.next_measurement_at(100.0)
    (<Phase.RUNNING: 'Running'>, <Phase.RUNNING: 'Running'>, 230.0)
    >>> m.observe(0.80, at=230.0), m.limit_message()
    (<Phase.FAILED: 'Failed'>, 'failed (2) > failureLimit (1)')
    """

    name: str
    success: Condition | None = None
    failure: Condition | None = None
    interval: float | None = None
    initial_delay: float = 0.0
    count: int | None = None
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT
    consecutive_success_limit: int = 0
    dry_run: bool = False
    no_data: Phase = Phase.ERROR

    counted: int = field(default=0, init=False)
    successful: int = field(default=0, init=False)
    failed: int = field(default=0, init=False)
    inconclusive: int = field(default=0, init=False)
    error: int = field(default=0, init=False)
    consecutive_error: int = field(default=0, init=False)
    consecutive_success: int = field(default=0, init=False)
    measurements: list[Measurement] = field(default_factory=list, init=False)
    phase: Phase | None = field(default=None, init=False)
    """The completed phase once reached; it never changes afterwards (upstream keeps it)."""

    def __post_init__(self) -> None:
        def bad(what: str) -> ValueError:
            return ValueError(f"metric {self.name!r}: {what}")

        if self.interval is not None and not self.interval > 0:
            raise bad(f"interval must be > 0 seconds, got {self.interval}")
        if not self.initial_delay >= 0:
            raise bad(f"initialDelay must be >= 0 seconds, got {self.initial_delay}")
        if self.count is not None and self.count < 0:
            raise bad(f"count must be >= 0, got {self.count}")
        if self.failure_limit < -1:
            raise bad(f"failureLimit must be >= -1 (-1 disables it), got {self.failure_limit}")
        if self.inconclusive_limit < 0:
            raise bad(f"inconclusiveLimit must be >= 0, got {self.inconclusive_limit}")
        if self.consecutive_error_limit < 0:
            raise bad(f"consecutiveErrorLimit must be >= 0, got {self.consecutive_error_limit}")
        if self.consecutive_success_limit < 0:
            raise bad(f"consecutiveSuccessLimit must be >= 0, got {self.consecutive_success_limit}")
        if self.failure_limit < 0 and self.consecutive_success_limit <= 0:
            raise bad(
                "failureLimit is disabled (-1), so consecutiveSuccessLimit must be > 0: "
                "one of them has to apply"
            )
        count = self.count or 0
        if count > 1 and self.interval is None:
            raise bad("interval must be specified when count > 1")
        if count > 0:
            for label, limit in (
                ("failureLimit", self.failure_limit),
                ("inconclusiveLimit", self.inconclusive_limit),
                ("consecutiveSuccessLimit", self.consecutive_success_limit),
            ):
                if count < limit:
                    raise bad(f"count must be >= {label} ({count} < {limit})")
        if self.no_data not in _NO_DATA_PHASES:
            raise bad(f"no_data must be Error, Inconclusive or Failed, not {self.no_data}")

    @property
    def effective_count(self) -> int | None:
        """Measurements to take (Argo ``EffectiveCount``): ``count`` if set (non-zero), 1 when
        there is no interval either, else None (measure until terminated)."""
        if self.count:
            return self.count
        return 1 if self.interval is None else None

    def observe(self, value: float | None, at: float) -> Phase:
        """Measure ``value`` (``None`` = no data) at time ``at`` against the metric's
        conditions (:func:`measure`), record it and return the metric's phase."""
        phase, message = _measure(value, self.success, self.failure, self.no_data)
        return self.record(phase, at, value=value, message=message)

    def record(
        self, phase: Phase, at: float, *, value: float | None = None, message: str = ""
    ) -> Phase:
        """Record a finished measurement of ``phase`` at time ``at`` and return the metric's
        phase (:meth:`assess`, not terminating). ValueError once the metric has completed:
        upstream takes no further measurements of a completed metric."""
        phase = Phase(phase)
        if self.phase is not None:
            raise ValueError(
                f"metric {self.name!r} already completed ({self.phase}); "
                "no further measurements are taken"
            )
        if phase not in _MEASUREMENT_PHASES:
            raise ValueError(
                f"a measurement ends Successful, Failed, Inconclusive or Error: {phase}"
            )
        if phase is Phase.ERROR:
            self.error += 1
            self.consecutive_error += 1
            self.consecutive_success = 0
        else:
            self.counted += 1
            self.consecutive_error = 0
            if phase is Phase.SUCCESSFUL:
                self.successful += 1
                self.consecutive_success += 1
            else:
                self.consecutive_success = 0
                if phase is Phase.FAILED:
                    self.failed += 1
                else:
                    self.inconclusive += 1
        self.measurements.append(Measurement(phase, at, value, message))
        return self.assess()

    def limit_violation(self) -> tuple[Phase | None, str]:
        """``assessMetricFailureInconclusiveOrError``: the phase a limit forces, and why.

        Checked in this order, a later match overriding an earlier one: ``failed >
        failureLimit`` (unless -1) → Failed; ``inconclusive > inconclusiveLimit`` →
        Inconclusive; ``consecutiveError > consecutiveErrorLimit`` → Error. ``(None, "")``
        when no limit is exceeded.
        """
        phase: Phase | None = None
        message = ""
        if self.failure_limit >= 0 and self.failed > self.failure_limit:
            phase = Phase.FAILED
            message = f"failed ({self.failed}) > failureLimit ({self.failure_limit})"
        if self.inconclusive > self.inconclusive_limit:
            phase = Phase.INCONCLUSIVE
            message = (
                f"inconclusive ({self.inconclusive}) > "
                f"inconclusiveLimit ({self.inconclusive_limit})"
            )
        if self.consecutive_error > self.consecutive_error_limit:
            phase = Phase.ERROR
            message = (
                f"consecutiveErrors ({self.consecutive_error}) > "
                f"consecutiveErrorLimit ({self.consecutive_error_limit})"
            )
        return phase, message

    def limit_message(self) -> str:
        """Why a limit completed the metric, in upstream's words (``failed (1) > failureLimit
        (0)``), or ``""`` when no limit is exceeded: the message of
        ``assessMetricFailureInconclusiveOrError`` and nothing else. A metric that completes
        because its count was reached, or ``consecutiveSuccessLimit`` was not reached in time
        (Failed or Inconclusive), or because the run was terminated, states no reason, as
        upstream (whose log line for those cases never reaches the run's message)."""
        return self.limit_violation()[1]

    def assess(self, *, terminating: bool = False) -> Phase:
        """The metric's phase, as ``assessMetricStatus``; a completed phase is kept.

        In order: a completed phase stays; no measurement yet → Pending (Successful when the
        run is terminating); a limit exceeded (:meth:`limit_violation`) → its phase;
        ``consecutiveSuccessLimit`` set and reached → Successful; the count reached →
        Inconclusive when both ``failureLimit`` (not -1) and ``consecutiveSuccessLimit`` apply,
        Failed when only ``consecutiveSuccessLimit`` applies, Successful otherwise; else Running
        (Successful when terminating). All limits are strict "greater than".
        """
        if self.phase is not None:
            return self.phase
        phase = self._assess(terminating)
        if phase.completed:
            self.phase = phase
        return phase

    def _assess(self, terminating: bool) -> Phase:
        if not self.measurements:
            return Phase.SUCCESSFUL if terminating else Phase.PENDING
        forced, _ = self.limit_violation()
        if forced is not None:
            return forced
        success_applies = self.consecutive_success_limit > 0
        if success_applies and self.consecutive_success >= self.consecutive_success_limit:
            return Phase.SUCCESSFUL
        target = self.effective_count
        if target is not None and self.counted >= target:
            failure_applies = self.failure_limit >= 0
            if failure_applies and success_applies:
                return Phase.INCONCLUSIVE
            if success_applies:
                return Phase.FAILED
            return Phase.SUCCESSFUL
        return Phase.SUCCESSFUL if terminating else Phase.RUNNING

    @property
    def last_message(self) -> str:
        """The last measurement's message (an Error's reason), or ``""``."""
        return self.measurements[-1].message if self.measurements else ""

    def next_measurement_at(
        self, run_started_at: float, *, terminating: bool = False
    ) -> float | None:
        """When the next measurement is due, or None when no more will be taken.

        - completed, or the run terminating: None;
        - nothing measured yet: ``run_started_at + initial_delay``;
        - count reached: None;
        - the last measurement errored: 10 s after it, whatever the interval;
        - an interval: ``interval`` after the last measurement finished;
        - otherwise (measured once, no interval): None.

        Upstream measures when ``now`` is *after* the due time; the controller is requeued for
        exactly that time, so a simulation measures at it.
        """
        if terminating or self.assess().completed:
            return None
        if not self.measurements:
            return run_started_at + self.initial_delay
        target = self.effective_count
        if target is not None and self.counted >= target:
            return None
        last = self.measurements[-1]
        if last.phase is Phase.ERROR:
            return last.at + ERROR_RETRY_INTERVAL_S
        if self.interval is not None:
            return last.at + self.interval
        return None


# ============================================================================================
# A run of metrics
# ============================================================================================


def _terminating(metrics: Sequence[MetricRun], terminate: bool) -> bool:
    """``IsTerminating``: asked to stop, or a non-dry-run metric Failed, Errored or is
    Inconclusive (fail fast)."""
    bad = (Phase.FAILED, Phase.ERROR, Phase.INCONCLUSIVE)
    return terminate or any(not m.dry_run and m.assess() in bad for m in metrics)


def assess_run(metrics: Sequence[MetricRun], *, terminate: bool = False) -> tuple[Phase, str]:
    """The phase of an AnalysisRun and its message, as ``assessRunStatus``.

    - The run is *terminating* when ``terminate`` is set (the rollout stopped it, e.g. a
      background analysis on full promotion) or a non-dry-run metric is Failed, Error or
      Inconclusive: fail fast. Terminating metrics that have not failed become Successful, and
      :meth:`MetricRun.next_measurement_at` should be asked with ``terminating=True``.
    - Not terminating: Running while any metric is incomplete (dry-run ones included).
    - Then the worst completed phase of the non-dry-run metrics (:data:`PHASE_ORDER`); dry-run
      metrics only ever contribute Successful. A terminated run with no failure is Successful.
    - The message comes from the first metric with the worst phase that exceeded a limit:
      ``Metric "m" assessed Failed due to failed (1) > failureLimit (0)``, with
      ``: "Error Message: ..."`` appended when its last measurement had one. A worse metric
      that exceeded no limit (count reached without enough consecutive successes) leaves the
      message as it was, as upstream does: ``""``, a less bad metric's reason, or ``Run
      Terminated`` for a terminated run; ``""`` while running.

    Upstream reaches the terminated result one reconcile after the failure (it reads the stored
    metric phases first); that reconcile follows at once, so here both happen in one call.

    >>> from simdeploy.rules.analysis_expr import parse_condition
    >>> ok = parse_condition("result >= 0.99")
    >>> a = MetricRun("a", success=ok, interval=60)           # background, runs forever
    >>> b = MetricRun("b", success=ok, count=2, interval=60)
    >>> _ = a.observe(0.999, at=0), b.observe(0.999, at=0)
    >>> assess_run([a, b])
    (<Phase.RUNNING: 'Running'>, '')
    >>> _ = b.observe(0.5, at=60)
    >>> assess_run([a, b])
    (<Phase.FAILED: 'Failed'>, 'Metric "b" assessed Failed due to failed (1) > failureLimit (0)')
    >>> a.phase                                                # stopped, not failed
    <Phase.SUCCESSFUL: 'Successful'>
    """
    if not metrics:
        raise ValueError("an analysis run needs at least one metric")
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise ValueError(f"metric names must be unique: {names}")
    terminating = _terminating(metrics, terminate)
    worst_phase: Phase | None = None
    message = "Run Terminated" if terminate else ""
    everything_completed = True
    for m in metrics:
        phase = m.assess(terminating=terminating)
        if not phase.completed:
            everything_completed = False
            continue
        if m.dry_run:
            if worst_phase is None:
                worst_phase = Phase.SUCCESSFUL
            continue
        if worst_phase is None or is_worse(worst_phase, phase):
            worst_phase = phase
            reason = m.limit_message()
            if reason:
                message = f'Metric "{m.name}" assessed {phase} due to {reason}'
                if m.last_message:
                    message += f': "Error Message: {m.last_message}"'
    if terminating:
        return worst_phase or Phase.SUCCESSFUL, message
    if not everything_completed or worst_phase is None:
        return Phase.RUNNING, ""
    return worst_phase, message
