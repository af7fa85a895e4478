"""Table tests for simdeploy.rules.replica_math.

Rows are ported from the upstream Kubernetes test tables where one exists (the row id says
which), plus the docs' worked examples and edge cases the upstream tables do not pin.
Upstream tables: deployment_util_test.go (TestResolveFenceposts, TestNewRSNewReplicas,
TestMaxUnavailable), rolling_test.go (reconcileNewReplicaSet, reconcileOldReplicaSets,
cleanupUnhealthyReplicas, scaleDownOldReplicaSetsForRollingUpdate).
"""

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules.int_or_percent import IntOrPercent
from simdeploy.rules.replica_math import (
    InvalidScaleDown,
    RSState,
    apply_scale,
    cleanup_unhealthy_replicas,
    max_surge,
    max_unavailable,
    min_available,
    new_rs_new_replicas,
    reconcile_new_replica_set,
    reconcile_old_replica_sets,
    resolve_fenceposts,
    scale_down_old_replica_sets_for_rolling_update,
    scaled_value,
    sorted_by_creation,
)
from simdeploy.rules.rolling_update_validation import PERCENT_MSG, InvalidRolloutSpec


def rs(name: str, spec: int, available: int | None = None, created: float = 0.0) -> RSState:
    """An RSState; available defaults to spec (a fully available RS)."""
    return RSState(name, created, spec, spec if available is None else available)


# --------------------------------------------------------------------------------------------
# scaled_value (GetScaledValueFromIntOrPercent)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        pytest.param("90%", 95, True, 86, id="percent-surge-rounds-up-90pct-of-95"),
        pytest.param("90%", 95, False, 85, id="percent-unavailable-rounds-down-90pct-of-95"),
        pytest.param("25%", 10, True, 3, id="25pct-of-10-up-is-3"),
        pytest.param("25%", 10, False, 2, id="25pct-of-10-down-is-2"),
        pytest.param("50%", 10, True, 5, id="exact-percent-is-same-both-ways"),
        pytest.param("1%", 10, True, 1, id="tiny-percent-rounds-up-to-one"),
        pytest.param("1%", 10, False, 0, id="tiny-percent-rounds-down-to-zero"),
        pytest.param("0%", 10, True, 0, id="zero-percent-is-zero"),
        pytest.param("200%", 3, True, 6, id="percent-over-100-is-not-capped"),
        pytest.param("007%", 100, True, 7, id="leading-zeros-are-a-valid-percent"),
        pytest.param(7, 95, True, 7, id="int-is-returned-unscaled"),
        pytest.param(50, 3, False, 50, id="int-is-not-capped-at-total"),
        pytest.param("33%", 3, False, 0, id="33pct-of-3-is-0.99-floors-to-0"),
        pytest.param("33%", 300_000_001, True, 99_000_001, id="large-total-exact-integer-ceil"),
    ],
)
def test_scaled_value(value: IntOrPercent, total: int, round_up: bool, expected: int) -> None:
    assert scaled_value(value, total, round_up) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("5", id="bare-number-string-is-not-five"),
        pytest.param("abc%", id="non-numeric-percent"),
        pytest.param("oops", id="upstream-fenceposts-oops"),
        pytest.param("-5%", id="negative-percent"),
        pytest.param("5 %", id="space-before-percent"),
        pytest.param("", id="empty-string"),
    ],
)
def test_scaled_value_rejects_bad_strings(value: str) -> None:
    with pytest.raises(InvalidRolloutSpec) as excinfo:
        scaled_value(value, 10, True)
    assert str(excinfo.value) == f'Invalid value: "{value}": {PERCENT_MSG}'


