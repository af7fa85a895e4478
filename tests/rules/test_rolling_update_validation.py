"""Table tests for simdeploy.rules.rolling_update_validation.

Rows pin ValidateRollingUpdateDeployment (``pkg/apis/apps/validation/validation.go``) as the
API server applies it: which maxSurge / maxUnavailable pairs pass, and the exact error lines,
field paths and aggregation of those that do not.
"""

import pytest

from simdeploy.rules.int_or_percent import IntOrPercent
from simdeploy.rules.rolling_update_validation import (
    BOTH_ZERO_MSG,
    NEGATIVE_MSG,
    OVER_100_PERCENT_MSG,
    PERCENT_MSG,
    InvalidRolloutSpec,
    validate_rolling_update,
)

RU = "spec.strategy.rollingUpdate"


# --------------------------------------------------------------------------------------------
# validate_rolling_update (ValidateRollingUpdateDeployment)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("surge", "unavailable"),
    [
        pytest.param("25%", "25%", id="defaults-are-valid"),
        pytest.param(1, 0, id="surge-only"),
        pytest.param(0, 1, id="unavailable-only"),
        pytest.param("1%", 0, id="one-percent-passes-though-it-may-resolve-to-zero"),
        pytest.param(0, "100%", id="unavailable-exactly-100pct-allowed"),
        pytest.param("200%", 0, id="surge-has-no-upper-bound"),
        pytest.param(0, 50, id="int-unavailable-above-replicas-is-not-validated"),
    ],
)
def test_validate_rolling_update_accepts(surge: IntOrPercent, unavailable: IntOrPercent) -> None:
    validate_rolling_update(surge, unavailable)


@pytest.mark.parametrize(
    ("surge", "unavailable", "message"),
    [
        pytest.param(
            0,
            0,
            f"{RU}.maxUnavailable: Invalid value: 0: {BOTH_ZERO_MSG}",
            id="both-int-zero-forbidden",
        ),
        pytest.param(
            0,
            "0%",
            f'{RU}.maxUnavailable: Invalid value: "0%": {BOTH_ZERO_MSG}',
            id="zero-percent-unavailable-counts-as-zero",
        ),
        pytest.param(
            "0%",
            0,
            f"{RU}.maxUnavailable: Invalid value: 0: {BOTH_ZERO_MSG}",
            id="zero-percent-surge-counts-as-zero",
        ),
        pytest.param(
            "0%",
            "0%",
            f'{RU}.maxUnavailable: Invalid value: "0%": {BOTH_ZERO_MSG}',
            id="both-zero-percent-forbidden",
        ),
        pytest.param(
            0,
            "101%",
            f'{RU}.maxUnavailable: Invalid value: "101%": {OVER_100_PERCENT_MSG}',
            id="unavailable-over-100pct-forbidden",
        ),
        pytest.param(
            1,
            -1,
            f"{RU}.maxUnavailable: Invalid value: -1: {NEGATIVE_MSG}",
            id="negative-unavailable-forbidden",
        ),
        pytest.param(
            -1,
            1,
            f"{RU}.maxSurge: Invalid value: -1: {NEGATIVE_MSG}",
            id="negative-surge-forbidden",
        ),
        pytest.param(
            "5",
            0,
            f'{RU}.maxSurge: Invalid value: "5": {PERCENT_MSG}',
            id="bare-number-string-surge-is-bad-format-but-nonzero",
        ),
        pytest.param(
            1,
            "abc%",
            f'{RU}.maxUnavailable: Invalid value: "abc%": {PERCENT_MSG}',
            id="non-numeric-percent-unavailable",
        ),
        pytest.param(
            1,
            "-5%",
            f'{RU}.maxUnavailable: Invalid value: "-5%": {PERCENT_MSG}',
            id="negative-percent-is-a-format-error",
        ),
        pytest.param(
            "abc%",
            0,
            f'[{RU}.maxSurge: Invalid value: "abc%": {PERCENT_MSG}, '
            f"{RU}.maxUnavailable: Invalid value: 0: {BOTH_ZERO_MSG}]",
            id="unparseable-surge-counts-as-zero-two-errors-aggregated",
        ),
        pytest.param(
            -1,
            -1,
            f"[{RU}.maxUnavailable: Invalid value: -1: {NEGATIVE_MSG}, "
            f"{RU}.maxSurge: Invalid value: -1: {NEGATIVE_MSG}]",
            id="errors-in-upstream-order-unavailable-first",
        ),
        pytest.param(
            True,
            1,
            f"{RU}.maxSurge: Invalid value: True: must be an integer or percentage (e.g '5%%')",
            id="bool-is-not-an-int-or-percent",
        ),
    ],
)
def test_validate_rolling_update_rejects(
    surge: IntOrPercent, unavailable: IntOrPercent, message: str
) -> None:
    with pytest.raises(InvalidRolloutSpec) as excinfo:
        validate_rolling_update(surge, unavailable)
    assert str(excinfo.value) == message


def test_invalid_rollout_spec_is_a_value_error_listing_each_problem() -> None:
    with pytest.raises(ValueError, match="may not be 0") as excinfo:
        validate_rolling_update("abc%", 0)
    assert isinstance(excinfo.value, InvalidRolloutSpec)
    assert len(excinfo.value.errors) == 2
