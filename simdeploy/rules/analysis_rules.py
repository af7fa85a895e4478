"""Evaluation rules of Argo Rollouts analysis and of Flagger's check loop, as pure code.

A SimPy process elsewhere queries the recorder for a metric value now and then and feeds it
here; this module says what that value means. There is no clock, no SimPy and no pandas: times
are plain floats (simulated seconds) passed in by the caller.

Four pieces, each a port of the upstream rules (``argoproj/argo-rollouts`` and
``fluxcd/flagger``, read, not copied):

1. **Conditions** (:func:`parse_condition`): the ``successCondition`` / ``failureCondition``
   strings of an Argo metric, in a small, safe subset of the expr language Argo uses
   (``utils/evaluate/evaluate.go``). Never ``eval``: a hand-written tokenizer and parser that
   accepts only what is listed on :func:`parse_condition`, checked up front so scenario
   validation can reject a bad expression before any simulation runs.
2. **Measurements** (:func:`measure`): one value against the two conditions gives a phase
   (``EvaluateResult``).
3. **Metrics** (:class:`MetricRun`): the counters of ``analysis/analysis.go: runMeasurements``,
   the phase of ``assessMetricStatus`` (with the ``consecutiveSuccessLimit`` rules of v1.8) and
   the schedule of ``generateMetricTasks`` / ``calculateNextReconcileTime``.
4. **Runs** (:func:`assess_run`): ``assessRunStatus`` — fail fast, worst phase wins, dry-run
   metrics never count.

And Flagger's loop (:class:`FlaggerChecks`): cumulative ``failedChecks`` against ``threshold``,
checked at the *start* of a tick (``pkg/controller/scheduler.go: advanceCanary``), with the
built-in metrics' range checks of ``scheduler_metrics.go``.

No data
-------
A query over a window with too few requests returns *nothing*. That is not a bad value, and the
two tools treat it differently, so this module keeps ``None`` ("no data") apart from every
number, NaN included:

- **Argo**: a provider with an empty result hands the expression nothing to compare (Prometheus:
  an empty vector, so ``result[0]`` is out of range; Datadog: ``nil``, so ``result < 0.05`` is a
  type mismatch). The evaluation errors and the measurement is ``Error``. ``Error`` does not
  count toward ``count``, is retried 10 s later and fails the metric only on the 5th error in a
  row (``consecutiveErrorLimit`` 4). Here: a condition that touches ``result`` when it is
  ``None`` (an ordering comparison, ``-result``, ``isNaN(result)``) cannot be evaluated, and
  :func:`measure` returns ``no_data`` — ``Error`` by default, or ``Inconclusive`` / ``Failed``
  when the caller asks. Conditions written to cope, as Argo's docs advise, work as upstream:
  ``isNil(result) || result >= 0.99`` and ``default(result, 0) < 0.05`` evaluate normally, and
  ``result == 1`` is simply false. A metric with no condition at all is ``Successful`` whatever
  the value, as upstream (nothing is evaluated, so nothing can error).
- **Flagger**: "no values found" halts the tick and counts as a failed check, exactly like a
  value outside the range (:meth:`FlaggerChecks.check`).

NaN is a number: comparisons with it are false (IEEE, as in Go), so ``result >= 0.99`` fails
and ``result >= 0.95`` with ``result < 0.95`` is ``Inconclusive``; ``isNaN(result)`` catches it.
In Flagger a NaN is outside no range (``val < min`` is false), so it *passes* — upstream's
behaviour, kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, NamedTuple

__all__ = [
    "DEFAULT_CONSECUTIVE_ERROR_LIMIT",
    "ERROR_RETRY_INTERVAL_S",
    "PHASE_ORDER",
    "REQUEST_DURATION",
    "REQUEST_SUCCESS_RATE",
    "Condition",
    "ConditionEvalError",
    "FlaggerChecks",
    "FlaggerTick",
    "InvalidCondition",
    "Measurement",
    "MetricRun",
    "Phase",
    "ThresholdRange",
    "assess_run",
    "check_range",
    "is_worse",
    "legacy_threshold_range",
    "measure",
    "parse_condition",
    "worst",
]

DEFAULT_CONSECUTIVE_ERROR_LIMIT: Final = 4
"""Argo's ``DefaultConsecutiveErrorLimit``: the 5th Error in a row makes the metric Error."""