# --------------------------------------------------------------------------------------------
# resolve_fenceposts / max_unavailable / max_surge / min_available
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        pytest.param("0%", "0%", 0, (0, 1), id="upstream-0pct-0pct-of-0-gives-one-unavailable"),
        pytest.param("39%", "39%", 10, (4, 3), id="upstream-39pct-of-10-surge-up-unavailable-down"),
        pytest.param(None, None, 5, (0, 1), id="both-unset-gives-one-unavailable"),
        pytest.param(0, "1%", 10, (0, 1), id="both-zero-rule-gives-one-unavailable"),
        pytest.param("1%", 0, 10, (1, 0), id="one-percent-surge-rounds-up-so-no-fallback"),
        pytest.param("25%", "25%", 1, (1, 0), id="defaults-1-replica"),
        pytest.param("25%", "25%", 3, (1, 0), id="defaults-3-replicas-at-least-3-at-most-4"),
        pytest.param("25%", "25%", 4, (1, 1), id="defaults-4-replicas"),
        pytest.param("25%", "25%", 10, (3, 2), id="defaults-10-replicas-surge-3-unavailable-2"),
        pytest.param("90%", "90%", 95, (86, 85), id="percent-surge-rounds-up-90pct-of-95"),
        pytest.param(3, 2, 10, (3, 2), id="ints-pass-through"),
        pytest.param(0, 20, 10, (0, 20), id="int-unavailable-not-capped-here"),
    ],
)
def test_resolve_fenceposts(
    surge: IntOrPercent | None,
    unavailable: IntOrPercent | None,
    desired: int,
    expected: tuple[int, int],
) -> None:
    assert resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(
    ("surge", "unavailable"),
    [
        pytest.param("oops", "39%", id="upstream-bad-surge-errors"),
        pytest.param("55%", "urg", id="upstream-bad-unavailable-errors"),
    ],
)
def test_resolve_fenceposts_rejects_bad_strings(surge: str, unavailable: str) -> None:
    with pytest.raises(InvalidRolloutSpec, match="a valid percent string"):
        resolve_fenceposts(surge, unavailable, 10)


@pytest.mark.parametrize(
    ("replicas", "unavailable", "expected"),
    [
        pytest.param(10, 5, 5, id="upstream-less-than-replicas"),
        pytest.param(10, 10, 10, id="upstream-equal-replicas"),
        pytest.param(5, 10, 5, id="upstream-int-greater-than-replicas-is-capped"),
        pytest.param(0, 10, 0, id="upstream-zero-replicas-gives-zero"),
        pytest.param(10, "50%", 5, id="upstream-percent-less-than-replicas"),
        pytest.param(10, "100%", 10, id="upstream-percent-equal-replicas"),
        pytest.param(5, "100%", 5, id="upstream-100pct-of-5"),
        pytest.param(10, "25%", 2, id="25pct-of-10-rounds-down-to-2"),
    ],
)
def test_max_unavailable_upstream_table(
    replicas: int, unavailable: IntOrPercent, expected: int
) -> None:
    # Upstream's TestMaxUnavailable uses maxSurge 1 in every row.
    assert max_unavailable(replicas, 1, unavailable) == expected


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected_surge", "expected_min_available"),
    [
        pytest.param(10, "25%", "25%", 3, 8, id="ten-replicas-defaults-min-available-8"),
        pytest.param(3, 1, 0, 1, 3, id="docs-3-replicas-surge-1-unavailable-0"),
        pytest.param(1, "25%", "25%", 1, 1, id="one-replica-defaults-keeps-it-up"),
        pytest.param(10, 0, 0, 0, 9, id="both-zero-rule-lowers-min-available-to-9"),
        pytest.param(0, "25%", "25%", 0, 0, id="zero-replicas"),
        pytest.param(3, "200%", 1, 6, 2, id="surge-not-capped-at-replicas"),
        pytest.param(5, 0, 10, 0, 0, id="unavailable-cap-makes-min-available-zero"),
    ],
)
def test_max_surge_and_min_available(
    replicas: int,
    surge: IntOrPercent,
    unavailable: IntOrPercent,
    expected_surge: int,
    expected_min_available: int,
) -> None:
    assert max_surge(replicas, surge, unavailable) == expected_surge
    assert min_available(replicas, surge, unavailable) == expected_min_available


