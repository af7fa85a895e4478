"""The request-level data plane: arrivals, users, queueing at pods, outcomes.

A request is not a SimPy process. Arrivals are drawn in numpy batches (inter-arrival
gaps, user ids, read/write) and each one is an event on SimPy's queue whose callback
routes it (or, when nothing else is due before it, is routed at once by the callback of
the arrival before it); a request that gets a worker is itself the event of its
completion. Nothing per request outlives its outcome: outcomes go to the recorder's
counters.

The data plane only reads the balancer's routing table and the pods' states, and
writes outcomes to the recorder; it never changes the control plane.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from simpy.events import NORMAL

from simdeploy.world import recorder as rec
from simdeploy.world.balancer import Mirror

if TYPE_CHECKING:
    from simdeploy.spec.traffic import Profile, Traffic
    from simdeploy.world.balancer import Balancer
    from simdeploy.world.database import Access, Database, TableLocks
    from simdeploy.world.flags import FlagRuntime, Flags
    from simdeploy.world.pod import Pod

BATCH = 4096


class Request:
    """One request while it waits or is served. ``alive`` False once it has an outcome.

    ``mirror`` is the mirror rule a shadow copy was made under (None for a user request;
    its outcome never reaches a user); ``pair`` links a user request and its shadow copy
    so their outcomes can be compared.

    In service, a request is its own completion event: :meth:`DataPlane._start` puts it on
    SimPy's queue with ``env.schedule``, which is all a ``Timeout`` does, minus an object
    per request. SimPy's loop reads ``callbacks`` and ``_ok`` (a completion never fails).
    """

    __slots__ = (
        "access",
        "alive",
        "bucket",
        "callbacks",
        "dark",
        "feature_p",
        "flagged",
        "holding",
        "mirror",
        "pair",
        "pod",
        "t",
        "user",
        "write",
    )

    _ok = True  # as SimPy's loop reads it: the completion event succeeded

    def __init__(
        self,
        t: float,
        bucket: int,
        user: int,
        write: bool,
        mirror: Mirror | None = None,
        pair: Pair | None = None,
    ) -> None:
        self.t = t
        self.bucket = bucket
        self.user = user
        self.write = write
        self.mirror = mirror
        self.pair = pair
        self.alive = True
        # Set only when a database or flags are modelled (see DataPlane._prepare).
        self.access: Access | None = None
        self.holding = False
        self.flagged = False
        self.feature_p = 0.0
        self.dark: tuple[FlagRuntime, ...] = ()
        # ``pod`` and ``callbacks`` are set when it starts service (DataPlane._start).


#: The "mirror rule" of synthetic requests (smoke tests): not users, no side effects.
SYNTHETIC = Mirror(frozenset(), 0.0, separate_database=True)


class Pair:
    """The outcomes of a user request and of its shadow copy, compared when both are in."""

    __slots__ = ("mirror_ok", "user_ok")

    def __init__(self) -> None:
        self.user_ok: bool | None = None
        self.mirror_ok: bool | None = None


def rate_at(profile: Profile, t: float) -> float:
    """Request rate (req/s) of ``profile`` at time ``t`` (s). Pure."""
    if profile.type == "constant":
        return profile.rate or 0.0
    if profile.type == "steps":
        rate = 0.0
        for step in sorted(profile.steps or [], key=lambda s: s.at):
            if step.at <= t:
                rate = step.rate
        return rate
    mean = profile.mean or 0.0
    return mean * (1 + profile.amplitude * math.sin(2 * math.pi * t / profile.period))


def peak_rate(profile: Profile) -> float:
    if profile.type == "constant":
        return profile.rate or 0.0
    if profile.type == "steps":
        return max(s.rate for s in profile.steps or [])
    return (profile.mean or 0.0) * (1 + profile.amplitude)


def arrivals(
    profile: Profile, spec: Traffic, rng: np.random.Generator, end_s: float = math.inf
) -> Iterator[tuple[float, int, bool]]:
    """(gap, user, write) triples of a Poisson process following ``profile``, until the
    first candidate at or after ``end_s`` (s; endless by default).

    Non-constant rates use thinning: candidates at the peak rate, each kept with
    probability rate(t) / peak. Gaps are in seconds from the previous kept arrival. The end
    matters there: after a last step of rate 0 every candidate is dropped, and without it
    the search for the next arrival would never end.
    """
    for gaps, users, writes in arrival_batches(profile, spec, rng, end_s):
        yield from zip(gaps, users, writes, strict=True)


def arrival_batches(
    profile: Profile, spec: Traffic, rng: np.random.Generator, end_s: float = math.inf
) -> Iterator[tuple[list[float], list[int], list[bool]]]:
    """The arrivals of :func:`arrivals` a batch of draws at a time: (gaps in s, users,
    writes), three lists of one length, never empty."""
    peak = peak_rate(profile)
    if peak <= 0:
        return
    constant = profile.type == "constant"
    if spec.user_distribution == "zipf":
        ranks = np.arange(1, spec.users + 1, dtype=float)
        cdf = np.cumsum(ranks**-spec.zipf_exponent)
        cdf /= cdf[-1]
    t = 0.0
    pending = 0.0
    while True:
        gaps = rng.exponential(1.0 / peak, BATCH).tolist()
        if spec.user_distribution == "zipf":
            users_a = np.searchsorted(cdf, rng.random(BATCH), side="right")
            users = np.minimum(users_a, spec.users - 1).tolist()
        else:
            users = rng.integers(0, spec.users, BATCH).tolist()
        writes = (rng.random(BATCH) < spec.write_ratio).tolist()
        if constant:  # every candidate is kept: the batch as drawn, up to the end
            for i, gap in enumerate(gaps):
                t += gap
                if t >= end_s:
                    if i:
                        yield gaps[:i], users[:i], writes[:i]
                    return
            yield gaps, users, writes
            continue
        keep = rng.random(BATCH).tolist()
        kept: tuple[list[float], list[int], list[bool]] = ([], [], [])
        for i, gap in enumerate(gaps):
            t += gap
            pending += gap
            if t >= end_s:
                if kept[0]:
                    yield kept
                return
            if keep[i] * peak >= rate_at(profile, t):
                continue
            kept[0].append(pending)
            kept[1].append(users[i])
            kept[2].append(writes[i])
            pending = 0.0
        if kept[0]:
            yield kept


class DataPlane:
    """Routes arrivals through the balancer to pods and files their outcomes."""

    def __init__(
        self,
        env: simpy.Environment,
        balancer: Balancer,
        recorder: rec.Recorder,
        traffic: Traffic,
        rng: np.random.Generator,
        end_s: float,
    ) -> None:
        self.env = env
        self.balancer = balancer
        self.recorder = recorder
        self.timeout_s = traffic.timeout
        self.end_s = end_s
        self.no_pod = len(recorder.versions)
        self._batches = arrival_batches(traffic.rate_profile, traffic, rng, end_s)
        #: The current batch of arrivals (gaps in s); ``_i`` indexes the next one.
        self._gaps: list[float] = []
        self._users: list[int] = []
        self._writes: list[bool] = []
        self._i = 0
        self.db: Database | None = None
        self.flags: Flags | None = None
        self._flag_sets: dict[str, tuple[FlagRuntime, ...]] = {}
        #: The next arrival's event (one, scheduled again for each arrival).
        self._arrival = simpy.Event(env)
        self._arrival._ok, self._arrival._value = True, None  # what Event.succeed() sets
        self._arrival_callbacks = [self._on_arrival]
        #: The callbacks of every completion (a served :class:`Request` is its own event).
        self._done_callbacks = [self._on_done]

    def start(self) -> None:
        if self._i == len(self._gaps) and not self._refill():
            return
        gap = self._gaps[self._i]
        if self.env.now + gap < self.end_s:
            self._schedule_arrival(gap)

    def finish(self) -> None:
        """End of run: nothing left to file (every outcome was counted as it happened)."""

    def _refill(self) -> bool:
        """Take the next batch of arrivals; False when there is none."""
        batch = next(self._batches, None)
        if batch is None:
            return False
        self._gaps, self._users, self._writes = batch
        self._i = 0
        return True

    def _schedule_arrival(self, gap: float) -> None:
        arrival = self._arrival
        arrival.callbacks = self._arrival_callbacks
        self.env.schedule(arrival, NORMAL, gap)

    def _on_arrival(self, ev: simpy.Event) -> None:
        """Route the arrival due now (and its shadow copy, if mirrored), then, at once,
        each next one that is due strictly before every queued event: SimPy would pop it
        next anyway, so routing it here changes nothing (its clock is set as its loop
        would set it, and the events queued later keep their order, their ids only ever
        grow). Schedule the first one that is not."""
        env = self.env
        bal = self.balancer
        count_arrival, route, admit = self.recorder.arrival, bal.route, self._admit
        now = env.now
        while True:
            i = self._i
            self._i = i + 1
            user, write = self._users[i], self._writes[i]
            b = count_arrival(now)
            req = Request(now, b, user, write)
            mirror = bal.routing.mirror
            if (
                mirror is not None
                and (not mirror.reads_only or not write)
                and (mirror.share >= 1.0 or bal.uniform() < mirror.share)
            ):
                req.pair = Pair()
                admit(bal.pick_mirror(), Request(now, b, user, write, mirror, req.pair))
            admit(route(user), req)
            if self._i == len(self._gaps) and not self._refill():
                return
            gap = self._gaps[self._i]
            t = now + gap  # the float env.schedule would compute
            if t >= self.end_s:
                return
            if t >= env.peek():
                self._schedule_arrival(gap)
                return
            env._now = now = t  # SimPy's clock, set as its loop sets it when it pops an event

    def _admit(self, pod: Pod | None, req: Request) -> None:
        """A request reaches ``pod`` (or no pod): fail it at once, serve it, or queue it."""
        if pod is None:
            self._outcome(req, self.no_pod, rec.I_NO_ENDPOINT, None)
        elif not pod.accepting:
            self._outcome(req, pod.vidx, rec.I_REFUSED, None)
        else:
            now = req.t
            rec_ = self.recorder
            first = rec_.first_served_at if req.mirror is None else rec_.first_mirrored_at
            if pod.version not in first:
                first[pod.version] = now
            if now < pod.warm_at or now >= pod.unhealthy_at:
                # Not warmed up yet (or gone bad): the app answers with an error at once.
                self._outcome(req, pod.vidx, rec.I_APP_ERROR, 0.0)
                return
            if self.db is not None or self.flags is not None:
                self._prepare(pod, req)
            if pod.busy < pod.concurrency:
                self._serve(pod, req)
            else:
                pod.queue.append(req)

    def inject(self, pod: Pod | None, write: bool = False) -> None:
        """A synthetic request (a smoke test against a preview Service): served like any
        request, counted with the shadow traffic, never seen by a user."""
        now = self.env.now
        self._admit(pod, Request(now, self.recorder.bucket(now), -1, write, SYNTHETIC))

    def _outcome(self, req: Request, v: int, outcome: int, latency_s: float | None) -> None:
        req.alive = False
        if req.holding and req.access is not None and self.db is not None:
            req.holding = False
            self.db.unhold(req.access)
        mirror = req.mirror
        if mirror is None:
            r = self.recorder
            r.count(req.bucket, v, outcome, latency_s, req.user)
            if outcome:
                if req.flagged:
                    r.flagged_errors += 1
                    r.last_flagged_error_at = self.env.now
                elif self.flags is not None:
                    r.unflagged_errors += 1
                if self.db is not None:
                    r.phase_errors[self.db.phase] = r.phase_errors.get(self.db.phase, 0) + 1
        elif mirror is SYNTHETIC:
            self.recorder.count_synthetic(req.bucket, v, outcome)
        else:
            dup = req.write and outcome == rec.I_OK and not mirror.separate_database
            self.recorder.count_mirror(req.bucket, v, outcome, dup)
        pair = req.pair
        if pair is not None:
            if req.mirror is not None:
                pair.mirror_ok = outcome == rec.I_OK
            else:
                pair.user_ok = outcome == rec.I_OK
            if pair.user_ok is not None and pair.mirror_ok is not None:
                self.recorder.shadow_compared(pair.user_ok != pair.mirror_ok)

    def _prepare(self, pod: Pod, req: Request) -> None:
        """Flags the request meets on this pod, and its database access (cached)."""
        extra: tuple[Any, ...] = ()
        if self.flags is not None:
            flags = self._flag_sets.get(pod.version)
            if flags is None:
                flags = self._flag_sets[pod.version] = self.flags.for_version(pod.version)
            for f in flags:
                if f.on(req.user, pod, req.t):
                    if req.mirror is None:
                        self.recorder.flag_exposed(req.user)
                    if f.spec.dark_launch:
                        req.dark += (f,)
                    else:
                        req.flagged = True
                        req.feature_p += f.spec.feature.error_rate
                        if f.access != ((), ()):
                            extra += (f.access,)
        db = self.db
        if db is not None and not (req.mirror is not None and req.mirror.separate_database):
            req.access = db.access(pod.version, req.write, extra)

    def _serve(self, pod: Pod, req: Request) -> None:
        pod.busy += 1
        pod.in_flight.add(req)
        if req.access is None:  # no database (the common case): :meth:`_start`, inlined
            req.pod = pod
            req.callbacks = self._done_callbacks
            self.env.schedule(req, NORMAL, pod.model.service.next())  # type: ignore[arg-type]
            return
        assert self.db is not None
        locks = self.db.blocking(req.access)
        if locks is not None:
            self._park(pod, req, locks, self.env.now)
            return
        self._start(pod, req)

    def _start(self, pod: Pod, req: Request) -> None:
        """Service starts: ``req`` is scheduled as its own completion event."""
        if req.access is not None and self.db is not None:
            self.db.hold(req.access)  # its transaction's lock, until the outcome
            req.holding = True
        req.pod = pod
        req.callbacks = self._done_callbacks
        self.env.schedule(req, NORMAL, pod.model.service.next())  # type: ignore[arg-type]

    def _park(self, pod: Pod, req: Request, locks: TableLocks, since: float) -> None:
        """The worker holds a connection waiting in the table's lock queue."""
        assert self.db is not None
        self.db.park(locks, lambda: self._unpark(pod, req, since))

    def _unpark(self, pod: Pod, req: Request, since: float) -> None:
        if not req.alive or req.access is None or self.db is None:
            return
        locks = self.db.blocking(req.access)
        if locks is not None:
            self._park(pod, req, locks, since)
            return
        self.recorder.lock_wait_s += self.env.now - since
        self._start(pod, req)

    def _on_done(self, req: Request) -> None:
        if not req.alive:  # killed in flight: already counted
            return
        pod = req.pod
        now = self.env.now
        pod.busy -= 1
        pod.in_flight.discard(req)
        model = pod.model
        latency = now - req.t
        if latency > self.timeout_s:
            outcome, latency = rec.I_TIMEOUT, self.timeout_s
        elif (
            req.access is not None
            and self.db is not None
            and (db_outcome := self.db.finish(req.access, model.uniform.next()))
        ):
            outcome = db_outcome
        else:
            p_err = model.base_error_rate + req.feature_p
            for f in req.dark:  # a dark launch runs, fails apart, never fails the user
                dark_db = (
                    self.db.access(pod.version, req.write, (f.access,))
                    if self.db is not None and f.access != ((), ())
                    else None
                )
                if (dark_db is not None and dark_db.error is not None) or (
                    model.uniform.next() < f.spec.feature.error_rate
                ):
                    self.recorder.dark_launch_errors += 1
            # A bug limited to a share of users is in their data: synthetic requests
            # (user -1, smoke tests against a preview) never hit it.
            if now >= pod.bug_from and (
                model.bug_users is None or (req.user >= 0 and model.bug_users[req.user])
            ):
                p_err += model.bug_error_rate
            outcome = rec.I_APP_ERROR if p_err > 0 and model.uniform.next() < p_err else rec.I_OK
        self._outcome(req, pod.vidx, outcome, latency)
        if pod.queue or not pod.accepting:  # else _next_from_queue has nothing to do
            self._next_from_queue(pod, now)

    def _next_from_queue(self, pod: Pod, now: float) -> None:
        queue = pod.queue
        while queue and pod.busy < pod.concurrency:
            req = queue.popleft()
            if now - req.t >= self.timeout_s:
                # The client gave up while it queued; the server finds a closed socket.
                self._outcome(req, pod.vidx, rec.I_TIMEOUT, self.timeout_s)
                continue
            self._serve(pod, req)
        drained = pod.drained
        if not pod.accepting and not pod.busy and not queue and drained and not drained.triggered:
            drained.succeed()

    def kill(self, pod: Pod) -> int:
        """Fail every request accepted by ``pod`` with ``killed_in_flight``; return how many."""
        killed = 0
        now = self.env.now
        for req in list(pod.in_flight) + list(pod.queue):
            if req.alive:
                self._outcome(req, pod.vidx, rec.I_KILLED, now - req.t)
                killed += 1
        pod.in_flight.clear()
        pod.queue.clear()
        pod.busy = 0
        return killed

    def in_flight(self, pods: list[Pod]) -> int:
        """User requests still queued or in service (shadow copies are not user requests)."""
        return sum(
            sum(1 for r in p.in_flight if r.mirror is None)
            + sum(1 for r in p.queue if r.mirror is None)
            for p in pods
        )
