"""A strategy block behaves the same under ``service.strategy`` and under ``plan[].strategy``.

The deploy picks ``action.strategy or service.strategy``, so the same block in either place
must give the same run. It did not for the strategies that hand the new version to the
Deployment at the end (Flagger's promotion, a promoted shadow): they rolled the primary out
with ``service.strategy``, and when that was the Flagger or shadow block itself the
Deployment controller had no Kubernetes strategy to reconcile with, so the rollout stayed in
``Promoting`` forever (``outcome: running``). The Deployment keeps a Kubernetes strategy (the
service's own when it is Recreate or RollingUpdate, else Kubernetes' default), wherever the
progressive block was given.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy import simulate
from simdeploy.run.result import Result
from tests.conftest import scenario

#: One block per strategy type (and per Flagger mode), each able to finish a good release of
#: the small scenario well within the run.
BLOCKS: dict[str, dict[str, Any]] = {
    "Recreate": {"type": "Recreate"},
    "RollingUpdate": {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 0},
    },
    "Canary": {"canary": {"steps": [{"setWeight": 50}, {"pause": {"duration": "10s"}}]}},
    "Canary-routed": {
        "canary": {
            "trafficRouting": {"istio": {}},
            "steps": [{"setWeight": 25}, {"pause": {"duration": "10s"}}],
        }
    },
    "BlueGreen": {"blueGreen": {"autoPromotionSeconds": "10s", "scaleDownDelaySeconds": "5s"}},
    "Flagger": {"flagger": {"analysis": {"interval": "10s", "maxWeight": 50, "stepWeight": 25}}},
    "Flagger-ab": {
        "flagger": {"analysis": {"interval": "10s", "iterations": 2, "match": [{"userShare": 0.5}]}}
    },
    "Flagger-bluegreen": {"flagger": {"analysis": {"interval": "10s", "iterations": 2}}},
    "Shadow": {"shadow": {"duration": "20s", "analysis": None}},
    "Shadow-promote": {"shadow": {"duration": "20s", "analysis": None, "promote": True}},
}


def _run(block: dict[str, Any], where: str, undo_at: str | None) -> Result:
    """The small scenario with ``block`` in ``service.strategy`` or in the deploy action.

    Either way the block is the only strategy in the file (the small scenario's own
    RollingUpdate block is removed), as when a user moves it from one place to the other.
    """
    plan: list[dict[str, Any]] = [{"at": "10s", "action": "deploy", "version": "v2"}]
    if undo_at is not None:
        plan.append({"at": undo_at, "action": "rollback"})
    if where == "plan":
        plan[0]["strategy"] = block
        service: dict[str, Any] = {"strategy": None}
    else:
        service = {"strategy": {"type": None, "rollingUpdate": None, **block}}
    return simulate(scenario(service=service, plan=plan, simulation={"duration": "150s"}))


def _same(a: Result, b: Result) -> None:
    assert a.record == b.record
    assert a.events.equals(b.events)
    assert a.status.equals(b.status)
    assert a.timeline.equals(b.timeline)


@pytest.mark.parametrize("name", list(BLOCKS))
def test_good_release_is_the_same_in_service_and_in_plan(name: str) -> None:
    in_service = _run(BLOCKS[name], "service", None)
    in_plan = _run(BLOCKS[name], "plan", None)
    assert in_plan.record["outcome"] == "completed", in_plan.events.tail(5).to_string()
    assert in_service.record["outcome"] == "completed", in_service.events.tail(5).to_string()
    _same(in_service, in_plan)


@pytest.mark.parametrize("name", list(BLOCKS))
def test_undo_after_completion_is_the_same_in_service_and_in_plan(name: str) -> None:
    in_service = _run(BLOCKS[name], "service", "120s")
    in_plan = _run(BLOCKS[name], "plan", "120s")
    assert in_plan.record["outcome"] == "rolled_back"
    _same(in_service, in_plan)


@pytest.mark.parametrize(
    "first",
    [
        {"canary": {"trafficRouting": {"istio": {}}, "steps": [{"setWeight": 50}]}},
        {"blueGreen": {"autoPromotionEnabled": True}},
    ],
    ids=["argo-canary-with-router", "blue-green"],
)
def test_a_rolling_update_after_a_progressive_deploy_serves_the_new_pods(
    first: dict[str, Any],
) -> None:
    # v2 goes out with an Argo strategy, which leaves the Service on v2's replica set only
    # (a selector, or router weights); then v3 as a plain RollingUpdate. The Deployment is
    # behind a plain Service: v3's pods must get traffic once ready, and v2's pods going away
    # must not leave the service without endpoints (maxUnavailable 0, preStop 3 s > 1 s
    # propagation): no downtime, no no_endpoint errors, and most requests end on v3.
    sc = scenario(
        versions={"v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "warmup": "2s"}},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2", "strategy": first},
            {"at": "50s", "action": "deploy", "version": "v3"},
        ],
    )
    r = simulate(sc)
    assert r.record["outcome"] == "completed"
    assert r.record["downtime_s"] == 0 and r.record["errors_by_cause"]["no_endpoint"] == 0
    late = r.timeline[(r.timeline.t >= 80) & (r.timeline.t < 88)]  # not the last buckets
    assert late["requests[v3]"].sum() == late["requests"].sum() > 0
