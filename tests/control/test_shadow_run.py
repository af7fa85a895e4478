"""The shadow rollout process (control/strategies/shadow.py), event by event.

Small scenarios (tests/conftest.py: 4 replicas at 100 req/s, v2 deployed at 10 s). The
shadow's 4 pods are up at ``start`` (the last one's Ready, about 14.4 s); the mirror is
routed 1 s later (endpointPropagationDelay) and the analysis counts from ``start``. Users
are routed to the Deployment's replica sets (``app-v1,app-v2``: one per version of the
scenario), never to ``app-shadow-v2``.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy import simulate
from simdeploy.run.result import Result
from tests.conftest import scenario
from tests.control.test_progressive import events, returns_within, rows, run

DELAY = 1.0  # base_dict's endpointPropagationDelay
USERS = "service: app-v1,app-v2"  # the user selector while v1 and v2 are the versions
V3 = {"v3": {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "warmup": "2s"}}
BUGGY = {"v2": {"bug": {"errorRate": 0.2}}}


def shadow(analysis: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """A shadow deploy analysed every 5 s from 10 comparisons on (1% mismatches allowed)."""
    a = {"interval": "5s", "minComparisons": 10, **(analysis or {})}
    return {"shadow": {"duration": "20s", "analysis": a, **spec}}


def start_of(r: Result, version: str = "v2") -> float:
    """When the shadow's last pod turned Ready (its pods are available: minReadySeconds 0)."""
    ready = events(r, "Ready")
    return float(ready[ready.object.str.startswith(f"app-shadow-{version}-")].t.max())


def analyses(r: Result, version: str = "v2") -> list[tuple[float, int, int]]:
    """(time, mismatched, compared) of every ShadowAnalysis of ``version``'s shadow,
    checking its message."""
    out = []
    for t, reason, obj, v, message in rows(r, "ShadowAnalysis"):
        assert (reason, obj) == ("ShadowAnalysis", "shadow")
        if v != version:
            continue
        counts, _ = message.split(" mismatches ")
        m, c = (int(n) for n in counts.split("/"))
        assert message == f"{m}/{c} mismatches ({m / c:.2%})"
        out.append((t, m, c))
    return out


def routed(r: Result) -> list[str]:
    return [row[4] for row in rows(r, "RoutingChanged")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param({"percentage": 12.5}, "mirror 12.5%", id="all-requests"),
        pytest.param({"percentage": 50, "readsOnly": True}, "mirror 50% of reads", id="reads"),
    ],
)
def test_a_shadow_deploy_is_logged_when_it_starts(spec: dict[str, Any], message: str) -> None:
    r = run(shadow(**spec), simulation={"duration": "11s"})
    assert rows(r, "DeploymentStarted") == [[10.0, "DeploymentStarted", "shadow", "v2", message]]