# --------------------------------------------------------------------------------------------
# new_rs_new_replicas / reconcile_new_replica_set
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replicas", "surge", "all_rs", "new_spec", "expected"),
    [
        # Upstream passes only a 5-replica RS as allRSs, not the new RS itself.
        pytest.param(1, 1, [rs("rs5", 5)], 5, 5, id="upstream-cannot-scale-up-keeps-new-size"),
        pytest.param(6, 10, [rs("rs5", 5)], 2, 6, id="upstream-scale-up-capped-at-replicas"),
        pytest.param(10, "25%", [rs("old", 10)], 0, 3, id="ten-replicas-defaults-first-step-3"),
        pytest.param(10, "25%", [rs("old", 8)], 3, 5, id="ten-replicas-second-step-grows-to-5"),
        pytest.param(10, "25%", [rs("old", 10)], 3, 3, id="budget-full-keeps-new-size"),
        pytest.param(3, 1, [rs("old", 3)], 0, 1, id="docs-3-replicas-first-step-1"),
        pytest.param(10, 0, [rs("old", 10)], 0, 0, id="zero-surge-cannot-create-new-pods"),
        pytest.param(
            10, 2, [rs("old", 10, available=0)], 0, 2, id="counts-spec-not-available-replicas"
        ),
        pytest.param(10, 3, [rs("old", 8), rs("mid", 5)], 0, 0, id="rollover-budget-full-starts-0"),
        pytest.param(10, "25%", [], 0, 10, id="no-other-rs-goes-straight-to-replicas"),
    ],
)
def test_new_rs_new_replicas(
    replicas: int, surge: IntOrPercent, all_rs: list[RSState], new_spec: int, expected: int
) -> None:
    new = rs("new", new_spec, available=0, created=1.0)
    # Rows whose other RSs come from upstream exclude the new RS; the rest include it.
    with_new = all_rs if all_rs and all_rs[0].name == "rs5" else [*all_rs, new]
    assert new_rs_new_replicas(replicas, surge, with_new, new) == expected


@pytest.mark.parametrize(
    ("replicas", "surge", "old_spec", "new_spec", "expected"),
    [
        pytest.param(10, 0, 10, 0, None, id="upstream-zero-surge-does-not-scale-up"),
        pytest.param(10, 2, 10, 0, 2, id="upstream-surge-2-creates-2"),
        pytest.param(10, 2, 5, 0, 7, id="upstream-room-left-by-old-creates-7"),
        pytest.param(10, 2, 10, 2, None, id="upstream-budget-used-no-scale"),
        pytest.param(10, 2, 2, 11, 10, id="upstream-new-above-replicas-scales-down"),
        pytest.param(10, 2, 0, 10, None, id="new-at-replicas-no-change"),
        pytest.param(0, 2, 0, 3, 0, id="scaled-to-zero-shrinks-new-to-zero"),
    ],
)
def test_reconcile_new_replica_set(
    replicas: int, surge: IntOrPercent, old_spec: int, new_spec: int, expected: int | None
) -> None:
    new = rs("foo-new", new_spec, created=1.0)
    old = rs("foo-old", old_spec)
    assert reconcile_new_replica_set([new, old], new, replicas, surge) == expected


# --------------------------------------------------------------------------------------------
# cleanup_unhealthy_replicas
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old_rs", "max_cleanup", "expected_changes", "expected_total"),
    [
        pytest.param([rs("old", 10, 8)], 1, {"old": 9}, 1, id="upstream-cleanup-capped-at-1"),
        pytest.param([rs("old", 10, 8)], 3, {"old": 8}, 2, id="upstream-cleanup-all-2-unhealthy"),
        pytest.param([rs("old", 10, 8)], 0, {}, 0, id="upstream-zero-budget-no-cleanup"),
        pytest.param([rs("old", 10, 10)], 3, {}, 0, id="upstream-all-healthy-nothing-to-clean"),
        pytest.param(
            [rs("b", 4, 1, created=2.0), rs("a", 5, 3, created=1.0)],
            4,
            {"a": 3, "b": 2},
            4,
            id="oldest-rs-cleaned-first",
        ),
        pytest.param(
            [rs("b", 4, 1, created=1.0), rs("a", 5, 3, created=1.0)],
            2,
            {"a": 3},
            2,
            id="creation-tie-broken-by-name",
        ),
        pytest.param(
            [rs("empty", 0, 0), rs("old", 3, 0, created=1.0)],
            5,
            {"old": 0},
            3,
            id="zero-spec-rs-skipped-crashlooping-rs-emptied",
        ),
    ],
)
def test_cleanup_unhealthy_replicas(
    old_rs: list[RSState],
    max_cleanup: int,
    expected_changes: dict[str, int],
    expected_total: int,
) -> None:
    snapshot = list(old_rs)
    assert cleanup_unhealthy_replicas(old_rs, max_cleanup) == (expected_changes, expected_total)
    assert old_rs == snapshot  # pure: the input list is neither reordered nor changed


