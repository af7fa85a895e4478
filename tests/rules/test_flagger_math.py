"""Table tests for simdeploy.rules.flagger_math (Flagger's strategy choice and weight ladder).

Rows follow fluxcd/flagger ``pkg/controller/scheduler.go`` (maxWeight, nextStepWeight,
runCanary); rows marked "upstream" are ported from ``pkg/apis/flagger/v1beta1/canary_test.go``
(TestCanary_GetDeploymentStrategy, commit 15bd6ad), named as there; rows marked "research" pin
the worked examples of /work/shared/research/argo_flagger.md.
"""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules.flagger_math import (
    flagger_deployment_strategy,
    flagger_max_weight,
    flagger_next_step_weight,
    flagger_next_weight,
    flagger_promotion_ticks,
)


@pytest.mark.parametrize(
    ("max_weight", "step_weights", "expected"),
    [
        pytest.param(None, None, 100, id="default-100"),
        pytest.param(0, None, 100, id="zero-is-unset"),
        pytest.param(50, None, 50, id="max-weight"),
        pytest.param(50, [1, 5, 80], 80, id="step-weights-last-entry-wins-over-max-weight"),
        pytest.param(None, [10, 150], 100, id="step-weights-capped-at-100"),
        pytest.param(30, [], 30, id="empty-step-weights-ignored"),
    ],
)
def test_flagger_max_weight(
    max_weight: int | None, step_weights: list[int] | None, expected: int
) -> None:
    assert flagger_max_weight(max_weight, step_weights) == expected


@pytest.mark.parametrize(
    ("current", "step_weight", "step_weights", "expected"),
    [
        pytest.param(20, 20, None, 20, id="step-weight"),
        pytest.param(20, 20, [1, 2], 20, id="step-weight-wins-over-step-weights"),
        pytest.param(0, None, None, 0, id="nothing-set-is-0"),
        pytest.param(0, None, [1, 10, 50], 1, id="step-weights-first-entry"),
        pytest.param(10, None, [1, 10, 50], 40, id="step-weights-gap-to-next"),
        pytest.param(30, None, [1, 10, 50], 70, id="step-weights-unknown-weight-rest-to-100"),
        pytest.param(50, None, [1, 10, 50], 50, id="step-weights-last-entry-rest-to-100"),
        pytest.param(80, None, [10, 80, 150], 20, id="step-weights-capped-at-100"),
        pytest.param(100, None, [10, 150], 1, id="step-weights-at-100-step-1"),
    ],
)
def test_flagger_next_step_weight(
    current: int, step_weight: int | None, step_weights: list[int] | None, expected: int
) -> None:
    assert flagger_next_step_weight(current, step_weight, step_weights) == expected


def _ladder(
    step_weight: int | None, step_weights: list[int] | None, max_weight: int | None
) -> list[int]:
    weights = [0]
    while True:
        following = flagger_next_weight(weights[-1], step_weight, step_weights, max_weight)
        if following == weights[-1]:
            return weights
        weights.append(following)


@pytest.mark.parametrize(
    ("step_weight", "step_weights", "max_weight", "expected"),
    [
        pytest.param(20, None, 50, [0, 20, 40, 60], id="research-overshoot-20-to-max-50"),
        pytest.param(10, None, 50, [0, 10, 20, 30, 40, 50], id="exact-max-50"),
        pytest.param(30, None, None, [0, 30, 60, 90, 100], id="capped-at-100"),
        pytest.param(None, [5, 10, 50], 100, [0, 5, 10, 50], id="research-step-weights-exact"),
        pytest.param(
            None, [1, 5, 10, 20, 50], None, [0, 1, 5, 10, 20, 50], id="step-weights-ignore-max"
        ),
        pytest.param(None, [10, 150], None, [0, 10, 100], id="step-weights-last-capped"),
        pytest.param(None, None, 50, [0], id="no-step-no-advance"),
    ],
)
def test_flagger_next_weight_ladder(
    step_weight: int | None,
    step_weights: list[int] | None,
    max_weight: int | None,
    expected: list[int],
) -> None:
    assert _ladder(step_weight, step_weights, max_weight) == expected


def test_flagger_next_weight_at_max_promotes_without_change() -> None:
    assert flagger_next_weight(60, step_weight=20, max_weight=50) == 60
    assert flagger_next_weight(50, step_weight=10, max_weight=50) == 50


@pytest.mark.parametrize(
    ("max_weight", "step_weight", "step_weights", "mirror", "expected"),
    [
        pytest.param(50, 20, None, False, 3, id="research-stepWeight-20-maxWeight-50"),
        pytest.param(50, 10, None, False, 5, id="docs-interval-times-max-over-step"),
        pytest.param(None, 25, None, False, 4, id="default-max-100"),
        pytest.param(None, None, [1, 5, 10, 20, 50], False, 5, id="step-weights-count"),
        pytest.param(50, 10, None, True, 6, id="mirror-adds-one-tick"),
        pytest.param(100, 30, None, False, 4, id="last-step-capped-at-100"),
    ],
)
def test_flagger_promotion_ticks(
    max_weight: int | None,
    step_weight: int | None,
    step_weights: list[int] | None,
    mirror: bool,
    expected: int,
) -> None:
    assert flagger_promotion_ticks(max_weight, step_weight, step_weights, mirror=mirror) == expected


@pytest.mark.parametrize(
    ("step_weight", "step_weights"),
    [
        pytest.param(None, None, id="no-step-weight"),
        pytest.param(None, [10, 10, 20], id="repeated-entry-gives-step-0"),
    ],
)
def test_flagger_promotion_ticks_stalls(
    step_weight: int | None, step_weights: list[int] | None
) -> None:
    with pytest.raises(ValueError, match="stalls"):
        flagger_promotion_ticks(50, step_weight, step_weights)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@given(
    max_weight=st.one_of(st.none(), st.integers(min_value=1, max_value=100)),
    step_weight=st.integers(min_value=1, max_value=100),
)
def test_flagger_step_weight_ticks_match_ceiling(max_weight: int | None, step_weight: int) -> None:
    target = flagger_max_weight(max_weight, None)
    assert flagger_promotion_ticks(max_weight, step_weight) == -(-target // step_weight)


# --------------------------------------------------------------------------------------------
# Canary.DeploymentStrategy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # maxWeight 30, stepWeight 10: no iterations
        pytest.param({}, "canary", id="upstream-canary strategy with maxWeight"),
        # stepWeights [10, 20, 30]: no iterations
        pytest.param({}, "canary", id="upstream-canary strategy with stepWeights"),
        pytest.param(
            {"iterations": 5}, "blue-green", id="upstream-blue-green strategy with iterations"
        ),
        pytest.param(
            {"iterations": 10, "matches": 1},
            "ab-testing",
            id="upstream-ab-testing strategy with iterations and match",
        ),
        pytest.param(
            {"has_analysis": False}, "canary", id="upstream-default to canary when analysis is nil"
        ),
        pytest.param({}, "canary", id="upstream-default to canary when analysis is empty"),
        pytest.param({"matches": 2}, "canary", id="match-without-iterations-is-ignored"),
        pytest.param(
            {"iterations": 3, "matches": 1, "has_analysis": False},
            "canary",
            id="no-analysis-beats-iterations",
        ),
    ],
)
def test_flagger_deployment_strategy(kwargs: dict[str, Any], expected: str) -> None:
    assert flagger_deployment_strategy(**kwargs) == expected
