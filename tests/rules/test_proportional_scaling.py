"""Table tests for simdeploy.rules.proportional_scaling.

Rows are upstream's, named as upstream names them: sync_test.go ``TestScale`` (the whole
``DeploymentController.scale``) and deployment_util_test.go ``TestGetReplicaSetFraction``.
``TestScale`` builds each replica set's annotations from the *old* Deployment
(desired = its replicas, max = replicas + MaxSurge), and ``newDeployment`` defaults to
maxSurge 0 / maxUnavailable 0, so MaxSurge is 0 unless a row sets it.
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from simdeploy.rules.proportional_scaling import (
    ScalingRS,
    apply_sizes,
    find_active_or_latest,
    get_proportion,
    get_replica_set_fraction,
    is_saturated,
    is_scaling_event,
    replicas_annotations,
    round_to_int32,
    scale,
    sorted_by_size_newer,
    sorted_by_size_older,
)

NEWER, OLD, OLDER = 2.0, 1.0, 0.0  # TestScale's newTimestamp, oldTimestamp, olderTimestamp


def rs(
    name: str,
    spec: int,
    created: float,
    old_replicas: int,
    old_surge: int = 0,
    available: int | None = None,
) -> ScalingRS:
    """A replica set annotated as ``SetReplicasAnnotations(rs, old, old + MaxSurge(old))``."""
    return ScalingRS(
        name,
        created,
        spec,
        spec if available is None else available,
        old_replicas,
        old_replicas + old_surge,
    )


# (name, replicas, surge, new RS, old RSs, expected sizes of every RS after the sync)
SCALE_ROWS = [
    ("normal scaling event: 10 -> 12", 12, 0, rs("foo-v1", 10, NEWER, 10), [], {"foo-v1": 12}),
    ("normal scaling event: 10 -> 5", 5, 0, rs("foo-v1", 10, NEWER, 10), [], {"foo-v1": 5}),
    (
        "proportional scaling: 5 -> 10",
        10,
        0,
        rs("foo-v2", 2, NEWER, 5),
        [rs("foo-v1", 3, OLD, 5)],
        {"foo-v2": 4, "foo-v1": 6},
    ),
    (
        "proportional scaling: 5 -> 3",
        3,
        0,
        rs("foo-v2", 2, NEWER, 5),
        [rs("foo-v1", 3, OLD, 5)],
        {"foo-v2": 1, "foo-v1": 2},
    ),
    (
        "proportional scaling: 9 -> 4",
        4,
        0,
        rs("foo-v2", 8, NEWER, 9),
        [rs("foo-v1", 1, OLD, 9)],
        {"foo-v2": 4, "foo-v1": 0},
    ),
    (
        "proportional scaling: 7 -> 10",
        10,
        0,
        rs("foo-v3", 2, NEWER, 7),
        [rs("foo-v2", 3, OLD, 7), rs("foo-v1", 2, OLDER, 7)],
        {"foo-v3": 3, "foo-v2": 4, "foo-v1": 3},
    ),
    (
        "proportional scaling: 13 -> 8",
        8,
        0,
        rs("foo-v3", 2, NEWER, 13),
        [rs("foo-v2", 8, OLD, 13), rs("foo-v1", 3, OLDER, 13)],
        {"foo-v3": 1, "foo-v2": 5, "foo-v1": 2},
    ),
    (
        "leftover distribution: 3 -> 4",
        4,
        0,
        rs("foo-v3", 1, NEWER, 3),
        [rs("foo-v2", 1, OLD, 3), rs("foo-v1", 1, OLDER, 3)],
        {"foo-v3": 2, "foo-v2": 1, "foo-v1": 1},
    ),
    (
        "leftover distribution: 3 -> 2",
        2,
        0,
        rs("foo-v3", 1, NEWER, 3),
        [rs("foo-v2", 1, OLD, 3), rs("foo-v1", 1, OLDER, 3)],
        {"foo-v3": 1, "foo-v2": 1, "foo-v1": 0},
    ),
    (
        "proportional scaling (no new rs): 4 -> 5",
        5,
        0,
        None,
        [rs("foo-v2", 2, OLD, 4), rs("foo-v1", 2, OLDER, 4)],
        {"foo-v2": 3, "foo-v1": 2},
    ),
    (
        "proportional scaling: 6 -> 0",
        0,
        0,
        rs("foo-v3", 3, NEWER, 6),
        [rs("foo-v2", 2, OLD, 6), rs("foo-v1", 1, OLDER, 6)],
        {"foo-v3": 0, "foo-v2": 0, "foo-v1": 0},
    ),
    (
        "proportional scaling: 0 -> 6",
        6,
        0,
        rs("foo-v3", 0, NEWER, 6),
        [rs("foo-v2", 0, OLD, 6), rs("foo-v1", 0, OLDER, 6)],
        {"foo-v3": 6, "foo-v2": 0, "foo-v1": 0},
    ),
    # Upstream's fake client fails the update of foo-v3 and foo-v1 here; what the controller
    # computes is foo-v2 (annotated for 3, so its share of 5 is round(1 × 5 / 3) − 1 = +1).
    (
        "failed rs update",
        5,
        0,
        rs("foo-v3", 2, NEWER, 5),
        [rs("foo-v2", 1, OLD, 3), rs("foo-v1", 1, OLDER, 5)],
        {"foo-v3": 2, "foo-v2": 2, "foo-v1": 1},
    ),
    (
        "deployment with surge pods",
        20,
        2,
        rs("foo-v2", 6, NEWER, 10, old_surge=2),
        [rs("foo-v1", 6, OLD, 10, old_surge=2)],
        {"foo-v2": 11, "foo-v1": 11},
    ),
    (
        "change both surge and size",
        50,
        6,
        rs("foo-v2", 5, NEWER, 10, old_surge=3),
        [rs("foo-v1", 8, OLD, 10, old_surge=3)],
        {"foo-v2": 22, "foo-v1": 34},
    ),
    (
        "change both size and template",
        14,
        0,
        None,
        [rs("foo-v2", 7, NEWER, 10), rs("foo-v1", 3, OLD, 10)],
        {"foo-v2": 10, "foo-v1": 4},
    ),
    (
        "saturated but broken new replica set does not affect old pods",
        2,
        1,
        rs("foo-v2", 2, NEWER, 2, old_surge=1, available=0),
        [rs("foo-v1", 1, OLD, 2, old_surge=1)],
        {"foo-v2": 2, "foo-v1": 1},
    ),
]


@pytest.mark.parametrize(
    ("replicas", "surge", "new", "olds", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in SCALE_ROWS],
)
def test_scale_upstream_rows(
    replicas: int,
    surge: int,
    new: ScalingRS | None,
    olds: list[ScalingRS],
    expected: dict[str, int],
) -> None:
    """TestScale: every replica set's size after one ``scale`` (Deployment status.replicas 0)."""
    sizes = scale(replicas, surge, True, new, olds, status_replicas=0)
    everything = [*([new] if new is not None else []), *olds]
    assert apply_sizes(everything, sizes) == expected


