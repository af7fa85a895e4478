"""A rollback after a canary's full promotion: Argo's fast-track rollback.

Once an Argo canary is fully promoted, a rollback is an update back to the old revision that
skips the steps: the old replica set is scaled up to the full replica count, traffic moves
to it once all of it is available, and then the new replica set goes to 0.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy import simulate
from simdeploy.run.result import Result
from tests.conftest import scenario

DELAY = 1.0  # base_dict's endpointPropagationDelay
CANARY = {"canary": {"steps": [{"setWeight": 50}]}}


def undone(*later: dict[str, Any], **over: Any) -> Result:
    """v2 deployed at 10 s (promoted by about 30 s), rolled back at 60 s."""
    plan = [
        {"at": "10s", "action": "deploy", "version": "v2", "strategy": CANARY},
        {"at": "60s", "action": "rollback"},
        *later,
    ]
    return simulate(scenario(plan=plan, simulation={"duration": "2m"}, **over))


def rows(r: Result, reason: str, after: float = 0.0) -> list[list[Any]]:
    ev = r.events[(r.events.reason == reason) & (r.events.t >= after)]
    return ev[["t", "object", "version", "message"]].values.tolist()


@pytest.mark.parametrize("min_ready_s", [0, 5])
def test_a_promoted_canary_rolls_back_to_the_old_replica_set_without_steps(
    min_ready_s: int,
) -> None:
    r = undone(service={"minReadySeconds": min_ready_s})
    assert r.events[r.events.reason == "RolloutCompleted"].t.iloc[0] < 60
    assert rows(r, "RolloutUndo") == [[60.0, "rollout", "v1", "rollback to the previous version"]]
    assert rows(r, "ScalingReplicaSet", after=60) == [
        [60.0, "app-v1", "v1", "scaled up from 0 to 4 (rollback)"],
        [
            pytest.approx(rows(r, "RoutingChanged", 60)[0][0]),
            "app-v2",
            "v2",
            "scaled down from 4 to 0 (rolled back)",
        ],
    ]
    # Traffic moves once all 4 old pods are available (ready for minReadySeconds), after
    # the endpoint propagation delay; the new replica set goes to 0 then.
    last_ready = r.events[(r.events.reason == "Ready") & (r.events.version == "v1")].t.max()
    ((t_routed, _, _, message),) = rows(r, "RoutingChanged", after=60)
    assert message == "service: app-v1"
    assert t_routed == pytest.approx(last_ready + min_ready_s + DELAY)
    assert rows(r, "RollbackCompleted") == [
        [pytest.approx(t_routed), "rollout", "v2", "rolled_back"]
    ]
    assert r.record["outcome"] == "rolled_back"
    assert r.record["rollback_time_s"] == pytest.approx(t_routed - 60)
    assert r.record["rollout_duration_s"] == pytest.approx(t_routed - 10)


def test_the_next_deploy_after_a_fast_track_rollback_replaces_the_old_version() -> None:
    # After the rollback v1 is the stable version again: deploying v3 replaces v1's pods.
    r = undone(
        {"at": "80s", "action": "deploy", "version": "v3", "strategy": CANARY},
        versions={"v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}}},
    )
    assert r.record["outcome"] == "completed"
    final = r.scaling.groupby("replica_set").spec.last().to_dict()
    assert final == {"app-v1": 0, "app-v2": 0, "app-v3": 4}
    assert r.timeline["requests[v1]"].iloc[-5:].sum() == 0
