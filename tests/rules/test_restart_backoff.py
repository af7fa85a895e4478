"""Table tests for simdeploy.rules.restart_backoff: client-go flowcontrol backoff_test.go
(``TestSlowBackoff``, ``TestBackoffReset``, ``TestBackoffHighWaterMark``,
``TestIsInBackOffSinceUpdate``; jitter is not used by the kubelet and not ported) and the
kubelet's restart sequence built on it (``doBackOff``)."""

import pytest

from simdeploy.rules.restart_backoff import (
    INITIAL_BACK_OFF_S,
    MAX_BACK_OFF_S,
    BackoffEntry,
    get,
    has_expired,
    is_in_back_off_since,
    is_in_back_off_since_update,
    next_back_off,
    restart_at,
)


def test_slow_backoff() -> None:
    """TestSlowBackoff: step 1 s, max 50 s: 0, 1, 2, 4, ... 32, 50, 50, 50."""
    entry: BackoffEntry | None = None
    t = 0.0
    for expected in [0, 1, 2, 4, 8, 16, 32, 50, 50, 50]:
        t += 1.0
        assert get(entry) == expected
        entry = next_back_off(entry, t, t, 1.0, 50.0)


def _to_max(step: float, max_s: float) -> tuple[BackoffEntry, float]:
    entry: BackoffEntry | None = None
    t = 0.0
    for _ in range(int(max_s / step) + 1):
        t += step
        entry = next_back_off(entry, t, t, step, max_s)
    assert entry is not None
    return entry, t


def test_backoff_reset() -> None:
    """TestBackoffReset: at the cap, in back-off; 2 × max + step later, no longer."""
    entry, now = _to_max(1.0, 5.0)
    assert is_in_back_off_since(entry, now, now, 5.0)
    last_update = now
    now += 2 * 5.0 + 1.0
    assert not is_in_back_off_since(entry, last_update, now, 5.0)


def test_backoff_high_water_mark() -> None:
    """TestBackoffHighWaterMark: within 2 × max of the last update, Next stays at the cap."""
    entry, now = _to_max(1.0, 5.0)
    now += 5.0 + 1.0
    entry = next_back_off(entry, now, now, 1.0, 5.0)
    assert get(entry) == 5.0


# TestIsInBackOffSinceUpdate: (tick, in back-off, back-off value when in back-off).
SINCE_UPDATE = [
    (0, False, 0), (1, False, 1), (2, True, 2), (3, False, 2), (4, True, 4), (5, True, 4),
    (6, True, 4), (7, False, 4), (8, True, 8), (9, True, 8), (10, True, 8), (11, True, 8),
    (12, True, 8), (13, True, 8), (14, True, 8), (15, False, 8), (16, True, 10),
    (17, True, 10), (18, True, 10), (19, True, 10), (20, True, 10), (21, True, 10),
    (22, True, 10), (23, True, 10), (24, True, 10), (25, False, 10), (26, True, 10),
    (27, True, 10), (28, True, 10), (29, True, 10), (30, True, 10), (31, True, 10),
    (32, True, 10), (33, True, 10), (34, True, 10), (35, False, 10), (56, False, 0),
    (57, False, 1),
]  # fmt: skip


def test_is_in_back_off_since_update() -> None:
    """TestIsInBackOffSinceUpdate: step 1 s, max 10 s; Next whenever not in back-off."""
    entry: BackoffEntry | None = None
    for tick, in_back_off, value in SINCE_UPDATE:
        now = float(tick)
        assert is_in_back_off_since_update(entry, now, 10.0) is in_back_off, tick
        if in_back_off:
            assert get(entry) == value, tick
        else:
            entry = next_back_off(entry, now, now, 1.0, 10.0)


def test_has_expired_is_strictly_more_than_twice_the_cap() -> None:
    assert not has_expired(600.0, 0.0, 300.0)
    assert has_expired(600.5, 0.0, 300.0)


def test_liveness_restarts_first_at_once_then_10_20_40_up_to_5_minutes() -> None:
    """A container killed one second after each start: the first restart is immediate, then
    the kubelet waits 10 s, 20 s, 40 s, 80 s, 160 s, 300 s, 300 s (CrashLoopBackOff)."""
    entry: BackoffEntry | None = None
    finished = 0.0
    waits = []
    for _ in range(8):
        at, waited, entry = restart_at(entry, finished, INITIAL_BACK_OFF_S, MAX_BACK_OFF_S)
        assert at == pytest.approx(finished + waited)
        waits.append(waited)
        finished = at + 1.0
    assert waits == [0, 10, 20, 40, 80, 160, 300, 300]


def test_back_off_starts_over_after_ten_minutes_of_running() -> None:
    """An entry not moved for more than 2 × 5 minutes has expired: restart at once again."""
    _, _, entry = restart_at(None, 0.0, 10.0, 300.0)
    at, waited, entry = restart_at(entry, 5.0, 10.0, 300.0)
    assert (at, waited, entry.backoff) == (15.0, 10.0, 20.0)
    # The next container runs exactly 10 minutes: not expired, so it waits 20 s.
    at, waited, entry = restart_at(entry, at + 600.0, 10.0, 300.0)
    assert (waited, entry.backoff) == (20.0, 40.0)
    # The next one runs a little longer than 10 minutes: the back-off starts over.
    at, waited, entry = restart_at(entry, at + 600.5, 10.0, 300.0)
    assert (waited, entry.backoff) == (0.0, 10.0)