ERROR_RETRY_INTERVAL_S: Final = 10.0
"""Argo's ``DefaultErrorRetryInterval``: an errored measurement is retried 10 s later."""

REQUEST_SUCCESS_RATE: Final = "request-success-rate"
"""Flagger built-in metric: percentage (0-100) of non-5xx responses; fails below ``min``."""

REQUEST_DURATION: Final = "request-duration"
"""Flagger built-in metric: request duration in milliseconds; fails above ``max``."""


# ============================================================================================
# Phases
# ============================================================================================


class Phase(StrEnum):
    """An Argo ``AnalysisPhase``; the values are upstream's strings.

    A measurement ends ``Successful``, ``Failed``, ``Inconclusive`` or ``Error``. A metric and a
    run are also ``Pending`` (nothing measured yet) or ``Running`` until they complete.
    """

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"
    INCONCLUSIVE = "Inconclusive"

    @property
    def completed(self) -> bool:
        """True for the four final phases (upstream ``AnalysisPhase.Completed``)."""
        return self not in (Phase.PENDING, Phase.RUNNING)


PHASE_ORDER: Final[tuple[Phase, ...]] = (
    Phase.SUCCESSFUL,
    Phase.RUNNING,
    Phase.PENDING,
    Phase.INCONCLUSIVE,
    Phase.ERROR,
    Phase.FAILED,
)
"""Best to worst, as ``utils/analysis/helpers.go: analysisStatusOrder``."""

_RANK: Final = {p: i for i, p in enumerate(PHASE_ORDER)}
_MEASUREMENT_PHASES: Final = frozenset(
    {Phase.SUCCESSFUL, Phase.FAILED, Phase.INCONCLUSIVE, Phase.ERROR}
)
_NO_DATA_PHASES: Final = frozenset({Phase.ERROR, Phase.INCONCLUSIVE, Phase.FAILED})


def is_worse(current: Phase, new: Phase) -> bool:
    """Whether ``new`` is strictly worse than ``current`` in :data:`PHASE_ORDER`.

    >>> is_worse(Phase.ERROR, Phase.FAILED), is_worse(Phase.FAILED, Phase.ERROR)
    (True, False)
    """
    return _RANK[new] > _RANK[current]


def worst(phases: Sequence[Phase]) -> Phase:
    """The worst of ``phases`` (the first one on ties); ValueError when empty.

    >>> worst([Phase.SUCCESSFUL, Phase.INCONCLUSIVE, Phase.ERROR])
    <Phase.ERROR: 'Error'>
    """
    if not phases:
        raise ValueError("worst() of no phases")
    out = phases[0]
    for p in phases[1:]:
        if is_worse(out, p):
            out = p
    return out


# ============================================================================================
# Conditions
# ============================================================================================


class InvalidCondition(ValueError):
    """A condition string that does not parse; the message names the text and the problem."""


class ConditionEvalError(ValueError):
    """A condition that cannot be evaluated for this value: it needs ``result`` and there is
    no data (upstream: an expr runtime error such as ``mismatched types <nil> and float64``).
    """


_FUNCTIONS: Final = ("isNaN", "isInf", "isNil", "default")
_CMP_OPS: Final = ("==", "!=", "<=", ">=", "<", ">")
_NUMBER_RE: Final = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_HINTS: Final = {
    "[": "indexing is not supported: `result` is one number here; write `result`, not `result[0]`",
    "'": "strings are not supported",
    '"': "strings are not supported",
    "=": "use '==' to compare",
    "&": "use '&&' or 'and'",
    "|": "use '||' or 'or'",
}
_NAME_HINTS: Final = {
    "len": "len() is not supported: `result` is one number or no data; "
    "test for no data with isNil(result)",
    "nil": "use isNil(result) to test for no data",
    "asInt": "asInt() is not supported: `result` is already a number",
    "asFloat": "asFloat() is not supported: `result` is already a number",
}


class _Tok(NamedTuple):
    kind: str  # "num", "name", "op", "end"
    text: str
    col: int  # 1-based


