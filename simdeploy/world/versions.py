"""A version's behaviour as the pods and the data plane need it (world).

Built once per run from the scenario's ``versions:`` entry: service-time and uniform
samplers on the version's own random stream, error rates, the release bug (which users,
from when), warm-up, start-up delay, crash-on-start and going unhealthy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simdeploy.rules.dists import BatchSampler, Distribution

if TYPE_CHECKING:
    from simdeploy.spec.versions import Version


@dataclass(eq=False)
class VersionModel:
    """A version's behaviour as the data plane and the pods need it."""

    name: str
    index: int
    service: BatchSampler
    uniform: BatchSampler
    base_error_rate: float
    bug_error_rate: float
    bug_users: bytearray | None
    bug_after_s: float
    warmup_s: float
    startup: Distribution | None
    crash_on_start: bool
    unhealthy_after_s: float | None

    @classmethod
    def build(
        cls, name: str, index: int, spec: Version, rng: np.random.Generator, users: int
    ) -> VersionModel:
        bug = spec.bug
        bug_users = None
        if bug is not None and bug.user_share < 1.0:
            bug_users = bytearray((rng.random(users) < bug.user_share).astype(np.uint8).tobytes())
        return cls(
            name=name,
            index=index,
            service=BatchSampler(spec.service_time.build(), rng),
            uniform=BatchSampler(_UNIT, rng),
            base_error_rate=spec.error_rate,
            bug_error_rate=bug.error_rate if bug else 0.0,
            bug_users=bug_users,
            bug_after_s=bug.after if bug else 0.0,
            warmup_s=spec.warmup,
            startup=spec.startup_delay.build() if spec.startup_delay else None,
            crash_on_start=spec.crash_on_start,
            unhealthy_after_s=spec.unhealthy_after,
        )

    def unhealthy_time(self, started: float) -> float:
        return math.inf if self.unhealthy_after_s is None else started + self.unhealthy_after_s

    def bug_time(self, started: float) -> float:
        return math.inf if self.bug_error_rate <= 0 else started + self.bug_after_s


class _UnitUniform:
    mean = 0.5

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.random(n)


_UNIT = _UnitUniform()
