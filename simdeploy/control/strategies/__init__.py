"""Strategy registry: one module per strategy.

Kubernetes strategies (Recreate, RollingUpdate) have ``sync(deployment) -> bool``: one
reconcile pass in the spirit of the controller's ``rolloutRolling`` / ``rolloutRecreate``,
performing at most one scale action; the Deployment controller calls it. Progressive
strategies (Argo canary and blue/green, Flagger, shadow) have ``run(env, world, rollout)``:
the rollout's own SimPy process, which a rollback interrupts with its cause.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simdeploy.control.strategies import blue_green, canary, flagger, recreate, rolling, shadow

if TYPE_CHECKING:
    from simdeploy.control.deployment import Deployment


@dataclass(frozen=True)
class StrategyImpl:
    name: str
    sync: Callable[[Deployment], bool] | None = None
    run: Callable[..., Generator[Any, Any, None]] | None = None


STRATEGIES: dict[str, StrategyImpl] = {
    "Recreate": StrategyImpl("Recreate", sync=recreate.sync),
    "RollingUpdate": StrategyImpl("RollingUpdate", sync=rolling.sync),
    "Canary": StrategyImpl("Canary", run=canary.run),
    "BlueGreen": StrategyImpl("BlueGreen", run=blue_green.run),
    "Flagger": StrategyImpl("Flagger", run=flagger.run),
    "Shadow": StrategyImpl("Shadow", run=shadow.run),
}


def get_strategy(name: str) -> StrategyImpl:
    """The strategy registered under ``name`` (``KeyError`` names the known ones)."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