def _tokenize(text: str, fail: _Fail) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        col = i + 1
        if m := _NUMBER_RE.match(text, i):
            if m.end() < len(text) and (text[m.end()].isalpha() or text[m.end()] == "_"):
                raise fail(f"malformed number {text[i : m.end() + 1]!r}", col)
            toks.append(_Tok("num", m.group(), col))
            i = m.end()
            continue
        if m := _NAME_RE.match(text, i):
            toks.append(_Tok("name", m.group(), col))
            i = m.end()
            continue
        two = text[i : i + 2]
        if two in ("==", "!=", "<=", ">=", "&&", "||"):
            toks.append(_Tok("op", two, col))
            i += 2
            continue
        if ch in "<>()!,-":
            toks.append(_Tok("op", ch, col))
            i += 1
            continue
        raise fail(_HINTS.get(ch, f"unexpected character {ch!r}"), col)
    toks.append(_Tok("end", "", len(text) + 1))
    return toks


class _Fail:
    """Builds :class:`InvalidCondition` errors that name the expression."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, what: str, col: int | None = None) -> InvalidCondition:
        where = f" (column {col})" if col is not None else ""
        return InvalidCondition(f"invalid condition {self.text!r}: {what}{where}")


# --- syntax tree: every node knows its static type, "number" or "bool" ----------------------


@dataclass(frozen=True)
class _Node:
    kind: str  # "number" | "bool"


@dataclass(frozen=True)
class _Num(_Node):
    value: float


@dataclass(frozen=True)
class _Bool(_Node):
    value: bool


@dataclass(frozen=True)
class _Result(_Node):
    pass


@dataclass(frozen=True)
class _Unary(_Node):
    op: str  # "-" | "not"
    operand: _Node


@dataclass(frozen=True)
class _Binary(_Node):
    op: str  # a comparison, "and" or "or"
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Call(_Node):
    name: str
    args: tuple[_Node, ...]


class _Parser:
    """Recursive descent, lowest precedence first: or < and < comparison < unary < primary.

    Unary ``not``/``!``/``-`` bind tighter than a comparison, as in expr: ``not result > 1``
    is ``(not result) > 1`` and is rejected; write ``not (result > 1)``.
    """

    def __init__(self, text: str) -> None:
        self.fail = _Fail(text)
        self.toks = _tokenize(text, self.fail)
        self.pos = 0

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def expect(self, op: str) -> _Tok:
        tok = self.take()
        if tok.kind != "op" or tok.text != op:
            raise self.fail(f"expected {op!r}, found {_describe(tok)}", tok.col)
        return tok

    def at_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.text in words and tok.kind in ("op", "name")

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise self.fail("empty expression")
        node = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            raise self.fail(f"unexpected {_describe(tok)}", tok.col)
        if node.kind != "bool":
            raise self.fail(
                "the expression is a number, not a condition; compare it, e.g. `result >= 0.99`"
            )
        return node

    def or_expr(self) -> _Node:
        node = self.and_expr()
        while self.at_word("or", "||"):
            tok = self.take()
            right = self.and_expr()
            self.need_bool(node, tok)
            self.need_bool(right, tok)
            node = _Binary("bool", "or", node, right)
        return node

    def and_expr(self) -> _Node:
        node = self.comparison()
        while self.at_word("and", "&&"):
            tok = self.take()
            right = self.comparison()
            self.need_bool(node, tok)
            self.need_bool(right, tok)
            node = _Binary("bool", "and", node, right)
        return node

    def comparison(self) -> _Node:
        left = self.unary()
        tok = self.peek()
        if tok.kind != "op" or tok.text not in _CMP_OPS:
            return left
        self.take()
        right = self.unary()
        nxt = self.peek()
        if nxt.kind == "op" and nxt.text in _CMP_OPS:
            raise self.fail(
                "chained comparisons are not supported; join two comparisons with 'and'",
                nxt.col,
            )
        if tok.text in ("==", "!="):
            if left.kind != right.kind:
                raise self.fail(f"{tok.text!r} compares a {left.kind} with a {right.kind}", tok.col)
        elif left.kind != "number" or right.kind != "number":
            raise self.fail(f"{tok.text!r} needs numbers on both sides", tok.col)
        return _Binary("bool", tok.text, left, right)

    def unary(self) -> _Node:
        tok = self.peek()
        if tok.kind == "op" and tok.text == "-":
            self.take()
            operand = self.unary()
            if operand.kind != "number":
                raise self.fail("'-' needs a number", tok.col)
            if isinstance(operand, _Num):
                return _Num("number", -operand.value)
            return _Unary("number", "-", operand)
        if self.at_word("not", "!"):
            self.take()
            operand = self.unary()
            if operand.kind != "bool":
                raise self.fail(
                    f"{tok.text!r} needs a condition; write {tok.text} (...) around a comparison",
                    tok.col,
                )
            return _Unary("bool", "not", operand)
        return self.primary()

    def primary(self) -> _Node:
        tok = self.take()
        if tok.kind == "num":
            return _Num("number", float(tok.text))
        if tok.kind == "op" and tok.text == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if tok.kind == "name":
            if tok.text == "result":
                return _Result("number")
            if tok.text in ("true", "false"):
                return _Bool("bool", tok.text == "true")
            if self.peek().kind == "op" and self.peek().text == "(":
                return self.call(tok)
            if tok.text in _NAME_HINTS:
                raise self.fail(_NAME_HINTS[tok.text], tok.col)
            if tok.text in ("and", "or", "not"):
                raise self.fail(f"unexpected {tok.text!r}", tok.col)
            raise self.fail(f"unknown name {tok.text!r}; the only variable is `result`", tok.col)
        raise self.fail(f"unexpected {_describe(tok)}", tok.col)

    def call(self, name: _Tok) -> _Node:
        if name.text not in _FUNCTIONS:
            hint = _NAME_HINTS.get(name.text)
            supported = ", ".join(f"{f}()" for f in _FUNCTIONS)
            raise self.fail(hint or f"unknown function {name.text!r}; use {supported}", name.col)
        self.expect("(")
        args: list[_Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.or_expr())
            while self.peek().kind == "op" and self.peek().text == ",":
                self.take()
                args.append(self.or_expr())
        self.expect(")")
        want = 2 if name.text == "default" else 1
        if len(args) != want:
            raise self.fail(f"{name.text}() takes {want} argument(s), got {len(args)}", name.col)
        if name.text in ("isNil", "default") and not isinstance(args[0], _Result):
            raise self.fail(f"{name.text}() takes `result` as its first argument", name.col)
        if any(a.kind != "number" for a in args):
            raise self.fail(f"{name.text}() takes numbers", name.col)
        kind = "number" if name.text == "default" else "bool"
        return _Call(kind, name.text, tuple(args))

    def need_bool(self, node: _Node, op: _Tok) -> None:
        if node.kind != "bool":
            raise self.fail(f"{op.text!r} joins conditions, not numbers", op.col)


def _describe(tok: _Tok) -> str:
    return "end of expression" if tok.kind == "end" else repr(tok.text)


@dataclass(frozen=True)
class Condition:
    """A parsed ``successCondition`` or ``failureCondition``; build it with
    :func:`parse_condition`. Two conditions are equal when their texts are.
    """

    text: str
    _root: _Node = field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.text

    def evaluate(self, value: float | None) -> bool:
        """The condition for ``result = value``; ``None`` means no data.

        Raises :class:`ConditionEvalError` when the condition needs a number and there is
        none (an ordering comparison, ``-result``, ``isNaN``/``isInf`` of no data).

        >>> c = parse_condition("result >= 0.99")
        >>> c.evaluate(0.995), c.evaluate(0.5), c.evaluate(float("nan"))
        (True, False, False)
        >>> parse_condition("isNil(result) || result >= 0.99").evaluate(None)
        True
        """
        out = _eval(self._root, value, self.text)
        assert isinstance(out, bool)
        return out


def _no_data(text: str, what: str) -> ConditionEvalError:
    return ConditionEvalError(
        f"condition {text!r} cannot be evaluated: no data ({what}); "
        "guard it with isNil(result) or default(result, x)"
    )


def _eval(node: _Node, value: float | None, text: str) -> float | bool | None:
    """Evaluate; numbers are float or None (no data, only ever from ``result``)."""
    match node:
        case _Num(value=v) | _Bool(value=v):
            return v
        case _Result():
            return None if value is None else float(value)
        case _Unary(op="-", operand=operand):
            x = _eval(operand, value, text)
            if x is None:
                raise _no_data(text, "'-' of nil")
            return -x
        case _Unary(op="not", operand=operand):
            return not _eval(operand, value, text)
        case _Binary(op="and", left=left, right=right):
            return bool(_eval(left, value, text)) and bool(_eval(right, value, text))
        case _Binary(op="or", left=left, right=right):
            return bool(_eval(left, value, text)) or bool(_eval(right, value, text))
        case _Binary(op=op, left=left, right=right):
            a, b = _eval(left, value, text), _eval(right, value, text)
            if op == "==":
                return a == b
            if op == "!=":
                return a != b
            if a is None or b is None:
                raise _no_data(text, f"{op!r} with nil")
            assert not isinstance(a, bool) and not isinstance(b, bool)
            return _ORDER_OPS[op](a, b)
        case _Call(name=name, args=args):
            if name == "isNil":
                return value is None
            if name == "default":
                return _eval(args[1], value, text) if value is None else float(value)
            x = _eval(args[0], value, text)
            if x is None:
                raise _no_data(text, f"{name}() of nil")
            assert not isinstance(x, bool)
            return math.isnan(x) if name == "isNaN" else math.isinf(x)
    raise AssertionError(f"unknown node {node!r}")  # pragma: no cover


_ORDER_OPS: Final = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def parse_condition(text: str) -> Condition:
    """Parse and type-check a condition; :class:`InvalidCondition` if it is not one.

    The language (a subset of expr, which Argo evaluates):

    - the variable ``result``: the measured number, or no data;
    - numbers (``0.99``, ``5``, ``1e-3``, ``-1``), ``true``, ``false``;
    - comparisons ``==  !=  <  <=  >  >=`` (one per operand pair; no chains);
    - ``and``/``&&``, ``or``/``||``, ``not``/``!`` and parentheses;
    - ``isNaN(x)``, ``isInf(x)``; ``isNil(result)`` (true when there is no data) and
      ``default(result, x)`` (``x`` when there is no data), as Argo offers for empty results.

    The result must be a condition (true/false), not a number.

    >>> parse_condition("result >= 0.99 && !isNaN(result)").text
    'result >= 0.99 && !isNaN(result)'
    >>> parse_condition("result[0] >= 0.95")
    Traceback (most recent call last):
    ...
    simdeploy.rules.analysis_rules.InvalidCondition: invalid condition 'result[0] >= 0.95': \