def test_cleanup_unhealthy_replicas_rejects_stale_status() -> None:
    old = [rs("a", 2, 1, created=0.0), rs("stale", 6, 8, created=1.0)]
    with pytest.raises(InvalidScaleDown, match="stale 6 -> 8") as excinfo:
        cleanup_unhealthy_replicas(old, 5)
    assert excinfo.value.changes == {"a": 1}
    assert excinfo.value.cleaned == 1


# --------------------------------------------------------------------------------------------
# scale_down_old_replica_sets_for_rolling_update
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replicas", "unavailable", "available", "old_spec", "expected_changes", "expected_total"),
    [
        pytest.param(10, 0, 10, 10, {"old": 9}, 1, id="upstream-both-zero-rule-scales-down-1"),
        pytest.param(10, 2, 10, 10, {"old": 8}, 2, id="upstream-unavailable-2-scales-down-2"),
        pytest.param(10, 2, 8, 10, {}, 0, id="upstream-at-min-available-no-scale"),
        pytest.param(10, 2, 10, 0, {}, 0, id="upstream-empty-old-rs-cannot-shrink"),
        pytest.param(10, 2, 1, 10, {}, 0, id="upstream-below-min-available-no-scale"),
    ],
)
def test_scale_down_old_replica_sets_upstream_table(
    replicas: int,
    unavailable: int,
    available: int,
    old_spec: int,
    expected_changes: dict[str, int],
    expected_total: int,
) -> None:
    # Upstream: maxSurge 0, allRSs = oldRSs = [the one old RS].
    old = rs("old", old_spec, available)
    result = scale_down_old_replica_sets_for_rolling_update([old], [old], replicas, 0, unavailable)
    assert result == (expected_changes, expected_total)


def test_scale_down_drains_oldest_rs_first_and_counts_new_rs_availability() -> None:
    oldest = rs("v1", 2, 2, created=0.0)
    older = rs("v2", 5, 5, created=1.0)
    new = rs("v3", 5, 5, created=2.0)
    # 10 replicas, surge 3, unavailable 2 → min available 8; available 12 → remove 4.
    changes, total = scale_down_old_replica_sets_for_rolling_update(
        [older, oldest, new], [older, oldest], 10, 3, 2
    )
    assert (changes, total) == ({"v1": 0, "v2": 3}, 4)


# --------------------------------------------------------------------------------------------
# reconcile_old_replica_sets
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unavailable", "old_spec", "new_spec", "old_ready", "new_ready", "expected"),
    [
        pytest.param(0, 10, 0, 10, 0, ({"foo-old": 9}, 1), id="upstream-both-zero-rule-old-to-9"),
        pytest.param(2, 10, 0, 10, 0, ({"foo-old": 8}, 2), id="upstream-unavailable-2-old-to-8"),
        pytest.param(
            2, 10, 0, 8, 0, ({"foo-old": 8}, 2), id="upstream-two-unhealthy-old-pods-cleaned"
        ),
        pytest.param(
            2,
            10,
            0,
            9,
            0,
            ({"foo-old": 8}, 2),
            id="upstream-one-unhealthy-cleaned-then-one-ready-scaled-down",
        ),
        pytest.param(
            2, 8, 2, 8, 0, ({}, 0), id="upstream-unavailable-new-pods-block-further-scale-down"
        ),
    ],
)
def test_reconcile_old_replica_sets_upstream_table(
    unavailable: int,
    old_spec: int,
    new_spec: int,
    old_ready: int,
    new_ready: int,
    expected: tuple[dict[str, int], int],
) -> None:
    # Upstream: 10 replicas, maxSurge 0. Upstream only asserts "scaled or not"; this port
    # also pins the resulting sizes.
    old = rs("foo-old", old_spec, old_ready)
    new = rs("foo-new", new_spec, new_ready, created=1.0)
    assert reconcile_old_replica_sets([old, new], [old], new, 10, 0, unavailable) == expected


