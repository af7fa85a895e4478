"""Table tests for simdeploy.rules.analysis_argo (and the phases of analysis_phase).

Metric rows marked ``upstream-`` are ported from argo-rollouts ``analysis/analysis_test.go``
(TestAssessMetricStatusNoMeasurements, ...FailureLimit, ...InconclusiveLimit,
...ConsecutiveErrors, ...CountReached, TestGenerateMetricTasks*, TestCalculateNextReconcile*,
TestAssessRunStatus*) and ``utils/evaluate/evaluate_test.go``; the ``consecutiveSuccessLimit``
rows follow the v1.8 docs ("ConsecutiveSuccessLimit and FailureLimit").
"""

from __future__ import annotations

import doctest
from collections.abc import Sequence
from typing import Any

import pytest

from simdeploy.rules import analysis_argo, analysis_phase
from simdeploy.rules.analysis_argo import (
    DEFAULT_CONSECUTIVE_ERROR_LIMIT,
    ERROR_RETRY_INTERVAL_S,
    Measurement,
    MetricRun,
    assess_run,
    measure,
)
from simdeploy.rules.analysis_expr import Condition, parse_condition
from simdeploy.rules.analysis_phase import PHASE_ORDER, Phase, is_worse, worst

S, F, INC, E = Phase.SUCCESSFUL, Phase.FAILED, Phase.INCONCLUSIVE, Phase.ERROR
NAN = float("nan")
INF = float("inf")


def cond(text: str | None) -> Condition | None:
    return None if text is None else parse_condition(text)


def metric(name: str = "m", *, phases: Sequence[Phase] = (), **spec: Any) -> MetricRun:
    """A MetricRun with ``phases`` recorded 60 s apart from t=0 (spec in snake_case)."""
    for key in ("success", "failure"):
        if isinstance(spec.get(key), str):
            spec[key] = parse_condition(spec[key])
    m = MetricRun(name, **spec)
    for i, p in enumerate(phases):
        m.record(p, at=60.0 * i)
    return m


# ============================================================================================
# measure(): one value against success/failure conditions
# ============================================================================================

OK = "result >= 0.99"
BAD = "result < 0.95"


@pytest.mark.parametrize(
    ("success", "failure", "value", "expected"),
    [
        pytest.param(None, None, 0.5, S, id="neither-set-successful"),
        pytest.param(None, None, NAN, S, id="neither-set-nan-successful"),
        pytest.param(None, None, None, S, id="neither-set-no-data-successful"),
        pytest.param(OK, None, 0.995, S, id="success-only-met"),
        pytest.param(OK, None, 0.9, F, id="success-only-unmet-is-failed"),
        pytest.param(OK, None, NAN, F, id="success-only-nan-failed"),
        pytest.param(OK, None, None, E, id="success-only-no-data-error"),
        pytest.param(None, BAD, 0.9, F, id="failure-only-met"),
        pytest.param(None, BAD, 0.99, S, id="failure-only-unmet-is-successful"),
        pytest.param(None, BAD, NAN, S, id="failure-only-nan-successful"),
        pytest.param(None, BAD, None, E, id="failure-only-no-data-error"),
        pytest.param(OK, BAD, 0.995, S, id="both-success"),
        pytest.param(OK, BAD, 0.5, F, id="both-failure"),
        pytest.param(OK, BAD, 0.97, INC, id="both-neither-inconclusive"),
        pytest.param(OK, BAD, NAN, INC, id="both-nan-inconclusive"),
        pytest.param(OK, BAD, None, E, id="both-no-data-error"),
        pytest.param("result >= 0.5", "result >= 0.9", 0.95, F, id="both-true-failure-wins"),
        pytest.param("result >= 0.95", None, INF, S, id="upstream-docs-inf-success"),
        pytest.param(None, "isInf(result)", INF, F, id="upstream-docs-inf-failure"),
        pytest.param("isNil(result) || " + OK, None, None, S, id="guarded-success-no-data"),
        pytest.param(None, "default(result, 1) > 0.05", None, F, id="defaulted-failure-no-data"),
        pytest.param(OK, "isNil(result)", None, E, id="success-evaluated-first-errors"),
    ],
)
def test_measure(
    success: str | None, failure: str | None, value: float | None, expected: Phase
) -> None:
    assert measure(value, cond(success), cond(failure)) is expected


