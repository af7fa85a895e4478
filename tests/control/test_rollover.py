"""The Deployment controller's event log: rollover and the scale messages (tests/control).

Kubernetes docs, "Rollover (aka multiple updates in-flight)": a Deployment updated while a
rollout is in progress starts the newest ReplicaSet and rolls over the one it was scaling up:
that one becomes old and is scaled down (first, as it is the unhealthy one), without waiting
for it to finish. Old ReplicaSets are reconciled oldest first (rolling.go sorts them by
creation), so v1's pods go only once v3's are available.
"""

from __future__ import annotations

import pandas as pd
import pytest

from simdeploy import simulate
from tests.conftest import scenario


def scale_steps(events: pd.DataFrame) -> list[tuple[str, int]]:
    """(version, new spec.replicas) of each ScalingReplicaSet event, in order."""
    rows = events[events.reason == "ScalingReplicaSet"]
    return [(e.version, int(e.message.split(" to ")[1].split(" ")[0])) for e in rows.itertuples()]


def test_rollover_scales_down_the_unfinished_new_replica_set_first() -> None:
    # 4 replicas, maxSurge 1, maxUnavailable 0 → at most 5 pods by spec, 4 available.
    # 10 s: v2 → 1 (5 by spec). Its pod starts at 11.5-12.5 s and cannot be Ready before
    # 13.5 s (probe initialDelaySeconds 2). 12 s: v3 is deployed. v3 cannot grow (Σ spec 5 =
    # 4 + 1); old RSs may lose 5 - 4 - 0 = 1: v1 (oldest) is fully available, so
    # cleanupUnhealthyReplicas takes v2's unavailable pod: v2 → 0, then v3 → 1. From there
    # a plain rolling update of v1 → v3.
    r = simulate(
        scenario(
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {"at": "12s", "action": "deploy", "version": "v3"},
            ],
            versions={
                "v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "warmup": "2s"}
            },
        )
    )
    assert scale_steps(r.events) == [
        ("v2", 1),
        ("v2", 0),
        ("v3", 1),
        ("v1", 3),
        ("v3", 2),
        ("v1", 2),
        ("v3", 3),
        ("v1", 1),
        ("v3", 4),
        ("v1", 0),
    ]
    ev = r.events
    v2_killed = ev[(ev.reason == "Killing") & (ev.version == "v2")].t.tolist()
    assert v2_killed == [12.0]  # rolled over at once, not left to finish
    assert r.record["outcome"] == "completed"
    assert r.record["downtime_s"] == 0.0
    assert (r.status.available >= 4).all()
    assert (r.status.spec_total <= 5).all()


def test_scale_events_say_what_the_controller_did() -> None:
    # The event log names each scale action as `kubectl get events` would, plus the part of
    # the controller that took it.
    rolling = simulate(scenario(service={"replicas": 2}))
    created = rolling.events[rolling.events.reason == "ReplicaSetCreated"]
    assert list(zip(created.t, created.object, created.version, strict=True)) == [
        (0.0, "app-v1", "v1"),
        (10.0, "app-v2", "v2"),
    ]
    scaled = rolling.events[rolling.events.reason == "ScalingReplicaSet"]
    assert scaled.object.tolist() == ["app-v2", "app-v1", "app-v2", "app-v1"]
    # The scaling log: each action with Σ spec and the active pods of the Deployment's
    # replica sets right after it (maxSurge 1 → 3 at most; a deleted pod stops counting).
    log = rolling.scaling
    assert log.t.tolist() == scaled.t.tolist()
    assert list(zip(log.replica_set, log.spec, log.owner_spec_total, strict=True)) == [
        ("app-v2", 1, 3),
        ("app-v1", 1, 2),
        ("app-v2", 2, 3),
        ("app-v1", 0, 2),
    ]
    assert log.owner_active_pods.tolist() == [3, 2, 3, 2]
    msgs = scaled.message.tolist()
    assert msgs == [
        "scaled up from 0 to 1 (rolling: new replica set)",
        "scaled down from 2 to 1 (rolling: scale down old RS)",
        "scaled up from 1 to 2 (rolling: new replica set)",
        "scaled down from 1 to 0 (rolling: scale down old RS)",
    ]
    recreate = simulate(
        scenario(service={"replicas": 2, "strategy": {"type": "Recreate", "rollingUpdate": None}})
    )
    msgs = recreate.events[recreate.events.reason == "ScalingReplicaSet"].message.tolist()
    assert msgs == [
        "scaled down from 2 to 0 (recreate: old replica sets to 0)",
        "scaled up from 0 to 2 (recreate: new replica set to full size)",
    ]


