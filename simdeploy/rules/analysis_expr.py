"""Argo Rollouts' ``successCondition`` / ``failureCondition`` expressions: parsed up front,
evaluated for one value.

The condition strings of an Argo metric, in a small, safe subset of the expr language Argo uses
(``utils/evaluate/evaluate.go``; a port of ``argoproj/argo-rollouts``, read, not copied). Never
``eval``: a hand-written tokenizer and parser that accepts only what is listed on
:func:`parse_condition`, checked up front so scenario validation can reject a bad expression
before any simulation runs. A :class:`Condition` says whether one value meets it; what a
measurement makes of that is :func:`simdeploy.rules.analysis_argo.measure`. There is no clock,
no SimPy and no pandas.

No data
-------
``result`` is one number, or ``None`` when a query over a window with too few requests returned
*nothing*. That is not a bad value, so it is kept apart from every number, NaN included.
Upstream, a provider with an empty result hands the expression nothing to compare (Prometheus:
an empty vector, so ``result[0]`` is out of range; Datadog: ``nil``, so ``result < 0.05`` is a
type mismatch) and the evaluation errors. Here: a condition that touches ``result`` when it is
``None`` (an ordering comparison, ``-result``, ``isNaN(result)``) cannot be evaluated and
raises :class:`ConditionEvalError`. Conditions written to cope, as Argo's docs advise, work as
upstream: ``isNil(result) || result >= 0.99`` and ``default(result, 0) < 0.05`` evaluate
normally, and ``result == 1`` is simply false.

NaN is a number: comparisons with it are false (IEEE, as in Go), so ``result >= 0.99`` is
false and so is ``result < 0.95``; ``isNaN(result)`` catches it.

Vector forms
------------
Argo's Prometheus provider hands the expression a vector, so its docs write ``result[0]``; a
simulated query gives one value, the vector ``[value]`` (or ``[]`` with no data). So
``result[0]`` is that value, and with no data it cannot be evaluated at all (upstream: index
out of range), even in ``==``; ``len(result)`` is 1, or 0 with no data. Another index is
refused up front (``result[1]`` would always be out of range).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Final, NamedTuple

__all__ = ["Condition", "ConditionEvalError", "InvalidCondition", "parse_condition"]


class InvalidCondition(ValueError):
    """A condition string that does not parse; the message names the text and the problem."""


class ConditionEvalError(ValueError):
    """A condition that cannot be evaluated for this value: it needs ``result`` and there is
    no data (upstream: an expr runtime error such as ``mismatched types <nil> and float64``).
    """


_FUNCTIONS: Final = ("isNaN", "isInf", "isNil", "default", "asFloat", "asInt")
_CMP_OPS: Final = ("==", "!=", "<=", ">=", "<", ">")
_NUMBER_RE: Final = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_HINTS: Final = {
    "'": "strings are not supported",
    '"': "strings are not supported",
    "=": "use '==' to compare",
    "&": "use '&&' or 'and'",
    "|": "use '||' or 'or'",
}
_NAME_HINTS: Final = {
    "nil": "use isNil(result) to test for no data",
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
        if ch in "<>()!,-[]":
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
class _First(_Node):
    """``result[0]``: the value of a one-element vector; no data is an out-of-range error."""


@dataclass(frozen=True)
class _Len(_Node):
    """``len(result)``: 1, or 0 with no data."""


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
                if self.peek().kind == "op" and self.peek().text == "[":
                    return self.index()
                return _Result("number")
            if tok.text == "len" and self.peek().kind == "op" and self.peek().text == "(":
                self.take()
                arg = self.take()
                if arg.text != "result":
                    raise self.fail("len() takes `result`", arg.col)
                self.expect(")")
                return _Len("number")
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

    def index(self) -> _Node:
        """``result[0]``: the only index a one-value result has."""
        self.expect("[")
        tok = self.take()
        if tok.kind != "num" or tok.text != "0":
            raise self.fail(
                f"result[{tok.text}]: a simulated query returns one value: use result[0]",
                tok.col,
            )
        self.expect("]")
        return _First("number")

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
        kind = "number" if name.text in ("default", "asFloat", "asInt") else "bool"
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
        case _First():
            if value is None:
                raise _no_data(text, "result[0] of an empty result")
            return float(value)
        case _Len():
            return 0.0 if value is None else 1.0
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
            if name == "asFloat":
                return x
            if name == "asInt":  # Go's int(): toward zero
                return float(math.trunc(x)) if math.isfinite(x) else x
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
      ``default(result, x)`` (``x`` when there is no data), as Argo offers for empty results;
    - the vector forms of Argo's Prometheus provider: ``result[0]`` and ``len(result)``;
    - ``asFloat(x)`` and ``asInt(x)`` (toward zero), which Argo's docs use with the web
      provider's JSON values.

    The result must be a condition (true/false), not a number.

    >>> parse_condition("result >= 0.99 && !isNaN(result)").text
    'result >= 0.99 && !isNaN(result)'
    >>> parse_condition("result[0] >= 0.95").evaluate(0.97)
    True
    >>> parse_condition("result[1] >= 0.95")
    Traceback (most recent call last):
    ...
    simdeploy.rules.analysis_expr.InvalidCondition: invalid condition 'result[1] >= 0.95': \
result[1]: a simulated query returns one value: use result[0] (column 8)
    """
    if not isinstance(text, str):
        raise InvalidCondition(f"invalid condition {text!r}: expected a string")
    return Condition(text, _Parser(text).parse())
