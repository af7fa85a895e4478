"""What the Kubernetes API server rejects in a Deployment's ``rollingUpdate``, verbatim.

ValidateRollingUpdateDeployment checks ``maxSurge`` and ``maxUnavailable`` before any
controller runs: each must be a non-negative int or a ``"N%"`` string, they may not both be
zero, and ``maxUnavailable`` may not exceed 100%. This module ports those checks with
upstream's messages and field paths, and the error type that carries them
(:class:`InvalidRolloutSpec`), so a scenario fails with the same words ``kubectl apply`` would
print. Resolving a valid spec to pod counts is replica_math's concern. Upstream files of
``kubernetes/kubernetes``:

- ``pkg/apis/apps/validation/validation.go`` (ValidateRollingUpdateDeployment,
  ValidatePositiveIntOrPercent, getIntOrPercentValue, getPercentValue)
- ``staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`` (IsValidPercent)
- ``staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go`` (field.Invalid,
  ErrorList.ToAggregate)

Pure: stdlib only.
"""

import json
from collections.abc import Sequence

from simdeploy.rules.int_or_percent import IntOrPercent, go_atoi, percent_value

__all__ = [
    "BOTH_ZERO_MSG",
    "NEGATIVE_MSG",
    "OVER_100_PERCENT_MSG",
    "PERCENT_MSG",
    "InvalidRolloutSpec",
    "int_or_percent_error",
    "validate_rolling_update",
]

_FIELD_PATH = "spec.strategy.rollingUpdate"

# Upstream validation messages, verbatim. PERCENT_MSG is what apimachinery's IsValidPercent
# builds with RegexError(msg, "[0-9]+%", "1%", "93%"); the double space before "or" is upstream's.
PERCENT_MSG = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)
NEGATIVE_MSG = "must be greater than or equal to 0"
BOTH_ZERO_MSG = "may not be 0 when `maxSurge` is 0"
OVER_100_PERCENT_MSG = "must not be greater than 100%"
# The doubled "%%" is upstream's too: the string is never passed through a formatter.
_NOT_INT_OR_PERCENT_MSG = "must be an integer or percentage (e.g '5%%')"


class InvalidRolloutSpec(ValueError):
    """A rolling-update spec that the Kubernetes API server would reject.

    ``errors`` holds one line per problem, each formatted like ``field.Invalid``:
    ``<path>: Invalid value: <value>: <detail>``. ``str(exc)`` is the line itself when there is
    one problem, and ``[first, second]`` when there are several, as ``ErrorList.ToAggregate()``
    prints them.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        super().__init__(_aggregate(self.errors))


def _aggregate(errors: Sequence[str]) -> str:
    """Join messages the way ``utilerrors.NewAggregate(...).Error()`` does.

    One message is returned as is; several are de-duplicated and wrapped in brackets.
    Example: ``["a"]`` → ``"a"``; ``["a", "b", "a"]`` → ``"[a, b]"``.
    """
    unique = list(dict.fromkeys(errors))
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"


def _render(value: object) -> str:
    """Render a value the way ``field.Invalid`` prints it: ints bare, strings Go-quoted.

    Example: ``0`` → ``0``; ``"0%"`` → ``"0%"`` (with the double quotes).
    """
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(value)


def _invalid(field: str, value: object, detail: str) -> str:
    """Format one ``field.Invalid`` line.

    Example: ``_invalid("maxSurge", -1, NEGATIVE_MSG)`` →
    ``spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0``.
    """
    prefix = f"{_FIELD_PATH}.{field}: " if field else ""
    return f"{prefix}Invalid value: {_render(value)}: {detail}"


def _validation_number(value: object) -> int:
    """The number validation compares with zero (validation's getIntOrPercentValue).

    A valid percent gives N; any other string goes through Go's ``strconv.Atoi``, and a parse
    failure counts as 0. Example: ``"0%"`` → 0; ``"5"`` → 5; ``"abc%"`` → 0; ``3`` → 3.
    """
    percent = percent_value(value)
    if percent is not None:
        return percent
    if isinstance(value, str):
        parsed = go_atoi(value)
        return 0 if parsed is None else parsed
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return 0


def _validate_int_or_percent(field: str, value: object) -> list[str]:
    """ValidatePositiveIntOrPercent: a non-negative int or a ``"N%"`` string.

    Example: ``("maxSurge", "5")`` → one PERCENT_MSG line; ``("maxSurge", 2)`` → no lines.
    """
    if isinstance(value, str):
        return [] if percent_value(value) is not None else [_invalid(field, value, PERCENT_MSG)]
    if isinstance(value, int) and not isinstance(value, bool):
        return [_invalid(field, value, NEGATIVE_MSG)] if value < 0 else []
    return [_invalid(field, value, _NOT_INT_OR_PERCENT_MSG)]


def validate_rolling_update(max_surge: IntOrPercent, max_unavailable: IntOrPercent) -> None:
    """Raise :class:`InvalidRolloutSpec` where ValidateRollingUpdateDeployment would fail.

    Checks, in upstream order: maxUnavailable's format, maxSurge's format, "both zero", and
    maxUnavailable above 100%. Both zero compares the raw numbers, so ``0`` and ``"0%"`` count
    as zero, while ``"1%"`` passes even though it later resolves to 0 pods for small
    Deployments. maxSurge has no upper bound.

    Example: ``(0, "0%")`` raises
    ``spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when
    `maxSurge` is 0``; ``("25%", "25%")``, ``("200%", 0)`` and ``("1%", 0)`` pass.
    """
    errors = _validate_int_or_percent("maxUnavailable", max_unavailable)
    errors += _validate_int_or_percent("maxSurge", max_surge)
    if _validation_number(max_unavailable) == 0 and _validation_number(max_surge) == 0:
        errors.append(_invalid("maxUnavailable", max_unavailable, BOTH_ZERO_MSG))
    percent = percent_value(max_unavailable)
    if percent is not None and percent > 100:
        errors.append(_invalid("maxUnavailable", max_unavailable, OVER_100_PERCENT_MSG))
    if errors:
        raise InvalidRolloutSpec(errors)


def int_or_percent_error(value: object) -> InvalidRolloutSpec:
    """The error for ``value`` read outside any field as neither an int nor ``"N%"``.

    This is what replica_math's scaled_value raises: the line has no field path, a string gets
    IsValidPercent's message and anything else ValidatePositiveIntOrPercent's.

    Example: ``"5"`` → ``Invalid value: "5": a valid percent string must be ...``;
    ``True`` → ``Invalid value: True: must be an integer or percentage (e.g '5%%')``.
    """
    detail = PERCENT_MSG if isinstance(value, str) else _NOT_INT_OR_PERCENT_MSG
    return InvalidRolloutSpec([_invalid("", value, detail)])
