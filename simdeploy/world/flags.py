"""Feature flags at run time: who has the flag on, as each pod sees it.

A flag's percentage rollout uses LaunchDarkly's bucketing (``bucketing.bucket``) of each
user id under the flag key and salt, computed once per user: the same users are on in
every run, and raising the percentage only adds users. Changes reach pods late:
streaming after a fixed ``delay`` (milliseconds), polling at each pod's next poll (every
``interval``, each pod at its own phase). The kill switch turns the flag off for all.

On the request path a pod asks ``on(user, pod, now)``: a look-up of the state the pod
last saw (a short history of changes) and of the user's bucket.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simdeploy.rules.bucketing import bucket_many

if TYPE_CHECKING:
    from simdeploy.spec.flags import Flag
    from simdeploy.world.pod import Pod


@dataclass(eq=False)
class FlagRuntime:
    """One flag: its spec, its per-user buckets and the history of its state."""

    key: str
    spec: Flag
    users: int
    #: (time, percentage, killed) from t=0 on; the last entry is the current state.
    history: list[tuple[float, float, bool]] = field(default_factory=list)
    killed_at: float | None = None
    #: Called before the flag changes (the fluid data plane counts the traffic up to then).
    before_change: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.buckets = bucket_many(self.key, self.spec.salt or self.key, range(self.users))
        self.history = [(0.0, self.spec.rollout, False)]
        self.versions = set(self.spec.versions) if self.spec.versions else None
        self.streaming = self.spec.delivery.mode == "streaming"
        self.delay = self.spec.delivery.delay
        self.interval = self.spec.delivery.interval
        self._phase: dict[Pod, float] = {}
        feature = self.spec.feature
        #: The feature's data access, hashable: (reads, writes) as (table, columns) pairs.
        self.access = (
            tuple((t, tuple(c)) for t, c in sorted(feature.reads.items())),
            tuple((t, tuple(c)) for t, c in sorted(feature.writes.items())),
        )

    def set(self, now: float, rollout: float | None = None, kill: bool | None = None) -> None:
        if self.before_change is not None:
            self.before_change()
        _, pct, killed = self.history[-1]
        if rollout is not None:
            pct = rollout
        if kill is not None:
            killed = kill
            if kill:
                self.killed_at = now
        self.history.append((now, pct, killed))

    def seen_at(self, pod: Pod, now: float) -> float:
        """The time of the state ``pod`` acts on at ``now``: ``now - delay`` when
        streaming; the pod's last poll when polling (each pod polls at its own phase, and
        fetches the current state when its container starts)."""
        if self.streaming:
            return now - self.delay
        phase = self._phase.get(pod)
        if phase is None:  # once per pod: its poll phase from its name
            phase = self._phase[pod] = (
                (zlib.crc32(pod.name.encode()) % 10_000) / 10_000 * self.interval
            )
        last_poll = now - ((now - phase) % self.interval)
        # An SDK fetches the current flags when it starts: a pod never acts on a state
        # older than its own start.
        started = pod.started_at if pod.started_at is not None else pod.created_at
        return max(last_poll, started)

    def on(self, user: int, pod: Pod, now: float) -> bool:
        if self.versions is not None and pod.version not in self.versions:
            return False
        pct = self._seen(pod, now)
        if pct <= 0 or user < 0:
            return False
        return pct >= 100 or self.buckets[user] < pct / 100

    def percentage(self, pod: Pod, now: float) -> float:
        """The rollout percentage ``pod`` acts on at ``now`` (0: off for everyone, killed,
        or not in this pod's version)."""
        if self.versions is not None and pod.version not in self.versions:
            return 0.0
        return self._seen(pod, now)

    def _seen(self, pod: Pod, now: float) -> float:
        t = self.seen_at(pod, now)
        hist = self.history
        i = len(hist) - 1
        while i > 0 and hist[i][0] > t:
            i -= 1
        _, pct, killed = hist[i]
        return 0.0 if killed else pct

    def next_change(self, pod: Pod, now: float) -> float:
        """The next time after ``now`` at which what ``pod`` acts on may change, unless the
        flag is set again (inf: not before then). Streaming: a change ``delay`` after it was
        made; polling: the pod's next poll, while it has not seen the last change."""
        if self.versions is not None and pod.version not in self.versions:
            return math.inf
        if self.streaming:
            later = [t + self.delay for t, _, _ in self.history if t + self.delay > now]
            return min(later, default=math.inf)
        if self.seen_at(pod, now) >= self.history[-1][0]:
            return math.inf
        phase = self._phase[pod]  # set by seen_at
        return now + self.interval - ((now - phase) % self.interval)


@dataclass
class Flags:
    """All flags of a run, with per-flag outcome counters."""

    flags: dict[str, FlagRuntime]

    def for_version(self, version: str) -> tuple[FlagRuntime, ...]:
        return tuple(f for f in self.flags.values() if f.versions is None or version in f.versions)
