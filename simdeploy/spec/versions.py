"""The ``versions:`` section: each application version's speed, failures and start-up.

A version may carry a release ``bug``, crash on start, turn unhealthy after a while, and
name the database tables it ``reads`` and ``writes`` (checked against ``database:`` by the
root model in :mod:`simdeploy.spec.scenario`).
"""

from __future__ import annotations

from pydantic import Field

from simdeploy.spec.base import Duration, Fraction, Strict
from simdeploy.spec.distributions import Dist, DistSpec


class Bug(Strict):
    """A release bug: extra error probability, maybe only for some users or after a while.

    ``userShare`` 0.2 → the same fixed 20% of users hit it on every request (a
    "production-only" bug in data only some users have); ``after`` → errors begin that
    long after each pod of the version started (a leak).
    """

    error_rate: Fraction
    user_share: Fraction = 1.0
    after: Duration = 0.0


class Version(Strict):
    """One application version: how fast it serves, how it fails, how it starts."""

    service_time: Dist = DistSpec(dist="exponential", mean=0.05)
    warmup: Duration = 0.0
    startup_delay: Dist | None = None
    error_rate: Fraction = 0.0
    bug: Bug | None = None
    crash_on_start: bool = False
    unhealthy_after: Duration | None = None
    reads: dict[str, list[str]] = Field(default_factory=dict)
    writes: dict[str, list[str]] = Field(default_factory=dict)