@pytest.mark.parametrize(
    ("old_rs", "new", "expected"),
    [
        pytest.param(
            [rs("good", 8, 7)],
            rs("bad", 5, 0, created=1.0),
            ({}, 0),
            id="new-unavailable-guard-keeps-old-pods-when-new-crashloops",
        ),
        pytest.param(
            [rs("bad", 5, 0, created=1.0)],
            rs("good", 8, 7),
            ({"bad": 1}, 4),
            id="rollback-to-healthy-rs-removes-4-crashlooping-pods-at-once",
        ),
        pytest.param(
            [rs("v1", 8, 8), rs("v2", 5, 0, created=1.0)],
            rs("v3", 0, 0, created=2.0),
            ({"v2": 0}, 5),
            id="rollover-new-rs-at-0-old-rss-drop-5-unhealthy",
        ),
        pytest.param(
            [rs("old", 10, 10)],
            rs("new", 3, 0, created=1.0),
            ({"old": 8}, 2),
            id="ten-replicas-defaults-first-old-step-13-8-3-is-2",
        ),
        pytest.param(
            [rs("old", 0, 0)],
            rs("new", 10, 10, created=1.0),
            ({}, 0),
            id="no-old-pods-nothing-to-do",
        ),
        pytest.param(
            [rs("stale", 6, 8)],
            rs("new", 5, 5, created=1.0),
            ({}, 0),
            id="stale-status-available-above-spec-aborts-old-side-pass",
        ),
        pytest.param(
            [rs("a", 2, 1), rs("stale", 6, 8, created=1.0)],
            rs("new", 5, 5, created=2.0),
            ({"a": 1}, 0),
            id="stale-status-keeps-earlier-writes-but-reports-not-scaled",
        ),
    ],
)
def test_reconcile_old_replica_sets_scenarios(
    old_rs: list[RSState], new: RSState, expected: tuple[dict[str, int], int]
) -> None:
    # 10 replicas, surge 3, unavailable 2 (upstream's comment example; 25%/25% resolves alike).
    assert reconcile_old_replica_sets([*old_rs, new], old_rs, new, 10, 3, 2) == expected


def test_reconcile_old_second_step_sees_first_steps_sizes() -> None:
    # 10 replicas, surge 0, unavailable 2. Cleanup takes the unhealthy pod (10 → 9); the
    # scale-down then starts from 9, not 10, so the final size is 8, not 9.
    old = rs("old", 10, 9)
    new = rs("new", 0, 0, created=1.0)
    assert reconcile_old_replica_sets([old, new], [old], new, 10, 0, 2) == ({"old": 8}, 2)


def test_reconcile_old_replica_sets_does_not_mutate_inputs() -> None:
    old = [rs("b", 4, 1, created=2.0), rs("a", 5, 5, created=1.0)]
    new = rs("new", 3, 3, created=3.0)
    all_rs = [*old, new]
    before = (list(old), list(all_rs))
    reconcile_old_replica_sets(all_rs, old, new, 10, 3, 2)
    assert (old, all_rs) == before


# --------------------------------------------------------------------------------------------
# Whole-rollout drives: one sync = scale the new RS up, or else scale old RSs down.
# --------------------------------------------------------------------------------------------


