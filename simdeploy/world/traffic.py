"""The request-level data plane: arrivals, users, queueing at pods, outcomes.

A request is not a SimPy process, nor an event on SimPy's queue. Arrivals are drawn in
numpy batches (inter-arrival gaps, user ids, read/write); a request that gets a worker
puts its completion on the data plane's own heap. :meth:`DataPlane._run` takes arrivals
and completions in time order for as long as each is due strictly before SimPy's next
event, and has SimPy wake it at the first that is not: the order of everything is the
order SimPy's loop would give. Nothing per request outlives its outcome: outcomes go to
the recorder's counters.

The data plane only reads the balancer's routing table and the pods' states, and
writes outcomes to the recorder; it never changes the control plane.
"""

from __future__ import annotations

import heapq
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

    In service, its completion is an entry of the data plane's own queue (its time, a
    sequence number, the request): see :class:`DataPlane`.
    """

    __slots__ = (
        "access",
        "alive",
        "bucket",
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
        # ``pod`` is set when it starts service (DataPlane._start).


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
        #: The next arrival's time (inf: none left).
        self._next_arrival = math.inf
        #: Completions of requests in service: (time, sequence, request), a heap.
        self._done: list[tuple[float, int, Request]] = []
        self._seq = 0
        #: Times of the wake-up events on SimPy's queue (a heap), and whether the data
        #: plane is running its own events now (:meth:`_run`).
        self._wakes: list[float] = []
        self._running = False
        self._wake_callbacks = [self._run]

    def start(self) -> None:
        self._advance_arrival(self.env.now)
        self._wake(self._next_arrival)

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

    def _advance_arrival(self, now: float) -> None:
        """The next arrival's time after the one at ``now`` (inf when there is none)."""
        if self._i == len(self._gaps) and not self._refill():
            self._next_arrival = math.inf
            return
        t = now + self._gaps[self._i]  # the float env.schedule would compute
        self._next_arrival = t if t < self.end_s else math.inf

    def _wake(self, t: float) -> None:
        """Have SimPy call :meth:`_run` at ``t``, unless a wake-up at or before ``t`` is
        already queued (or the data plane is running: it wakes itself when it stops).

        The entry is pushed on SimPy's queue at exactly ``t`` (``env.schedule`` would add a
        delay to the clock and could round), at NORMAL priority with the next event id, as
        ``env.schedule`` does."""
        if self._running or t == math.inf or (self._wakes and self._wakes[0] <= t):
            return
        env = self.env
        ev = simpy.Event(env)
        ev._ok, ev._value = True, None  # what Event.succeed() sets
        ev.callbacks = self._wake_callbacks
        heapq.heappush(env._queue, (t, NORMAL, next(env._eid), ev))  # type: ignore[attr-defined]
        heapq.heappush(self._wakes, t)

    def _run(self, ev: simpy.Event) -> None:
        """Arrivals and completions, in time order, each due strictly before every event on
        SimPy's queue: SimPy would pop them next anyway, so running them here changes
        nothing (the clock is set as its loop would set it, and the events it holds keep
        their order: their ids only ever grow). The data plane's own queue saves an event
        per request; SimPy wakes it for the first one that is not due first.

        An arrival is routed (with its shadow copy, if mirrored) and admitted; a completion
        files its outcome and takes the pod's next queued request.
        """
        env = self.env
        heapq.heappop(self._wakes)
        self._running = True
        done = self._done
        bal = self.balancer
        count_arrival, route, admit = self.recorder.arrival, bal.route, self._admit
        now = env._now  # type: ignore[attr-defined]
        while True:
            t = self._next_arrival
            if done and done[0][0] < t:
                t = done[0][0]
                if t > now and t >= env.peek():
                    break
                env._now = now = t  # type: ignore[attr-defined]
                req = heapq.heappop(done)[2]
                if req.alive:  # else killed in flight: already counted
                    self._on_done(req, now)
                continue
            if t > now and t >= env.peek():
                break
            env._now = now = t  # type: ignore[attr-defined]
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
            self._advance_arrival(now)
        self._running = False
        self._wake(t)

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
            t = self.env._now + pod.model.service.next()  # type: ignore[attr-defined]
            self._seq += 1
            heapq.heappush(self._done, (t, self._seq, req))
            if not self._running:
                self._wake(t)
            return
        assert self.db is not None
        locks = self.db.blocking(req.access)
        if locks is not None:
            self._park(pod, req, locks, self.env.now)
            return
        self._start(pod, req)

    def _start(self, pod: Pod, req: Request) -> None:
        """Service starts: ``req``'s completion goes on the data plane's heap."""
        if req.access is not None and self.db is not None:
            self.db.hold(req.access)  # its transaction's lock, until the outcome
            req.holding = True
        req.pod = pod
        t = self.env._now + pod.model.service.next()  # type: ignore[attr-defined]
        self._seq += 1
        heapq.heappush(self._done, (t, self._seq, req))
        if not self._running:
            self._wake(t)

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

    def _on_done(self, req: Request, now: float) -> None:
        """``req``'s service ended at ``now``: file its outcome, start the next queued one."""
        pod = req.pod
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
