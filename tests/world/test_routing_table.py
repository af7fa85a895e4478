"""The routing table (world/balancer.py): which replica sets user traffic can reach, and the
text of the ``RoutingChanged`` event that describes it."""

from __future__ import annotations

import pytest

from simdeploy.world.balancer import Mirror, Routing, describe

V1, V2 = frozenset({"app-v1"}), frozenset({"app-v2"})
BOTH = V1 | V2


@pytest.mark.parametrize(
    ("routing", "text"),
    [
        (Routing(), "service: all"),
        (Routing(selector=frozenset({"app-v2", "app-v1"})), "service: app-v1,app-v2"),
        (Routing.weighted({"app-v1": 80, "app-v2": 20}), "weights: app-v1=80, app-v2=20"),
        # a group of several replica sets: names sorted, joined by "+"; weights as %g
        (
            Routing(groups=((BOTH, 90.0), (frozenset({"app-canary-v2"}), 10.5))),
            "weights: app-v1+app-v2=90, app-canary-v2=10.5",
        ),
        (
            Routing(selector=V1, cohort=(0.2, frozenset({"app-v2", "app-canary-v2"}))),
            "service: app-v1; cohort 20% → app-canary-v2,app-v2",
        ),
        (
            Routing(mirror=Mirror(frozenset({"app-shadow-v2"}), share=0.5, reads_only=True)),
            "service: all; mirror 50% reads → app-shadow-v2",
        ),
        (
            Routing.weighted(
                {"app-v1": 100, "app-v2": 0},
                cohort=(0.05, V2),
                mirror=Mirror(frozenset({"app-shadow-v2", "app-shadow-v3"})),
            ),
            "weights: app-v1=100, app-v2=0; cohort 5% → app-v2;"
            " mirror 100% → app-shadow-v2,app-shadow-v3",
        ),
    ],
)
def test_the_routing_event_names_every_part_of_the_table(routing: Routing, text: str) -> None:
    assert describe(routing) == text


@pytest.mark.parametrize(
    ("routing", "targets"),
    [
        (Routing(), None),  # a Service over every replica set
        (Routing(selector=V1), V1),
        # a group at weight 0 gets no user request; a mirror target is not a user target
        (Routing.weighted({"app-v1": 100, "app-v2": 0}, mirror=Mirror(V2)), V1),
        (Routing.weighted({"app-v1": 60, "app-v2": 40}), BOTH),
        (Routing.weighted({"app-v1": 99.5, "app-v2": 0.5}), BOTH),  # any weight above 0
        # a cohort adds its replica sets, unless its share is 0
        (Routing(selector=V1, cohort=(0.1, V2)), BOTH),
        (Routing(selector=V1, cohort=(0.0, V2)), V1),
        (Routing.weighted({"app-v1": 100, "app-v2": 0}, cohort=(0.1, V2)), BOTH),
        # every replica set already: the cohort adds nothing
        (Routing(cohort=(0.1, V2)), None),
    ],
)
def test_user_targets_are_the_weighted_groups_and_the_cohort(
    routing: Routing, targets: frozenset[str] | None
) -> None:
    assert routing.user_targets() == targets