@pytest.mark.parametrize(
    ("no_data", "expected"),
    [
        pytest.param(Phase.ERROR, E, id="no-data-error-default"),
        pytest.param(Phase.INCONCLUSIVE, INC, id="no-data-as-inconclusive"),
        pytest.param(Phase.FAILED, F, id="no-data-as-failed-like-flagger"),
    ],
)
def test_measure_no_data_phase(no_data: Phase, expected: Phase) -> None:
    assert measure(None, cond(OK), cond(BAD), no_data=no_data) is expected
    assert measure(0.97, cond(OK), cond(BAD), no_data=no_data) is INC  # data is unaffected


@pytest.mark.parametrize("no_data", [Phase.SUCCESSFUL, Phase.RUNNING, Phase.PENDING])
def test_measure_rejects_other_no_data_phases(no_data: Phase) -> None:
    with pytest.raises(ValueError, match="no_data must be"):
        measure(None, cond(OK), None, no_data=no_data)


# ============================================================================================
# Phases
# ============================================================================================


def test_phase_values_are_upstream_strings() -> None:
    assert [p.value for p in PHASE_ORDER] == [
        "Successful",
        "Running",
        "Pending",
        "Inconclusive",
        "Error",
        "Failed",
    ]
    assert {p for p in Phase if p.completed} == {S, F, INC, E}


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        pytest.param([S, Phase.RUNNING], Phase.RUNNING, id="running-worse-than-successful"),
        pytest.param(
            [Phase.RUNNING, Phase.PENDING], Phase.PENDING, id="pending-worse-than-running"
        ),
        pytest.param([Phase.PENDING, INC], INC, id="inconclusive-worse-than-pending"),
        pytest.param([INC, E], E, id="error-worse-than-inconclusive"),
        pytest.param([F, E], F, id="failed-worst"),
        pytest.param([S, S], S, id="same"),
    ],
)
def test_worst(phases: list[Phase], expected: Phase) -> None:
    assert worst(phases) is expected
    assert worst(list(reversed(phases))) is expected


def test_is_worse_is_strict_and_worst_needs_phases() -> None:
    assert not is_worse(F, F)
    assert is_worse(S, F)
    with pytest.raises(ValueError):
        worst([])


# ============================================================================================
# MetricRun: counters (runMeasurements)
# ============================================================================================


@pytest.mark.parametrize(
    ("phases", "counters"),
    [
        pytest.param(
            [S, F, INC],
            dict(counted=3, successful=1, failed=1, inconclusive=1),
            id="non-errors-count",
        ),
        pytest.param(
            [E, E], dict(counted=0, error=2, consecutive_error=2), id="errors-do-not-count"
        ),
        pytest.param(
            [E, E, S],
            dict(counted=1, error=2, consecutive_error=0),
            id="upstream-success-resets-errors",
        ),
        pytest.param(
            [E, E, F],
            dict(counted=1, error=2, consecutive_error=0),
            id="upstream-failed-resets-errors",
        ),
        pytest.param(
            [E, E, INC],
            dict(counted=1, error=2, consecutive_error=0),
            id="upstream-inconclusive-resets-errors",
        ),
        pytest.param([S, S], dict(consecutive_success=2), id="successes-accumulate"),
        pytest.param([S, S, F, S], dict(consecutive_success=1), id="failed-resets-successes"),
        pytest.param(
            [S, S, INC, S], dict(consecutive_success=1), id="inconclusive-resets-successes"
        ),
        pytest.param([S, S, E], dict(consecutive_success=0), id="error-resets-successes"),
    ],
)
def test_counters(phases: list[Phase], counters: dict[str, int]) -> None:
    m = metric(phases=phases, interval=60, failure_limit=5, inconclusive_limit=5)
    assert {k: getattr(m, k) for k in counters} == counters


