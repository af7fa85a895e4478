"""The shared database as the fluid data plane meets it: kinds of requests, lock waits.

The request-level plane checks each request against the database (:mod:`.database`): the
access its version compiles for a read or a write (schema error or not, the rows it reads),
and whether a table lock queued or held makes it wait. The fluid plane asks the same
questions of whole kinds of requests:

- :class:`Kind`: the requests of one user class that share a database access: a read or a
  write, with the flagged code paths that run too (their own reads and writes, error rate,
  dark launches). A :class:`KindSet` is one version's traffic of one class split by kind,
  and which kinds a table lock makes wait now (``blocked``, their share ``beta``).
- :class:`Parked`: requests that hold a worker while they wait for a table lock, as the
  request-level plane parks them: when each arrived, since when it waits, its kind.
- :class:`LockHolds`: the locks of the requests in service. On the request-level plane a
  lock that conflicts with them is granted once they have all ended; here each (table, mode)
  is held while requests of it start, and let go when they stop (a lock queued ahead makes
  them wait) after the drain time of those still in service (:func:`drain_time`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simdeploy.rules.fluid_queue import drain_time

if TYPE_CHECKING:
    from simdeploy.rules.dists import Distribution
    from simdeploy.rules.pg_locks import LockMode
    from simdeploy.world.database import Database
    from simdeploy.world.flags import FlagRuntime

#: A table and the lock mode its requests take on it.
TableMode = tuple[str, "LockMode"]


class Kind:
    """Requests of user class ``key`` that read (or write, ``write``) with the flags ``on``
    (flag, percentage) running: the flagged paths' data access (``extra``, in the order the
    request-level plane adds it) and error rate, and the dark launches beside them."""

    __slots__ = ("dark", "extra", "extra_p", "flagged", "key", "on", "write")

    def __init__(self, key: Any, write: bool, on: list[tuple[FlagRuntime, float]]) -> None:
        self.key = key
        self.write = write
        self.on = bool(on)
        self.flagged = tuple(f for f, _ in on if not f.spec.dark_launch)
        self.dark = tuple(f for f, _ in on if f.spec.dark_launch)
        self.extra = tuple(f.access for f in self.flagged if f.access != ((), ()))
        self.extra_p = sum(f.spec.feature.error_rate for f in self.flagged)


class KindSet:
    """One version's requests of one class, split by kind (``shares`` sum to 1)."""

    __slots__ = ("beta", "blocked", "cum", "gen", "kinds", "shares", "version")

    def __init__(self, version: str, kinds: list[Kind], shares: list[float]) -> None:
        self.version = version
        self.kinds = kinds
        total = sum(shares)
        self.shares = np.array(shares) / total if total > 0 else np.eye(len(kinds))[0].astype(float)
        self.cum = np.cumsum(self.shares)
        self.blocked = np.zeros(len(kinds), dtype=bool)
        self.beta = 0.0
        self.gen = -1

    def refresh(self, db: Database, gen: int) -> None:
        """Which kinds a table lock makes wait now (the lock state of generation ``gen``)."""
        if self.gen == gen:
            return
        self.gen = gen
        self.blocked = blocked(db, self.version, self.kinds)
        self.beta = float(self.shares[self.blocked].sum())

    def split(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` requests as counts per kind (multinomial)."""
        if len(self.kinds) == 1:
            return np.array([n])
        return rng.multinomial(n, self.shares)

    def pick(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """The kind (index) of each of ``n`` requests in a row."""
        idx = np.searchsorted(self.cum, rng.random(n) * self.cum[-1], side="right")
        return np.minimum(idx, len(self.kinds) - 1)


def blocked(db: Database, version: str, kinds: list[Kind]) -> np.ndarray:
    """For each kind: does a lock held or queued on one of its tables make it wait now?"""
    return np.array(
        [db.blocking(db.access(version, k.write, k.extra)) is not None for k in kinds], dtype=bool
    )


class Parked:
    """Requests of one arrival cohort that hold a worker while they wait for a table lock."""

    __slots__ = ("arrivals", "bucket", "epoch", "key", "kind_idx", "kinds", "since")

    def __init__(
        self,
        arrivals: np.ndarray,
        since: np.ndarray,
        kind_idx: np.ndarray,
        kinds: list[Kind],
        bucket: int,
        key: Any,
        epoch: int,
    ) -> None:
        self.arrivals = arrivals  # when each arrived (s)
        self.since = since  # when each took its worker and began to wait (s)
        self.kind_idx = kind_idx  # its kind, an index into ``kinds``
        self.kinds = kinds
        self.bucket, self.key = bucket, key
        self.epoch = epoch  # the schema it met when it arrived

    @property
    def n(self) -> int:
        return len(self.arrivals)

    def keep(self, mask: np.ndarray) -> None:
        """Only the requests where ``mask`` is True stay parked."""
        self.arrivals = self.arrivals[mask]
        self.since = self.since[mask]
        self.kind_idx = self.kind_idx[mask]


class LockHolds:
    """The table locks of requests in service, held for them on the database.

    ``flowing(flow)`` after each plan: every (table, mode) that requests start with now is
    held (a pending release is called off). ``settle()`` after a change of the locks: each
    mode held whose requests no longer start is let go once those still in service are
    done, a drain time drawn from the expected number in service just before the change
    (``snapshot()``, taken before it). Letting go may grant a lock queued behind them.
    """

    def __init__(
        self,
        env: simpy.Environment,
        db: Database,
        rng: np.random.Generator,
        sync: Callable[[], None],
        service: Callable[[str], Distribution],
    ) -> None:
        self.env = env
        self.db = db
        self.rng = rng
        self._sync = sync
        self._service = service
        #: Held (table, mode) → None, or the token of its pending release.
        self.active: dict[TableMode, object | None] = {}
        #: (table, mode) → version → expected requests in service, while they start.
        self.flow: dict[TableMode, dict[str, float]] = {}
        self._before: dict[TableMode, dict[str, float]] | None = None

    def flowing(self, flow: dict[TableMode, dict[str, float]]) -> None:
        self.flow = flow
        for tm in flow:
            if tm not in self.active:
                self.db.table_locks(tm[0]).hold(tm[1])
            self.active[tm] = None

    def snapshot(self) -> None:
        """The requests in service before a change (the first of an instant)."""
        if self._before is None:
            self._before = self.flow

    def settle(self) -> None:
        before = self._before if self._before is not None else self.flow
        self._before = None
        for tm, pending in list(self.active.items()):
            if tm in self.flow or pending is not None:
                continue
            busy = before.get(tm, {})
            wait = drain_time([(self._service(v), x) for v, x in busy.items()], self.rng)
            token = object()
            self.active[tm] = token
            ev = self.env.timeout(wait)
            ev.callbacks.append(lambda _e, tm=tm, token=token: self._release(tm, token))

    def _release(self, tm: TableMode, token: object) -> None:
        self._sync()  # (which may plan again, and find the requests starting again)
        if self.active.get(tm) is not token:  # requests started again meanwhile
            return
        del self.active[tm]
        self.db.table_locks(tm[0]).unhold(tm[1])
