"""What Argo Rollouts and Flagger reject in a progressive strategy, with their messages.

Argo Rollouts validates a Rollout before its controller acts on it, and words its errors like
the Kubernetes API server (``field.Invalid``: ``Invalid value: <value>: <detail>``). Its
controller then parses ``maxSurge`` / ``maxUnavailable`` with apimachinery's
``GetValueFromIntOrPercent`` (every ``%`` removed, then ``strconv.Atoi``), and where that fails
it says "Error caught by validation" and carries on with 0: here the parse error *is* the
validation error. Upstream files of ``argoproj/argo-rollouts``:

- ``pkg/apis/rollouts/validation/validation.go``: ValidateRolloutStrategyCanary (setWeight
  within ``0..maxTrafficWeight``, scaleDownDelaySeconds and dynamicStableScale only with
  traffic routing, not both), ValidateRolloutStrategyBlueGreen (two different services),
  invalidMaxSurgeMaxUnavailable with getIntOrPercentValue;
- ``utils/replicaset/replicaset.go``: resolveFenceposts, MaxSurge, MaxUnavailable (the parse);
- ``utils/replicaset/canary.go``: trafficWeightToReplicas (``setCanaryScale.weight`` is a
  weight out of ``maxTrafficWeight``, like ``setWeight``), BeforeStartingStep.

Where upstream validates nothing but the value makes no sense for a rollout, this module rejects
it and says why, in upstream's terms: a negative maxSurge or maxUnavailable, a maxUnavailable
above 100% (the Deployment API's rules: ValidatePositiveIntOrPercent, IsNotMoreThan100Percent),
a ``setCanaryScale.weight`` beyond ``maxTrafficWeight``, a background analysis ``startingStep``
past the last step (BeforeStartingStep would hold it back for good).

Flagger validates none of its analysis numbers (the CRD says ``type: number``); its controller
reads a ``threshold`` ≤ 0 as 1 (``pkg/apis/flagger/v1beta1/canary.go``: GetAnalysisThreshold)
and a ``maxWeight`` ≤ 0 as unset (``pkg/controller/scheduler.go``: maxWeight → 100, or the last
``stepWeights`` entry). A scenario that says 0 means something else, so both are rejected with
a message that says what Flagger would do.

Each function returns the detail lines (without the field path, which the caller knows); an
empty list means valid. Pure: stdlib only.
"""

import json

from simdeploy.rules.int_or_percent import IntOrPercent, go_atoi, percent_value

__all__ = [
    "DUPLICATED_SERVICES_BLUE_GREEN_MSG",
    "INVALID_CANARY_DYNAMIC_STABLE_SCALE_WITH_SCALE_DOWN_DELAY_MSG",
    "INVALID_CANARY_SCALE_DOWN_DELAY_MSG",
    "INVALID_MAX_SURGE_MAX_UNAVAILABLE_MSG",
    "argo_int_or_percent_errors",
    "argo_validation_number",
    "blue_green_services_errors",
    "flagger_max_weight_errors",
    "flagger_threshold_errors",
    "invalid_max_surge_max_unavailable",
    "set_canary_scale_weight_errors",
    "set_weight_errors",
    "starting_step_errors",
]

# Upstream's messages, verbatim (validation.go constants).
INVALID_MAX_SURGE_MAX_UNAVAILABLE_MSG = "MaxSurge and MaxUnavailable both can not be zero"
_INVALID_SET_WEIGHT_MSG = "SetWeight needs to be between 0 and {}"
INVALID_CANARY_SCALE_DOWN_DELAY_MSG = (
    "Canary scaleDownDelaySeconds can only be used with traffic routing"
)
INVALID_CANARY_DYNAMIC_STABLE_SCALE_WITH_SCALE_DOWN_DELAY_MSG = (
    "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
)
DUPLICATED_SERVICES_BLUE_GREEN_MSG = (
    "This rollout uses the same service for the active and preview services, "
    "but two different services are required."
)