# ============================================================================================
# MetricRun: assessMetricStatus
# ============================================================================================


@pytest.mark.parametrize(
    ("spec", "phases", "terminating", "expected"),
    [
        # TestAssessMetricStatusNoMeasurements
        pytest.param({}, [], False, Phase.PENDING, id="upstream-no-measurements-pending"),
        pytest.param({}, [], True, S, id="upstream-no-measurements-terminating-successful"),
        # TestAssessMetricStatusFailureLimit: failureLimit 2, 3 failures
        pytest.param(
            dict(interval=60, failure_limit=2),
            [F, F, F],
            False,
            F,
            id="upstream-failure-limit-2-exceeded",
        ),
        pytest.param(
            dict(interval=60, failure_limit=2),
            [F, F, F],
            True,
            F,
            id="upstream-failure-limit-2-exceeded-terminating",
        ),
        pytest.param(
            dict(interval=60, failure_limit=3),
            [F, F, F],
            False,
            Phase.RUNNING,
            id="upstream-failure-limit-3-running",
        ),
        pytest.param(
            dict(interval=60, failure_limit=3),
            [F, F, F],
            True,
            S,
            id="upstream-failure-limit-3-terminating-successful",
        ),
        # TestAssessMetricStatusInconclusiveLimit
        pytest.param(
            dict(interval=60, inconclusive_limit=2),
            [INC, INC, INC],
            False,
            INC,
            id="upstream-inconclusive-limit-2-exceeded",
        ),
        pytest.param(
            dict(interval=60, inconclusive_limit=3),
            [INC, INC, INC],
            False,
            Phase.RUNNING,
            id="upstream-inconclusive-limit-3-running",
        ),
        pytest.param(
            dict(interval=60, inconclusive_limit=3),
            [INC, INC, INC],
            True,
            S,
            id="upstream-inconclusive-limit-3-terminating",
        ),
        # TestAssessMetricStatusConsecutiveErrors: default limit 4, 5th error in a row
        pytest.param(dict(interval=60), [E] * 5, False, E, id="upstream-5th-consecutive-error"),
        pytest.param(
            dict(interval=60), [E] * 5, True, E, id="upstream-5th-consecutive-error-terminating"
        ),
        pytest.param(
            dict(interval=60),
            [E] * 4,
            False,
            Phase.RUNNING,
            id="upstream-4-consecutive-errors-running",
        ),
        pytest.param(
            dict(interval=60), [E] * 4, True, S, id="upstream-4-consecutive-errors-terminating"
        ),
        pytest.param(
            dict(interval=60),
            [E] * 4 + [S] + [E] * 4,
            False,
            Phase.RUNNING,
            id="errors-not-in-a-row",
        ),
        pytest.param(
            dict(interval=60, consecutive_error_limit=0),
            [E],
            False,
            E,
            id="error-limit-0-first-error",
        ),
        # TestAssessMetricStatusCountReached
        pytest.param(
            dict(interval=60, count=10), [S] * 10, False, S, id="upstream-count-reached-successful"
        ),
        pytest.param(
            dict(interval=60, count=10),
            [S] * 5 + [INC] * 5,
            False,
            INC,
            id="upstream-count-reached-inconclusive",
        ),
        pytest.param(
            dict(interval=60, count=10), [S] * 9, False, Phase.RUNNING, id="count-not-reached"
        ),
        pytest.param(
            dict(interval=60, count=3, failure_limit=1),
            [S, F, S],
            False,
            S,
            id="count-reached-failures-tolerated",
        ),
        pytest.param(
            dict(interval=60, count=2),
            [S, E, E],
            False,
            Phase.RUNNING,
            id="errors-do-not-reach-count",
        ),
        pytest.param(
            dict(interval=60, count=2), [S, E, S], False, S, id="count-reached-after-error"
        ),
        # failureLimit 0 (default) vs 1: strict greater-than
        pytest.param({}, [F], False, F, id="no-interval-measured-once-failed"),
        pytest.param({}, [S], False, S, id="no-interval-measured-once-successful"),
        pytest.param({}, [E], False, Phase.RUNNING, id="no-interval-error-retried"),
        pytest.param(dict(interval=60), [S, F], False, F, id="failure-limit-0-first-failure"),
        pytest.param(
            dict(interval=60, failure_limit=1),
            [S, F],
            False,
            Phase.RUNNING,
            id="failure-limit-1-one-failure",
        ),
        pytest.param(
            dict(interval=60, failure_limit=1),
            [F, S, F],
            False,
            F,
            id="failure-limit-1-failures-need-not-be-consecutive",
        ),
        pytest.param(
            dict(interval=60), [INC], False, INC, id="inconclusive-limit-0-first-inconclusive"
        ),
        pytest.param(
            dict(interval=60), [S] * 50, False, Phase.RUNNING, id="interval-no-count-runs-forever"
        ),
        pytest.param(
            dict(interval=60), [S] * 50, True, S, id="interval-no-count-terminated-successful"
        ),
        # consecutiveSuccessLimit (v1.8)
        pytest.param(
            dict(interval=60, failure_limit=-1, consecutive_success_limit=3),
            [F, F, S, S, S],
            False,
            S,
            id="csl-only-reached",
        ),
        pytest.param(
            dict(interval=60, failure_limit=-1, consecutive_success_limit=3),
            [F] * 20,
            False,
            Phase.RUNNING,
            id="csl-only-failures-ignored",
        ),
        pytest.param(
            dict(interval=60, failure_limit=-1, consecutive_success_limit=3),
            [S, S, E, S],
            False,
            Phase.RUNNING,
            id="csl-error-resets-streak",
        ),
        pytest.param(
            dict(interval=60, failure_limit=-1, consecutive_success_limit=3, count=5),
            [F, S, S, F, S],
            False,
            F,
            id="csl-only-count-reached-failed",
        ),
        pytest.param(
            dict(interval=60, failure_limit=2, consecutive_success_limit=3, count=5),
            [F, S, S, F, S],
            False,
            INC,
            id="csl-and-failure-limit-count-reached-inconclusive",
        ),
        pytest.param(
            dict(interval=60, failure_limit=1, consecutive_success_limit=3),
            [F, S, F],
            False,
            F,
            id="csl-failure-limit-checked-first",
        ),
        pytest.param(
            dict(interval=60, consecutive_success_limit=2), [S, S], False, S, id="csl-before-count"
        ),
        pytest.param(
            dict(interval=60, consecutive_success_limit=3),
            [S, INC],
            False,
            INC,
            id="csl-inconclusive-limit-still-applies",
        ),
        pytest.param(
            dict(interval=60, failure_limit=-1, consecutive_success_limit=3),
            [F, S],
            True,
            S,
            id="csl-terminating-successful",
        ),
        pytest.param(
            dict(interval=60, consecutive_success_limit=3, count=3),
            [S, S, S],
            False,
            S,
            id="csl-reached-at-count",
        ),
    ],
)
def test_assess_metric(
    spec: dict[str, Any], phases: list[Phase], terminating: bool, expected: Phase
) -> None:
    # Upstream's tests build a MetricResult with the counters directly; replay the phases
    # without letting an intermediate completed phase stick, then assess the counters alone.
    m = MetricRun("m", **spec)
    for i, p in enumerate(phases):
        m.phase = None
        m.record(p, at=60.0 * i)
    m.phase = None
    assert m.assess(terminating=terminating) is expected