def test_scale_docs_example_stuck_rollout_scaled_from_10_to_15() -> None:
    """The Kubernetes docs' example: 10 replicas, maxSurge 3, new 5 / old 8 (both sized for
    13), scaled to 15 → 18 allowed, 5 to add: old +3 (→ 11), new +2 (→ 7)."""
    new = rs("new", 5, NEWER, 10, old_surge=3, available=0)
    old = rs("old", 8, OLD, 10, old_surge=3)
    assert scale(15, 3, True, new, [old], 13) == {"old": 11, "new": 7}


def test_scale_writes_every_active_rs_even_when_its_size_stays() -> None:
    """In the proportional branch every active replica set is written (its annotations are
    refreshed), including one whose share rounds to 0 — so the scaling event ends."""
    sizes = scale(
        5, 0, True, rs("v3", 2, NEWER, 5), [rs("v2", 1, OLD, 3), rs("v1", 1, OLDER, 5)], 0
    )
    assert set(sizes) == {"v3", "v2", "v1"}


def test_recreate_does_not_scale_two_active_replica_sets_proportionally() -> None:
    """``scale`` shares replicas out only for RollingUpdate; Recreate writes nothing then."""
    assert scale(10, 0, False, rs("new", 2, NEWER, 5), [rs("old", 3, OLD, 5)], 5) == {}