def test_old_replica_sets_are_drained_oldest_first() -> None:
    # Constant delays: a pod is Ready 0.5 + 1 + 2 = 3.5 s after it is created. v2's pods are
    # created at 10, 13.5 and 17 s (Ready 13.5, 17, 20.5); v1 is at 2 from 17 s.
    # 18 s: v3 deployed. Σ spec 2 + 3 = 5 = replicas + surge, so v3 waits; one pod may go:
    # v2's unready one (cleanupUnhealthyReplicas) → v2 2, then v3 → 1 (Ready 21.5).
    # 21.5 s: 2 + 2 + 1 = 5 available, one may go. Both old RSs are healthy, and the oldest,
    # v1, shrinks first → v1 1, v3 2 (Ready 25); 25 s: v1 0, v3 3; only then v2: 28.5 s:
    # v2 1, v3 4; 32 s: v2 0.
    r = simulate(
        scenario(
            service={"pod": {"startupDelay": "1s"}},
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {"at": "18s", "action": "deploy", "version": "v3"},
            ],
            versions={
                "v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "warmup": "2s"}
            },
        )
    )
    steps = r.events[r.events.reason == "ScalingReplicaSet"].t.tolist()
    assert list(zip(steps, scale_steps(r.events), strict=True)) == [
        (10.0, ("v2", 1)),
        (13.5, ("v1", 3)),
        (13.5, ("v2", 2)),
        (17.0, ("v1", 2)),
        (17.0, ("v2", 3)),
        (18.0, ("v2", 2)),
        (18.0, ("v3", 1)),
        (21.5, ("v1", 1)),
        (21.5, ("v3", 2)),
        (25.0, ("v1", 0)),
        (25.0, ("v3", 3)),
        (28.5, ("v2", 1)),
        (28.5, ("v3", 4)),
        (32.0, ("v2", 0)),
    ]


@pytest.mark.parametrize(
    "strategy",
    [{"type": "RollingUpdate"}, {"type": "Recreate", "rollingUpdate": None}],
    ids=["rolling", "recreate"],
)
@pytest.mark.parametrize("limit", [0, 1])
def test_a_complete_rollout_cleans_up_beyond_revision_history_limit(
    strategy: dict, limit: int
) -> None:
    # cleanupDeployment runs in the pass that finds the rollout complete and nothing to scale:
    # with revisionHistoryLimit 0 the old replica set (spec 0, no active pod) is deleted then;
    # with 1 it is kept for `rollout undo`.
    r = simulate(
        scenario(service={"replicas": 2, "revisionHistoryLimit": limit, "strategy": strategy})
    )
    ev = r.events
    (complete,) = ev[ev.reason == "NewReplicaSetAvailable"].t.tolist()
    deleted = ev[ev.reason == "ReplicaSetDeleted"]
    if limit == 0:
        assert list(zip(deleted.t, deleted.object, deleted.version, strict=True)) == [
            (complete, "app-v1", "v1")
        ]
        assert deleted.message.tolist() == ["revision 1: beyond revisionHistoryLimit 0"]
        # A deleted replica set's terminating pods finish on their own: the timeline still
        # shows them until they are gone.
        gone = ev[(ev.reason == "Deleted") & (ev.version == "v1")].t.max()
        tl = r.timeline
        after = tl[(tl.t > complete) & (tl.t < gone)]
        assert (after["terminating[v1]"] == after["pods[v1]"]).all()
        if gone - complete > 1:
            assert (after["pods[v1]"] > 0).all() and len(after) > 0
    else:
        assert deleted.empty


