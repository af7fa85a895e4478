"""Strategy registry: one module per strategy, each with a ``sync(deployment) -> bool``.

``sync`` is one reconcile pass in the spirit of the Kubernetes controller's
``rolloutRolling`` / ``rolloutRecreate``: it performs at most one scale action and
returns True when it changed something (the controller then runs another pass).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simdeploy.strategies import recreate, rolling

if TYPE_CHECKING:
    from simdeploy.deployment import Deployment


@dataclass(frozen=True)
class StrategyImpl:
    name: str
    sync: Callable[[Deployment], bool]


STRATEGIES: dict[str, StrategyImpl] = {
    "Recreate": StrategyImpl("Recreate", recreate.sync),
    "RollingUpdate": StrategyImpl("RollingUpdate", rolling.sync),
}


def get_strategy(name: str) -> StrategyImpl:
    """The strategy registered under ``name`` (``KeyError`` names the known ones)."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