def _render(value: object) -> str:
    """A value as ``field.Invalid`` prints it: strings Go-quoted, numbers bare."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _invalid(value: object, detail: str) -> str:
    return f"Invalid value: {_render(value)}: {detail}"


def _argo_parse(value: IntOrPercent) -> int | None:
    """The number the controller reads (GetValueFromIntOrPercent), or None where it fails.

    Every ``%`` is removed from a string and the rest goes through ``strconv.Atoi``, so
    ``"25"`` and ``"25%"`` are both 25 (percent); an int is itself.
    Example: ``"25%"`` → 25; ``"-3"`` → −3; ``"abc"`` → None; ``4`` → 4.
    """
    if isinstance(value, str):
        return go_atoi(value.replace("%", ""))
    return value


def argo_int_or_percent_errors(value: IntOrPercent, *, max_100_percent: bool) -> list[str]:
    """Why a canary's ``maxSurge`` (or, with ``max_100_percent``, ``maxUnavailable``) is invalid.

    - a string the controller cannot parse: apimachinery's message, ``invalid value for
      IntOrString: invalid value "abc": strconv.Atoi: parsing "abc": invalid syntax``;
    - a negative number (``-3``, ``"-3%"``): "must be greater than or equal to 0", as the
      Deployment API says (Argo would compute a negative surge);
    - for maxUnavailable, a percentage above 100: "must not be greater than 100%" (Argo caps the
      result at the replicas, so 200% means 100%).

    A surge has no upper bound: ``"200%"`` lets the canary's pods reach three times the replicas.
    Example: ``("abc", False)`` → one line; ``("200%", True)`` → one line; ``("200%", False)``
    → none; ``("25", True)`` → none (Argo reads it as 25%).
    """
    number = _argo_parse(value)
    if number is None:
        stripped = value.replace("%", "") if isinstance(value, str) else value
        return [
            _invalid(
                value,
                f"invalid value for IntOrString: invalid value {_render(value)}: "
                f"strconv.Atoi: parsing {_render(stripped)}: invalid syntax",
            )
        ]
    if number < 0:
        return [_invalid(value, "must be greater than or equal to 0")]
    if max_100_percent and isinstance(value, str) and number > 100:
        return [_invalid(value, "must not be greater than 100%")]
    return []


def argo_validation_number(value: IntOrPercent) -> int:
    """The number validation compares with zero (validation.go getIntOrPercentValue).

    A valid ``"N%"`` gives N; any other string is ``IntValue()``: ``strconv.Atoi``, 0 where
    it fails; an int is itself. Example: ``"0%"`` → 0; ``"0"`` → 0; ``"5"`` → 5; ``"x"`` → 0.
    """
    percent = percent_value(value)
    if percent is not None:
        return percent
    if isinstance(value, str):
        return go_atoi(value) or 0
    return value


def invalid_max_surge_max_unavailable(
    max_surge: IntOrPercent, max_unavailable: IntOrPercent
) -> list[str]:
    """invalidMaxSurgeMaxUnavailable: both zero (as ints, ``"0"`` or ``"0%"``) is an error.

    Upstream reports it on ``maxSurge`` with the surge's value. Example: ``(0, "0%")`` →
    ``['Invalid value: 0: MaxSurge and MaxUnavailable both can not be zero']``; ``("1%", 0)``
    → none (it may still resolve to 0 pods; the controller then allows one unavailable).
    """
    if argo_validation_number(max_surge) == 0 and argo_validation_number(max_unavailable) == 0:
        return [_invalid(max_surge, INVALID_MAX_SURGE_MAX_UNAVAILABLE_MSG)]
    return []


def set_weight_errors(weight: int, max_traffic_weight: int = 100) -> list[str]:
    """ValidateRolloutStrategyCanary: a setWeight outside ``0..maxTrafficWeight``.

    Example: ``(101, 100)`` → ``['Invalid value: 101: SetWeight needs to be between 0 and
    100']``; ``(500, 1000)`` → none.
    """
    if weight < 0 or weight > max_traffic_weight:
        return [_invalid(weight, _INVALID_SET_WEIGHT_MSG.format(max_traffic_weight))]
    return []


def set_canary_scale_weight_errors(weight: int, max_traffic_weight: int = 100) -> list[str]:
    """A ``setCanaryScale.weight`` outside ``0..maxTrafficWeight``.

    The controller scales the canary to ``ceil(replicas × weight / maxTrafficWeight)``
    (trafficWeightToReplicas), the formula of setWeight, so weight 500 of 100 would run five
    times the rollout's replicas as canary pods; upstream's validation checks setWeight only.
    Example: ``(500, 100)`` → one line; ``(50, 100)`` → none.
    """
    if weight < 0 or weight > max_traffic_weight:
        return [
            _invalid(
                weight,
                f"weight needs to be between 0 and {max_traffic_weight}, as SetWeight "
                "(the canary gets ceil(replicas x weight / maxTrafficWeight) pods; "
                "use replicas for a pod count)",
            )
        ]
    return []


def starting_step_errors(starting_step: int, steps: int) -> list[str]:
    """A background analysis ``startingStep`` past the last step of ``steps`` steps.

    The analysis starts once the step index reaches ``startingStep`` (BeforeStartingStep);
    the index ends at ``steps`` and the rollout is then promoted, so a larger value means
    the analysis never runs. 0 (the default) always starts at once.
    Example: ``(3, 3)`` → one line (indexes are 0, 1, 2); ``(2, 3)`` → none; ``(0, 0)`` → none.
    """
    if starting_step > 0 and starting_step >= steps:
        return [
            _invalid(
                starting_step,
                f"past the last step (steps has {steps}, indexes 0 to {steps - 1}): "
                "the background analysis would never start"
                if steps
                else "there are no steps: the background analysis would never start",
            )
        ]
    return []


def blue_green_services_errors(active_service: str, preview_service: str | None) -> list[str]:
    """ValidateRolloutStrategyBlueGreen: the active and preview Services must differ.

    Example: ``("x", "x")`` → ``['Invalid value: "x": This rollout uses the same service for
    the active and preview services, but two different services are required.']``;
    ``("active", None)`` → none (no preview Service).
    """
    if active_service == preview_service:
        return [_invalid(active_service, DUPLICATED_SERVICES_BLUE_GREEN_MSG)]
    return []


def flagger_threshold_errors(threshold: int) -> list[str]:
    """A Flagger ``analysis.threshold`` ≤ 0, which its controller silently reads as 1.

    Example: ``0`` → one line; ``1`` → none.
    """
    if threshold <= 0:
        return [
            _invalid(
                threshold,
                "must be at least 1 (Flagger reads a threshold <= 0 as 1, "
                "GetAnalysisThreshold; write 1 or leave it out)",
            )
        ]
    return []


def flagger_max_weight_errors(max_weight: int) -> list[str]:
    """A Flagger ``analysis.maxWeight`` ≤ 0, which its controller reads as unset.

    Example: ``0`` → one line; ``50`` → none.
    """
    if max_weight <= 0:
        return [
            _invalid(
                max_weight,
                "must be greater than 0 (Flagger reads maxWeight <= 0 as unset: 100, or the "
                "last stepWeights entry; leave it out for that)",
            )
        ]
    return []
