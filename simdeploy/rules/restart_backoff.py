"""The kubelet's container restart back-off (CrashLoopBackOff), as pure functions.

The kubelet keeps one back-off entry per container (``flowcontrol.Backoff``, initial 10 s, cap
``MaxContainerBackOff`` 300 s, no jitter). When a container has exited, the pod sync asks
``doBackOff``: while less than the current back-off has passed since the container finished,
the restart waits (the pod shows ``CrashLoopBackOff``); otherwise ``Next`` doubles the back-off
(or starts it at the initial value) and the container restarts at once. An entry not updated for
more than twice the cap (10 minutes) has expired: the next restart starts over.

Worked example (liveness kills a container every time it runs): exit at t=0 → no entry, restart
now, back-off 10 s; next exit → wait 10 s, then back-off 20 s; then 40, 80, 160, 300, 300 s. A
container that ran for more than 10 minutes before exiting restarts at once again.

Ported from ``kubernetes/kubernetes``:

- ``staging/src/k8s.io/client-go/util/flowcontrol/backoff.go`` (``Next``, ``Get``,
  ``IsInBackOffSince``, ``IsInBackOffSinceUpdate``, ``hasExpired``)
- ``pkg/kubelet/kuberuntime/kuberuntime_manager.go`` (``doBackOff``: the container's finish time
  is the event time)
- ``pkg/kubelet/kubelet.go`` (``backOffPeriod`` 10 s, ``MaxContainerBackOff`` 300 s)

Pure: stdlib only. Times are seconds on the simulation clock.
"""

from dataclasses import dataclass, replace

__all__ = [
    "INITIAL_BACK_OFF_S",
    "MAX_BACK_OFF_S",
    "BackoffEntry",
    "get",
    "has_expired",
    "is_in_back_off_since",
    "is_in_back_off_since_update",
    "next_back_off",
    "restart_at",
]

INITIAL_BACK_OFF_S = 10.0
"""The kubelet's ``backOffPeriod``."""

MAX_BACK_OFF_S = 300.0
"""``MaxContainerBackOff``: 5 minutes."""


@dataclass(frozen=True)
class BackoffEntry:
    """One container's back-off: the current window and when ``Next`` last moved it."""

    backoff: float
    last_update: float


def has_expired(event_time: float, last_update: float, max_s: float) -> bool:
    """``hasExpired``: more than ``2 × max`` between the last update and the event.

    Example: max 300 s, last update 0 → expired for an event at 600.1 s, not at 600 s.
    """
    return event_time - last_update > 2 * max_s


def get(entry: BackoffEntry | None) -> float:
    """``Get``: the current back-off window, 0 without an entry."""
    return 0.0 if entry is None else entry.backoff


def next_back_off(
    entry: BackoffEntry | None, event_time: float, now: float, initial_s: float, max_s: float
) -> BackoffEntry:
    """``Next``: start at ``initial_s`` (no entry, or an expired one), else double up to
    ``max_s``; ``last_update`` becomes ``now``.

    Example: initial 1 s, max 50 s, one call per second → 1, 2, 4, 8, 16, 32, 50, 50.
    """
    if entry is None or has_expired(event_time, entry.last_update, max_s):
        return BackoffEntry(initial_s, now)
    return replace(entry, backoff=min(entry.backoff * 2, max_s), last_update=now)


def is_in_back_off_since(
    entry: BackoffEntry | None, event_time: float, now: float, max_s: float
) -> bool:
    """``IsInBackOffSince``: less than the back-off has passed since ``event_time``.

    Example: back-off 20 s, container finished at 100 → True at 119.9, False at 120.
    """
    if entry is None or has_expired(event_time, entry.last_update, max_s):
        return False
    return now - event_time < entry.backoff


def is_in_back_off_since_update(
    entry: BackoffEntry | None, event_time: float, max_s: float
) -> bool:
    """``IsInBackOffSinceUpdate``: less than the back-off has passed since the last update."""
    if entry is None or has_expired(event_time, entry.last_update, max_s):
        return False
    return event_time - entry.last_update < entry.backoff


def restart_at(
    entry: BackoffEntry | None, finished: float, initial_s: float, max_s: float
) -> tuple[float, float, BackoffEntry]:
    """When the kubelet restarts a container that finished at ``finished`` (``doBackOff``).

    Returns (restart time, the back-off it waited, the entry after ``Next``). The pod syncs when
    the container exits and again when its back-off window ends; at the first sync that is out
    of back-off, ``Next`` moves the window and the container starts.

    Example (initial 10 s, max 300 s): no entry → (finished, 0, 10 s); entry 10 s updated at
    the previous restart → (finished + 10, 10, 20 s).
    """
    if is_in_back_off_since(entry, finished, finished, max_s):
        assert entry is not None
        wait = entry.backoff
    else:
        wait = 0.0
    at = finished + wait
    return at, wait, next_back_off(entry, finished, at, initial_s, max_s)
