"""Flagger's choice of strategy, and the weight ladder a progressive canary climbs to promotion.

A Flagger Canary does not name its strategy: ``analysis.iterations`` (with or without
``match``) makes it blue/green or A/B testing, anything else is a progressive canary. On each
successful analysis tick Flagger raises the canary weight by ``stepWeight`` (or to the
next entry of ``stepWeights``) until it reaches the max weight, and promotes on the tick after.
Weights are percent of traffic (0..100); a "tick" is one analysis interval. Ported from
``fluxcd/flagger`` (read at commit 15bd6ad, after v1.44.0): ``pkg/apis/flagger/v1beta1/
canary.go``: Canary.DeploymentStrategy and its constants; ``pkg/controller/scheduler.go``:
maxWeight, nextStepWeight and the weight branch of runCanary.

Pure: stdlib only.
"""

from collections.abc import Sequence
from typing import Final, Literal

__all__ = [
    "DEPLOYMENT_STRATEGY_AB_TESTING",
    "DEPLOYMENT_STRATEGY_BLUE_GREEN",
    "DEPLOYMENT_STRATEGY_CANARY",
    "FlaggerStrategy",
    "flagger_deployment_strategy",
    "flagger_max_weight",
    "flagger_next_step_weight",
    "flagger_next_weight",
    "flagger_promotion_ticks",
]

# Flagger's totalWeight: weights are percent of traffic, so the ladder ends at 100.
_FLAGGER_TOTAL_WEIGHT = 100

FlaggerStrategy = Literal["canary", "blue-green", "ab-testing"]

DEPLOYMENT_STRATEGY_CANARY: Final = "canary"
"""``DeploymentStrategyCanary``: progressive traffic shifting by weight."""
DEPLOYMENT_STRATEGY_BLUE_GREEN: Final = "blue-green"
"""``DeploymentStrategyBlueGreen``: ``iterations`` ticks with no user traffic, then a switch."""
DEPLOYMENT_STRATEGY_AB_TESTING: Final = "ab-testing"
"""``DeploymentStrategyABTesting``: matched users go to the canary for ``iterations`` ticks."""


def flagger_deployment_strategy(
    iterations: int = 0, matches: int = 0, *, has_analysis: bool = True
) -> FlaggerStrategy:
    """Which strategy a Flagger Canary runs (Canary.DeploymentStrategy).

    ``iterations`` is ``analysis.iterations`` and ``matches`` the number of ``analysis.match``
    conditions. No analysis → canary; match conditions *and* iterations > 0 → A/B testing;
    iterations > 0 alone → blue/green; otherwise (stepWeight, stepWeights, maxWeight, or
    nothing at all) → canary. Match conditions without iterations are ignored.

    Example: (0, 0) → "canary"; (5, 0) → "blue-green"; (10, 1) → "ab-testing"; (0, 1) →
    "canary".
    """
    if not has_analysis:
        return DEPLOYMENT_STRATEGY_CANARY
    if matches > 0 and iterations > 0:
        return DEPLOYMENT_STRATEGY_AB_TESTING
    if iterations > 0:
        return DEPLOYMENT_STRATEGY_BLUE_GREEN
    return DEPLOYMENT_STRATEGY_CANARY


def flagger_max_weight(
    max_weight: int | None = None, step_weights: Sequence[int] | None = None
) -> int:
    """The weight at which Flagger stops increasing and promotes (Controller.maxWeight).

    With ``stepWeights`` it is the last entry, capped at 100 (``maxWeight`` is then ignored).
    Otherwise ``maxWeight`` if > 0, else 100.

    Example: (50, None) → 50; (None, None) → 100; (50, [1, 5, 80]) → 80; (None, [10, 150]) → 100.
    """
    if step_weights:
        return min(_FLAGGER_TOTAL_WEIGHT, step_weights[-1])
    if max_weight is not None and max_weight > 0:
        return max_weight
    return _FLAGGER_TOTAL_WEIGHT


def flagger_next_step_weight(
    current: int, step_weight: int | None = None, step_weights: Sequence[int] | None = None
) -> int:
    """The increment Flagger adds to ``current`` on the next advancing tick (nextStepWeight).

    ``stepWeight`` wins when > 0, and is used as is (possibly 0) when there are no
    ``stepWeights``. With ``stepWeights``: from 0 the first entry; from an entry the gap to the
    next entry; from anything else (or the last entry) the rest up to 100. Every step is capped
    so the weight cannot pass 100; at exactly 100 the step is 1, which only serves to trigger
    promotion.

    Example: (20, 20) → 20; (0, None, [1, 10, 50]) → 1; (10, None, [1, 10, 50]) → 40;
    (30, None, [1, 10, 50]) → 70.
    """
    if (step_weight is not None and step_weight > 0) or not step_weights:
        return step_weight or 0
    max_step = _FLAGGER_TOTAL_WEIGHT - current
    if max_step == 0:
        return 1
    if current == 0:
        return min(max_step, step_weights[0])
    for index in range(len(step_weights) - 1):
        if step_weights[index] == current:
            return min(max_step, step_weights[index + 1] - current)
    return max_step


def flagger_next_weight(
    current: int,
    step_weight: int | None = None,
    step_weights: Sequence[int] | None = None,
    max_weight: int | None = 100,
) -> int:
    """Canary weight after one successful Flagger tick (runCanary's weight branch).

    While ``current`` is below :func:`flagger_max_weight` the weight grows by
    :func:`flagger_next_step_weight`, capped at 100; it may overshoot ``maxWeight``. At or above
    the max weight the tick promotes instead and the weight is unchanged; it is also unchanged
    when the step is 0 (Flagger then never advances). ``max_weight`` None or ≤ 0 means unset.

    Example: stepWeight 20, maxWeight 50: 0 → 20 → 40 → 60, then 60 stays (promotion).
    stepWeights [5, 10, 50]: 0 → 5 → 10 → 50.
    """
    if current >= flagger_max_weight(max_weight, step_weights):
        return current
    step = flagger_next_step_weight(current, step_weight, step_weights)
    if step <= 0:
        return current
    return min(_FLAGGER_TOTAL_WEIGHT, current + step)


def flagger_promotion_ticks(
    max_weight: int | None = None,
    step_weight: int | None = None,
    step_weights: Sequence[int] | None = None,
    *,
    mirror: bool = False,
) -> int:
    """Weight-advancing ticks from weight 0 until the tick that promotes.

    Counts successful analysis ticks that change the weight (plus the single mirrored tick at
    weight 0 when ``mirror``). The promotion tick itself, the first pre-rollout tick and the
    Promoting/Finalising ticks are not counted. Raises ValueError when the ladder stalls (a step
    of 0), since Flagger would then never promote.

    Example: stepWeight 20, maxWeight 50 → 3 (20, 40, 60); stepWeight 10, maxWeight 50 → 5;
    stepWeights [1, 5, 10, 20, 50] → 5; with mirror one more.
    """
    target = flagger_max_weight(max_weight, step_weights)
    current = 0
    ticks = 1 if mirror else 0
    while current < target:
        following = flagger_next_weight(current, step_weight, step_weights, max_weight)
        if following == current:
            raise ValueError(f"the Flagger weight ladder stalls at {current}: no promotion")
        current = following
        ticks += 1
    return ticks
