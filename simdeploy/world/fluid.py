"""The fluid data plane: traffic counted per interval instead of request by request.

Chosen with ``simulation: {dataPlane: fluid}``. The control plane does not change: the
same pods, probes, balancer, controllers and analyses run on the same SimPy clock; only the
requests are aggregated, over intervals in which nothing the traffic depends on changes.

**Intervals.** The plane is brought up to date ("synced") before anything the traffic
depends on changes (the balancer's endpoints or routing table, a pod's ``accepting``,
``warm_at``, ``unhealthy_at`` or ``bug_from``: the balancer and the pod call back first;
the database's locks, schema, phase or rows: the database calls back first),
at every bucket boundary (at most 1 s apart, before any other event of that instant, so an
analysis or alert reading a finished bucket finds it complete), and when a pod's warm-up,
health or bug begins. Between two of those times the system is stationary, so the
interval's arrivals are one Poisson draw. A pod that is overloaded is advanced in steps of
``simulation.fluidStep`` (default 100 ms) while its backlog lasts.

Per interval:

1. **Arrivals**: a Poisson count with mean ∫ rate dt.
2. **Routing**: the balancer's table as shares (:meth:`Balancer.split`): a sticky cohort
   takes its users' share of the arrivals (binomial), the rest is split over the weighted
   groups (multinomial), then over each group's endpoints (each endpoint an equal share;
   endpoints in the same state are one class and share one draw). A group with a share but
   no endpoint fails it as ``no_endpoint``; an endpoint that no longer accepts refuses its
   share (``connection_refused``); a pod still warming up or gone bad answers
   ``app_error`` at once, as on the request-level plane.
3. **Pods** are c-worker queues (c = ``concurrency``) with the version's service time. A
   pod loaded below ``STABLE_LOAD`` of its capacity starts what it is given at once, and its
   requests wait as in a c-server queue in steady state (:func:`rules.fluid_queue.waiting`:
   Poisson arrivals per pod for ``random``, every k-th arrival for ``round_robin`` over k
   endpoints). A pod at or above it keeps a
   FIFO backlog of arrival cohorts and completes a random c·step/E[S] requests per step; a
   cohort still waiting ``traffic.timeout`` after it arrived times out. ``pod.busy`` is the
   expected number in service (λ·E[S]; c while a backlog waits), which the autoscaler reads.
4. **Outcomes** are drawn per class: timeouts from the service-time tail, ``app_error``
   from the version's error rate and its bug (the bug's share of users by traffic weight),
   ``killed_in_flight`` when a container is killed (the backlog, and a Poisson count of
   the expected number in service). Latencies go to the recorder's histograms: unwaited
   requests as one multinomial draw per bucket over the service time's bin probabilities,
   waited ones as drawn samples.
5. **Users affected**: each error falls on a user of its request's class (everyone; a
   cohort or the rest; a bug's users or the others) by traffic weight, so a user escapes
   every error of a class with probability (1 - w/W)^errors; each user is drawn once at
   the end of the run.

6. **Mirrored traffic** (shadow, Flagger ``mirror``, Argo ``setMirrorRoute``): a binomial
   share of each interval's requests (or reads) is copied to the mirror's endpoints, loads
   them like any request, and is counted apart (``mirrored``, shadow outcomes); each copy is
   compared with its user request, the two failing independently at the rates this
   interval saw (with a database, the rates of reads and of writes apart), and a copied
   write that succeeded against the shared database is a duplicate write.

7. **Feature flags**: each pod acts on the percentage it has seen (a streaming delay, its
   own poll); the requests it serves split by which flags are on for their users (the
   LaunchDarkly buckets, by traffic weight). A flagged path adds its error rate; a dark
   launch counts its own failures and never fails the user; exposure is drawn per user
   like errors; the last flagged error is the latest of the interval's finish times.

8. **The database** (:mod:`simdeploy.world.fluid_db`): a pod's requests split by kind
   (read or write, by ``traffic.writeRatio``; with the flagged paths that run) and each kind
   meets the database as one request of it does on the request-level plane
   (:meth:`Database.access`): a schema error fails every request of the kind (of the schema
   it met when it arrived), ``data_incompatible`` is a binomial draw at the share of rows
   lacking a column it reads, successful writes add their rows (and the columns they leave
   empty), errors count under the migration phase running. A kind that a held or queued
   table lock makes wait takes a worker and waits there (parked) until the lock lets it
   through; a pod whose workers all wait queues what comes next, and nothing looks at that
   queue until a worker frees up (a kill before then kills it all). Parked requests start
   when the lock is gone (``lock_wait_s``), and time out if they have waited too long; then
   the queue is served, what waited ``traffic.timeout`` dropped. The locks of requests in
   service are held for them (:class:`LockHolds`): a migration's lock queued behind them
   waits for the drain time of those in service, as PostgreSQL grants it.

Not modelled (refused when the scenario is validated, :mod:`simdeploy.spec.fluid`): the
``least_outstanding`` balancer (it sends more requests to an endpoint that refuses or fails
them at once, which only shows request by request). ``users_flipped`` is not measured (NaN).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simdeploy.rules.fluid_queue import bin_probabilities, cdf, scv, waiting
from simdeploy.rules.latency_bins import N_BINS, bin_indices
from simdeploy.world import recorder as rec
from simdeploy.world.fluid_db import Kind, KindSet, LockHolds, Parked, TableMode, blocked
from simdeploy.world.traffic import rate_at

if TYPE_CHECKING:
    from simdeploy.spec.traffic import Profile, Traffic
    from simdeploy.world.balancer import Balancer
    from simdeploy.world.database import Database
    from simdeploy.world.flags import FlagRuntime, Flags
    from simdeploy.world.pod import Pod
    from simdeploy.world.versions import VersionModel

#: Default step (s) of an overloaded pod's backlog.
STEP_S = 0.1
#: Longest interval between two syncs (s), whatever the bucket.
MAX_INTERVAL_S = 1.0
#: Below this share of its workers' capacity (λ·E[S] / c) a pod is in steady state and its
#: waiting is the queueing formula's; at or above it, waiting comes from its backlog (a
#: queue near saturation takes longer to reach its steady state than a rollout lasts).
STABLE_LOAD = 0.9
#: SimPy's priority of urgent events: the sync at a bucket boundary runs before the
#: analyses, alerts and samplers of that instant.
URGENT = 0

#: User classes: every user; the sticky cohort's users; everyone else; shadow copies (of
#: every user's requests; their outcomes reach no user).
ALL, COHORT, REST, MIRROR = "all", "cohort", "rest", "mirror"
#: Shadow copies whose successful writes reach the shared database (duplicate writes).
MIRROR_DUP = "mirror+dup"
#: Shadow copies of reads only, against the shared database. (``MIRROR``: copies that go to
#: a database of their own, or a scenario without one.)
MIRROR_READS = "mirror+reads"
#: Tolerance (s) for times that should fall on a boundary (sums of steps drift).
EPS = 1e-9
#: Endpoint states (BLOCKED: some of its requests wait for a table lock).
REFUSES, FAILS, SERVES, BACKLOG, BLOCKED = range(5)


class _Cohort:
    """Requests that arrived together at one pod and wait together (FIFO)."""

    __slots__ = ("arrivals", "bucket", "epoch", "key")

    def __init__(self, arrivals: np.ndarray, bucket: int, key: Any, epoch: int | None) -> None:
        self.arrivals = arrivals  # sorted arrival times (s) of those still waiting
        self.bucket, self.key = bucket, key
        self.epoch = epoch  # the database schema they met when they arrived (None: none)

    @property
    def n(self) -> int:
        """How many still wait."""
        return len(self.arrivals)


class _Backlog:
    """An overloaded pod's queue."""

    __slots__ = ("credit", "waiting")

    def __init__(self) -> None:
        self.waiting: deque[_Cohort] = deque()
        self.credit = 0.0  # completions not yet used this step (requests)


