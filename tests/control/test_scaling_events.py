"""The Deployment controller on a replica change and on its revision history, run end to end.

A ``scale`` plan action mid-rollout is a scaling event: the controller sizes every active
replica set in proportion (sync.go ``scale``) and the rollout carries on at the new count;
after a complete rollout, old replica sets beyond ``revisionHistoryLimit`` are deleted and an
undo with no previous revision left fails as ``kubectl rollout undo`` does.
"""

from __future__ import annotations

import pandas as pd

from simdeploy import simulate
from simdeploy.run.simulation import build
from tests.conftest import scenario


def scaled(events: pd.DataFrame, at: float) -> list[tuple[str, str]]:
    """(replica set, "from A to B") of the ScalingReplicaSet events at time ``at``, in order."""
    rows = events[(events.reason == "ScalingReplicaSet") & (events.t == at)]
    return [
        (row.object, row.message.split(" (")[0].split("scaled ")[1].split(" ", 1)[1])
        for row in rows.itertuples()
    ]


#: The docs' stuck rollout: 10 replicas, maxSurge 3, maxUnavailable 2, v2 slow to get ready,
#: so at 30 s the new replica set has 5 pods (none available) and the old one 8.
STUCK = {
    "service": {
        "replicas": 10,
        "strategy": {"rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}},
    },
    "versions": {"v2": {"warmup": "60s"}},
}


def test_scale_up_mid_rollout_is_shared_in_proportion_docs_example() -> None:
    """10 → 15 with new 5 / old 8: 18 allowed, old +3 (round(8 × 18 / 13) = 11), new +2 —
    not all 5 to the new replica set; the rollout then completes at 15."""
    sc = scenario(
        **STUCK,
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "30s", "action": "scale", "replicas": 15},
        ],
        simulation={"duration": "4m"},
    )
    r = simulate(sc)
    assert scaled(r.events, 10.0) == [
        ("app-v2", "from 0 to 3"),
        ("app-v1", "from 10 to 8"),
        ("app-v2", "from 3 to 5"),
    ]
    assert scaled(r.events, 30.0) == [("app-v1", "from 8 to 11"), ("app-v2", "from 5 to 7")]
    assert r.record["outcome"] == "completed"
    last = r.status.iloc[-1]
    assert (last.replicas, last.updated, last.available) == (15, 15, 15)


def test_scale_down_mid_rollout_shrinks_the_larger_older_replica_set_first() -> None:
    """13 pods (8 old, 5 new) → 5 replicas: allowed 5 + maxSurge 3 = 8, to remove 5: old
    round(8 × 8 / 13) − 8 = −3 (→ 5), new round(5 × 8 / 13) − 5 = −2 (→ 3). The rollout then
    goes on at 5 in the same instant: old 5 → 3 (minAvailable 3), new 3 → 5."""
    sc = scenario(
        **STUCK,
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "30s", "action": "scale", "replicas": 5},
        ],
    )
    r = simulate(sc)
    assert scaled(r.events, 30.0) == [
        ("app-v1", "from 8 to 5"),
        ("app-v2", "from 5 to 3"),
        ("app-v1", "from 5 to 3"),
        ("app-v2", "from 3 to 5"),
    ]


def test_scale_without_a_rollout_resizes_the_one_replica_set() -> None:
    sc = scenario(plan=[{"at": "10s", "action": "scale", "replicas": 7}])
    r = simulate(sc)
    assert scaled(r.events, 10.0) == [("app-v1", "from 4 to 7")]
    assert r.status.iloc[-1].available == 7
    assert "Scale" in set(r.events.reason)


def test_recreate_scaled_while_waiting_for_old_pods_creates_the_new_rs_at_the_new_count() -> None:
    """No active replica set while Recreate waits for its old pods to terminate: no scaling
    event; the new replica set is then created at the new replicas."""
    sc = scenario(
        service={"strategy": {"type": "Recreate", "rollingUpdate": None}},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "11s", "action": "scale", "replicas": 6},
        ],
    )
    r = simulate(sc)
    new = r.events[(r.events.reason == "ScalingReplicaSet") & (r.events.object == "app-v2")]
    assert new.message.iloc[0].startswith("scaled up from 0 to 6")
    assert new.t.iloc[0] > 11.0  # after the old pods are gone
    assert r.record["outcome"] == "completed"


def test_replicas_annotations_follow_every_sizing() -> None:
    """Every replica set the controller sizes carries desired-replicas and max-replicas."""
    cp = build(scenario(plan=[{"at": "5s", "action": "scale", "replicas": 6}]), seed=1)
    (rs,) = cp.world.cluster.replica_sets
    # 4 replicas, maxSurge 1 → (4, 5) at t=0, as if the controller had sized it.
    assert (rs.desired_replicas_annotation, rs.max_replicas_annotation) == (4, 5)
    cp.deployment.set_replicas(6)
    cp.world.env.run(until=1)
    assert (rs.spec_replicas, rs.desired_replicas_annotation, rs.max_replicas_annotation) == (
        6,
        6,
        7,
    )


