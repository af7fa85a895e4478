"""Each controller pass says whether it scaled something, as ``syncDeployment``'s does.

A pass that wrote a replica set is followed at once by another (the write would re-queue the
Deployment); one that wrote nothing ends the instant's passes. The strategies' ``sync`` must
return exactly that: a False after a scale would leave the rest of the instant's actions to
the next wake-up, a True without one would spin the controller.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy import simulate
from simdeploy.control.deployment import Deployment
from tests.conftest import scenario

STRATEGIES = {
    "recreate": {"type": "Recreate", "rollingUpdate": None},
    "rolling": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
}


@pytest.mark.parametrize("strategy", STRATEGIES.values(), ids=STRATEGIES.keys())
def test_a_pass_returns_true_exactly_when_it_scaled(
    strategy: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    scales: list[str] = []
    passes: list[tuple[bool, int]] = []  # (what the pass returned, scale actions it made)
    scale, sync_pass = Deployment.scale, Deployment._sync_pass

    def counted_scale(self: Deployment, rs: Any, n: int, why: str) -> Any:
        scales.append(why)
        return scale(self, rs, n, why)

    def observed_pass(self: Deployment, sync: Any) -> bool:
        def observed(dep: Deployment) -> bool:
            before = len(scales)
            scaled = sync(dep)
            passes.append((scaled, len(scales) - before))
            return scaled

        return sync_pass(self, observed)

    monkeypatch.setattr(Deployment, "scale", counted_scale)
    monkeypatch.setattr(Deployment, "_sync_pass", observed_pass)
    r = simulate(scenario(service={"strategy": strategy}))
    assert r.record["outcome"] == "completed"
    assert passes and all(scaled == (n > 0) for scaled, n in passes), passes
    # Both kinds occur: passes that scaled, and passes that waited for pods.
    assert {scaled for scaled, _ in passes} == {True, False}