class _Service:
    """A version's service time as the fluid plane uses it."""

    def __init__(self, model: VersionModel, timeout_s: float) -> None:
        dist = model.service.dist
        self.dist = dist
        self.mean_s = max(dist.mean, 1e-9)
        self.cs2 = scv(dist)
        self.bins = bin_probabilities(dist)
        self.p_timeout = float(1.0 - cdf(dist, np.array([timeout_s]))[0])


class _Class:
    """Endpoints of one routing group in the same state: they share one draw."""

    __slots__ = ("kinds", "pods", "rate_share", "state", "version", "vidx")

    def __init__(
        self, state: int, pods: list[Pod], rate_share: float, kinds: KindSet | None = None
    ) -> None:
        self.state = state
        self.pods = pods
        self.rate_share = rate_share  # each pod's share of all arrivals
        self.version = pods[0].version
        self.vidx = pods[0].vidx
        self.kinds = kinds  # its requests by kind, with a database


class FluidPlane:
    """Counts arrivals and outcomes per interval; the same seam as :class:`DataPlane`."""

    def __init__(
        self,
        env: simpy.Environment,
        balancer: Balancer,
        recorder: rec.Recorder,
        traffic: Traffic,
        rng: np.random.Generator,
        end_s: float,
        models: dict[str, VersionModel],
        step_s: float = STEP_S,
    ) -> None:
        self.env = env
        self.balancer = balancer
        self.recorder = recorder
        self.traffic = traffic
        self.rng = rng
        self.end_s = end_s
        self.step_s = step_s
        self.timeout_s = traffic.timeout
        self.no_pod = len(recorder.versions)
        self.db: Database | None = None
        self.flags: Flags | None = None
        self.intervals = 0
        self._profile = traffic.rate_profile
        self._service = {v: _Service(m, self.timeout_s) for v, m in models.items()}
        self._tick = min(recorder.bucket_s, MAX_INTERVAL_S)
        self._t = 0.0  # traffic is counted up to here
        # The routing as classes of endpoints, until the balancer or a pod changes or a
        # pod's warm-up, health or bug begins (``_valid_until``).
        self._plan: list[tuple[float, list[_Class], Any]] | None = None
        self._cohort: tuple[list[_Class], float] | None = None
        self._mirror: tuple[list[_Class], float, Any] | None = None  # classes, share, key
        self._valid_until = math.inf
        self._replan = False
        self._watched: set[Pod] = set()
        self._backlogs: dict[Pod, _Backlog] = {}
        self._busy_rate: dict[Pod, float] = {}  # the arrival rate pod.busy was set for
        self._busy_plan: object = None
        self._busy_at = -1.0
        # Users: traffic weight per user (None: uniform) and the classes errors fell on.
        users = traffic.users
        self._users = users
        self._weights: np.ndarray | None = None
        if traffic.user_distribution == "zipf":
            w = np.arange(1, users + 1, dtype=float) ** -traffic.zipf_exponent
            self._weights = w / w.sum()
        self._masks: dict[Any, tuple[np.ndarray | None, float]] = {
            ALL: (None, 1.0),
            MIRROR: (None, 1.0),
            MIRROR_DUP: (None, 1.0),
            MIRROR_READS: (None, 1.0),
        }
        self._cohort_key: Any = COHORT  # a new key per cohort mask: errors stay with it
        self._rest_key: Any = REST
        self._last_user_error_rate = 0.0
        self._pod_key: dict[Pod, Any] = {}  # the class of the requests each pod serves
        self._draining: dict[Pod, None] = {}  # pods finishing what they have in service
        # Feature flags: each version's flags, user buckets, class splits, exposures.
        self._flag_sets: dict[str, tuple[FlagRuntime, ...]] = {}
        self._buckets: dict[str, np.ndarray] = {}
        self._combo_cache: dict[Any, list[tuple[Any, float, list[tuple[FlagRuntime, float]]]]] = {}
        self._exposed: dict[Any, int] = {}
        self._interval_s = 0.0  # the length of the interval being counted
        self._user_err = 0  # user requests' outcomes (this interval)
        self._user_done = 0
        self._errors: dict[Any, int] = {}
        self._cohort_mask: bytearray | None = None
        self._waits: dict[tuple[int, float, float, float], tuple[float, float]] = {}
        # Latency not yet filed: per (bucket, version) the unwaited count, the steady-state
        # waited count by mean wait, and drawn samples.
        self._lat_n: dict[tuple[int, int], int] = {}
        self._lat_waited: dict[tuple[int, int], dict[float, int]] = {}
        self._lat_samples: dict[tuple[int, int], list[np.ndarray]] = {}
        self._lat_bucket = 0
        # The database: requests by kind per (version, class, flags seen), parked requests
        # per pod, the lock state's generation, the locks held for requests in service.
        self._kind_sets: dict[tuple[Any, ...], KindSet] = {}
        self._parked: dict[Pod, list[Parked]] = {}
        self._n_parked: dict[Pod, int] = {}
        self._lock_gen = 0
        self._holds: LockHolds | None = None
        self._after_db: simpy.Event | None = None
        # User requests' outcomes this interval by kind (reads, writes), and the last rates.
        self._kind_err = [0, 0]
        self._kind_done = [0, 0]
        self._last_kind_rate = [0.0, 0.0]

    # -- the seam -------------------------------------------------------------------------
    def start(self) -> None:
        self.balancer.before_change.append(self._changing)
        if self.flags is not None:
            for f in self.flags.flags.values():
                f.before_change = self._changing
        if self.db is not None:
            self.db.before_change = self._db_changing
            self._holds = LockHolds(
                self.env, self.db, self.rng, self.sync, lambda v: self._service[v].dist
            )
        self.env.process(self._clock(self.env))

    def _clock(self, env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        """Sync at every tick boundary (and every step while a backlog waits)."""
        while True:
            self.sync()
            now = env.now
            boundary = (math.floor(now / self._tick + EPS) + 1) * self._tick
            nxt = boundary
            if self._backlogs:
                nxt = min(nxt, now + self.step_s)
                if abs(nxt - boundary) < EPS:
                    nxt = boundary
            if now < self._valid_until < nxt:
                nxt = self._valid_until
            nxt = min(nxt, self.end_s)
            if nxt <= now:
                return
            ev = simpy.Event(env)
            ev._ok, ev._value = True, None  # what succeed() sets, at URGENT priority
            env.schedule(ev, URGENT, nxt - now)
            yield ev

    def finish(self) -> None:
        """End of run: count the last interval, file the latencies, draw the users."""
        self.sync()
        self._flush_latency(None)
        r = self.recorder
        r.users_with_error.update(np.nonzero(self._draw(self._errors))[0].tolist())
        if self._exposed:
            exposed = self._draw(self._exposed)
            r.flag_exposed_users[:] = exposed.astype(np.uint8).tobytes()

    def sync(self) -> None:
        """Count the traffic from the last sync up to now, with the state that held."""
        now = min(self.env.now, self.end_s)
        t = self._t
        bucket_s = self.recorder.bucket_s
        while t < now - EPS:
            if self._plan is None or self._valid_until <= t + EPS:
                self._make_plan(t)  # also sets when it stops holding (_valid_until)
            boundary = (math.floor(t / bucket_s + EPS) + 1) * bucket_s
            t_next = min(now, boundary, self._valid_until)
            if self._backlogs:
                t_next = min(t_next, t + self.step_s)
            if abs(t_next - boundary) < EPS:  # sums of steps drift off the boundary
                t_next = boundary
            self._interval(t, max(t_next, t + EPS))
            t = t_next
        self._t = max(self._t, now)
        b = self.recorder.bucket(now + EPS)
        if b != self._lat_bucket:  # the bucket just ended: its latencies, for the readers
            self._flush_latency(b)

    def _changing(self, pod: Pod | None = None, name: str = "", value: object = None) -> None:
        """Called before the routing or a pod's state changes: count the traffic up to now
        with the state that held, and plan again. A pod that stops accepting finishes what
        it has in service within about ``E[S]·ln(2·busy)`` (then its expected count < 1/2)."""
        self.sync()
        self._plan = None
        if pod is not None and pod not in self._watched:  # a pod the balancer is adding
            self._watched.add(pod)
            pod.watch = self._changing
        if pod is not None and name == "accepting" and not value and pod.accepting:
            busy = pod.busy
            if busy > 0 and pod not in self._backlogs and pod not in self._parked:
                mean_s = self._service[pod.version].mean_s
                done = self.env.timeout(mean_s * math.log(max(2.0 * busy, 1.0)))
                done.callbacks.append(lambda _e: self._drain_done(pod))

    def _drain_done(self, pod: Pod) -> None:
        if pod.accepting or pod in self._backlogs or pod in self._parked:
            return
        self.sync()
        pod.busy = 0.0
        self._busy_rate.pop(pod, None)
        self._draining.pop(pod, None)
        self._drained(pod)

    def _db_changing(self, what: str) -> None:
        """Called before the database changes: count the traffic up to now with the state
        that held. A change of the locks may make requests wait or let them through: plan
        again, and once the change is made (an urgent event of the same instant) settle the
        locks held for requests in service."""
        self.sync()
        if what != "locks":
            return
        assert self._holds is not None
        self._holds.snapshot()
        self._plan = None
        self._lock_gen += 1
        if self._after_db is None:
            ev = self._after_db = simpy.Event(self.env)
            ev._ok, ev._value = True, None  # what succeed() sets, at URGENT priority
            ev.callbacks.append(self._db_changed)
            self.env.schedule(ev, URGENT, 0)

    def _db_changed(self, _ev: simpy.Event) -> None:
        self._after_db = None
        self.sync()
        if self._plan is None:
            self._make_plan(self._t)
        assert self._holds is not None
        self._holds.settle()

    def inject(self, pod: Pod | None, write: bool = False) -> None:
        """A synthetic request (a smoke test against a preview Service), served at once."""
        now = self.env.now
        r = self.recorder
        b = r.bucket(now)
        if pod is None:
            r.count_synthetic(b, self.no_pod, rec.I_NO_ENDPOINT)
        elif not pod.accepting:
            r.count_synthetic(b, pod.vidx, rec.I_REFUSED)
        else:
            r.first_mirrored_at.setdefault(pod.version, now)
            m = pod.model
            p = m.base_error_rate
            if now >= pod.bug_from and m.bug_users is None:  # user -1: never a bug user
                p += m.bug_error_rate
            bad = now < pod.warm_at or now >= pod.unhealthy_at or self.rng.random() < p
            r.count_synthetic(b, pod.vidx, rec.I_APP_ERROR if bad else rec.I_OK)

    def kill(self, pod: Pod) -> int:
        """Fail what ``pod`` accepted as ``killed_in_flight``: its backlog, and a Poisson
        count of its expected number in service (filed as served when they started: moved
        from ok to killed). Returns how many."""
        self.sync()
        now = self.env.now
        busy = pod.busy - self._n_parked.pop(pod, 0)
        pod.busy, pod.waiting = 0, 0
        self._busy_rate.pop(pod, None)
        self._draining.pop(pod, None)
        bl = self._backlogs.pop(pod, None)
        killed = 0
        waiting: list[_Cohort | Parked] = list(bl.waiting) if bl is not None else []
        waiting += self._parked.pop(pod, [])
        for c in waiting:  # what waited in its backlog, or for a table lock
            self._file(c.bucket, pod.vidx, rec.I_KILLED, c.n, c.key)
            self._samples(c.bucket, pod.vidx, now - c.arrivals, c.key)
            killed += c.n
        in_service = int(self.rng.poisson(busy)) if busy > 0 else 0
        if in_service:
            key = self._pod_key.get(pod, ALL)
            b = self.recorder.bucket(now)
            moved = 0
            for bb in range(b, max(-1, b - 3), -1):  # started within the last few buckets
                moved += self.recorder.move(
                    bb, pod.vidx, rec.I_OK, rec.I_KILLED, in_service - moved, _is_mirror(key)
                )
                if moved >= in_service:
                    break
            if moved and not _is_mirror(key):
                self._errors[key] = self._errors.get(key, 0) + moved
                if self.db is not None:
                    phases = self.recorder.phase_errors
                    phases[self.db.phase] = phases.get(self.db.phase, 0) + moved
            killed += moved
        return killed

    def in_flight(self, pods: list[Pod]) -> int:
        """User requests still waiting in a backlog or for a table lock (those in service
        already have their outcome: the fluid plane files it when they start)."""
        return sum(
            c.n for bl in self._backlogs.values() for c in bl.waiting if not _is_mirror(c.key)
        ) + sum(p.n for ps in self._parked.values() for p in ps if not _is_mirror(p.key))

    # -- one interval -------------------------------------------------------------------
    def _interval(self, t0: float, t1: float) -> None:
        self.intervals += 1
        h = t1 - t0
        self._interval_s = h
        r = self.recorder
        b = r.bucket(t0 + EPS)
        if b != self._lat_bucket:
            self._flush_latency(b)
        if self._plan is None:
            self._make_plan(t0)
        plan = self._plan
        assert plan is not None
        rate = _mean_rate(self._profile, t0, h)
        self._user_err = self._user_done = 0
        if self.db is not None:
            self._kind_err, self._kind_done = [0, 0], [0, 0]
        n = int(self.rng.poisson(rate * h)) if rate > 0 else 0
        if n:
            r.arrivals[b] += n
        rest, rest_key = n, ALL
        if self._cohort is not None:
            classes, share = self._cohort
            k = int(self.rng.binomial(n, share)) if n else 0
            self._route(classes, k, t0, h, b, self._cohort_key, rate)
            rest, rest_key = n - k, self._rest_key
        if len(plan) == 1:
            counts: Any = [rest]
        else:
            counts = (
                self.rng.multinomial(rest, [s for s, _, _ in plan]) if rest else [0] * len(plan)
            )
        for (_, classes, _), k in zip(plan, counts, strict=True):
            if not classes:
                self._file(b, self.no_pod, rec.I_NO_ENDPOINT, int(k), rest_key)
            else:
                self._route(classes, int(k), t0, h, b, rest_key, rate)
        if self._mirror is not None and n:
            self._shadow(n, t0, h, b, rate)
        if self._user_done:
            self._last_user_error_rate = self._user_err / self._user_done
            for w in (0, 1):
                if self._kind_done[w]:
                    self._last_kind_rate[w] = self._kind_rate(w)
        for pod, bl in list(self._backlogs.items()):
            self._advance(pod, bl, t0, h)
        self._update_busy(rate)
        if self._draining:
            self._drain(h)
        if self._replan:  # a pod crossed into overload during the interval
            self._replan = False
            self._plan = None

    def _shadow(self, n: int, t: float, h: float, b: int, rate: float) -> None:
        """Copies of a share of this interval's ``n`` requests (or of its reads) go to the
        mirror's pods; each is compared with its user request when its outcome is filed."""
        assert self._mirror is not None
        classes, share, key = self._mirror
        copies = int(self.rng.binomial(n, share))
        if copies:
            self.recorder.mirrored[b] += copies
            self._route(classes, copies, t, h, b, key, rate)

    def _make_plan(self, t: float) -> None:
        """The routing table as classes of endpoints, valid until a pod's time comes."""
        if self._parked:  # a table lock may have let some of them through
            self._release(t)
        bal = self.balancer
        cohort_eps, groups = bal.split()
        shares: dict[Pod, float] = {}  # each endpoint's share of all arrivals
        cohort_share = 0.0
        if cohort_eps is not None and bal.cohort_users is not None:
            if bal.cohort_users is not self._cohort_mask:
                # A new cohort: new keys, so earlier errors stay with the users they hit.
                self._cohort_mask = bal.cohort_users
                g = len(self._masks)
                self._cohort_key, self._rest_key = (COHORT, g), (REST, g)
                mask = np.frombuffer(bal.cohort_users, dtype=np.uint8).astype(bool)
                self._masks[self._cohort_key] = self._mask(mask)
                self._masks[self._rest_key] = self._mask(~mask)
            cohort_share = self._masks[self._cohort_key][1]
            for p in cohort_eps:
                shares[p] = shares.get(p, 0.0) + cohort_share / len(cohort_eps)
        total = sum(s for s, _ in groups) or 1.0
        for s, eps in groups:
            for p in eps:
                shares[p] = shares.get(p, 0.0) + (1 - cohort_share) * s / total / len(eps)
        mirror = bal.routing.mirror
        mirror_eps = bal.mirror_group.eps if bal.mirror_group is not None else None
        mirror_share = 0.0
        if mirror is not None and mirror_eps is not None:
            reads = 1.0 - self.traffic.write_ratio if mirror.reads_only else 1.0
            mirror_share = mirror.share * reads
            for p in mirror_eps:  # the copies load the pods they go to
                shares[p] = shares.get(p, 0.0) + mirror_share / len(mirror_eps)
        valid = math.inf
        if self._profile.type == "steps":  # a new rate may overload a pod, or relieve it
            valid = min([s.at for s in self._profile.steps or [] if s.at > t], default=valid)
        elif self._profile.type == "diurnal":
            valid = t + MAX_INTERVAL_S
        flags = list(self.flags.flags.values()) if self.flags is not None else []
        for p in shares:
            for when in (p.warm_at, p.unhealthy_at, p.bug_from):
                if t < when < valid:
                    valid = when
            for f in flags:  # a flag change reaching the pod (after a delay, or a poll)
                valid = min(valid, f.next_change(p, t))
            if p not in self._watched:
                self._watched.add(p)
                p.watch = self._changing
        self._valid_until = valid
        rest_key = self._rest_key if cohort_eps is not None else ALL
        self._plan = [
            (s / total, self._classes(eps, shares, t, rest_key), None) for s, eps in groups
        ]
        self._cohort = (
            (self._classes(cohort_eps, shares, t, self._cohort_key), cohort_share)
            if cohort_eps is not None
            else None
        )
        self._mirror = None
        if mirror is not None and mirror_eps is not None and mirror_share > 0:
            if mirror.separate_database:
                key = MIRROR
            else:
                key = MIRROR_READS if mirror.reads_only else MIRROR_DUP
            self._mirror = (self._classes(mirror_eps, shares, t, key), mirror_share, key)
        if self._holds is not None:
            self._holds.flowing(self._flows(t))

    def _classes(
        self, eps: list[Pod], shares: dict[Pod, float], t: float, key: Any
    ) -> list[_Class]:
        """``eps`` grouped by state: refusing, failing at once, some of its requests (of
        class ``key``) waiting for a table lock, serving in steady state, overloaded
        (judged at the rate of ``t``)."""
        by: dict[tuple[Any, ...], list[Pod]] = {}
        kinds: dict[tuple[Any, ...], KindSet | None] = {}
        rate = rate_at(self._profile, t)
        svc = self._service
        for p in eps:
            ks = None
            if not p.accepting:
                state = REFUSES
            elif t < p.warm_at or t >= p.unhealthy_at:
                state = FAILS
            elif (ks := self._kind_set(p, key, t)) is not None and ks.beta > 0:
                state = BLOCKED
            elif p in self._backlogs or (
                shares[p] * rate * svc[p.version].mean_s >= STABLE_LOAD * p.concurrency
            ):
                state = BACKLOG
            else:
                state = SERVES
            views = tuple(pct for _, pct in self._views(p, t))
            k = (state, p.version, p.concurrency, shares[p], t >= p.bug_from, views)
            by.setdefault(k, []).append(p)
            kinds[k] = ks
        return [_Class(k[0], pods, k[3], kinds[k]) for k, pods in by.items()]

    def _flows(self, t: float) -> dict[TableMode, dict[str, float]]:
        """The (table, mode) of each kind of request that starts now, with the expected
        number in service per version: λ·E[S] of a pod in steady state, its workers while it
        has a backlog."""
        flow: dict[TableMode, dict[str, float]] = {}
        assert self._plan is not None and self.db is not None
        rate = rate_at(self._profile, t)
        groups = [classes for _, classes, _ in self._plan]
        if self._cohort is not None:
            groups.append(self._cohort[0])
        if self._mirror is not None:
            groups.append(self._mirror[0])
        for classes in groups:
            for cls in classes:
                ks = cls.kinds
                if ks is None or cls.state in (REFUSES, FAILS) or cls.rate_share <= 0:
                    continue
                if cls.state == BACKLOG:
                    busy = float(cls.pods[0].concurrency) * len(cls.pods)
                else:
                    busy = cls.rate_share * rate * self._service[cls.version].mean_s
                    busy *= len(cls.pods)
                for kind, share, waits in zip(ks.kinds, ks.shares, ks.blocked, strict=True):
                    if waits or share <= 0:
                        continue
                    a = self.db.access(cls.version, kind.write, kind.extra)
                    for tm in a.tables:
                        per = flow.setdefault(tm, {})
                        per[cls.version] = per.get(cls.version, 0.0) + busy * float(share)
        return flow

    def _route(
        self, classes: list[_Class], k: int, t: float, h: float, b: int, key: Any, rate: float
    ) -> None:
        """``k`` arrivals split over the classes' endpoints, each endpoint an equal share."""
        if not k:
            return
        sizes = [len(c.pods) for c in classes]
        total = sum(sizes)
        counts: Any = (
            [k] if len(classes) == 1 else self.rng.multinomial(k, [s / total for s in sizes])
        )
        peers = total
        for cls, m in zip(classes, counts, strict=True):
            m = int(m)
            if not m:
                continue
            if cls.state == REFUSES:
                self._file(b, cls.vidx, rec.I_REFUSED, m, key)
            elif cls.state == FAILS:
                self._first(key, cls.version, t)
                self._file(b, cls.vidx, rec.I_APP_ERROR, m, key)
                self._samples(b, cls.vidx, np.zeros(m), key)
            elif cls.state == SERVES:
                self._serve(cls, m, t, h, b, key, rate, peers)
            elif cls.state == BLOCKED:
                self._block(cls, m, t, h, b, key, rate)
            else:
                self._queue(cls, m, t, h, b, key)

    def _queue(self, cls: _Class, m: int, t: float, h: float, b: int, key: Any) -> None:
        """Each overloaded pod of ``cls`` queues its share of ``m`` arrivals."""
        for pod, j in zip(cls.pods, self._even(m, len(cls.pods)), strict=True):
            if j:
                self._enqueue(pod, np.sort(t + self.rng.random(int(j)) * h), b, key)

    def _enqueue(self, pod: Pod, arrivals: np.ndarray, b: int, key: Any) -> None:
        """Requests that arrived at ``arrivals`` (sorted) join ``pod``'s backlog."""
        bl = self._backlogs.get(pod)
        if bl is None:
            bl = self._backlogs[pod] = _Backlog()
        epoch = self.db.epoch if self.db is not None else None
        bl.waiting.append(_Cohort(arrivals, b, key, epoch))
        pod.waiting += len(arrivals)

    def _even(self, m: int, k: int) -> list[int]:
        base, extra = divmod(m, k)
        out = [base] * k
        if extra:  # which endpoints get one more: the round-robin position is random
            for i in self.rng.choice(k, extra, replace=False):
                out[i] += 1
        return out

    def _serve(
        self, cls: _Class, m: int, t: float, h: float, b: int, key: Any, rate: float, peers: int
    ) -> None:
        """``m`` requests started at once by a class of pods in steady state."""
        pod = cls.pods[0]
        svc = self._service[cls.version]
        if cls.rate_share * rate * svc.mean_s >= STABLE_LOAD * pod.concurrency:
            self._queue(cls, m, t, h, b, key)  # the rate rose past what it can serve
            self._replan = True
            return
        c, lam = pod.concurrency, cls.rate_share * rate
        # round_robin: every peers-th arrival of a Poisson stream (ca² = 1/peers); random:
        # a random split of one, Poisson again (least_outstanding is refused, spec/fluid.py).
        ca2 = 1.0 / peers if self.balancer.policy == "round_robin" else 1.0
        wkey = (c, round(lam, 6), svc.mean_s, ca2)
        pw_wait = self._waits.get(wkey)
        if pw_wait is None:
            pw_wait = self._waits[wkey] = waiting(c, lam, svc.mean_s, ca2, svc.cs2)
        self._start(pod, m, t, b, key, *pw_wait)

    def _start(
        self,
        pod: Pod,
        k: int,
        t: float,
        b: int,
        key: Any,
        p_wait: float,
        mean_wait_s: float,
        counts: np.ndarray | None = None,
    ) -> None:
        """Start ``k`` requests at once on pods like ``pod`` in steady state: ``p_wait`` of
        them wait ``mean_wait_s`` on average first (the queueing formula's wait). With a
        database, ``counts`` are the requests per kind when already drawn."""
        rng = self.rng
        v = pod.vidx
        svc = self._service[pod.version]
        self._first(key, pod.version, t)
        # The service-time tail past the client's patience: timeouts.
        p_to = svc.p_timeout
        ks = self._kind_set(pod, key, t) if self.db is not None else None
        if ks is not None:
            rest = 0
            for kind, n in zip(
                ks.kinds, ks.split(k, rng) if counts is None else counts, strict=True
            ):
                n = int(n)
                timeouts = int(rng.binomial(n, p_to)) if p_to > 0 and n else 0
                if timeouts:
                    self._file(b, v, rec.I_TIMEOUT, timeouts, kind.key, kind.write)
                    self._samples(b, v, np.full(timeouts, self.timeout_s), key)
                if n > timeouts:
                    self._kind_outcomes(pod, n - timeouts, t, b, kind, None)
                rest += n - timeouts
        else:
            timeouts = int(rng.binomial(k, p_to)) if p_to > 0 else 0
            if timeouts:
                self._file(b, v, rec.I_TIMEOUT, timeouts, key)
                self._samples(b, v, np.full(timeouts, self.timeout_s), key)
            rest = k - timeouts
            if rest:
                self._outcomes(pod, rest, t, b, key)
        if not rest or _is_mirror(key):  # no latency is kept for shadow copies
            return
        waited = int(rng.binomial(rest, p_wait)) if p_wait > 0 else 0
        direct = rest - waited
        cell = (b, v)
        if direct:
            self._lat_n[cell] = self._lat_n.get(cell, 0) + direct
            self.recorder.latency_sum_s += direct * svc.mean_s
        if waited:  # drawn when the bucket is filed, all of one mean wait at once
            waits = self._lat_waited.setdefault(cell, {})
            mean = round(mean_wait_s, 6)
            waits[mean] = waits.get(mean, 0) + waited
            self.recorder.latency_sum_s += waited * (svc.mean_s + mean_wait_s)

    def _expire(self, pod: Pod, co: _Cohort, m: int) -> None:
        """The first ``m`` of ``co`` gave up waiting: ``timeout``, no worker used."""
        co.arrivals = co.arrivals[m:]
        pod.waiting -= m
        self._file(co.bucket, pod.vidx, rec.I_TIMEOUT, m, co.key)
        self._samples(co.bucket, pod.vidx, np.full(m, self.timeout_s), co.key)

    def _serve_cohort(self, pod: Pod, co: _Cohort, starts: np.ndarray) -> np.ndarray:
        """First come first served from ``co`` at the sorted worker-free times ``starts``;
        returns the start times it did not use. At start i the request served is the first
        one not yet expired: j_i = max(j_(i-1) + 1, first arrival after starts_i - timeout),
        which is i + the running maximum of (that index - i)."""
        a = co.arrivals
        idx = np.arange(len(starts))
        eligible = np.searchsorted(a, starts - self.timeout_s, side="right")
        j = idx + np.maximum.accumulate(eligible - idx)
        used = j < co.n
        served_j, served_s = j[used], starts[used]
        consumed = int(served_j[-1]) + 1 if len(served_j) else int(min(co.n, eligible.max()))
        unused = starts[~used]
        dropped = consumed - len(served_j)
        ks = kidx = None
        if self.db is not None and len(served_j):
            ks = self._kind_set(pod, co.key, float(served_s[0]))
        if ks is not None:
            kidx = ks.pick(len(served_j), self.rng)
            if ks.beta > 0:  # a kind that waits for a table lock takes its worker and waits
                waits = ks.blocked[kidx]
                free = pod.concurrency - self._n_parked.get(pod, 0)
                cum = np.cumsum(waits)
                if cum[-1] >= free:  # the last free worker waits: nothing starts after it
                    cut = int(np.searchsorted(cum, free)) + 1
                    served_j, served_s, kidx, waits = (
                        served_j[:cut],
                        served_s[:cut],
                        kidx[:cut],
                        waits[:cut],
                    )
                    consumed = int(served_j[-1]) + 1
                    dropped = consumed - len(served_j)
                    unused = np.empty(0)
                if waits.any():
                    parked = served_j[waits]
                    self._park(
                        pod,
                        Parked(
                            a[parked],
                            served_s[waits],
                            kidx[waits],
                            ks.kinds,
                            co.bucket,
                            co.key,
                            self.db.epoch if co.epoch is None else co.epoch,
                        ),
                    )
                    served_j, served_s, kidx = served_j[~waits], served_s[~waits], kidx[~waits]
        if len(served_j):
            rng = self.rng
            v, b, key = pod.vidx, co.bucket, co.key
            svc = self._service[pod.version]
            self._first(key, pod.version, float(served_s[0]))
            self._pod_key[pod] = key
            latency = served_s - a[served_j] + svc.dist.sample(rng, len(served_j))
            late = latency > self.timeout_s
            timeouts = int(late.sum())
            if timeouts:
                self._file(b, v, rec.I_TIMEOUT, timeouts, key)
                self._samples(b, v, np.full(timeouts, self.timeout_s), key)
            if timeouts < len(served_j):
                t0 = float(served_s[0])
                if ks is None or kidx is None:
                    self._outcomes(pod, len(served_j) - timeouts, t0, b, key)
                else:
                    counts = np.bincount(kidx[~late], minlength=len(ks.kinds))
                    for kind, n in zip(ks.kinds, counts, strict=True):
                        if n:
                            self._kind_outcomes(pod, int(n), t0, b, kind, co.epoch)
                self._samples(b, v, latency[~late], key)
        if dropped:
            self._file(co.bucket, pod.vidx, rec.I_TIMEOUT, dropped, co.key)
            self._samples(co.bucket, pod.vidx, np.full(dropped, self.timeout_s), co.key)
        co.arrivals = a[consumed:]
        pod.waiting -= consumed
        return unused

    def _outcomes(self, pod: Pod, k: int, t: float, b: int, key: Any) -> None:
        """``k`` requests served by pods like ``pod`` at ``t``: ``app_error`` or ok. With
        feature flags, the requests of the users each flag is on for (by their traffic
        weight, LaunchDarkly buckets) run the flagged code path: its error rate is added,
        and a dark launch's errors are counted apart. With a database, by kind
        (:meth:`_kind_outcomes`)."""
        ks = self._kind_set(pod, key, t) if self.db is not None else None
        if ks is not None:
            for kind, n in zip(ks.kinds, ks.split(k, self.rng), strict=True):
                if n:
                    self._kind_outcomes(pod, int(n), t, b, kind, None)
            return
        views = self._views(pod, t)
        if not views:
            errors = self._served(pod, k, t, b, key, 0.0)
            if self.flags is not None and not _is_mirror(key):
                self.recorder.unflagged_errors += errors
            return
        combos = self._combos(key, views)
        shares = [share for _, share, _ in combos]
        total = sum(shares)
        counts = self.rng.multinomial(k, [x / total for x in shares]) if total > 0 else [k]
        for (combo_key, _, on), k_c in zip(combos, counts, strict=True):
            k_c = int(k_c)
            if not k_c:
                continue
            flagged = [f for f, _ in on if not f.spec.dark_launch]
            dark = [f for f, _ in on if f.spec.dark_launch]
            extra = sum(f.spec.feature.error_rate for f in flagged)
            errors = self._served(pod, k_c, t, b, combo_key, extra)
            for f in dark:  # runs beside the served path; its failures reach no user
                self.recorder.dark_launch_errors += int(
                    self.rng.binomial(k_c, f.spec.feature.error_rate)
                )
            if _is_mirror(key):
                continue
            if on:
                self._exposed[combo_key] = self._exposed.get(combo_key, 0) + k_c
            if flagged and errors:
                r = self.recorder
                r.flagged_errors += errors
                # The last of them: the latest of ``errors`` finish times in the interval.
                last = t + self._interval_s * float(self.rng.random()) ** (1.0 / errors)
                last += self._service[pod.version].mean_s
                if r.last_flagged_error_at is None or last > r.last_flagged_error_at:
                    r.last_flagged_error_at = last
            elif errors:
                self.recorder.unflagged_errors += errors

    def _views(self, pod: Pod, t: float) -> list[tuple[FlagRuntime, float]]:
        """The flags ``pod`` runs with a percentage above 0 at ``t``, with it."""
        if self.flags is None:
            return []
        flags = self._flag_sets.get(pod.version)
        if flags is None:
            flags = self._flag_sets[pod.version] = self.flags.for_version(pod.version)
        out = []
        for f in flags:
            pct = f.percentage(pod, t)
            if pct > 0:
                out.append((f, pct))
        return out

    def _combos(
        self, key: Any, views: list[tuple[FlagRuntime, float]]
    ) -> list[tuple[Any, float, list[tuple[FlagRuntime, float]]]]:
        """The users of class ``key`` split by which of the flags are on for them:
        (class key, share of the class's traffic, the flags on). Masks are kept."""
        sig = tuple((f.key, pct) for f, pct in views)
        cached = self._combo_cache.get((key, sig))
        if cached is not None:
            return cached
        base_mask, base_w = self._masks[key if key in self._masks else ALL]
        users = np.ones(self._users, dtype=bool) if base_mask is None else base_mask
        out = []
        for bits in range(2 ** len(views)):
            mask = users.copy()
            on = []
            for i, (f, pct) in enumerate(views):
                buckets = self._buckets.get(f.key)
                if buckets is None:
                    buckets = self._buckets[f.key] = np.asarray(f.buckets)
                has = buckets < pct / 100 if pct < 100 else np.ones(self._users, dtype=bool)
                if bits >> i & 1:
                    mask &= has
                    on.append((f, pct))
                else:
                    mask &= ~has
            combo_key = (key, "flags", sig, bits)
            self._masks[combo_key] = self._mask(mask)
            share = self._masks[combo_key][1] / base_w if base_w > 0 else 0.0
            out.append((combo_key, share, on))
        self._combo_cache[(key, sig)] = out
        return out

    def _served(
        self,
        pod: Pod,
        k: int,
        t: float,
        b: int,
        key: Any,
        extra_p: float,
        write: bool | None = None,
    ) -> int:
        """File ``k`` served requests of class ``key``: ``app_error`` at the version's error
        rate plus ``extra_p``, and its bug for the bug's users. Returns the errors.
        ``write``: whether they are writes (None: not told apart, no database)."""
        rng = self.rng
        m = pod.model
        v = pod.vidx
        base = min(1.0, m.base_error_rate + extra_p)
        if t >= pod.bug_from and m.bug_error_rate > 0:
            p_bug = min(1.0, base + m.bug_error_rate)
            if m.bug_users is None:
                errors = int(rng.binomial(k, p_bug))
                self._file(b, v, rec.I_APP_ERROR, errors, key, write)
                self._file(b, v, rec.I_OK, k - errors, key, write)
                return errors
            inside, outside = (key, pod.version, True), (key, pod.version, False)
            share = self._bug_share(inside, outside, m.bug_users)
            kb = int(rng.binomial(k, share))
            eb = int(rng.binomial(kb, p_bug))
            en = int(rng.binomial(k - kb, base)) if base > 0 else 0
            self._file(b, v, rec.I_APP_ERROR, eb, inside, write)
            self._file(b, v, rec.I_APP_ERROR, en, outside, write)
            self._file(b, v, rec.I_OK, k - eb - en, key, write)
            return eb + en
        errors = int(rng.binomial(k, base)) if base > 0 else 0
        self._file(b, v, rec.I_APP_ERROR, errors, key, write)
        self._file(b, v, rec.I_OK, k - errors, key, write)
        return errors

    # -- the database -------------------------------------------------------------------
    def _kind_set(self, pod: Pod, key: Any, t: float) -> KindSet | None:
        """The requests of class ``key`` that ``pod`` serves at ``t`` by kind (read or
        write, by the flags on for their users), and which of them wait for a table lock;
        None for shadow copies that go to a database of their own."""
        db = self.db
        head = _head(key)
        if db is None or head == MIRROR:
            return None
        views = self._views(pod, t)
        ck = (pod.version, key, tuple((f.key, pct) for f, pct in views))
        ks = self._kind_sets.get(ck)
        if ks is None:
            w = 0.0 if head == MIRROR_READS else self.traffic.write_ratio
            combos = self._combos(key, views) if views else [(key, 1.0, [])]
            kinds, shares = [], []
            for combo_key, share, on in combos:
                for write, p in ((False, 1.0 - w), (True, w)):
                    if p > 0:
                        kinds.append(Kind(combo_key, write, on))
                        shares.append(share * p)
            ks = self._kind_sets[ck] = KindSet(pod.version, kinds, shares)
        ks.refresh(db, self._lock_gen)
        return ks

    def _kind_outcomes(
        self, pod: Pod, n: int, t: float, b: int, kind: Kind, epoch: int | None
    ) -> int:
        """``n`` requests of ``kind`` served by ``pod`` at ``t``, that met the schema of
        ``epoch`` (None: the current one) when they arrived, in the request-level plane's
        order: ``schema_error`` (every one, when the kind's access fails on that schema),
        ``data_incompatible`` (each at the share of rows lacking a column it reads), then
        the app's errors; successful writes add their rows. Returns the errors."""
        db = self.db
        assert db is not None
        v, key, write = pod.vidx, kind.key, kind.write
        mirror = _is_mirror(key)
        if kind.on and not mirror:
            self._exposed[key] = self._exposed.get(key, 0) + n
        a = db.access(pod.version, write, kind.extra, epoch)
        if a.error is not None:
            self._file(b, v, rec.I_SCHEMA_ERROR, n, key, write)
            errors, passed = n, 0
        else:
            p = db.incompatible_share(a) if a.reads else 0.0
            errors = int(self.rng.binomial(n, p)) if p > 0 else 0
            self._file(b, v, rec.I_DATA_INCOMPATIBLE, errors, key, write)
            passed = n - errors
            if write:
                db.count_writes(a, passed)
        if passed:
            errors += self._served(pod, passed, t, b, key, kind.extra_p, write)
            r = self.recorder
            for f in kind.dark:  # runs beside the served path; its failures reach no user
                if (
                    f.access != ((), ())
                    and db.access(pod.version, write, (f.access,), epoch).error is not None
                ):
                    r.dark_launch_errors += passed
                else:
                    r.dark_launch_errors += int(
                        self.rng.binomial(passed, f.spec.feature.error_rate)
                    )
        if mirror or not errors:
            return errors
        r = self.recorder
        if kind.flagged:
            r.flagged_errors += errors
            # The last of them: the latest of ``errors`` finish times in the interval.
            last = t + self._interval_s * float(self.rng.random()) ** (1.0 / errors)
            last += self._service[pod.version].mean_s
            if r.last_flagged_error_at is None or last > r.last_flagged_error_at:
                r.last_flagged_error_at = last
        elif self.flags is not None:
            r.unflagged_errors += errors
        return errors

    def _block(
        self, cls: _Class, m: int, t: float, h: float, b: int, key: Any, rate: float
    ) -> None:
        """``m`` arrivals over [t, t + h) at pods some of whose requests wait for a table
        lock. On each pod, as on the request-level plane: a request of a kind that waits
        takes a free worker and waits there (parked), one of another kind is served at
        once; once every worker waits, what arrives queues in the pod's backlog, where it
        stays until the lock lets the parked ones through and a worker frees up."""
        ks = cls.kinds
        db = self.db
        assert ks is not None and db is not None
        rng = self.rng
        busy = (1.0 - ks.beta) * cls.rate_share * rate * self._service[cls.version].mean_s
        for pod, j in zip(cls.pods, self._even(m, len(cls.pods)), strict=True):
            if j:
                j = int(j)
                self._first(key, pod.version, t)
                arrivals = np.sort(t + rng.random(j) * h)
                free = pod.concurrency - self._n_parked.get(pod, 0)
                if pod in self._backlogs or free <= 0:
                    self._enqueue(pod, arrivals, b, key)
                else:
                    idx = ks.pick(j, rng)
                    waits = ks.blocked[idx]
                    # The arrival that takes the last free worker, and what comes after it.
                    cut = min(j, int(np.searchsorted(np.cumsum(waits), free)) + 1)
                    head, head_waits = idx[:cut], waits[:cut]
                    if head_waits.any():
                        at = arrivals[:cut][head_waits]
                        self._park(
                            pod, Parked(at, at, head[head_waits], ks.kinds, b, key, db.epoch)
                        )
                    if not head_waits.all():
                        counts = np.bincount(head[~head_waits], minlength=len(ks.kinds))
                        self._start(pod, int(counts.sum()), t, b, key, 0.0, 0.0, counts)
                    if cut < j:
                        self._enqueue(pod, arrivals[cut:], b, key)
            c = float(pod.concurrency)
            parked = self._n_parked.get(pod, 0)
            pod.busy = c if pod in self._backlogs else min(c, parked + busy)

    def _park(self, pod: Pod, parked: Parked) -> None:
        self._parked.setdefault(pod, []).append(parked)
        self._n_parked[pod] = self._n_parked.get(pod, 0) + parked.n

    def _release(self, t: float) -> None:
        """Parked requests that no table lock makes wait any more start at ``t``: each
        waited since it took its worker (``lock_wait_s``); one that has been waiting longer
        than ``traffic.timeout`` since it arrived times out when it finishes."""
        db = self.db
        assert db is not None
        for pod in list(self._parked):
            left, started = [], 0
            for p in self._parked[pod]:
                go = ~blocked(db, pod.version, p.kinds)[p.kind_idx]
                if go.any():
                    self._start_parked(pod, p, go, t)
                    started += int(go.sum())
                    if go.all():
                        continue
                    p.keep(~go)
                left.append(p)
            if not started:
                continue
            if left:
                self._parked[pod] = left
                self._n_parked[pod] -= started
            else:
                del self._parked[pod], self._n_parked[pod]
            # They are in service now: a pod that no longer accepts finishes them, then
            # is empty; one that does is loaded again by the plan.
            pod.busy = min(float(pod.concurrency), float(started + self._n_parked.get(pod, 0)))
            self._busy_rate.pop(pod, None)
            if not pod.accepting and pod not in self._backlogs and pod not in self._parked:
                self._draining[pod] = None

    def _start_parked(self, pod: Pod, p: Parked, go: np.ndarray, t: float) -> None:
        rng = self.rng
        v, b = pod.vidx, p.bucket
        svc = self._service[pod.version]
        arrivals, kidx = p.arrivals[go], p.kind_idx[go]
        self.recorder.lock_wait_s += float((t - p.since[go]).sum())
        latency = t - arrivals + svc.dist.sample(rng, len(arrivals))
        late = latency > self.timeout_s
        n_kinds = len(p.kinds)
        for kind, n in zip(p.kinds, np.bincount(kidx[late], minlength=n_kinds), strict=True):
            if n:
                self._file(b, v, rec.I_TIMEOUT, int(n), kind.key, kind.write)
        if late.any():
            self._samples(b, v, np.full(int(late.sum()), self.timeout_s), p.key)
        ok = ~late
        if ok.any():
            for kind, n in zip(p.kinds, np.bincount(kidx[ok], minlength=n_kinds), strict=True):
                if n:
                    self._kind_outcomes(pod, int(n), t, b, kind, p.epoch)
            self._samples(b, v, latency[ok], p.key)

    def _advance(self, pod: Pod, bl: _Backlog, t: float, h: float) -> None:
        """An overloaded pod over [t, t + h): serve its backlog with the completions of its
        c workers, time out what waited too long, say when a draining pod is empty."""
        svc = self._service[pod.version]
        c = pod.concurrency
        # Completions of c busy workers: mean c·h/E[S], variance cs² times that (Poisson
        # for exponential service), so a backlog near saturation wanders as a real one.
        # Workers that wait for a table lock complete nothing.
        cap = (c - self._n_parked.get(pod, 0)) * h / svc.mean_s
        if svc.cs2 > 0 and cap > 0:
            cap = max(0.0, self.rng.normal(cap, math.sqrt(svc.cs2 * cap)))
        bl.credit = min(bl.credit + cap, cap + 1.0)
        k = int(bl.credit)
        bl.credit -= k
        # The workers free up k times during the step; at each, the queue drops what waited
        # a timeout (the client is gone; no worker is used) and starts the next request.
        starts = np.sort(t + self.rng.random(k) * h) if k else np.empty(0)
        while bl.waiting and len(starts):
            co = bl.waiting[0]
            starts = self._serve_cohort(pod, co, starts)
            if co.n:
                break
            bl.waiting.popleft()
        # No worker came free: still drop what expired by the step's end; unless every
        # worker waits for a table lock: then no worker frees up to find them gone (on the
        # request-level plane the queue is only looked at when one does).
        while bl.waiting and self._n_parked.get(pod, 0) < c:
            co = bl.waiting[0]
            gone = int(np.searchsorted(co.arrivals, t + h - self.timeout_s, side="right"))
            if gone:
                self._expire(pod, co, gone)
            if co.n:
                break
            bl.waiting.popleft()
        if bl.waiting:
            pod.busy = float(c)  # requests wait: every worker is busy
        else:
            del self._backlogs[pod]
            self._plan = None  # back to steady state (or drained)
            pod.busy = 0.0 if not pod.accepting else min(float(c), pod.busy)
            pod.busy = max(pod.busy, float(self._n_parked.get(pod, 0)))
            self._busy_rate.pop(pod, None)
            self._drained(pod)

    def _update_busy(self, rate: float) -> None:
        """``pod.busy`` of steadily loaded pods: λ·E[S] (the expected number in service),
        set again when the pod's rate moved by more than 1%; and the class of the requests
        each pod serves (for what a kill fails)."""
        if self._plan is None or (self._plan is self._busy_plan and rate == self._busy_at):
            return
        self._busy_plan, self._busy_at = self._plan, rate
        groups: list[tuple[list[_Class], Any]] = [
            (classes, self._rest_key if self._cohort is not None else ALL)
            for _, classes, _ in self._plan
        ]
        if self._cohort is not None:
            groups.append((self._cohort[0], self._cohort_key))
        if self._mirror is not None:
            groups.append((self._mirror[0], MIRROR_DUP if self._mirror[2] else MIRROR))
        seen = set()
        for classes, key in groups:
            for cls in classes:
                if cls.state == BACKLOG:
                    continue
                if cls.state == BLOCKED:  # its load is set as its requests come and wait
                    for pod in cls.pods:
                        seen.add(pod)
                        self._pod_key[pod] = key
                        self._busy_rate.pop(pod, None)
                        self._draining.pop(pod, None)
                    continue
                lam = cls.rate_share * rate if cls.state == SERVES else 0.0
                mean_s = self._service[cls.version].mean_s
                for pod in cls.pods:
                    if pod in seen:
                        continue
                    seen.add(pod)
                    self._pod_key[pod] = key
                    if not lam:  # no new requests: what it has in service finishes
                        self._busy_rate.pop(pod, None)
                        self._draining[pod] = None
                        continue
                    self._draining.pop(pod, None)
                    old = self._busy_rate.get(pod)
                    if old is None or abs(lam - old) > 0.01 * max(old, 1e-9):
                        self._busy_rate[pod] = lam
                        pod.busy = min(float(pod.concurrency), lam * mean_s)
        for pod in [p for p in self._busy_rate if p not in seen and p not in self._backlogs]:
            del self._busy_rate[pod]  # no longer an endpoint
            self._draining[pod] = None

    def _drain(self, h: float) -> None:
        """Pods that get no new requests: the expected number in service decays as the
        requests finish (each within an exponential time of mean E[S]); below 1/2 the pod
        is empty."""
        for pod in list(self._draining):
            if pod in self._backlogs or pod in self._parked:
                continue
            pod.busy *= math.exp(-h / self._service[pod.version].mean_s)
            if pod.busy < 0.5:
                pod.busy = 0.0
                del self._draining[pod]
                self._drained(pod)

    def _drained(self, pod: Pod) -> None:
        if pod.busy or pod.waiting or pod.accepting or pod in self._parked:
            return
        drained = pod.drained
        if drained is not None and not drained.triggered:
            drained.succeed()

    # -- counting -----------------------------------------------------------------------
    def _first(self, key: Any, version: str, t: float) -> None:
        r = self.recorder
        first = r.first_mirrored_at if _is_mirror(key) else r.first_served_at
        first.setdefault(version, t)

    def _file(
        self, b: int, v: int, outcome: int, n: int, key: Any, write: bool | None = None
    ) -> None:
        """File ``n`` outcomes of class ``key``; ``write``: whether they are writes (None:
        not told apart)."""
        if n <= 0:
            return
        if _is_mirror(key):  # a shadow copy: its own counters, never a user's error
            r = self.recorder
            r.count_mirror_many(b, v, outcome, n)
            # Compared with the user request it copies, which failed at the rate user
            # requests (of its kind, with a database) fail now: a mismatch when exactly
            # one of the two failed.
            if write is not None and self.db is not None:
                e_user = self._kind_rate(int(write))
            else:
                e_user = self._user_err / self._user_done if self._user_done else None
                if e_user is None:
                    e_user = self._last_user_error_rate
            p_mismatch = 1.0 - e_user if outcome else e_user
            r.shadow_comparisons += n
            if p_mismatch > 0:
                r.shadow_mismatches += int(self.rng.binomial(n, min(1.0, p_mismatch)))
            if _head(key) == MIRROR_DUP and not outcome:
                if write is None:
                    r.duplicate_writes += int(self.rng.binomial(n, self.traffic.write_ratio))
                elif write:
                    r.duplicate_writes += n
            return
        r = self.recorder
        r.count_many(b, v, outcome, n)
        self._user_done += n
        if write is not None:
            self._kind_done[write] += n
        if outcome:
            self._user_err += n
            if write is not None:
                self._kind_err[write] += n
            self._errors[key] = self._errors.get(key, 0) + n
            if self.db is not None:  # under the migration phase running
                phase = self.db.phase
                r.phase_errors[phase] = r.phase_errors.get(phase, 0) + n

    def _kind_rate(self, w: int) -> float:
        """The error rate of this interval's user reads (``w`` 0) or writes (1); outcomes
        not told apart (no endpoint, refused, ...) count for both kinds by their share."""
        share = self.traffic.write_ratio if w else 1.0 - self.traffic.write_ratio
        done = self._kind_done[w] + (self._user_done - sum(self._kind_done)) * share
        err = self._kind_err[w] + (self._user_err - sum(self._kind_err)) * share
        return err / done if done > 0 else self._last_kind_rate[w]

    def _samples(self, b: int, v: int, values: np.ndarray, key: Any = None) -> None:
        if v >= self.no_pod or not len(values) or _is_mirror(key):
            return
        self._lat_samples.setdefault((b, v), []).append(values)
        self.recorder.latency_sum_s += float(values.sum())

    def _flush_latency(self, new_bucket: int | None) -> None:
        """File the latencies counted so far into the recorder's histograms."""
        r = self.recorder
        keys = set(self._lat_n) | set(self._lat_samples) | set(self._lat_waited)
        for b, v in keys:
            hist = np.zeros(N_BINS, dtype=np.int64)
            svc = self._service[r.versions[v]]
            n = self._lat_n.pop((b, v), 0)
            if n:
                hist += self.rng.multinomial(n, svc.bins)
            values = self._lat_samples.pop((b, v), [])
            for mean, m in self._lat_waited.pop((b, v), {}).items():
                values.append(self.rng.exponential(mean, m) + svc.dist.sample(self.rng, m))
            if values:
                hist += np.bincount(bin_indices(np.concatenate(values)), minlength=N_BINS)
            r.add_latency(b, v, hist)
        if new_bucket is not None:
            self._lat_bucket = new_bucket

    # -- users --------------------------------------------------------------------------
    def _mask(self, mask: np.ndarray) -> tuple[np.ndarray, float]:
        w = self._weights
        weight = float(mask.mean()) if w is None else float(w[mask].sum())
        return mask, weight

    def _bug_share(self, inside: Any, outside: Any, bug_users: bytearray) -> float:
        """Share of class ``inside[0]``'s traffic that comes from the bug's users."""
        if inside not in self._masks:
            bug = np.frombuffer(bug_users, dtype=np.uint8).astype(bool)
            cls = self._masks[inside[0]][0]
            in_cls = np.ones(self._users, dtype=bool) if cls is None else cls
            self._masks[inside] = self._mask(in_cls & bug)
            self._masks[outside] = self._mask(in_cls & ~bug)
        w_cls = self._masks[inside[0]][1]
        return 0.0 if w_cls <= 0 else self._masks[inside][1] / w_cls

    def _draw(self, counts: dict[Any, int]) -> np.ndarray:
        """Which users had at least one of ``counts`` (requests per user class, each from
        a user of the class by traffic weight): user u escapes them all with probability
        Π (1 - w_u/W)^count over the classes u belongs to; each user drawn once."""
        users = self._users
        if not counts:
            return np.zeros(users, dtype=bool)
        w = self._weights if self._weights is not None else np.full(users, 1.0 / users)
        escape = np.zeros(users)  # -log P(none)
        for key, n in counts.items():
            mask, weight = self._masks[key if key in self._masks else ALL]
            if weight <= 0:
                continue
            p = np.minimum(w / weight, 1 - 1e-16)
            term = -np.log1p(-p) * n
            escape += term if mask is None else np.where(mask, term, 0.0)
        return self.rng.random(users) < -np.expm1(-escape)


def _head(key: Any) -> Any:
    """The user class a key derives from (a cohort's, a flag combination's, a bug's)."""
    while isinstance(key, tuple):
        key = key[0]
    return key


def _is_mirror(key: Any) -> bool:
    return _head(key) in (MIRROR, MIRROR_DUP, MIRROR_READS)


def _mean_rate(profile: Profile, t: float, h: float) -> float:
    """Mean request rate (req/s) over [t, t + h): exact for steps, Simpson for a sine."""
    if profile.type == "steps":
        points = sorted({t, *(s.at for s in profile.steps or [] if t < s.at < t + h)})
        total = 0.0
        for a, z in zip(points, [*points[1:], t + h], strict=True):
            total += rate_at(profile, a) * (z - a)
        return total / h
    if profile.type == "constant":
        return profile.rate or 0.0
    return (rate_at(profile, t) + 4 * rate_at(profile, t + h / 2) + rate_at(profile, t + h)) / 6