indexing is not supported: `result` is one number here; write `result`, not `result[0]` \
(column 7)
    """
    if not isinstance(text, str):
        raise InvalidCondition(f"invalid condition {text!r}: expected a string")
    return Condition(text, _Parser(text).parse())


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
        """Why the metric completed the way it did, in upstream's words where upstream has
        them (``failed (1) > failureLimit (0)``); ``""`` when it has not completed or
        completed for no reason worth stating (count reached with every limit respected, or
        a terminated run)."""
        _, message = self.limit_violation()
        if message:
            return message
        if self.phase is Phase.INCONCLUSIVE:
            return (
                f"consecutiveSuccessLimit ({self.consecutive_success_limit}) not reached and "
                f"failureLimit ({self.failure_limit}) not violated"
            )
        if self.phase is Phase.FAILED:
            return f"consecutiveSuccessLimit ({self.consecutive_success_limit}) not reached"
        return ""

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
    - The message comes from the first metric with the worst phase:
      ``Metric "m" assessed Failed due to failed (1) > failureLimit (0)``, with
      ``: "Error Message: ..."`` appended when its last measurement had one; ``Run Terminated``
      for a terminated run with nothing worse to report; ``""`` while running.

    Upstream reaches the terminated result one reconcile after the failure (it reads the stored
    metric phases first); that reconcile follows at once, so here both happen in one call.

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


# ============================================================================================
# Flagger
# ============================================================================================


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
