"""The int-or-percent value (``intstr.IntOrString``) that both rollout controllers read.

Kubernetes' Deployment and Argo Rollouts' canary both take ``maxSurge`` and ``maxUnavailable``
as an int or a string: ``3`` (pods) or ``"25%"`` (of the desired replicas). They disagree on
which strings are valid and on what an error says: the Deployment API accepts only ``"N%"``,
while Argo reads every string as a percentage (``"25"`` is 25% too). So each controller keeps
its own reading, :func:`simdeploy.rules.replica_math.scaled_value` and
:func:`simdeploy.rules.canary_math.argo_scaled_value`, and this module holds only what they
share: the type, Go's ``strconv.Atoi`` that both use to parse numbers, the ``"N%"`` form that
apimachinery validates, and the rounding of N% of a total to whole pods.

Ported from:

- ``staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go`` (GetScaledValueFromIntOrPercent:
  ``math.Ceil`` / ``math.Floor`` of ``N * total / 100``)
- ``staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`` (IsValidPercent: the
  ``[0-9]+%`` form)
- Go's ``strconv.Atoi``

Pure: stdlib only. Nothing here raises; the callers decide what a parse failure means.
"""

import re

__all__ = [
    "IntOrPercent",
    "go_atoi",
    "percent_value",
    "scale_percent",
]

IntOrPercent = int | str
"""An ``intstr.IntOrString`` as the rollout APIs use it: ``3`` or ``"25%"``."""

_PERCENT_RE = re.compile(r"[0-9]+%")
# strconv.Atoi accepts an optional sign and decimal digits, nothing else.
_GO_ATOI_RE = re.compile(r"[+-]?[0-9]+")


def go_atoi(text: str) -> int | None:
    """The integer Go's ``strconv.Atoi`` reads from ``text``, or None where Atoi fails.

    An optional sign then ASCII digits, nothing else: no spaces, no ``_``, no ``%``. (Atoi also
    fails beyond int64; no spec value comes near, and this does not check.)

    Example: ``"5"`` → 5; ``"+5"`` → 5; ``"-05"`` → −5; ``"5%"`` → None; ``" 5"`` → None;
    ``""`` → None.
    """
    return int(text) if _GO_ATOI_RE.fullmatch(text) else None


def percent_value(value: object) -> int | None:
    """The N of a valid ``"N%"`` string, else None (IsValidPercent, read as getPercentValue).

    The form is ``[0-9]+%``: no sign, leading zeros allowed. Ints and other strings give None.

    Example: ``"25%"`` → 25; ``"007%"`` → 7 (the regex allows leading zeros); ``"5"`` → None;
    ``"-5%"`` → None; ``5`` → None.
    """
    if isinstance(value, str) and _PERCENT_RE.fullmatch(value):
        return int(value[:-1])
    return None


def scale_percent(percent: int, total: int, round_up: bool) -> int:
    """``percent`` % of ``total`` in whole pods, rounded up or down.

    This is the percent branch of GetScaledValueFromIntOrPercent. Upstream computes
    ``math.Ceil`` / ``math.Floor`` of ``float64(percent) * float64(total) / 100``; integer
    ceil/floor of ``percent * total`` over 100 gives the same result without float error.

    Example: 25% of 10 is 2.5 → 3 up, 2 down; 90% of 95 is 85.5 → 86 up, 85 down; 33% of 3 is
    0.99 → 0 down; 200% of 3 → 6 (not capped).
    """
    numerator = percent * total
    return -(-numerator // 100) if round_up else numerator // 100