def _with_counters(**counters: int) -> MetricRun:
    """A metric whose counters are set directly, as upstream's tests build a MetricResult."""
    m = MetricRun("m", interval=60)
    for k, v in counters.items():
        setattr(m, k, v)
    m.measurements.append(Measurement(S, 0.0))
    return m


@pytest.mark.parametrize(
    ("counters", "expected", "message"),
    [
        pytest.param(dict(failed=1), F, "failed (1) > failureLimit (0)", id="failed"),
        pytest.param(
            dict(inconclusive=1), INC, "inconclusive (1) > inconclusiveLimit (0)", id="inconclusive"
        ),
        pytest.param(
            dict(consecutive_error=5),
            E,
            "consecutiveErrors (5) > consecutiveErrorLimit (4)",
            id="error",
        ),
        pytest.param(
            dict(failed=1, inconclusive=1),
            INC,
            "inconclusive (1)",
            id="inconclusive-overrides-failed",
        ),
        pytest.param(
            dict(failed=1, inconclusive=1, consecutive_error=5),
            E,
            "consecutiveErrors (5)",
            id="error-overrides-both",
        ),
        pytest.param(dict(failed=0, consecutive_error=4), None, "", id="nothing-exceeded"),
    ],
)
def test_limit_order_and_messages(
    counters: dict[str, int], expected: Phase | None, message: str
) -> None:
    m = _with_counters(**counters)
    phase, why = m.limit_violation()
    assert phase is expected
    assert why.startswith(message)
    assert m.assess() is (expected or Phase.RUNNING)


