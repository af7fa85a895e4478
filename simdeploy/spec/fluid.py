"""What the fluid data plane cannot answer the way the request-level plane does.

The fluid plane (:mod:`simdeploy.world.fluid`) counts requests per interval. Behaviour
that depends on each request is refused rather than approximated: a scenario that asks for
``dataPlane: fluid`` with any of these gets one line per problem, naming the field.
"""

from __future__ import annotations

from typing import Protocol

from simdeploy.spec.expect import ExpectBlock
from simdeploy.spec.plan import Action
from simdeploy.spec.service import Service, Strategy
from simdeploy.spec.settings import Simulation

#: Summary fields the fluid plane does not measure (NaN in its results).
NOT_MEASURED = ("users_flipped",)

_USE = "use simulation.dataPlane: requests"


class FluidParts(Protocol):
    """What the check reads of a scenario."""

    @property
    def service(self) -> Service: ...
    @property
    def plan(self) -> list[Action]: ...
    @property
    def simulation(self) -> Simulation: ...
    @property
    def compare(self) -> dict[str, Strategy]: ...
    @property
    def expect(self) -> ExpectBlock: ...


def fluid_problems(sc: FluidParts) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, message) for each part of ``sc`` the fluid data plane refuses; none
    unless ``simulation.dataPlane`` is ``fluid``."""
    if sc.simulation.data_plane != "fluid":
        return []
    out: list[tuple[tuple[str | int, ...], str]] = []
    if sc.service.balancer.policy == "least_outstanding":
        out.append(
            (
                ("service", "balancer", "policy"),
                "the fluid data plane does not model least_outstanding (it sends more to an "
                f"endpoint that refuses or fails at once, request by request); {_USE}",
            )
        )
    for name in sc.expect.fields:
        if name in NOT_MEASURED:
            out.append(
                (
                    ("expect", name),
                    f"the fluid data plane does not measure {name} (it needs each user's "
                    f"sequence of versions); {_USE}",
                )
            )
    return out