def test_saturated_new_replica_set_scales_active_old_ones_to_zero() -> None:
    """``IsSaturated``: new at replicas by spec, annotation and availability → olds to 0."""
    new = rs("new", 4, NEWER, 4)
    assert scale(4, 1, True, new, [rs("old", 2, OLD, 4), rs("older", 0, OLDER, 4)], 6) == {"old": 0}


# --------------------------------------------------------------------------------------------
# getReplicaSetFraction (TestGetReplicaSetFraction; maxUnavailable 1 in every row)
# --------------------------------------------------------------------------------------------

FRACTION_ROWS = [
    ("empty deployment always scales to 0", 0, 0, 0, 10, None, -10),
    (
        "unsynced deployment does not scale when max-replicas annotation is missing "
        "(removed by a 3rd party)",
        10,
        0,
        0,
        5,
        None,
        0,
    ),
    (
        "unsynced deployment does not scale when max-replicas annotation is incorrectly set "
        "to 0 (by a 3rd party)",
        10,
        0,
        0,
        5,
        0,
        0,
    ),
    (
        "scale up by 1/5 should increase RS replicas by 1/5 when max-replicas annotation is "
        "missing (removed by a 3rd party)",
        120,
        100,
        0,
        50,
        None,
        10,
    ),
    (
        "scale up by 1/5 should increase RS replicas by 1/5 when max-replicas annotation is "
        "incorrectly set to 0 (by a 3rd party)",
        120,
        100,
        0,
        50,
        0,
        10,
    ),
    ("scale up by 1/5 should increase RS replicas by 1/5", 120, 0, 0, 50, 100, 10),
    (
        "scale up with maxSurge by 1/5 should increase RS replicas approximately by 1/5",
        120,
        0,
        10,
        50,
        110,
        9,
    ),
    ("scale down by 1/6 should decrease RS replicas by 1/6", 10, 0, 0, 6, 12, -1),
    (
        "scale down with maxSurge by 1/6 should decrease RS replicas approximately by 1/6",
        100,
        0,
        10,
        50,
        130,
        -8,
    ),
]


@pytest.mark.parametrize(
    ("replicas", "status_replicas", "surge", "rs_replicas", "annotation", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in FRACTION_ROWS],
)
def test_get_replica_set_fraction_upstream_rows(
    replicas: int,
    status_replicas: int,
    surge: int,
    rs_replicas: int,
    annotation: int | None,
    expected: int,
) -> None:
    the_rs = ScalingRS("nginx", 0.0, rs_replicas, max_replicas=annotation)
    assert get_replica_set_fraction(the_rs, replicas, surge, status_replicas) == expected


# --------------------------------------------------------------------------------------------
# Smaller pieces: rounding, GetProportion, sorting, FindActiveOrLatest, isScalingEvent
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        pytest.param(2.5, 3, id="half-rounds-away-from-zero-up"),
        pytest.param(-2.5, -3, id="negative-half-rounds-away-from-zero"),
        pytest.param(0.5, 1, id="python-round-would-give-0"),
        pytest.param(11.077, 11, id="docs-example-old-share"),
        pytest.param(6.92, 7, id="docs-example-new-share"),
        pytest.param(-0.4, 0, id="small-negative-to-zero"),
    ],
)
def test_round_to_int32(x: float, expected: int) -> None:
    assert round_to_int32(x) == expected