def test_completed_phase_is_kept_and_blocks_new_measurements() -> None:
    m = metric(phases=[F], interval=60)
    assert m.phase is F
    assert m.assess(terminating=True) is F
    with pytest.raises(ValueError, match="already completed"):
        m.record(S, at=60)
    assert m.next_measurement_at(0.0) is None


def test_record_rejects_non_measurement_phases() -> None:
    with pytest.raises(ValueError, match="a measurement ends"):
        MetricRun("m", interval=60).record(Phase.RUNNING, at=0)


def test_observe_keeps_value_and_no_data_message() -> None:
    m = MetricRun("m", success=parse_condition(OK), interval=60)
    assert m.observe(None, at=5.0) is Phase.RUNNING
    last = m.measurements[-1]
    assert (last.phase, last.at, last.value) == (E, 5.0, None)
    assert "no data" in m.last_message
    m.observe(0.999, at=15.0)
    assert m.measurements[-1] == Measurement(S, 15.0, 0.999, "")


def test_observe_no_data_as_inconclusive_counts_toward_limits() -> None:
    m = MetricRun(
        "m",
        success=parse_condition(OK),
        interval=60,
        no_data=Phase.INCONCLUSIVE,
        inconclusive_limit=1,
    )
    assert m.observe(None, at=0) is Phase.RUNNING
    assert m.observe(None, at=60) is INC


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        pytest.param(dict(interval=0), "interval must be > 0", id="interval-zero"),
        pytest.param(dict(interval=-5), "interval must be > 0", id="interval-negative"),
        pytest.param(
            dict(initial_delay=-1), "initialDelay must be >= 0", id="initial-delay-negative"
        ),
        pytest.param(dict(count=-1), "count must be >= 0", id="count-negative"),
        pytest.param(
            dict(count=2),
            "interval must be specified when count > 1",
            id="upstream-count-needs-interval",
        ),
        pytest.param(
            dict(interval=60, count=2, failure_limit=3),
            "count must be >= failureLimit",
            id="upstream-count-below-failure-limit",
        ),
        pytest.param(
            dict(interval=60, count=2, inconclusive_limit=3),
            "count must be >= inconclusiveLimit",
            id="upstream-count-below-inconclusive-limit",
        ),
        pytest.param(
            dict(interval=60, count=2, consecutive_success_limit=3),
            "count must be >= consecutiveSuccessLimit",
            id="count-below-csl",
        ),
        pytest.param(
            dict(failure_limit=-2), "failureLimit must be >= -1", id="failure-limit-below-minus-one"
        ),
        pytest.param(dict(failure_limit=-1), "one of them has to apply", id="both-limits-disabled"),
        pytest.param(
            dict(inconclusive_limit=-1),
            "inconclusiveLimit must be >= 0",
            id="inconclusive-limit-negative",
        ),
        pytest.param(
            dict(consecutive_error_limit=-1),
            "consecutiveErrorLimit must be >= 0",
            id="error-limit-negative",
        ),
        pytest.param(
            dict(consecutive_success_limit=-1),
            "consecutiveSuccessLimit must be >= 0",
            id="csl-negative",
        ),
        pytest.param(dict(no_data=Phase.SUCCESSFUL), "no_data must be", id="no-data-successful"),
    ],
)
def test_invalid_metric_spec(spec: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match="metric 'm'") as exc:
        MetricRun("m", **spec)
    assert fragment in str(exc.value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, 1, id="no-interval-no-count-once"),
        pytest.param(dict(count=0), 1, id="upstream-count-0-no-interval-once"),
        pytest.param(dict(interval=60), None, id="interval-only-forever"),
        pytest.param(dict(interval=60, count=0), None, id="count-0-is-unset"),
        pytest.param(dict(interval=60, count=5), 5, id="count"),
        pytest.param(dict(count=1), 1, id="count-1-needs-no-interval"),
    ],
)
def test_effective_count(spec: dict[str, Any], expected: int | None) -> None:
    assert MetricRun("m", **spec).effective_count == expected


