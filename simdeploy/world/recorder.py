"""Counters per time bucket, the control-plane event log, and the outcome names.

Memory stays flat in the number of requests: the data plane increments integer
counters indexed by (bucket, version, outcome) and a latency histogram per (bucket,
version) in the layout of ``rules.latency_bins`` (808 int32 counts, quantiles within 1%);
no request is kept once it has an outcome. The only per-user state is the set of users
who saw an error (bounded by the user population). A 1-hour run at 1 s buckets holds
3600 × 808 × 4 B ≈ 11.1 MiB of histograms per version that served a request.

No SimPy here: the world calls ``count``; ``result.py`` turns the arrays into tables.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

import numpy as np

from simdeploy.rules.latency_bins import N_BINS
from simdeploy.rules.latency_bins import bin_index as latency_bin

OK = "ok"
NO_ENDPOINT = "no_endpoint"
CONNECTION_REFUSED = "connection_refused"
KILLED_IN_FLIGHT = "killed_in_flight"
TIMEOUT = "timeout"
APP_ERROR = "app_error"
SCHEMA_ERROR = "schema_error"
DATA_INCOMPATIBLE = "data_incompatible"

#: Outcome names by index; index 0 is success, the rest are error causes.
OUTCOMES: tuple[str, ...] = (
    OK,
    NO_ENDPOINT,
    CONNECTION_REFUSED,
    KILLED_IN_FLIGHT,
    TIMEOUT,
    APP_ERROR,
    SCHEMA_ERROR,
    DATA_INCOMPATIBLE,
)
ERROR_CAUSES: tuple[str, ...] = OUTCOMES[1:]
I_OK, I_NO_ENDPOINT, I_REFUSED, I_KILLED, I_TIMEOUT, I_APP_ERROR = range(6)
I_SCHEMA_ERROR, I_DATA_INCOMPATIBLE = 6, 7

#: A pod's states as the replay shows them, in lifecycle order: created, no container yet;
#: container started but not Ready (warming up, failing its probe, crash-looping); Ready;
#: deleted and shutting down. The timeline's ``pods[v]`` counts all four, ``ready[v]`` the
#: third, ``terminating[v]`` the fourth.
PENDING, NOT_READY, READY, TERMINATING = "Pending", "NotReady", "Ready", "Terminating"
POD_STATES: tuple[str, ...] = (PENDING, NOT_READY, READY, TERMINATING)

#: Counts per latency histogram (``rules.latency_bins``: 1% relative error).
LAT_BINS = N_BINS


@dataclass
class Event:
    """One control-plane event, like a Kubernetes event: when, why, on what."""

    t: float
    reason: str
    object: str
    version: str = ""
    message: str = ""


@dataclass
class Recorder:
    """Per-bucket counters of the data plane, plus the control plane's event log.

    ``versions`` fixes the column order; index ``len(versions)`` stands for "no pod"
    (a request that failed before reaching any version, e.g. ``no_endpoint``).
    """

    versions: tuple[str, ...]
    duration_s: float
    bucket_s: float
    users: int = 1
    events: list[Event] = field(default_factory=list)
    samples: list[dict[str, float]] = field(default_factory=list)
    users_with_error: set[int] = field(default_factory=set)
    first_served_at: dict[str, float] = field(default_factory=dict)
    #: Every pod state change: (time, pod, replica set, version, state), state one of
    #: :data:`POD_STATES`, or ``Gone`` (``world.pod.GONE``) when it no longer exists; a few
    #: rows per pod, written by the cluster.
    pod_states: list[tuple[float, str, str, str, str]] = field(default_factory=list)
    #: Every change of a replica set's ``spec.replicas``, the steady start's included:
    #: (time, replica set, owner, version, spec).
    replica_set_specs: list[tuple[float, str, str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.n_buckets = max(1, math.ceil(self.duration_s / self.bucket_s))
        self.n_cols = len(self.versions) + 1
        size = self.n_buckets * self.n_cols
        self.counts = [array("q", bytes(8 * size)) for _ in OUTCOMES]
        #: Latency histograms of user requests that reached an app, one array per version
        #: (``LAT_BINS`` int32 counts per bucket), made when the version first records one.
        self.latency: list[array[int] | None] = [None] * len(self.versions)
        #: Sum of those latencies (s), for the exact mean.
        self.latency_sum_s = 0.0
        self.arrivals = array("q", bytes(8 * self.n_buckets))
        self.version_index = {v: i for i, v in enumerate(self.versions)}
        # Shadow traffic: counted apart, never in the user-facing counters above.
        self.mirrored = array("q", bytes(8 * self.n_buckets))
        self.synthetic = array("q", bytes(8 * self.n_buckets))
        self.mirror_errors = array("q", bytes(8 * self.n_buckets))
        #: Shadow and synthetic outcomes per (bucket, version): [ok, errors]; analysis
        #: queries of a version add them to its user-facing outcomes.
        self.mirror_counts = [array("q", bytes(8 * size)) for _ in range(2)]
        self.first_mirrored_at: dict[str, float] = {}
        self.shadow_comparisons = 0
        self.shadow_mismatches = 0
        self.duplicate_writes = 0
        # The last version each user was served by while ``tracking`` (a rollout runs),
        # and how often that changed (capped at 2): users_flipped counts the 2s.
        self.tracking = False
        # Database and flags (only moved when a scenario models them).
        self.lock_wait_s = 0.0
        self.phase_errors: dict[str, int] = {}
        self.flag_exposed_users = bytearray(self.users)
        self.flagged_errors = 0
        self.unflagged_errors = 0
        self.dark_launch_errors = 0
        self.last_flagged_error_at: float | None = None
        self.last_version = bytearray(b"\xff" * self.users)
        self.switches = bytearray(self.users)

    def bucket(self, t: float) -> int:
        b = int(t / self.bucket_s)
        return b if b < self.n_buckets else self.n_buckets - 1

    def arrival(self, t: float) -> int:
        """Count an arrival at ``t``; return its bucket (outcomes are filed under it)."""
        b = int(t / self.bucket_s)  # :meth:`bucket`, inlined: once per request
        if b >= self.n_buckets:
            b = self.n_buckets - 1
        self.arrivals[b] += 1
        return b

    def count(self, b: int, v: int, outcome: int, latency_s: float | None, user: int) -> None:
        """File one outcome under arrival bucket ``b`` and version column ``v``.

        ``latency_s`` None: the request never reached an app (no endpoint, connection
        refused) and stays out of the latency histogram, so an outage does not show as
        a drop of p50 to zero.
        """
        cell = b * self.n_cols + v
        self.counts[outcome][cell] += 1
        if latency_s is not None:
            hist = self.latency[v]
            if hist is None:
                hist = self.latency[v] = array("i", [0]) * (self.n_buckets * LAT_BINS)
            hist[b * LAT_BINS + latency_bin(latency_s)] += 1
            self.latency_sum_s += latency_s
            if self.tracking and user >= 0:
                last = self.last_version[user]
                if last != v:
                    if last != 255 and self.switches[user] < 2:
                        self.switches[user] += 1
                    self.last_version[user] = v
        if outcome:
            self.users_with_error.add(user)

    def count_many(self, b: int, v: int, outcome: int, n: int) -> None:
        """File ``n`` outcomes at once (the fluid data plane); no latency, no user: the
        fluid plane files those with :meth:`add_latency` and ``users_with_error``."""
        self.counts[outcome][b * self.n_cols + v] += n

    def count_mirror_many(self, b: int, v: int, outcome: int, n: int) -> None:
        """File ``n`` outcomes of shadow copies at once (the fluid data plane; the copies
        themselves are counted in ``mirrored`` when they are made)."""
        self.mirror_counts[1 if outcome else 0][b * self.n_cols + v] += n
        if outcome:
            self.mirror_errors[b] += n

    def move(self, b: int, v: int, src: int, dst: int, n: int, mirror: bool = False) -> int:
        """Move up to ``n`` outcomes of bucket ``b``, version ``v`` from outcome ``src`` to
        ``dst`` (the fluid plane's kill of requests it filed when they started); returns
        how many moved. ``mirror``: the shadow counters (ok / error) instead."""
        cell = b * self.n_cols + v
        if mirror:
            ok, err = self.mirror_counts
            k = min(n, ok[cell]) if src == I_OK else 0
            ok[cell] -= k
            err[cell] += k
            self.mirror_errors[b] += k
            return k
        k = min(n, self.counts[src][cell])
        self.counts[src][cell] -= k
        self.counts[dst][cell] += k
        return k

    def add_latency(self, b: int, v: int, hist: np.ndarray) -> None:
        """Add a whole histogram (``LAT_BINS`` counts) to bucket ``b`` of version ``v``."""
        if v >= len(self.latency) or not hist.any():
            return
        counts = self.latency_counts(v)
        if counts is None:
            self.latency[v] = array("i", [0]) * (self.n_buckets * LAT_BINS)
            counts = self.latency_counts(v)
            assert counts is not None
        counts[b] += hist.astype(np.intc)

    def latency_counts(self, v: int) -> np.ndarray | None:
        """Version column ``v``'s latency histograms, a (buckets, ``LAT_BINS``) view of the
        live counts (int32); None when it never recorded a latency."""
        hist = self.latency[v] if v < len(self.latency) else None
        if hist is None:
            return None
        return np.frombuffer(hist, dtype=np.intc).reshape(self.n_buckets, LAT_BINS)

    def latency_window(self, v: int, b0: int, b1: int) -> np.ndarray:
        """One histogram (int64) of version ``v``'s latencies over buckets [b0, b1)."""
        counts = self.latency_counts(v)
        if counts is None or b1 <= b0:
            return np.zeros(LAT_BINS, dtype=np.int64)
        return counts[b0:b1].sum(axis=0, dtype=np.int64)

    def flag_exposed(self, user: int) -> None:
        if user >= 0:
            self.flag_exposed_users[user] = 1

    def count_mirror(self, b: int, v: int, outcome: int, duplicate_write: bool) -> None:
        """File the outcome of a shadow copy (never seen by a user)."""
        self.mirrored[b] += 1
        self.mirror_counts[1 if outcome else 0][b * self.n_cols + v] += 1
        if outcome:
            self.mirror_errors[b] += 1
        if duplicate_write:
            self.duplicate_writes += 1

    def count_synthetic(self, b: int, v: int, outcome: int) -> None:
        """A synthetic request (smoke test): visible to analysis queries only."""
        self.synthetic[b] += 1
        self.mirror_counts[1 if outcome else 0][b * self.n_cols + v] += 1

    def shadow_compared(self, mismatch: bool) -> None:
        self.shadow_comparisons += 1
        if mismatch:
            self.shadow_mismatches += 1

    def users_flipped(self) -> int:
        """Users who went back and forth between versions while a rollout was tracked
        (two switches or more: v1 → v2 → v1). A single cutover is not a flip; per-request
        weights without stickiness flip most users, a sticky cohort none."""
        return sum(1 for n in self.switches if n >= 2)

    def event(self, t: float, reason: str, obj: str, version: str = "", message: str = "") -> None:
        self.events.append(Event(t, reason, obj, version, message))

    def pod_state(self, t: float, pod: str, replica_set: str, version: str, state: str) -> None:
        """A pod entered ``state`` at ``t`` (for the replay; nothing reads it during a run)."""
        self.pod_states.append((t, pod, replica_set, version, state))

    def replica_set_spec(self, t: float, name: str, owner: str, version: str, spec: int) -> None:
        """A replica set's ``spec.replicas`` became ``spec`` at ``t``."""
        self.replica_set_specs.append((t, name, owner, version, spec))

    def window_error_ratio(self, t_from: float, t_to: float) -> tuple[int, int]:
        """(errors, completed) over buckets fully inside [t_from, t_to), all versions."""
        b0 = max(0, math.ceil(t_from / self.bucket_s))
        b1 = min(self.n_buckets, int(t_to / self.bucket_s))
        n = self.n_cols
        lo, hi = b0 * n, b1 * n
        ok = sum(self.counts[0][lo:hi])
        err = sum(sum(c[lo:hi]) for c in self.counts[1:])
        return err, ok + err
