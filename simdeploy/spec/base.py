"""Base types of the scenario format: strict camelCase models, durations, percentages.

Pure: pydantic only. ``scenario.py`` (Kubernetes, traffic, plan) and ``progressive.py``
(Argo Rollouts, Flagger, shadow, analysis) build on these.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

from simdeploy.rules.durations import parse_duration


class ScenarioError(ValueError):
    """A scenario that cannot be run. ``errors`` holds one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


class UsageError(ScenarioError):
    """A bad argument to the library: not a scenario or a path, a negative or fractional
    seed, no seeds, ``jobs < 1``. Same contract as :class:`ScenarioError` (``errors`` holds
    one line per problem, naming the argument), which it is a subclass of, so one
    ``except ScenarioError`` catches every bad input."""


#: The strings :func:`~simdeploy.rules.durations.parse_duration` reads, as a JSON Schema
#: ``pattern`` (ECMA 262 and Python ``re`` alike): seconds (``12``, ``0.5``, ``1e3``) or unit
#: parts (``250ms``, ``1m30s``, ``1m 30s``). Every match parses (tests/spec/test_json_schema.py).
DURATION_PATTERN = (
    r"^\s*(?:\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?"
    r"|(?:[0-9]+(?:\.[0-9]+)? *(?:ms|s|m|h) *)+)\s*$"
)

#: A duration as users write it: the input ``Duration`` accepts, for ``simdeploy schema``.
DurationInput = (
    Annotated[float, Field(ge=0, description="seconds")]
    | Annotated[
        str,
        Field(
            pattern=DURATION_PATTERN,
            description="a duration: 250ms, 30s, 5m, 1h, 1m30s or seconds",
        ),
    ]
)