def test_default_consecutive_error_limit() -> None:
    assert MetricRun("m").consecutive_error_limit == DEFAULT_CONSECUTIVE_ERROR_LIMIT == 4


# ============================================================================================
# MetricRun: scheduling (generateMetricTasks / calculateNextReconcileTime)
# ============================================================================================

START = 1000.0


@pytest.mark.parametrize(
    ("spec", "history", "expected"),
    [
        pytest.param({}, [], START, id="first-at-start"),
        pytest.param(dict(initial_delay=30), [], START + 30, id="upstream-initial-delay"),
        pytest.param(
            dict(interval=60, initial_delay=40), [], START + 40, id="initial-delay-not-interval"
        ),
        pytest.param(
            dict(interval=60), [(S, 1030.0)], 1090.0, id="upstream-interval-after-last-finished"
        ),
        pytest.param(
            dict(interval=60, failure_limit=1),
            [(F, 1000.0), (S, 1060.0)],
            1120.0,
            id="interval-from-last",
        ),
        pytest.param(
            dict(interval=300),
            [(E, 1000.0)],
            1000.0 + ERROR_RETRY_INTERVAL_S,
            id="upstream-error-retry-10s-whatever-interval",
        ),
        pytest.param({}, [(E, 1000.0)], 1010.0, id="upstream-error-retry-no-interval"),
        pytest.param({}, [(S, 1000.0)], None, id="upstream-measured-once-done"),
        pytest.param(dict(count=1), [(S, 1000.0)], None, id="upstream-count-1-done"),
        pytest.param(
            dict(interval=60, count=2), [(S, 1000.0), (S, 1060.0)], None, id="count-reached-done"
        ),
        pytest.param(
            dict(interval=60, count=2),
            [(S, 1000.0), (E, 1060.0)],
            1070.0,
            id="count-not-reached-after-error",
        ),
        pytest.param(
            dict(interval=60, failure_limit=3),
            [(F, 1000.0)],
            1060.0,
            id="tolerated-failure-continues",
        ),
        pytest.param(dict(interval=60), [(F, 1000.0)], None, id="failed-metric-done"),
        pytest.param(
            dict(interval=60),
            [(E, 1000.0 + 10 * i) for i in range(5)],
            None,
            id="errored-metric-done",
        ),
    ],
)
def test_next_measurement_at(
    spec: dict[str, Any], history: list[tuple[Phase, float]], expected: float | None
) -> None:
    m = MetricRun("m", **spec)
    for phase, at in history:
        m.record(phase, at=at)
    assert m.next_measurement_at(START) == expected


def test_next_measurement_when_terminating_is_none() -> None:
    m = metric(phases=[S], interval=60)
    assert m.next_measurement_at(0.0) == 60.0
    assert m.next_measurement_at(0.0, terminating=True) is None


