"""Evaluate a scenario's ``expect:`` block against a run's summary record. Pure.

``errors: 0`` (equals), ``downtime_s: "<= 5"``, ``rollback_time_s: {min: 60, max: 300}``,
``outcome: rolled_back``; dotted names reach into ``errors_by_cause``
(``errors_by_cause.connection_refused: 0``). A field with no value (``None``, e.g.
``rollback_time_s`` when nothing was rolled back) fails every numeric expectation.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simdeploy.spec.expect import Expectation

#: What a check shows for a field the summary does not have.
NO_SUCH_FIELD = "<no such field>"

_CMP = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Check:
    """One expectation and what the run gave."""

    field: str
    expected: str
    actual: Any
    passed: bool

    @property
    def line(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        return f"{mark} {self.field} {self.expected} (got {fmt_value(self.actual)})"


def fmt_value(value: Any) -> str:
    """A summary value as a check prints it: counts as integers (``12,345``, also a float
    that is whole), other numbers to 4 significant digits, anything else as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}"


def lookup(record: Mapping[str, Any], path: str) -> Any:
    """``errors_by_cause.timeout`` → record["errors_by_cause"]["timeout"]; KeyError if absent."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def check_one(field: str, exp: Expectation, actual: Any) -> Check:
    if exp.op == "range":
        ok = isinstance(actual, int | float) and (
            (exp.min is None or actual >= exp.min) and (exp.max is None or actual <= exp.max)
        )
        return Check(field, exp.text, actual, bool(ok))
    want = exp.value
    if isinstance(want, str) or isinstance(actual, str):
        if exp.op not in ("==", "!="):
            return Check(field, exp.text, actual, False)
        ok = (str(actual) == str(want)) == (exp.op == "==")
        return Check(field, exp.text, actual, ok)
    if actual is None or want is None:
        return Check(field, exp.text, actual, exp.op == "!=" and actual != want)
    return Check(field, exp.text, actual, bool(_CMP[exp.op](float(actual), float(want))))


def evaluate(expect: Mapping[str, Expectation], record: Mapping[str, Any]) -> list[Check]:
    """Every expectation of ``expect`` checked against ``record``, in file order."""
    out = []
    for field, exp in expect.items():
        try:
            actual = lookup(record, field)
        except KeyError:
            out.append(Check(field, exp.text, NO_SUCH_FIELD, False))
            continue
        out.append(check_one(field, exp, actual))
    return out
