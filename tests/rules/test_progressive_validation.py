"""Table tests for simdeploy.rules.progressive_validation.

Rows named ``Test.../...`` are Argo Rollouts' own (``pkg/apis/rollouts/validation/
validation_test.go``); the others pin the controller's parse of int-or-percent
(``resolveFenceposts`` → apimachinery's GetValueFromIntOrPercent) and Flagger's reading of
``threshold`` (GetAnalysisThreshold) and ``maxWeight`` (scheduler.go maxWeight).
"""

import pytest

from simdeploy.rules import progressive_validation as pv
from simdeploy.rules.int_or_percent import IntOrPercent

BOTH_ZERO = pv.INVALID_MAX_SURGE_MAX_UNAVAILABLE_MSG


@pytest.mark.parametrize(
    ("surge", "unavailable"),
    [
        pytest.param(0, 0, id="FromInt(0)-FromInt(0)"),
        pytest.param("0", 0, id="FromString(0)-FromInt(0)"),
        pytest.param("0%", 0, id="FromString(0%)-FromInt(0)"),
        pytest.param(0, "0", id="FromInt(0)-FromString(0)"),
        pytest.param(0, "0%", id="FromInt(0)-FromString(0%)"),
        pytest.param("0", "0", id="FromString(0)-FromString(0)"),
        pytest.param("0%", "0%", id="FromString(0%)-FromString(0%)"),
    ],
)
def test_invalid_max_surge_max_unavailable(surge: IntOrPercent, unavailable: IntOrPercent) -> None:
    # TestInvalidMaxSurgeMaxUnavailable: every spelling of zero, on both sides.
    (line,) = pv.invalid_max_surge_max_unavailable(surge, unavailable)
    assert line.endswith(f": {BOTH_ZERO}")


@pytest.mark.parametrize(
    ("surge", "unavailable"),
    [
        pytest.param("1%", 0, id="one-percent-passes-though-it-may-resolve-to-zero"),
        pytest.param(0, 1, id="unavailable-only"),
        pytest.param("abc", 1, id="unparseable-is-0-for-this-check-but-unavailable-is-not"),
    ],
)
def test_max_surge_max_unavailable_not_both_zero(
    surge: IntOrPercent, unavailable: IntOrPercent
) -> None:
    assert pv.invalid_max_surge_max_unavailable(surge, unavailable) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("0%", 0, id="percent"),
        pytest.param("0", 0, id="IntValue-of-a-string"),
        pytest.param("5", 5, id="atoi"),
        pytest.param("x", 0, id="atoi-fails-as-0"),
        pytest.param(3, 3, id="int"),
    ],
)
def test_argo_validation_number(value: IntOrPercent, expected: int) -> None:
    # validation.go getIntOrPercentValue: "N%" → N, other strings through IntValue().
    assert pv.argo_validation_number(value) == expected


@pytest.mark.parametrize(
    ("value", "max_100", "expected"),
    [
        pytest.param(
            "abc",
            False,
            'Invalid value: "abc": invalid value for IntOrString: invalid value "abc": '
            'strconv.Atoi: parsing "abc": invalid syntax',
            id="controller-cannot-parse",
        ),
        pytest.param(
            "2.5%",
            False,
            'Invalid value: "2.5%": invalid value for IntOrString: invalid value "2.5%": '
            'strconv.Atoi: parsing "2.5": invalid syntax',
            id="no-fractions",
        ),
        pytest.param(-3, False, "Invalid value: -3: must be greater than or equal to 0", id="neg"),
        pytest.param(
            "-3%", False, 'Invalid value: "-3%": must be greater than or equal to 0', id="neg-pct"
        ),
        pytest.param(
            "200%", True, 'Invalid value: "200%": must not be greater than 100%', id="unavail-200"
        ),
        pytest.param(
            "200",
            True,
            'Invalid value: "200": must not be greater than 100%',
            id="unavail-200-bare",
        ),
    ],
)
def test_argo_int_or_percent_errors(value: IntOrPercent, max_100: bool, expected: str) -> None:
    assert pv.argo_int_or_percent_errors(value, max_100_percent=max_100) == [expected]