@pytest.mark.parametrize(
    ("spec", "to_add", "added", "expected"),
    [
        # 10 → 20 replicas (no surge), RS of 6 sized for 10 → fraction +6.
        pytest.param(6, 10, 0, 6, id="scale-up-takes-its-whole-fraction"),
        pytest.param(6, 10, 7, 3, id="scale-up-capped-by-what-is-left"),
        pytest.param(6, 10, 10, 0, id="nothing-left-to-add"),
        pytest.param(0, 10, 0, 0, id="an-empty-rs-never-grows"),
        # 10 → 5 replicas, RS of 6 → fraction −3.
        pytest.param(6, -5, 0, -3, id="scale-down-takes-its-whole-fraction"),
        pytest.param(6, -5, -4, -1, id="scale-down-capped-by-what-is-left"),
    ],
)
def test_get_proportion(spec: int, to_add: int, added: int, expected: int) -> None:
    the_rs = ScalingRS("a", 0.0, spec, desired_replicas=10, max_replicas=10)
    replicas = 20 if to_add > 0 else 5
    assert get_proportion(the_rs, replicas, 0, 10, to_add, added) == expected


def test_sort_by_size_breaks_ties_by_age_in_the_scaling_direction() -> None:
    a, b, c = ScalingRS("a", 1, 2), ScalingRS("b", 2, 2), ScalingRS("c", 3, 5)
    assert [r.name for r in sorted_by_size_newer([a, b, c])] == ["c", "b", "a"]
    assert [r.name for r in sorted_by_size_older([a, b, c])] == ["c", "a", "b"]


def test_find_active_or_latest() -> None:
    new, a, b = ScalingRS("new", 3, 0), ScalingRS("a", 1, 0), ScalingRS("b", 2, 0)
    assert find_active_or_latest(new, [a, b]) is new  # none active: the new one
    assert find_active_or_latest(None, [a, b]) is b  # none active, no new: the newest
    active = ScalingRS("a", 1, 3)
    assert find_active_or_latest(new, [active, b]) is active
    assert find_active_or_latest(ScalingRS("new", 3, 1), [active]) is None
    assert find_active_or_latest(None, []) is None


def test_is_scaling_event_reads_only_active_annotated_replica_sets() -> None:
    assert is_scaling_event(12, [ScalingRS("old", 0, 8, desired_replicas=10)])
    assert not is_scaling_event(10, [ScalingRS("old", 0, 8, desired_replicas=10)])
    assert not is_scaling_event(12, [ScalingRS("old", 0, 0, desired_replicas=10)])  # inactive
    assert not is_scaling_event(12, [ScalingRS("old", 0, 8)])  # no annotation


def test_is_saturated_needs_the_annotation_and_availability() -> None:
    assert is_saturated(3, ScalingRS("n", 0, 3, 3, desired_replicas=3))
    assert not is_saturated(3, ScalingRS("n", 0, 3, 3))
    assert not is_saturated(3, ScalingRS("n", 0, 3, 2, desired_replicas=3))
    assert not is_saturated(3, None)


def test_replicas_annotations() -> None:
    assert replicas_annotations(10, 3) == (10, 13)


@given(
    specs=st.lists(st.integers(0, 40), min_size=2, max_size=5),
    old_replicas=st.integers(1, 40),
    old_surge=st.integers(0, 10),
    replicas=st.integers(0, 60),
    surge=st.integers(0, 10),
)
def test_rolling_scale_hands_out_exactly_the_allowed_total(
    specs: list[int], old_replicas: int, old_surge: int, replicas: int, surge: int
) -> None:
    """With two or more active replica sets, the sizes add up to replicas + maxSurge (0 when
    scaling to 0) — unless the leftover would push the largest below 0, which is clamped."""
    assume(sum(1 for s in specs if s > 0) >= 2)
    rss = [rs(f"rs{i}", s, float(i), old_replicas, old_surge) for i, s in enumerate(specs)]
    new, olds = rss[-1], rss[:-1]
    assume(not is_saturated(replicas, new))
    sizes = apply_sizes(rss, scale(replicas, surge, True, new, olds, sum(specs)))
    allowed = replicas + surge if replicas > 0 else 0
    assert all(v >= 0 for v in sizes.values())
    assert all(sizes[r.name] == 0 for r in rss if r.spec_replicas == 0)  # never from 0
    total = sum(sizes.values())
    assert total == allowed or (total > allowed and 0 in sizes.values())