# --- revisionHistoryLimit -------------------------------------------------------------------


def test_limit_zero_deletes_the_old_replica_set_and_undo_then_fails() -> None:
    sc = scenario(
        service={"revisionHistoryLimit": 0},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "60s", "action": "rollback"},
        ],
    )
    r = simulate(sc)
    ev = r.events
    deleted = ev[ev.reason == "ReplicaSetDeleted"]
    assert list(deleted.object) == ["app-v1"]
    completed = ev[ev.reason == "RolloutCompleted"].t.iloc[0]
    assert deleted.t.iloc[0] == completed  # cleanup runs when the rollout is complete
    failed = ev[ev.reason == "DeploymentRollbackRevisionNotFound"]
    assert list(failed.t) == [60.0]
    assert 'no rollout history found for deployment "app"' in failed.message.iloc[0]
    assert "RolloutUndo" not in set(ev.reason)
    assert r.record["outcome"] == "completed"
    assert r.record["rollback_time_s"] is None
    assert r.status.template.iloc[-1] == "v2"


def test_limit_one_keeps_the_previous_revision_and_undo_works() -> None:
    sc = scenario(
        service={"revisionHistoryLimit": 1},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "60s", "action": "rollback"},
        ],
    )
    r = simulate(sc)
    assert "ReplicaSetDeleted" not in set(r.events.reason)
    assert r.record["outcome"] == "rolled_back"
    assert r.status.template.iloc[-1] == "v1"


def test_limit_one_with_three_revisions_deletes_the_lowest_and_undo_goes_one_back() -> None:
    sc = scenario(
        service={"revisionHistoryLimit": 1},
        versions={"v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}}},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "40s", "action": "deploy", "version": "v3"},
            {"at": "80s", "action": "rollback"},
        ],
        simulation={"duration": "2m"},
    )
    r = simulate(sc)
    assert list(r.events[r.events.reason == "ReplicaSetDeleted"].object) == ["app-v1"]
    assert r.record["outcome"] == "rolled_back"
    assert r.status.template.iloc[-1] == "v2"


def test_default_limit_keeps_every_revision_of_a_short_history() -> None:
    sc = scenario(
        versions={"v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}}},
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "40s", "action": "deploy", "version": "v3"},
        ],
    )
    r = simulate(sc)
    assert "ReplicaSetDeleted" not in set(r.events.reason)


def test_a_scale_up_between_equal_replica_sets_grows_the_newer_one() -> None:
    """ReplicaSetsBySizeNewer: 4 replicas, maxSurge 0, maxUnavailable 2 → old 2 and new 2 (not
    ready, stuck). Scaled to 5 there is 1 to add: both round(2 × 5 / 4) − 2 = +1, and the tie
    goes to the newer one. The new version is named ``a2`` so that its replica set's name sorts
    before the old one's: only the creation time can pick it."""
    sc = scenario(
        service={"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 2}}},
        versions={"a2": {"warmup": "60s"}},
        plan=[
            {"at": "10s", "action": "deploy", "version": "a2"},
            {"at": "30s", "action": "scale", "replicas": 5},
        ],
        simulation={"duration": "40s"},
    )
    r = simulate(sc)
    assert scaled(r.events, 10.0) == [("app-v1", "from 4 to 2"), ("app-a2", "from 0 to 2")]
    assert scaled(r.events, 30.0)[0] == ("app-a2", "from 2 to 3")
    at_30 = r.events[(r.events.reason == "ScalingReplicaSet") & (r.events.t == 30.0)]
    assert at_30.message.iloc[0] == "scaled up from 2 to 3 (proportional scaling to 5 replicas)"


def test_a_scaling_event_shares_by_the_max_replicas_annotation_not_the_pod_count() -> None:
    """getReplicaSetFraction divides by the max-replicas annotation (10 + maxSurge 3 = 13)
    even when the two active replica sets hold fewer pods: at 44 s the new one has 10 and the
    old one 2 (12 pods). Scaled to 13 (allowed 16, 4 to add): new round(10 × 16 / 13) − 10 =
    +2, old round(2 × 16 / 13) − 2 = round(2.46) − 2 = 0, the 2 left to the largest: new 14,
    then the rollout caps it at 13. Dividing by the 12 pods would give old round(2.67) = 3."""
    sc = scenario(
        service={
            "replicas": 10,
            "strategy": {"rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}},
            "pod": {"startupDelay": {"dist": "uniform", "low": "1s", "high": "20s"}},
        },
        plan=[
            {"at": "10s", "action": "deploy", "version": "v2"},
            {"at": "44s", "action": "scale", "replicas": 13},
        ],
        simulation={"duration": "90s"},
    )
    r = simulate(sc)
    before = r.events[(r.events.reason == "ScalingReplicaSet") & (r.events.t < 44)]
    assert before.message.iloc[-1].startswith("scaled down from 3 to 2")  # old 2, new 10
    assert scaled(r.events, 44.0) == [("app-v2", "from 10 to 14"), ("app-v2", "from 14 to 13")]
    assert r.record["outcome"] == "completed"
