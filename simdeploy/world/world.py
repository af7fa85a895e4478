"""What one run is made of: the SimPy things, on one clock, and the run's random streams.

Randomness: one seed per run, split into independent named streams (traffic, balancer,
pod timings, one per version) with ``SeedSequence(seed, spawn_key=(crc32(name),))``, so
adding a component never shifts the numbers another one draws. Two runs of two
strategies on the same seed therefore see the same arrivals and users (common random
numbers): the differences between them come from the strategy.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import simpy

from simdeploy.rules.bucketing import bucket_many
from simdeploy.spec.scenario import Scenario
from simdeploy.world.balancer import Balancer
from simdeploy.world.cluster import Cluster
from simdeploy.world.database import Database
from simdeploy.world.flags import Flags
from simdeploy.world.fluid import FluidPlane
from simdeploy.world.recorder import Recorder
from simdeploy.world.traffic import DataPlane


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream called ``name`` of run ``seed``; independent of every other name."""
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))
    )


@dataclass(eq=False)
class World:
    """Everything one run is made of; processes receive it with an explicit ``env``.

    The control plane (the Deployment controller, rollouts, strategies) is not part of
    it: it lives one layer up and acts on the world through its cluster and balancer.
    """

    env: simpy.Environment
    scenario: Scenario
    recorder: Recorder
    balancer: Balancer
    cluster: Cluster
    data_plane: DataPlane | FluidPlane
    database: Database | None = None
    flags: Flags | None = None

    seed: int = 0

    def stream(self, name: str) -> np.random.Generator:
        """A named random stream of this run (see :func:`stream`)."""
        return stream(self.seed, name)

    def cohort_mask(self, key: str, share: float) -> bytearray:
        """Users in a sticky cohort of ``share``: LaunchDarkly bucketing of each user id
        under ``key``, so the same users are picked in every run and every strategy."""
        buckets = bucket_many(key, "cohort", range(self.scenario.traffic.users))
        return bytearray(1 if b < share else 0 for b in buckets)
