"""A run's random streams and user cohorts (world/world.py): fixed by the seed and the key."""

from __future__ import annotations

from simdeploy.rules.bucketing import bucket
from simdeploy.run.simulation import build
from simdeploy.world.world import stream
from tests.conftest import scenario


def test_a_runs_named_stream_is_the_stream_of_its_seed() -> None:
    """World.stream (blue/green's preview smoke tests draw from it) is ``stream(seed, name)``:
    the same numbers in every run of seed 7, other numbers under seed 8 or another name."""
    world = build(scenario(), seed=7).world
    drawn = world.stream("preview-traffic").random(4).tolist()
    assert drawn == stream(7, "preview-traffic").random(4).tolist()
    assert drawn == build(scenario(), seed=7).world.stream("preview-traffic").random(4).tolist()
    assert drawn != stream(8, "preview-traffic").random(4).tolist()
    assert drawn != stream(7, "traffic").random(4).tolist()


def test_a_cohort_is_the_users_bucketed_below_its_share() -> None:
    """cohort_mask(key, share): user i is in (1) when LaunchDarkly's bucket of flag ``key``,
    salt "cohort", user key str(i) is below ``share``, else out (0); the same users in every
    run. A user whose bucket is exactly the share is out (bucket < share, as in_rollout)."""
    world = build(scenario(traffic={"users": 200}), seed=1).world
    buckets = [bucket("flagger-ab", "cohort", str(i)) for i in range(200)]
    mask = world.cohort_mask("flagger-ab", 0.3)
    assert list(mask) == [1 if b < 0.3 else 0 for b in buckets]
    assert 0 < sum(mask) < 200
    edge = buckets[7]
    on_edge = world.cohort_mask("flagger-ab", edge)
    assert on_edge[7] == 0
    assert sum(on_edge) == sum(1 for b in buckets if b < edge)
