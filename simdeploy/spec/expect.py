"""The ``expect:`` section: one expectation per summary field, and the policy's.

``field: 0`` (equals), ``field: "<= 5"`` or ``field: {min: 1, max: 5}``; the field names
are checked by the root model against :mod:`simdeploy.spec.metrics`, and the checks run in
:mod:`simdeploy.run.checks`. ``policy:`` holds expectations on the rollout policy's
operating characteristics (:class:`PolicyExpectation`), checked by replication in
:mod:`simdeploy.experiments.policy_gate`.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from simdeploy.spec.base import Duration, Strict, carry, problem, raise_problems
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
    those), or ``policy``; ``outcome`` is one of the outcomes, or ``== x`` / ``!= x`` of one.
    """
    names = "|".join(SUMMARY_FIELDS)
    causes = "|".join(ERROR_CAUSES)
    outcomes = "|".join(OUTCOMES_OF_ROLLOUT)
    keys = rf"^(?:(?:{names})|errors_by_cause\.(?:{causes})|errors_by_phase\..+|policy)$"
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


# --- expectations on the policy (``expect: policy:``) ----------------------------------------

#: How many runs per release a policy expectation takes unless it says (``seeds:``).
POLICY_SEEDS = 20


def _rate(exp: Expectation, loc: tuple[str, ...]) -> list[Any]:
    """Problems of an expectation on a probability: a comparison with a number in [0, 1]."""
    if exp.op == "range":
        bounds = [b for b in (exp.min, exp.max) if b is not None]
    elif isinstance(exp.value, float):
        bounds = [exp.value]
    else:
        return [problem(loc, f"'{exp.text}': a probability compares with a number in [0, 1]")]
    if any(not 0 <= b <= 1 for b in bounds):
        return [problem(loc, f"'{exp.text}': a probability is between 0 and 1")]
    return []


def _one_or_list(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A mapping is one release to detect, a list several: each validated as what it is,
    so a problem is reported once, at its own path."""
    if isinstance(value, dict):
        return PolicyDetects.model_validate(value)
    if isinstance(value, list):
        return _DETECTS_LIST.validate_python(value)
    if value is None:
        return None
    raise_problems(
        "detects", [problem((), "expected a mapping (one release to detect) or a list of them")]
    )
    return handler(value)  # not reached


class PolicyDetects(Strict):
    """``detects: {errorRate: 0.02, probability: ">= 0.95", within: 10m}``.

    A release with ``errorRate`` (added for all users, as ``simdeploy policy`` does) or
    ``latency`` (service time × (1 + latency)) is rolled back with ``probability``, and
    within ``within`` of its first request served (``time_to_detect_s``) when given.
    """

    error_rate: Annotated[float, Field(gt=0, lt=1)] | None = None
    latency: Annotated[float, Field(gt=0, lt=1)] | None = None
    probability: Expect
    within: Annotated[Duration, Field(gt=0)] | None = None

    @field_validator("probability")
    @classmethod
    def _probability(cls, exp: Expectation) -> Expectation:
        raise_problems(cls.__name__, _rate(exp, ()))
        return exp

    @model_validator(mode="wrap")
    @classmethod
    def _one_release(
        cls, data: Any, handler: ModelWrapValidatorHandler[PolicyDetects]
    ) -> PolicyDetects:
        """errorRate or latency, exactly one: checked beside the fields' own problems."""
        if not isinstance(data, dict):
            return handler(data)
        given = [k for k in ("errorRate", "error_rate", "latency") if data.get(k) is not None]
        extra = []
        if not given:
            extra = [problem((), "give errorRate or latency: the release to detect")]
        elif len(given) > 1:
            extra = [problem((), "give errorRate or latency, not both: one release each")]
        try:
            out = handler(data)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(cls.__name__, carry(exc) + extra) from None
        raise_problems(cls.__name__, extra)
        return out

    @property
    def kind(self) -> Literal["errors", "latency"]:
        return "errors" if self.error_rate is not None else "latency"

    @property
    def regression(self) -> float:
        value = self.error_rate if self.error_rate is not None else self.latency
        assert value is not None
        return value

    @property
    def text(self) -> str:
        what = (
            f"errorRate {self.error_rate:g}"
            if self.error_rate is not None
            else f"latency +{self.regression:.0%}"
        )
        within = f" within {self.within:g} s" if self.within is not None else ""
        return f"{what} rolled back{within} with probability {self.probability.text}"


_DETECTS_LIST = TypeAdapter(list[PolicyDetects])


class PolicyExpectation(Strict):
    """``expect: policy:``: what the rollout policy must do, measured over ``seeds`` runs of
    each release (``simdeploy policy``).

    ``falseRollbackRate``: the share of runs that roll back a release identical to the old
    version. ``detects``: one release (or a list) that must be rolled back often enough.
    """

    false_rollback_rate: Expect | None = None
    detects: Annotated[
        PolicyDetects | list[PolicyDetects] | None,
        WrapValidator(_one_or_list, json_schema_input_type=PolicyDetects | list[PolicyDetects]),
        Field(description="a release to detect, or a list of them"),
    ] = None
    seeds: Annotated[int, Field(ge=2, le=10_000)] = POLICY_SEEDS

    @field_validator("false_rollback_rate")
    @classmethod
    def _probability(cls, exp: Expectation | None) -> Expectation | None:
        if exp is not None:
            raise_problems(cls.__name__, _rate(exp, ()))
        return exp

    @model_validator(mode="after")
    def _something(self) -> PolicyExpectation:
        if self.false_rollback_rate is None and not self.detection:
            raise_problems(
                type(self).__name__, [problem((), "give falseRollbackRate, detects or both")]
            )
        return self

    @property
    def detection(self) -> list[PolicyDetects]:
        if self.detects is None:
            return []
        return self.detects if isinstance(self.detects, list) else [self.detects]

    def names(self) -> list[str]:
        """The name of each expectation it holds, as checks and reports show them."""
        out = ["policy.falseRollbackRate"] if self.false_rollback_rate is not None else []
        if isinstance(self.detects, list):
            out += [f"policy.detects[{i}]" for i in range(len(self.detects))]
        elif self.detects is not None:
            out.append("policy.detects")
        return out


class ExpectBlock(BaseModel):
    """The ``expect:`` mapping: summary field → :data:`Expect`, and ``policy:``.

    Read like a mapping of the field expectations (``items()``, ``keys()``, ``[name]``,
    ``in``); ``policy`` is apart, and ``empty`` says whether there is anything to check.
    Field names are checked by the root model (:mod:`simdeploy.spec.references`), so any
    key is taken here.
    """

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    __pydantic_extra__: dict[str, Expect] = Field(init=False)  # type: ignore[assignment]

    policy: PolicyExpectation | None = None

    @property
    def fields(self) -> dict[str, Expectation]:
        """Summary field → expectation, in file order."""
        return dict(self.__pydantic_extra__ or {})

    @property
    def empty(self) -> bool:
        return not self.__pydantic_extra__ and self.policy is None

    def items(self) -> Any:
        return self.fields.items()

    def keys(self) -> Any:
        return self.fields.keys()

    def __getitem__(self, name: str) -> Expectation:
        return self.fields[name]

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __bool__(self) -> bool:
        """False when there is nothing to check, as an empty mapping."""
        return not self.empty
