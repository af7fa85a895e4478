"""Table tests for simdeploy.rules.argo_abort (abortScaleDownDelaySeconds).

Rows marked "upstream" are ported from argoproj/argo-rollouts (v1.10.0-rc1, commit 9f8d111)
``utils/defaults/defaults_test.go`` (TestGetAbortScaleDownDelaySecondsOrDefault, its blocks in
order, named by their comments or the value they set). shouldDelayScaleDownOnAbort has no
upstream table; its rows follow the branches of ``rollout/replicaset.go`` and their comments.
"""

from typing import Any

import pytest

from simdeploy.rules.argo_abort import (
    DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS,
    abort_scale_down_delay_seconds,
    has_explicit_abort_scale_down_delay,
    should_delay_scale_down_on_abort,
)


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        pytest.param(60, {"blue_green": True}, (60, True), id="upstream-blueGreenNonDefaultValue"),
        pytest.param(0, {"blue_green": True}, (None, True), id="upstream-dont scale down preview"),
        pytest.param(None, {"blue_green": True}, (30, False), id="upstream-blueGreenDefaultValue"),
        pytest.param(
            60, {"traffic_routing": True}, (60, True), id="upstream-canaryNonDefaultValue"
        ),
        pytest.param(
            0, {"traffic_routing": True}, (None, True), id="upstream-dont scale down canary"
        ),
        pytest.param(None, {}, (0, False), id="upstream-rolloutNoStrategyDefaultValue"),
        pytest.param(
            None, {"traffic_routing": True}, (30, False), id="upstream-canaryDefaultValue"
        ),
        pytest.param(
            None, {}, (0, False), id="upstream-basic canary should not have scaledown delay seconds"
        ),
        pytest.param(60, {}, (0, False), id="basic-canary-ignores-a-given-value"),
        pytest.param(30, {"traffic_routing": True}, (30, True), id="given-30-is-set"),
    ],
)
def test_abort_scale_down_delay_seconds(
    value: float | None, kwargs: dict[str, Any], expected: tuple[float | None, bool]
) -> None:
    assert abort_scale_down_delay_seconds(value, **kwargs) == expected


def test_default_is_30_seconds() -> None:
    assert DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS == 30


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        pytest.param(30, {"traffic_routing": True}, True, id="written-30-is-explicit"),
        pytest.param(None, {"traffic_routing": True}, False, id="absent-is-not-explicit"),
        pytest.param(0, {"traffic_routing": True}, False, id="zero-is-not-explicit"),
        pytest.param(60, {"blue_green": True}, True, id="blue-green-60"),
        pytest.param(60, {}, False, id="basic-canary-never"),
    ],
)
def test_has_explicit_abort_scale_down_delay(
    value: float | None, kwargs: dict[str, Any], expected: bool
) -> None:
    assert has_explicit_abort_scale_down_delay(value, **kwargs) is expected


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        pytest.param(
            None,
            {"aborted": False, "traffic_routing": True},
            False,
            id="only-applicable-to-aborted-rollouts",
        ),
        pytest.param(
            None,
            {"stable_exists": False, "traffic_routing": True},
            False,
            id="no-stable-dont-scale-down",
        ),
        pytest.param(None, {}, False, id="basic-canary-should-not-use-this"),
        pytest.param(0, {"traffic_routing": True}, False, id="explicit-0-leave-canary-up"),
        pytest.param(0, {"blue_green": True}, False, id="explicit-0-leave-preview-up"),
        pytest.param(None, {"traffic_routing": True}, True, id="routed-canary-default-delay"),
        pytest.param(None, {"blue_green": True}, True, id="blue-green-default-delay"),
        pytest.param(
            None,
            {"traffic_routing": True, "dynamic_stable_scale": True},
            False,
            id="dynamic-stable-scale-without-explicit-delay",
        ),
        pytest.param(
            30,
            {"traffic_routing": True, "dynamic_stable_scale": True},
            True,
            id="dynamic-stable-scale-with-explicit-30",
        ),
        pytest.param(
            0,
            {"traffic_routing": True, "dynamic_stable_scale": True},
            False,
            id="dynamic-stable-scale-with-0",
        ),
    ],
)
def test_should_delay_scale_down_on_abort(
    value: float | None, kwargs: dict[str, Any], expected: bool
) -> None:
    assert should_delay_scale_down_on_abort(value, **kwargs) is expected