def test_a_mismatching_shadow_is_torn_down_at_the_first_analysis_above_the_rate() -> None:
    # 20% of v2's answers are errors, v1's none: about 20% of the comparisons mismatch, over
    # maxMismatchRate 5% at the first analysis (start + 5 s, ~400 comparisons: 100 req/s
    # mirrored for 4 s). The shadow goes at once; users never left v1.
    r = run(shadow({"maxMismatchRate": 0.05}), versions=BUGGY, simulation={"duration": "25s"})
    t = start_of(r) + 5
    ((t_a, m, c),) = analyses(r)
    assert t_a == pytest.approx(t)
    assert 300 < c < 500 and 0.1 < m / c < 0.3
    assert rows(r, "ShadowAnalysis", "RollbackRequested", "RollbackCompleted") == [
        [t_a, "ShadowAnalysis", "shadow", "v2", f"{m}/{c} mismatches ({m / c:.2%})"],
        [t_a, "RollbackRequested", "deployment", "v2",
         f"ShadowMismatch: mismatch ratio {m / c:.2%} > 5.00%"],
        [t_a, "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]  # fmt: skip
    assert rows(r, "RoutingChanged")[-1] == [t_a, "RoutingChanged", "balancer", "", USERS]
    assert "RolloutUndo" not in set(r.events.reason)
    assert r.record["outcome"] == "rolled_back"


@pytest.fixture(scope="module")
def good() -> Result:
    """A healthy v2 shadowed for 10.5 s, analysed every 5 s, no mismatch allowed."""
    return run(
        shadow({"maxMismatchRate": 0, "minComparisons": 1}, duration="10.5s"),
        simulation={"duration": "26s"},
    )


def test_the_shadow_is_analysed_every_interval_and_torn_down_after_its_duration(
    good: Result,
) -> None:
    # Analyses at start + 5, + 10 and, the duration not being a multiple of the interval,
    # at the end, start + 10.5, where the shadow goes. A healthy v2 answers as v1 does: no
    # mismatch, a ratio of 0, which is not above maxMismatchRate 0: completed. Comparisons
    # only add up (the mirror copies every request from start + 1 s: ~400, ~900, ~950).
    start = start_of(good)
    ts, ms, cs = zip(*analyses(good), strict=True)
    assert ts == pytest.approx((start + 5, start + 10, start + 10.5))
    assert ms == (0, 0, 0)
    assert 300 < cs[0] < cs[1] < cs[2] < 1100
    end = start + 10.5
    assert rows(good, "RolloutCompleted") == [
        [pytest.approx(end), "RolloutCompleted", "rollout", "v2", "completed"]
    ]
    # The mirror copies all requests (percentage 100: share 1.0) until the teardown, which
    # routes users to the Deployment's replica sets again.
    assert rows(good, "RoutingChanged") == [
        [10.0, "RoutingChanged", "balancer", "", USERS],
        [pytest.approx(start + DELAY), "RoutingChanged", "balancer", "",
         f"{USERS}; mirror 100% → app-shadow-v2"],
        [pytest.approx(end), "RoutingChanged", "balancer", "", USERS],
    ]  # fmt: skip
    down = [row for row in rows(good, "ScalingReplicaSet") if row[2] == "app-shadow-v2"][-1]
    assert down[0] == pytest.approx(end)
    assert down[4] == "scaled down from 4 to 0 (shadow torn down)"
    assert good.record["outcome"] == "completed"


def test_an_analysis_needs_min_comparisons_reached_not_exceeded(good: Result) -> None:
    # The same run (the analysis changes nothing the traffic draws), with minComparisons
    # set to the count the second analysis saw: the first (fewer) is skipped, the second
    # (exactly that many) and the last are made.
    (_, _, c1), (t2, _, c2), (t3, _, c3) = analyses(good)
    assert c1 < c2
    r = run(
        shadow({"maxMismatchRate": 0, "minComparisons": c2}, duration="10.5s"),
        simulation={"duration": "26s"},
    )
    assert [(t, c) for t, _, c in analyses(r)] == [(t2, c2), (t3, c3)]


def test_the_shadow_waits_for_its_pods_to_be_available_for_min_ready_seconds() -> None:
    # Ready at start, available minReadySeconds (3 s) later: the mirror is routed 1 s
    # after that, the first analysis 5 s after it.
    r = run(shadow(), service={"minReadySeconds": 3}, simulation={"duration": "24s"})
    available = start_of(r) + 3
    (mirrored,) = [row for row in rows(r, "RoutingChanged") if "mirror" in row[4]]
    assert mirrored[0] == pytest.approx(available + DELAY)
    assert analyses(r)[0][0] == pytest.approx(available + 5)


def test_a_second_shadow_deploy_counts_only_its_own_comparisons() -> None:
    # The buggy v2 shadow is torn down at its first analysis with ~80 mismatches of ~400;
    # a healthy v3 shadowed next starts from zero: no mismatch, ~400 comparisons (4 s of
    # mirrored requests) at its first analysis, not the v2 shadow's added.
    v3 = {"at": "25s", "action": "deploy", "version": "v3", "strategy": shadow()}
    r = run(
        shadow({"maxMismatchRate": 0.05}),
        v3,
        versions={**BUGGY, **V3},
        simulation={"duration": "36s"},
    )
    ((_, m2, c2),) = analyses(r, "v2")
    (t3, m3, c3), *_ = analyses(r, "v3")
    assert m2 > 0 and 300 < c2 < 500
    assert t3 == pytest.approx(start_of(r, "v3") + 5)
    assert m3 == 0 and 300 < c3 < 500


def test_a_rollback_before_the_end_tears_the_shadow_down_without_an_undo() -> None:
    # Nothing was rolled out to users: the shadow goes and the rollout ends at once.
    r = run(shadow(), {"at": "18s", "action": "rollback"}, simulation={"duration": "20s"})
    assert rows(r, "RollbackRequested", "RolloutUndo", "RollbackCompleted") == [
        [18.0, "RollbackRequested", "deployment", "v2", "Manual: plan"],
        [18.0, "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]
    assert rows(r, "RoutingChanged")[-1] == [18.0, "RoutingChanged", "balancer", "", USERS]
    down = [row for row in rows(r, "ScalingReplicaSet") if row[2] == "app-shadow-v2"][-1]
    assert down[:2] == [18.0, "ScalingReplicaSet"]


def test_a_rollback_after_a_validated_shadow_changes_nothing() -> None:
    # Shadowed 5 s without promote: torn down and completed at start + 5 s, about 20 s.
    # A rollback at 40 s has nothing to undo (users never left v1): it ends the rollout
    # at once, rolled back, with no RolloutUndo and no template change.
    r = run(
        shadow(duration="5s", analysis=None),
        {"at": "40s", "action": "rollback"},
        simulation={"duration": "60s"},
    )
    (t_done,) = events(r, "RolloutCompleted").t
    assert t_done == pytest.approx(start_of(r) + 5)
    assert rows(r, "RollbackRequested", "RolloutUndo", "RollbackCompleted") == [
        [40.0, "RollbackRequested", "deployment", "v2", "Manual: plan"],
        [40.0, "RollbackCompleted", "rollout", "v2", "rolled_back"],
    ]
    assert set(r.status.template) == {"v1"}
    assert r.record["outcome"] == "rolled_back"


def test_a_promoted_shadow_is_undone_like_a_deployment() -> None:
    # Shadowed 5 s, then promoted: the Deployment rolls v2 out (users moving between v1
    # and v2 pods meanwhile: 10 users at 10 req/s each see both, flipped), completes well
    # before the rollback at 40 s, which undoes it back to v1.
    r = run(
        shadow(duration="5s", analysis=None, promote=True),
        {"at": "40s", "action": "rollback"},
        traffic={"users": 10},
        simulation={"duration": "60s"},
    )
    end = start_of(r) + 5
    (t_done,) = events(r, "RolloutCompleted").t
    assert t_done < 40
    (t_back,) = events(r, "RollbackCompleted").t
    assert rows(r, "ShadowPromoted", "RolloutUndo") == [
        [pytest.approx(end), "ShadowPromoted", "shadow", "v2", "rolling out for real"],
        [40.0, "RolloutUndo", "deployment", "v1", "rollout undo"],
    ]
    assert t_back > 40
    # The undo keeps the user selector: no routing change after the teardown.
    assert routed(r) == [USERS, f"{USERS}; mirror 100% → app-shadow-v2", USERS]
    assert r.status.template.iloc[-1] == "v1"
    assert r.record["users_flipped"] > 0


def test_the_promotion_rolls_out_with_the_service_strategy() -> None:
    # v2 goes out with Recreate, then v3 is shadowed and promoted: the Deployment's own
    # strategy is the service's RollingUpdate (maxSurge 1, maxUnavailable 0), not the
    # Recreate it last used: app-v3 surges by one pod first and users see no error.
    recreate = {"at": "10s", "action": "deploy", "version": "v2", "strategy": {"type": "Recreate"}}
    promote = shadow(duration="5s", analysis=None, promote=True)
    plan = [recreate, {"at": "30s", "action": "deploy", "version": "v3", "strategy": promote}]
    with returns_within():
        r = simulate(scenario(plan=plan, versions=V3, simulation={"duration": "60s"}))
    (promoted,) = events(r, "ShadowPromoted").t
    after = [row[2:] for row in rows(r, "ScalingReplicaSet") if row[0] >= promoted]
    assert after[:2] == [
        ["app-shadow-v3", "v3", "scaled down from 4 to 0 (shadow torn down)"],
        ["app-v3", "v3", "scaled up from 0 to 1 (rolling: new replica set)"],
    ]
    tl = r.timeline
    assert tl[tl.t >= promoted].errors.sum() == 0
    assert r.record["outcome"] == "completed"
