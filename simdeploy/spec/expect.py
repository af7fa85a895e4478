"""The ``expect:`` section: one expectation per summary field.

``field: 0`` (equals), ``field: "<= 5"`` or ``field: {min: 1, max: 5}``; the field names
are checked by the root model against :mod:`simdeploy.spec.metrics`, and the checks run in
:mod:`simdeploy.run.checks`.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from simdeploy.spec.base import Strict, problem, raise_problems
from simdeploy.spec.metrics import ERROR_CAUSES, OUTCOMES_OF_ROLLOUT, SUMMARY_FIELDS

_OPS = ("<=", ">=", "==", "!=", "<", ">")
_LEADING_OP = re.compile(r"\s*([<>=!]+)")


class Expectation(Strict):
    """``field: 0`` (equals), ``field: "<= 5"``, or ``field: {min: 1, max: 5}``."""

    op: Literal["<=", ">=", "==", "!=", "<", ">", "range"]
    value: float | str | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Expectation:
        """A range has a bound and is not empty (bounds are finite: ``allow_inf_nan``)."""
        out = []
        if self.op == "range":
            if self.min is None and self.max is None:
                out.append(problem((), "give min, max or both"))
            elif self.min is not None and self.max is not None and self.min > self.max:
                out.append(problem((), f"min {self.min:g} is above max {self.max:g}"))
        elif self.min is not None or self.max is not None:
            out.append(problem((), "min and max belong to a {min, max} range"))
        raise_problems(type(self).__name__, out)
        return self

    @property
    def text(self) -> str:
        if self.op == "range":
            lo = "-inf" if self.min is None else f"{self.min:g}"
            hi = "inf" if self.max is None else f"{self.max:g}"
            return f"in [{lo}, {hi}]"
        value = self.value
        if isinstance(value, float):
            return f"{self.op} {value:g}"  # 0.0 → 0, 5.0 → 5: a count reads as one
        return f"{self.op} {value}"


def _expectation(value: Any) -> Any:
    """The shorthand as an :class:`Expectation`: ``0``, ``"<= 5"``, ``{min: 1, max: 5}``.

    An operator other than <, <=, >, >=, ==, != (``"=< 5"``, ``"= 5"``) and a boolean are
    errors; whether a string value fits the field (``outcome: rolled_back``) is the root
    model's check.
    """
    if isinstance(value, dict):
        return {"op": "range", **value}
    if isinstance(value, str):
        for op in _OPS:
            if value.startswith(op):
                rest = value[len(op) :].strip()
                try:
                    number = float(rest)
                except ValueError:
                    return {"op": op, "value": rest}
                return {"op": op, "value": _finite(number, value)}
        lead = _LEADING_OP.match(value)
        if lead:
            raise ValueError(
                f"unknown operator '{lead.group(1)}' in {value!r}; "
                "use <, <=, >, >=, == or != (or {min, max})"
            )
        return {"op": "==", "value": value}
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got a boolean ({str(value).lower()})")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float range (10**400)
            number = math.inf
        return {"op": "==", "value": _finite(number, value)}
    return value


def _finite(number: float, written: Any) -> float:
    if not math.isfinite(number):
        if isinstance(written, str):  # as written: '<= nan'
            raise ValueError(
                f"{written!r}: {number} is not a finite number, nothing compares with it"
            )
        # a number (not ``nan: ...``, which would read as a sub-field of the path)
        text = str(written) if len(str(written)) <= 20 else f"{str(written)[:20]}…"
        raise ValueError(f"{text} is not a finite number, nothing compares with it")
    return number


# --- the JSON Schema of what users write (``simdeploy schema``) --------------------------------

#: A number as an expectation's bound: ``10``, ``0.5``, ``-1``, ``1e3`` (no ``nan``, no ``inf``).
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?"

#: ``"<= 10"``, ``"> 0"``, ``"!= 3"`` (or a bare number as a string, which means equals).
COMPARISON_PATTERN = rf"^\s*(?:(?:<=|>=|==|!=|<|>)\s*)?{_NUMBER}\s*$"


class ExpectRange(Strict):
    """``{min: 1, max: 5}``: both bounds inclusive, either may be left out (not both)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    min: float | None = None
    max: float | None = None


ExpectInput = (
    Annotated[float, Field(description="equals")]
    | Annotated[
        str, Field(pattern=COMPARISON_PATTERN, description="<, <=, >, >=, == or != a number")
    ]
    | ExpectRange
)


def expect_block_schema() -> dict[str, Any]:
    """What JSON Schema can say about the ``expect:`` mapping beyond one expectation's form.

    Its keys are summary fields, or an error cause below ``errors_by_cause`` (``.timeout``) or
    a phase below ``errors_by_phase`` (the phases are the plan's: only ``validate`` checks
    those); ``outcome`` is one of the outcomes, or ``== x`` / ``!= x`` of one.
    """
    names = "|".join(SUMMARY_FIELDS)
    causes = "|".join(ERROR_CAUSES)
    outcomes = "|".join(OUTCOMES_OF_ROLLOUT)
    keys = rf"^(?:(?:{names})|errors_by_cause\.(?:{causes})|errors_by_phase\..+)$"
    return {
        "propertyNames": {"pattern": keys},
        "properties": {
            "outcome": {
                "anyOf": [
                    {"enum": list(OUTCOMES_OF_ROLLOUT)},
                    {"type": "string", "pattern": rf"^\s*(?:==|!=)\s*(?:{outcomes})\s*$"},
                ],
                "description": "how the last rollout ended",
            }
        },
    }


#: One expectation: ``0``, ``"<= 5"`` or ``{min: 1, max: 5}`` (the schema shows these forms).
Expect = Annotated[Expectation, BeforeValidator(_expectation, json_schema_input_type=ExpectInput)]