def _sync_once(
    rs_list: Sequence[RSState],
    new_name: str,
    replicas: int,
    surge: IntOrPercent,
    unavailable: IntOrPercent,
) -> dict[str, int]:
    """One rolloutRolling pass: new side first; old side only if the new side did nothing."""
    new = next(r for r in rs_list if r.name == new_name)
    old = [r for r in rs_list if r.name != new_name]
    target = reconcile_new_replica_set(rs_list, new, replicas, surge)
    if target is not None:
        return {new_name: target}
    active_old = [r for r in old if r.spec_replicas > 0]
    changes, _ = reconcile_old_replica_sets(rs_list, active_old, new, replicas, surge, unavailable)
    return changes


def _drive_instant(
    rs_list: list[RSState],
    new_name: str,
    replicas: int,
    surge: IntOrPercent,
    unavailable: IntOrPercent,
) -> list[tuple[str, int]]:
    """Run syncs until nothing changes; every pod is available the moment it is desired."""
    budget = replicas + max_surge(replicas, surge, unavailable)
    floor = min_available(replicas, surge, unavailable)
    events: list[tuple[str, int]] = []
    for _ in range(100):
        changes = _sync_once(rs_list, new_name, replicas, surge, unavailable)
        if not changes:
            return events
        events.extend(sorted(changes.items()))
        rs_list = [
            RSState(r.name, r.created, r.spec_replicas, r.spec_replicas)
            for r in apply_scale(rs_list, changes)
        ]
        assert sum(r.spec_replicas for r in rs_list) <= budget
        assert sum(r.available_replicas for r in rs_list) >= floor
    raise AssertionError("rollout did not converge")


def test_docs_three_replica_sequence_with_instant_availability() -> None:
    # deployment.md: replicas 3, maxSurge 1, maxUnavailable 0 ("at least 3, at most 4").
    events = _drive_instant([rs("old", 3), rs("new", 0, created=1.0)], "new", 3, 1, 0)
    assert events == [("new", 1), ("old", 2), ("new", 2), ("old", 1), ("new", 3), ("old", 0)]


def test_ten_replica_defaults_worked_example_before_new_pods_are_available() -> None:
    # 10 replicas, 25%/25% → surge 3, unavailable 2; the old RS is fully available.
    old, new = rs("old", 10), rs("new", 0, created=1.0)
    assert (max_surge(10, "25%", "25%"), max_unavailable(10, "25%", "25%")) == (3, 2)
    # Sync 1: create the new RS at min(13 − 10, 10) = 3.
    assert reconcile_new_replica_set([old, new], new, 10, "25%") == 3
    new = rs("new", 3, available=0, created=1.0)
    # Sync 2: new side is at the 13 budget; old side: 13 − 8 − (3 − 0) = 2 → old 10 → 8.
    assert reconcile_new_replica_set([old, new], new, 10, "25%") is None
    assert reconcile_old_replica_sets([old, new], [old], new, 10, "25%", "25%") == ({"old": 8}, 2)
    old = rs("old", 8)
    # Sync 3: still no new pod available → Σspec 11, the new RS may grow by 2 → 5.
    assert reconcile_new_replica_set([old, new], new, 10, "25%") == 5
    new = rs("new", 5, available=0, created=1.0)
    # Sync 4: the 5 new pods crash-loop → 13 − 8 − 5 = 0 → old pods are kept.
    assert reconcile_new_replica_set([old, new], new, 10, "25%") is None
    assert reconcile_old_replica_sets([old, new], [old], new, 10, "25%", "25%") == ({}, 0)


def test_ten_replica_defaults_with_instant_availability() -> None:
    events = _drive_instant([rs("old", 10), rs("new", 0, created=1.0)], "new", 10, "25%", "25%")
    assert events == [("new", 3), ("old", 5), ("new", 8), ("old", 0), ("new", 10)]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def test_sorted_by_creation_oldest_first_ties_by_name() -> None:
    rs_list = [rs("b", 1, created=5.0), rs("a", 1, created=5.0), rs("c", 1, created=1.0)]
    assert [r.name for r in sorted_by_creation(rs_list)] == ["c", "a", "b"]