def test_cleanup_deletes_the_lowest_revision_and_undo_renumbers() -> None:
    # v1 (revision 1) → v2 (2); `rollout undo` makes v1's replica set new again with
    # revision 3; then v3 (4). With revisionHistoryLimit 1, cleanup (sorted by revision,
    # ReplicaSetsByRevision) deletes v2, revision 2, and keeps v1 although v1 is older.
    r = simulate(
        scenario(
            service={"revisionHistoryLimit": 1},
            versions={
                "v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "warmup": "2s"}
            },
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {"at": "40s", "action": "rollback"},
                {"at": "70s", "action": "deploy", "version": "v3"},
            ],
            simulation={"duration": "120s", "seed": 3},
        )
    )
    ev = r.events
    deleted = ev[ev.reason == "ReplicaSetDeleted"]
    assert list(zip(deleted.object, deleted.version, deleted.message, strict=True)) == [
        ("app-v2", "v2", "revision 2: beyond revisionHistoryLimit 1")
    ]
    completions = ev[ev.reason == "NewReplicaSetAvailable"]
    assert completions.version.tolist() == ["v2", "v1", "v3"]
    assert deleted.t.tolist() == [completions.t.iloc[-1]]


def test_recreate_undo_does_not_wait_for_the_new_replica_sets_own_terminating_pods() -> None:
    # oldPodsRunning skips the pods of the new replica set. Recreate v1 → v2 at 10 s deletes
    # v1's pods (preStop 3 s: gone at 13 s); undo at 11 s makes v1 the new replica set again,
    # and v2 has no pod, so v1 is scaled up at once, while its deleted pods still terminate.
    r = simulate(
        scenario(
            service={"strategy": {"type": "Recreate", "rollingUpdate": None}},
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {"at": "11s", "action": "rollback"},
            ],
        )
    )
    ev = r.events
    scaled = ev[ev.reason == "ScalingReplicaSet"]
    assert list(zip(scaled.t, scaled.version, strict=True))[:2] == [(10.0, "v1"), (11.0, "v1")]
    assert scaled.message.iloc[1].startswith("scaled up from 0 to 4")
    gone = ev[(ev.reason == "Deleted") & (ev.version == "v1")].t
    assert gone.min() == 13.0
    assert r.record["outcome"] == "rolled_back"


RECREATE = {"type": "Recreate", "rollingUpdate": None}


def test_a_new_strategy_for_the_same_template_takes_effect_at_once() -> None:
    # A spec change re-queues the Deployment (updateDeployment): v2 rolls from 10 s; at 12 s
    # its strategy becomes Recreate (same template), which scales v1 to 0 at once.
    r = simulate(
        scenario(
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {"at": "12s", "action": "deploy", "version": "v2", "strategy": RECREATE},
            ]
        )
    )
    ev = r.events
    to_zero = ev[ev.message.str.startswith("scaled down") & (ev.version == "v1")]
    assert to_zero[["t", "message"]].values.tolist()[0] == [
        12.0,
        "scaled down from 4 to 0 (recreate: old replica sets to 0)",
    ]


def test_recreate_waits_for_a_deleted_replica_set_whose_name_is_reused() -> None:
    # revisionHistoryLimit 0: the rollout to v2 completes at ~26.8 s and deletes app-v1, whose
    # last pod (slow requests: 1.5 s on average) drains until ~35.9 s. A rollout back to v1 at
    # 27 s creates a new app-v1; at 27.1 s it becomes Recreate: v2's pods are gone at 30.1 s,
    # but the deleted app-v1's pod is an old pod too, so the new app-v1 grows only after it.
    r = simulate(
        scenario(
            service={"revisionHistoryLimit": 0},
            traffic={"rate": 20},
            versions={"v1": {"serviceTime": {"dist": "exponential", "mean": "1.5s"}}},
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {"at": "27s", "action": "deploy", "version": "v1"},
                {"at": "27.1s", "action": "deploy", "version": "v1", "strategy": RECREATE},
            ],
        )
    )
    ev = r.events
    (deleted_at,) = ev[ev.reason == "ReplicaSetDeleted"].t.iloc[:1]
    assert deleted_at < 27
    v2_gone = ev[(ev.reason == "Deleted") & (ev.version == "v2")].t.max()
    old_v1_gone = ev[(ev.reason == "Deleted") & (ev.object == "app-v1-4")].t.max()
    assert v2_gone == pytest.approx(30.1) and old_v1_gone > v2_gone + 1
    grown = ev[ev.message.str.contains("recreate: new replica set to full size")]
    assert grown.t.tolist() == [old_v1_gone]
