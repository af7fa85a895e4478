"""Edge cases every strategy survives: 0 replicas, one replica, a zero-length run, a
rollback mid-way, no steps, 100% maxUnavailable. Nothing crashes and the outcome is one of
the documented ones; request conservation holds."""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy import simulate
from simdeploy.spec.metrics import OUTCOMES_OF_ROLLOUT
from tests.conftest import scenario

STRATEGIES: dict[str, dict[str, Any]] = {
    "recreate": {"type": "Recreate"},
    "canary-basic": {"canary": {"steps": [{"setWeight": 50}, {"pause": {"duration": "5s"}}]}},
    "canary-router-dss": {
        "canary": {
            "trafficRouting": {"istio": {}},
            "dynamicStableScale": True,
            "steps": [{"setWeight": 50}],
        }
    },
    "canary-no-steps": {"canary": {"steps": []}},
    "canary-all-unavailable": {
        "canary": {"maxSurge": 0, "maxUnavailable": "100%", "steps": [{"setWeight": 30}]}
    },
    "blue-green-no-preview": {"blueGreen": {"previewReplicaCount": 0}},
    "flagger": {"flagger": {"analysis": {"interval": "10s", "stepWeight": 50}}},
    "flagger-ab": {
        "flagger": {"analysis": {"interval": "10s", "iterations": 2, "match": [{"userShare": 0.5}]}}
    },
    "shadow": {"shadow": {"duration": "10s"}},
}


@pytest.mark.parametrize("strategy", list(STRATEGIES), ids=list(STRATEGIES))
@pytest.mark.parametrize("replicas", [0, 1], ids=["0-replicas", "1-replica"])
@pytest.mark.parametrize("rollback", [False, True], ids=["", "rollback"])
def test_strategy_edge_cases(strategy: str, replicas: int, rollback: bool) -> None:
    plan: list[dict[str, Any]] = [
        {"at": "5s", "action": "deploy", "version": "v2", "strategy": STRATEGIES[strategy]}
    ]
    if rollback:
        plan.append({"at": "20s", "action": "rollback"})
    r = simulate(
        scenario(service={"replicas": replicas}, plan=plan, simulation={"duration": "40s"})
    )
    rec = r.record
    assert rec["outcome"] in OUTCOMES_OF_ROLLOUT
    assert rec["requests"] == int(r.timeline.ok.sum()) + rec["errors"] + rec["in_flight"]
    if replicas == 0:
        assert rec["errors"] == rec["requests"] - rec["in_flight"]  # nothing can serve


@pytest.mark.parametrize("strategy", list(STRATEGIES), ids=list(STRATEGIES))
def test_zero_length_run(strategy: str) -> None:
    plan = [{"at": "0s", "action": "deploy", "version": "v2", "strategy": STRATEGIES[strategy]}]
    r = simulate(scenario(plan=plan, simulation={"duration": "0s"}))
    assert r.record["requests"] == 0
    assert r.record["outcome"] in OUTCOMES_OF_ROLLOUT