def test_apply_scale_returns_new_states_and_keeps_status() -> None:
    before = [rs("old", 10), rs("new", 0, created=1.0)]
    after = apply_scale(before, {"old": 8})
    assert after == [RSState("old", 0.0, 8, 10), RSState("new", 1.0, 0, 0)]
    assert before == [rs("old", 10), rs("new", 0, created=1.0)]


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_percent = st.integers(min_value=0, max_value=300).map(lambda n: f"{n}%")
_int_or_percent = st.one_of(st.integers(min_value=0, max_value=50), _percent)


@given(surge=_int_or_percent, unavailable=_int_or_percent, desired=st.integers(0, 1000))
def test_resolve_fenceposts_never_returns_zero_zero(
    surge: IntOrPercent, unavailable: IntOrPercent, desired: int
) -> None:
    resolved_surge, resolved_unavailable = resolve_fenceposts(surge, unavailable, desired)
    assert (resolved_surge, resolved_unavailable) != (0, 0)
    assert resolved_surge >= 0
    assert resolved_unavailable >= 0


@st.composite
def _rollout_states(draw: st.DrawFn) -> tuple[int, IntOrPercent, list[RSState], RSState]:
    """A Deployment size, a maxSurge, and RSs whose Σspec is within replicas + surge."""
    replicas = draw(st.integers(0, 60))
    surge = draw(_int_or_percent)
    budget = replicas + scaled_value(surge, replicas, True)
    new_spec = draw(st.integers(0, min(replicas, budget)))
    old_specs = draw(st.lists(st.integers(0, 20), max_size=4))
    old: list[RSState] = []
    room = budget - new_spec
    for index, spec in enumerate(old_specs):
        size = min(spec, room)
        room -= size
        old.append(RSState(f"old{index}", float(index), size, size))
    new = RSState("new", 10.0, new_spec, 0)
    return replicas, surge, [*old, new], new


@given(_rollout_states())
def test_new_rs_new_replicas_never_exceeds_surge_budget(
    state: tuple[int, IntOrPercent, list[RSState], RSState],
) -> None:
    replicas, surge, all_rs, new = state
    budget = replicas + scaled_value(surge, replicas, True)
    target = new_rs_new_replicas(replicas, surge, all_rs, new)
    after = apply_scale(all_rs, {new.name: target})
    assert sum(r.spec_replicas for r in after) <= budget
    assert new.spec_replicas <= target <= replicas


@st.composite
def _old_side_states(draw: st.DrawFn) -> tuple[int, list[RSState], RSState]:
    """Old RSs and a new RS, each with available ≤ spec (status up to date)."""
    replicas = draw(st.integers(1, 40))
    old: list[RSState] = []
    for index in range(draw(st.integers(1, 3))):
        spec = draw(st.integers(0, 20))
        old.append(RSState(f"old{index}", float(index), spec, draw(st.integers(0, spec))))
    new_spec = draw(st.integers(0, replicas))
    new = RSState("new", 10.0, new_spec, draw(st.integers(0, new_spec)))
    return replicas, old, new


@given(_old_side_states(), _int_or_percent, _int_or_percent)
def test_old_side_never_pushes_availability_below_min_available(
    state: tuple[int, list[RSState], RSState], surge: IntOrPercent, unavailable: IntOrPercent
) -> None:
    replicas, old, new = state
    all_rs = [*old, new]
    floor = min_available(replicas, surge, unavailable)
    before = sum(r.available_replicas for r in all_rs)
    changes, total = reconcile_old_replica_sets(all_rs, old, new, replicas, surge, unavailable)
    # The RS controller deletes unavailable pods first, so an RS keeps min(available, spec).
    after = apply_scale(all_rs, changes)
    remaining = sum(min(r.available_replicas, r.spec_replicas) for r in after)
    assert remaining >= min(before, floor)
    assert total == sum(r.spec_replicas for r in all_rs) - sum(r.spec_replicas for r in after)
