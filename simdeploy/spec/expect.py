"""The ``expect:`` section: one expectation per summary field.

``field: 0`` (equals), ``field: "<= 5"`` or ``field: {min: 1, max: 5}``; the field names
are checked by the root model against :mod:`simdeploy.spec.metrics`, and the checks run in
:mod:`simdeploy.run.checks`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

from simdeploy.spec.base import Strict

_OPS = ("<=", ">=", "==", "!=", "<", ">")


class Expectation(Strict):
    """``field: 0`` (equals), ``field: "<= 5"``, or ``field: {min: 1, max: 5}``."""

    op: Literal["<=", ">=", "==", "!=", "<", ">", "range"]
    value: float | str | None = None
    min: float | None = None
    max: float | None = None

    @property
    def text(self) -> str:
        if self.op == "range":
            lo = "-inf" if self.min is None else f"{self.min:g}"
            hi = "inf" if self.max is None else f"{self.max:g}"
            return f"in [{lo}, {hi}]"
        return f"{self.op} {self.value}"


def _expectation(value: Any) -> Any:
    if isinstance(value, dict):
        return {"op": "range", **value}
    if isinstance(value, str):
        for op in _OPS:
            if value.startswith(op):
                rest = value[len(op) :].strip()
                try:
                    return {"op": op, "value": float(rest)}
                except ValueError:
                    return {"op": op, "value": rest}
        return {"op": "==", "value": value}
    if isinstance(value, bool | int | float):
        return {"op": "==", "value": float(value)}
    return value


Expect = Annotated[Expectation, BeforeValidator(_expectation)]