def test_schedule_drives_a_whole_metric() -> None:
    """Feed values at the times the metric asks for; errors retry after 10 s and don't count."""
    m = MetricRun("m", success=parse_condition(OK), interval=60, count=3)
    values = iter([0.999, None, None, 0.995, 0.999])
    times = []
    while (at := m.next_measurement_at(0.0)) is not None:
        times.append(at)
        m.observe(next(values), at=at)
    assert times == [0.0, 60.0, 70.0, 80.0, 140.0]
    assert (m.phase, m.counted, m.error) == (S, 3, 2)


# ============================================================================================
# assess_run (assessRunStatus)
# ============================================================================================


def run_of(*specs: dict[str, Any]) -> list[MetricRun]:
    return [metric(**spec) for spec in specs]


FOREVER = dict(interval=60)


@pytest.mark.parametrize(
    ("specs", "terminate", "expected", "message"),
    [
        pytest.param(
            [dict(name="a", phases=[S]), dict(name="b", phases=[S], **FOREVER)],
            False,
            Phase.RUNNING,
            "",
            id="upstream-one-running-run-running",
        ),
        pytest.param(
            [dict(name="a", phases=[S]), dict(name="b", phases=[S, S], count=2, **FOREVER)],
            False,
            S,
            "",
            id="all-successful",
        ),
        pytest.param(
            [dict(name="a", phases=[S]), dict(name="b", phases=[F])],
            False,
            F,
            'Metric "b" assessed Failed due to failed (1) > failureLimit (0)',
            id="upstream-worst-of-completed",
        ),
        pytest.param(
            [dict(name="a", phases=[S], **FOREVER), dict(name="b", phases=[F])],
            False,
            F,
            'Metric "b" assessed Failed due to failed (1) > failureLimit (0)',
            id="fail-fast-terminates-running-metric",
        ),
        pytest.param(
            [dict(name="a", phases=[], initial_delay=300), dict(name="b", phases=[INC])],
            False,
            INC,
            'Metric "b" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)',
            id="inconclusive-fails-fast-pending-metric",
        ),
        pytest.param(
            [dict(name="a", phases=[INC]), dict(name="b", phases=[F])],
            False,
            F,
            'Metric "b" assessed Failed due to',
            id="failed-worse-than-inconclusive",
        ),
        pytest.param(
            [dict(name="a", phases=[E] * 5, **FOREVER), dict(name="b", phases=[INC])],
            False,
            E,
            'Metric "a" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4)',
            id="error-worse-than-inconclusive",
        ),
        pytest.param(
            [dict(name="a", phases=[F]), dict(name="b", phases=[F])],
            False,
            F,
            'Metric "a" assessed Failed',
            id="first-worst-metric-gives-message",
        ),
        pytest.param(
            [dict(name="a", phases=[], initial_delay=60)],
            False,
            Phase.RUNNING,
            "",
            id="pending-metric-run-running",
        ),
        # dry run
        pytest.param(
            [dict(name="a", phases=[F], dry_run=True), dict(name="b", phases=[S], **FOREVER)],
            False,
            Phase.RUNNING,
            "",
            id="upstream-dry-run-failure-does-not-terminate",
        ),
        pytest.param(
            [dict(name="a", phases=[F], dry_run=True), dict(name="b", phases=[S])],
            False,
            S,
            "",
            id="upstream-dry-run-failure-ignored",
        ),
        pytest.param(
            [
                dict(name="a", phases=[F], dry_run=True),
                dict(name="b", phases=[E] * 5, dry_run=True),
            ],
            False,
            S,
            "",
            id="upstream-all-dry-run-failed-successful",
        ),
        pytest.param(
            [dict(name="a", phases=[S], dry_run=True, **FOREVER), dict(name="b", phases=[S])],
            False,
            Phase.RUNNING,
            "",
            id="running-dry-run-keeps-run-running",
        ),
        pytest.param(
            [dict(name="a", phases=[F], dry_run=True), dict(name="b", phases=[INC])],
            False,
            INC,
            'Metric "b" assessed Inconclusive',
            id="dry-run-failed-not-worst",
        ),
        # terminated by the rollout
        pytest.param(
            [dict(name="a", phases=[S], **FOREVER)],
            True,
            S,
            "Run Terminated",
            id="terminated-background-run-successful",
        ),
        pytest.param(
            [dict(name="a", phases=[], initial_delay=60)],
            True,
            S,
            "Run Terminated",
            id="terminated-before-first-measurement",
        ),
        pytest.param(
            [dict(name="a", phases=[S, F], failure_limit=1, **FOREVER)],
            True,
            S,
            "Run Terminated",
            id="terminated-tolerated-failure-successful",
        ),
        pytest.param(
            [dict(name="a", phases=[F]), dict(name="b", phases=[S], **FOREVER)],
            True,
            F,
            'Metric "a" assessed Failed due to',
            id="terminated-with-failure-failed",
        ),
        # no limit violated: no reason (assessMetricFailureInconclusiveOrError says nothing)
        pytest.param(
            [
                dict(name="latency", phases=[S]),
                dict(
                    name="success-rate",
                    phases=[S, F],
                    interval=60,
                    count=2,
                    failure_limit=-1,
                    consecutive_success_limit=2,
                ),
            ],
            False,
            F,
            "",
            id="upstream-TestAssessRunStatus-ensure we take the worst of the completed metrics",
        ),
        pytest.param(
            [
                dict(
                    name="m",
                    phases=[F, S, S, F, S],
                    interval=60,
                    count=5,
                    failure_limit=2,
                    consecutive_success_limit=3,
                )
            ],
            False,
            INC,
            "",
            id="count-reached-inconclusive-states-no-reason",
        ),
        pytest.param(
            [
                dict(name="a", phases=[INC], inconclusive_limit=0),
                dict(
                    name="b",
                    phases=[S, F],
                    interval=60,
                    count=2,
                    failure_limit=-1,
                    consecutive_success_limit=2,
                ),
            ],
            False,
            F,
            'Metric "a" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)',
            id="worse-metric-without-reason-keeps-the-earlier-message",
        ),
    ],
)
def test_assess_run(
    specs: list[dict[str, Any]], terminate: bool, expected: Phase, message: str
) -> None:
    phase, msg = assess_run(run_of(*specs), terminate=terminate)
    assert phase is expected
    assert msg.startswith(message)
    if not message:
        assert msg == ""


