"""Table tests for simdeploy.rules.int_or_percent.

The helpers both rollout controllers share: Go's ``strconv.Atoi``, apimachinery's ``[0-9]+%``
form (IsValidPercent) and the ceil/floor of GetScaledValueFromIntOrPercent. The controllers'
own readings (replica_math.scaled_value, canary_math.argo_scaled_value) are tested with their
modules.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules.int_or_percent import go_atoi, percent_value, scale_percent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("5", 5, id="digits"),
        pytest.param("+5", 5, id="plus-sign"),
        pytest.param("-05", -5, id="minus-sign-leading-zero"),
        pytest.param("007", 7, id="leading-zeros"),
        pytest.param("5%", None, id="percent-sign-is-not-a-digit"),
        pytest.param(" 5", None, id="leading-space"),
        pytest.param("1_0", None, id="underscore-python-would-accept"),
        pytest.param("2.5", None, id="decimal"),
        pytest.param("", None, id="empty"),
        pytest.param("+", None, id="sign-only"),
    ],
)
def test_go_atoi(text: str, expected: int | None) -> None:
    assert go_atoi(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("25%", 25, id="percent"),
        pytest.param("0%", 0, id="zero-percent"),
        pytest.param("007%", 7, id="leading-zeros-are-valid"),
        pytest.param("200%", 200, id="over-100-is-still-a-percent"),
        pytest.param("5", None, id="bare-number-string"),
        pytest.param("-5%", None, id="negative-percent"),
        pytest.param("5 %", None, id="space-before-percent"),
        pytest.param("abc%", None, id="non-numeric"),
        pytest.param(5, None, id="int-is-not-a-percent-string"),
        pytest.param(True, None, id="bool"),
    ],
)
def test_percent_value(value: object, expected: int | None) -> None:
    assert percent_value(value) == expected


@pytest.mark.parametrize(
    ("percent", "total", "round_up", "expected"),
    [
        pytest.param(25, 10, True, 3, id="25pct-of-10-up-is-3"),
        pytest.param(25, 10, False, 2, id="25pct-of-10-down-is-2"),
        pytest.param(90, 95, True, 86, id="90pct-of-95-up-is-86"),
        pytest.param(90, 95, False, 85, id="90pct-of-95-down-is-85"),
        pytest.param(33, 3, False, 0, id="33pct-of-3-is-0.99-floors-to-0"),
        pytest.param(200, 3, True, 6, id="over-100-is-not-capped"),
        pytest.param(0, 10, True, 0, id="zero-percent"),
        pytest.param(33, 300_000_001, True, 99_000_001, id="large-total-exact-integer-ceil"),
    ],
)
def test_scale_percent(percent: int, total: int, round_up: bool, expected: int) -> None:
    assert scale_percent(percent, total, round_up) == expected


@given(percent=st.integers(0, 300), total=st.integers(0, 10_000))
def test_scale_percent_brackets_the_exact_value(percent: int, total: int) -> None:
    up, down = scale_percent(percent, total, True), scale_percent(percent, total, False)
    assert down * 100 <= percent * total <= up * 100
    assert up - down in (0, 1)