@pytest.mark.parametrize(
    ("value", "max_100"),
    [
        pytest.param("25%", True, id="default"),
        pytest.param("25", True, id="argo-reads-every-string-as-percent"),
        pytest.param("100%", True, id="unavailable-100pct"),
        pytest.param("200%", False, id="surge-has-no-upper-bound"),
        pytest.param(50, True, id="int-unavailable-above-100-is-pods-not-percent"),
        pytest.param("+5%", False, id="atoi-accepts-a-sign"),
    ],
)
def test_argo_int_or_percent_accepts(value: IntOrPercent, max_100: bool) -> None:
    assert pv.argo_int_or_percent_errors(value, max_100_percent=max_100) == []


@pytest.mark.parametrize(
    ("weight", "max_weight", "expected"),
    [
        pytest.param(
            101,
            100,
            ["Invalid value: 101: SetWeight needs to be between 0 and 100"],
            id="TestValidateRolloutStrategyCanary/invalid set weight value",
        ),
        pytest.param(
            -1, 100, ["Invalid value: -1: SetWeight needs to be between 0 and 100"], id="negative"
        ),
        pytest.param(100, 100, [], id="full-weight"),
        pytest.param(0, 100, [], id="zero"),
        pytest.param(500, 1000, [], id="out-of-maxTrafficWeight-1000"),
        pytest.param(
            60, 50, ["Invalid value: 60: SetWeight needs to be between 0 and 50"], id="above-max-50"
        ),
    ],
)
def test_set_weight_errors(weight: int, max_weight: int, expected: list[str]) -> None:
    assert pv.set_weight_errors(weight, max_weight) == expected


def test_set_canary_scale_weight_is_bounded_like_set_weight() -> None:
    assert pv.set_canary_scale_weight_errors(100, 100) == []
    assert pv.set_canary_scale_weight_errors(500, 1000) == []
    (line,) = pv.set_canary_scale_weight_errors(500, 100)
    assert line.startswith("Invalid value: 500: weight needs to be between 0 and 100")


@pytest.mark.parametrize(
    ("starting_step", "steps", "fails"),
    [
        pytest.param(0, 0, False, id="default-with-no-steps"),
        pytest.param(0, 3, False, id="default"),
        pytest.param(2, 3, False, id="the-last-step"),
        pytest.param(3, 3, True, id="one-past-the-last"),
        pytest.param(1, 0, True, id="no-steps"),
    ],
)
def test_starting_step_errors(starting_step: int, steps: int, fails: bool) -> None:
    assert bool(pv.starting_step_errors(starting_step, steps)) is fails


def test_validate_rollout_strategy_blue_green() -> None:
    # TestValidateRolloutStrategyBlueGreen: the same Service for active and preview.
    assert pv.blue_green_services_errors("service-name", "service-name") == [
        f'Invalid value: "service-name": {pv.DUPLICATED_SERVICES_BLUE_GREEN_MSG}'
    ]
    assert pv.blue_green_services_errors("active", "preview") == []
    assert pv.blue_green_services_errors("active", None) == []


@pytest.mark.parametrize(
    ("threshold", "fails"),
    [
        pytest.param(-1, True, id="negative-read-as-1"),
        pytest.param(0, True, id="zero-read-as-1"),
        pytest.param(1, False, id="one"),
        pytest.param(5, False, id="five"),
    ],
)
def test_flagger_threshold(threshold: int, fails: bool) -> None:
    assert bool(pv.flagger_threshold_errors(threshold)) is fails


@pytest.mark.parametrize(
    ("max_weight", "fails"),
    [
        pytest.param(0, True, id="zero-read-as-unset"),
        pytest.param(-5, True, id="negative-read-as-unset"),
        pytest.param(1, False, id="one"),
        pytest.param(100, False, id="hundred"),
    ],
)
def test_flagger_max_weight(max_weight: int, fails: bool) -> None:
    assert bool(pv.flagger_max_weight_errors(max_weight)) is fails