def test_fail_fast_stops_sibling_measurements() -> None:
    background = metric("a", phases=[S], interval=60)
    step = metric("b", phases=[F])
    assert assess_run([background, step]) == (
        F,
        'Metric "b" assessed Failed due to failed (1) > failureLimit (0)',
    )
    assert background.phase is S
    assert background.next_measurement_at(0.0) is None


def test_run_message_carries_the_error_message() -> None:
    m = MetricRun("latency", success=parse_condition("result < 500"), interval=60)
    at = 0.0
    while (nxt := m.next_measurement_at(0.0)) is not None:
        at = nxt
        m.observe(None, at=at)
    assert at == 40.0  # 5 errors, 10 s apart
    phase, message = assess_run([m])
    assert phase is E
    assert message.startswith(
        'Metric "latency" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        "\"Error Message: condition 'result < 500' cannot be evaluated: no data"
    )


def test_count_reached_without_a_limit_violated_has_no_message() -> None:
    """Upstream logs "ConsecutiveSuccessLimit (3) Not Reached and FailureLimit (2) Not
    Violated" but the run's message stays empty: only a violated limit gives a reason."""
    m = metric(
        phases=[F, S, S, F, S], interval=60, count=5, failure_limit=2, consecutive_success_limit=3
    )
    assert m.phase is INC
    assert m.limit_message() == ""
    assert assess_run([m]) == (INC, "")


def test_assess_run_needs_unique_metrics() -> None:
    with pytest.raises(ValueError, match="at least one metric"):
        assess_run([])
    with pytest.raises(ValueError, match="unique"):
        assess_run([MetricRun("m"), MetricRun("m")])


# ============================================================================================
# Docstring examples
# ============================================================================================


def test_docstring_examples() -> None:
    for module, examples in ((analysis_phase, 2), (analysis_argo, 19)):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted >= examples, module.__name__
        assert result.failed == 0, module.__name__
