"""Incremental bookkeeping of one replica set's pods: its status counts and deletion order.

A controller asks a replica set for ``(replicas, ready, available)`` on every sync pass, and a
scale-down asks which pods Kubernetes deletes first. Computed from scratch, both scan every
pod, and since a rollout of N pods has O(N) sync passes and scale actions, a run would cost
O(N²). :class:`PodIndex` keeps them up to date as pods change instead (the cluster reports
each change of a pod's state with :meth:`PodIndex.update`), so each query is O(1), or O(k)
for the k pods a scale-down deletes. It answers exactly what the full scan would.

- **counts**: pods, active (not terminating), ready, active and ready: integer counters.
- **available** (``minReadySeconds`` m > 0): Ready for at least m seconds is a matter of time,
  not of a change; pods that are Ready but not yet available wait in a heap ordered by when they
  became Ready, and a query at ``now`` moves those with ``ready_since + m <= now`` (the test
  ``is_pod_available`` makes) to the available count. Time only moves forward, so each pod is
  moved once per Ready period. With m = 0, available = active and Ready.
- **deletion order** (``ActivePodsWithRanks``): scheduled, running, Ready pods with a known
  ``ready_since`` (nearly all pods of a replica set being scaled down) are kept sorted by
  ``(ready_since, restarts, created_at, -serial)``, the reverse of the order in which they are
  deleted (Ready for less time, more restarts, newer, later in the pod list first), so the
  pods deleted first are at the end. The rank compares ``now - ready_since``, which rounding
  can make equal for two different ``ready_since`` values close to each other; the index
  checks that this cannot change which pods come first and otherwise says so (``None``), and
  the caller falls back to sorting every pod. The other active pods (pending, not Ready) are
  kept in a set, and sorted when a scale-down reaches them.

Pure Python; the pods are duck-typed (:class:`IndexedPod`) so this module needs no other.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Callable, Hashable
from itertools import count
from operator import attrgetter
from typing import Any, Protocol

from simdeploy.rules.deployment_status import is_pod_available

#: Position of a Ready pod in the reversed deletion order:
#: ``(ready_since, restarts, created_at, -serial)``; None when the pod is not ranked so.
RankKey = tuple[float, int, float, int]
#: What :meth:`PodIndex.update` records of a pod: (active, Ready, rank key).
IndexState = tuple[bool, bool, RankKey | None]


def indexed(name: str, state: Callable[[Any], IndexState]) -> property:
    """A pod attribute whose every assignment updates ``pod.rs.index`` with ``state(pod)``
    (so a pod state set anywhere, tests included, is counted); stored as ``_<name>``."""
    slot = f"_{name}"

    def set_(pod: Any, value: Any) -> None:
        # setattr, not pod.__dict__[...]: materializing the instance dict would slow down
        # every attribute read of the pod, the data plane's included (CPython 3.11).
        setattr(pod, slot, value)
        index = pod.rs.index
        if pod in index:
            index.update(pod, *state(pod))

    return property(attrgetter(slot), set_)


class IndexedPod(Hashable, Protocol):
    """What the index reads of a pod: ``ready_since`` for availability."""

    ready_since: float | None


class PodIndex:
    """The counts and deletion order of one replica set's pods, kept up to date.

    ``update(pod, active, ready, key)`` after any change of a pod's state (idempotent);
    ``remove(pod)`` when the pod is gone. ``len(index)`` is the number of pods it tracks.
    """

    def __init__(self) -> None:
        self._state: dict[IndexedPod, tuple[bool, bool, RankKey | None]] = {}
        self.active = 0
        self.ready = 0
        self.active_ready = 0
        # Reversed deletion order of ranked pods: keys ascending, pods alongside.
        self._keys: list[RankKey] = []
        self._ranked: list[IndexedPod] = []
        #: Active pods that are not ranked by key (insertion-ordered set).
        self.others: dict[IndexedPod, None] = {}
        # Availability, for one minReadySeconds (the first one asked for).
        self._min_ready: float | None = None
        self._now = float("-inf")
        self.available = 0
        self._available_since: dict[IndexedPod, float] = {}
        self._pending: list[tuple[float, int, IndexedPod]] = []
        self._pushed: dict[IndexedPod, float] = {}
        self._tie = count()

    def __len__(self) -> int:
        return len(self._state)

    def __contains__(self, pod: object) -> bool:
        return pod in self._state

    # -- changes ------------------------------------------------------------------------
    def update(self, pod: IndexedPod, active: bool, ready: bool, key: RankKey | None) -> None:
        """Record ``pod``'s state: active (not terminating), Ready, and its rank key (None
        unless it is scheduled, running and Ready with a known ``ready_since``)."""
        old = self._state.get(pod)
        new = (active, ready, key)
        if old != new:
            o_active, o_ready, o_key = old if old is not None else (False, False, None)
            self.active += active - o_active
            self.ready += ready - o_ready
            self.active_ready += (active and ready) - (o_active and o_ready)
            if o_key is not None:
                i = bisect_left(self._keys, o_key)
                del self._keys[i], self._ranked[i]
            elif o_active:
                del self.others[pod]
            if key is not None:
                i = bisect_left(self._keys, key)
                self._keys.insert(i, key)
                self._ranked.insert(i, pod)
            elif active:
                self.others[pod] = None
            self._state[pod] = new
        if self._min_ready is not None:  # ready_since may have moved, not only the state
            self._track_availability(pod, active and ready)

    def remove(self, pod: IndexedPod) -> None:
        """Forget ``pod`` (gone)."""
        if pod in self._state:
            self.update(pod, False, False, None)
            del self._state[pod]
            self._pushed.pop(pod, None)

    def _track_availability(self, pod: IndexedPod, active_ready: bool) -> None:
        since = pod.ready_since if active_ready else None
        flagged = self._available_since.get(pod)
        if flagged is not None:
            if since == flagged:
                return
            del self._available_since[pod]
            self.available -= 1
        if since is not None and self._pushed.get(pod) != since:
            self._pushed[pod] = since
            heapq.heappush(self._pending, (since, next(self._tie), pod))

    # -- queries ------------------------------------------------------------------------
    def count_available(self, min_ready_s: float, now: float) -> int | None:
        """Active pods available at ``now`` (``is_pod_available``), or None when the index
        cannot tell (another ``min_ready_s`` than the first asked for, or time went back)."""
        if min_ready_s == 0:
            return self.active_ready
        if self._min_ready is None:
            self._min_ready = min_ready_s
            for pod, (active, ready, _) in self._state.items():
                self._track_availability(pod, active and ready)
        elif min_ready_s != self._min_ready or now < self._now:
            return None
        self._now = now
        pending = self._pending
        while pending and is_pod_available(True, pending[0][0], min_ready_s, now):
            since, _, pod = heapq.heappop(pending)
            if self._pushed.get(pod) == since:
                del self._pushed[pod]
                state = self._state.get(pod)
                if state is not None and state[0] and state[1] and pod.ready_since == since:
                    self._available_since[pod] = since
                    self.available += 1
        return self.available

    def first_ranked(self, k: int, now: float) -> list[IndexedPod] | None:
        """The ``min(k, ranked)`` ranked pods deleted first at ``now`` (in no particular
        order), or None when rounding in ``now - ready_since`` could reorder them.

        The rank is ``now - ready_since`` ascending, then the key's other fields; the index is
        sorted by ``ready_since``. The two agree unless two different ``ready_since`` give
        the same ``now - ready_since``: the chosen pods are exact when no chosen pod with
        another ``ready_since`` than the last chosen one (``b``) ties with it, and neither
        does the next pod with an earlier ``ready_since`` (those with ``b``'s own are in key
        order already).
        """
        n = min(k, len(self._keys))
        if n <= 0:
            return []
        chosen = self._keys[-n:]
        boundary = chosen[0][0]
        at_boundary = now - boundary
        for key in chosen:
            if key[0] != boundary and now - key[0] == at_boundary:
                return None
        i = bisect_left(self._keys, (boundary,))  # type: ignore[arg-type]
        if i > 0 and now - self._keys[i - 1][0] == at_boundary:
            return None
        return self._ranked[-n:]

    def deletion_order(
        self,
        k: int,
        now: float,
        rank: Callable[[Any, float], tuple[float, ...]],
        active: Callable[[], list[Any]],
    ) -> list[Any]:
        """The ``k`` active pods deleted first, in order: ``sorted(active(), key=rank)[:k]``
        (``active()`` in pod-list order, i.e. by ``serial``), sorting only the unranked pods
        and the first ``k`` ranked ones unless :meth:`first_ranked` cannot tell."""
        first = self.first_ranked(k, now)
        if first is None:
            return sorted(active(), key=lambda p: rank(p, now))[:k]
        chosen = [*self.others, *first]
        chosen.sort(key=lambda p: (rank(p, now), p.serial))  # ties: pod-list order
        return chosen[:k]