Duration = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=DurationInput)]


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def _int_or_percent_schema(percent: str, description: str) -> WithJsonSchema:
    """The schema of an int-or-percent: a count of pods >= 0, or a string matching ``percent``."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": percent},
            ],
            "description": description,
        }
    )


_UP_TO_100 = r"0*(?:[0-9]{1,2}|100)"

#: Kubernetes' int-or-percent (a Deployment's ``maxSurge``): pods, or ``"N%"`` as apimachinery's
#: IsValidPercent reads it. The schemas say what the API accepts; validation says why not.
IntOrPercent = Annotated[
    int | str, _int_or_percent_schema("^[0-9]+%$", "pods, or a percentage of replicas: '25%'")
]
#: A Deployment's ``maxUnavailable``: as :data:`IntOrPercent`, and not above 100%.
MaxUnavailable = Annotated[
    int | str,
    _int_or_percent_schema(f"^{_UP_TO_100}%$", "pods, or a percentage of replicas up to 100%"),
]
#: Argo Rollouts' int-or-percent: Argo reads every string as a percentage (``"25"`` is 25%).
ArgoIntOrPercent = Annotated[
    int | str,
    _int_or_percent_schema("^[0-9]+%?$", "pods, or a percentage of replicas: '25%' (or '25')"),
]
#: An Argo canary's ``maxUnavailable``: as :data:`ArgoIntOrPercent`, and not above 100%.
ArgoMaxUnavailable = Annotated[
    int | str,
    _int_or_percent_schema(f"^{_UP_TO_100}%?$", "pods, or a percentage of replicas up to 100%"),
]


class Strict(BaseModel):
    """Base model: camelCase aliases, snake_case names, unknown keys rejected with a hint.

    Every problem of a model's own fields is reported at once: each unknown key (with its
    "did you mean"), each boolean where a number is expected, and pydantic's own field errors.
    A boolean is never read as a number (pydantic would take ``true`` as 1): ``replicas: true``
    is an error, anywhere in the format, while a field that accepts booleans keeps them.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,  # .inf / .nan are never a rate, a count or a bound
    )

    @model_validator(mode="wrap")
    @classmethod
    def _every_field_problem(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        fields = _fields_by_key(cls)
        problems: list[InitErrorDetails] = []
        clean: dict[Any, Any] = {}
        for key, value in data.items():
            field = fields.get(key) if isinstance(key, str) else None
            if field is None:
                problems.append(_unknown_key(cls, key))
                continue
            bad = _odd_numbers(field.annotation, value)
            for sub, message in bad:
                problems.append(problem((key, *sub), message, _at(value, sub)))
            clean[key] = _reject_at(value, [sub for sub, _ in bad]) if bad else value
        try:
            out = handler(clean)
        except ValidationError as exc:
            kept = [e for e in carry(exc) if not isinstance(e["input"], _Rejected)]
            raise ValidationError.from_exception_data(cls.__name__, problems + kept) from None
        raise_problems(cls.__name__, problems)
        return out


# --- reporting several problems at once ------------------------------------------------------

Loc = tuple[int | str, ...]


def problem(loc: Loc, message: str, value: Any = None) -> InitErrorDetails:
    """One problem at ``loc`` (relative to the model that raises it), for :func:`raise_problems`.

    The line reads ``<path of the model>.<loc>: <message>``; ``message`` must not itself begin
    with ``word: `` (that form names a sub-field, see :mod:`simdeploy.spec.errors`).
    """
    return InitErrorDetails(
        type=PydanticCustomError("invalid", "{message}", {"message": message}),
        loc=loc,
        input=value,
    )


def raise_problems(title: str, problems: Sequence[InitErrorDetails]) -> None:
    """Raise every problem together (a validator that raised one error would hide the rest)."""
    if problems:
        raise ValidationError.from_exception_data(title, list(problems))


def carry(exc: ValidationError) -> list[InitErrorDetails]:
    """The errors of ``exc``, to be raised again together with others.

    Type, location, input, message and context are kept, so
    :func:`simdeploy.spec.errors.format_validation_error` prints them as before.
    """
    out = []
    for err in exc.errors(include_url=False):
        ctx = {**(err.get("ctx") or {}), "_msg": err["msg"]}
        out.append(
            InitErrorDetails(
                type=PydanticCustomError(err["type"], "{_msg}", ctx),
                loc=tuple(err["loc"]),
                input=err["input"],
            )
        )
    return out


# --- the field checks of Strict ---------------------------------------------------------------

_FIELDS: dict[type, dict[str, FieldInfo]] = {}


def _fields_by_key(cls: type[BaseModel]) -> dict[str, FieldInfo]:
    """Field name and alias → field, per model class (computed once)."""
    known = _FIELDS.get(cls)
    if known is None:
        known = {}
        for name, field in cls.model_fields.items():
            known[name] = field
            if field.alias:
                known[field.alias] = field
        _FIELDS[cls] = known
    return known


def _unknown_key(cls: type[BaseModel], key: Any) -> InitErrorDetails:
    aliases = sorted(f.alias or n for n, f in cls.model_fields.items())
    close = difflib.get_close_matches(str(key), aliases, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(aliases)}"
    return InitErrorDetails(
        type=PydanticCustomError(
            "unknown_field", "unknown field{hint}", {"key": str(key), "hint": hint}
        ),
        loc=(),
        input=key,
    )


class _Rejected:
    """Stands in for a boolean already reported, so pydantic does not read it as 1."""


def _leaves(tp: Any) -> list[Any]:
    """The member types of ``tp`` with Annotated and unions unwrapped."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _leaves(get_args(tp)[0])
    if origin in (Union, UnionType):
        return [leaf for arg in get_args(tp) for leaf in _leaves(arg)]
    return [tp]


#: The largest integer of the format: Kubernetes and Argo count in int32 / int64, and a larger
#: one (``rows: 1e400`` written as digits) would overflow the float arithmetic of a run.
INT64_MAX = 2**63 - 1


def _odd_numbers(tp: Any, value: Any, loc: Loc = ()) -> list[tuple[Loc, str]]:
    """(where, message) for each boolean in ``value`` that ``tp`` would read as a number, and
    each integer beyond 64 bits where ``tp`` takes a number.

    Example: ``(int, True)`` → ``[((), 'expected a number, got a boolean (true)')]``;
    ``(list[int], [5, False])`` → one problem at ``(1,)``; ``(bool | None, True)`` → ``[]``;
    ``(str, True)`` → ``[]`` (pydantic rejects that itself); ``(int, 10**400)`` → one problem.
    """
    leaves = _leaves(tp)
    if isinstance(value, bool):
        if any(t is bool or t is Any or t is object for t in leaves):
            return []
        numeric = any(t in (int, float) for t in leaves)
        flag = "true" if value else "false"
        return [(loc, f"expected a number, got a boolean ({flag})")] if numeric else []
    if isinstance(value, int):
        if abs(value) <= INT64_MAX or not any(t in (int, float, Any, object) for t in leaves):
            return []
        digits = str(abs(value))
        shown = f"{'-' if value < 0 else ''}{digits[:12]}… ({len(digits)} digits)"
        return [(loc, f"{shown} is beyond 64-bit integers (at most {INT64_MAX:,})")]
    out: list[tuple[Loc, str]] = []
    for t in leaves:
        origin, args = get_origin(t), get_args(t)
        if origin in (list, tuple) and isinstance(value, list) and args:
            for i, item in enumerate(value):
                out += _odd_numbers(args[0], item, (*loc, i))
            return out
        if origin is dict and isinstance(value, dict) and len(args) == 2:
            for k, item in value.items():
                out += _odd_numbers(args[1], item, (*loc, k))
            return out
    return out


def _at(value: Any, loc: Loc) -> Any:
    for part in loc:
        value = value[part]
    return value


def _reject_at(value: Any, locs: list[Loc]) -> Any:
    """A copy of ``value`` with each position in ``locs`` replaced by a :class:`_Rejected`."""
    if () in locs:
        return _Rejected()
    if isinstance(value, list):
        return [
            _reject_at(item, [loc[1:] for loc in locs if loc[0] == i])
            for i, item in enumerate(value)
        ]
    if isinstance(value, dict):
        return {
            k: _reject_at(item, [loc[1:] for loc in locs if loc[0] == k])
            for k, item in value.items()
        }
    return value
