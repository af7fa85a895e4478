"""``FlagRuntime.on`` and ``seen_at`` on their own: which state of a flag a pod acts on
(streaming delay, each pod's poll phase, its container start), the edges of a percentage
rollout, version scoping, smoke-test requests; and the exposure count of the recorder.

Pods are stand-ins with the fields the flag reads (name, version, created_at, started_at).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from simdeploy.spec.flags import Flag
from simdeploy.world.flags import FlagRuntime
from simdeploy.world.recorder import Recorder

USERS = 20


@dataclass(eq=False)  # hashed by identity, as a Pod is
class PodStub:
    name: str = "app-v1-1"
    version: str = "v1"
    created_at: float = 0.0
    started_at: float | None = 1.0


def flag(**spec: Any) -> FlagRuntime:
    return FlagRuntime("f", Flag.model_validate({"rollout": 100, **spec}), USERS)


def polling() -> FlagRuntime:
    return flag(delivery={"mode": "polling", "interval": "10s"})


def streaming() -> FlagRuntime:
    return flag(delivery={"mode": "streaming", "delay": "500ms"})


def everyone_on(fl: FlagRuntime, pod: PodStub, now: float) -> bool:
    on = [fl.on(u, pod, now) for u in range(USERS)]  # type: ignore[arg-type]
    assert len(set(on)) == 1  # at 100 % (or killed) every user alike
    return on[0]


# --- which state a pod acts on --------------------------------------------------------------


def test_each_polling_pod_acts_on_the_state_of_its_own_last_poll() -> None:
    fl = polling()
    # Phase from the pod's name: crc32("app-v1-1") = 3178324769, % 10000 = 4769, so
    # 0.4769 × 10 s = 4.769 s: it polls at 4.769, 14.769, 24.769 s ...
    first = PodStub("app-v1-1")
    assert fl.seen_at(first, 20.0) == pytest.approx(14.769, abs=1e-9)  # type: ignore[arg-type]
    assert fl.seen_at(first, 30.0) == pytest.approx(24.769, abs=1e-9)  # type: ignore[arg-type]
    # ... crc32("app-v1-2") = 611857051, % 10000 = 7051: polls at 7.051, 17.051 s ...
    second = PodStub("app-v1-2")
    assert fl.seen_at(second, 20.0) == pytest.approx(17.051, abs=1e-9)  # type: ignore[arg-type]
    # Before its first poll a pod acts on what its SDK fetched at start (1 s).
    assert fl.seen_at(first, 3.0) == 1.0  # type: ignore[arg-type]
    # A kill at 15 s: the first pod learns of it at its poll at 24.769 s, the second at
    # 17.051 s.
    fl.set(15.0, kill=True)
    assert everyone_on(fl, first, 24.7) and not everyone_on(fl, first, 24.8)
    assert everyone_on(fl, second, 17.0) and not everyone_on(fl, second, 17.1)


def test_a_pod_never_acts_on_a_state_older_than_its_start() -> None:
    fl = polling()
    fl.set(21.0, kill=True)
    # Created at 20 s, started at 23 s: its last poll by 24 s was at 14.769 s, before the
    # kill, but the SDK fetched the current state (killed) when the container started.
    started_late = PodStub(created_at=20.0, started_at=23.0)
    assert fl.seen_at(started_late, 24.0) == 23.0  # type: ignore[arg-type]
    assert not everyone_on(fl, started_late, 24.0)
    # A pod whose container has not started yet: its creation time stands in.
    not_started = PodStub(created_at=22.0, started_at=None)
    assert fl.seen_at(not_started, 24.0) == 22.0  # type: ignore[arg-type]


def test_a_streamed_change_applies_from_the_instant_it_reaches_the_pod() -> None:
    fl = streaming()
    fl.set(20.0, kill=True)
    pod = PodStub()
    # 20 s + 500 ms delay: still on just before 20.5 s, off at 20.5 s itself.
    assert everyone_on(fl, pod, 20.49)
    assert not everyone_on(fl, pod, 20.5)


def test_a_change_at_0s_still_reaches_pods_only_after_the_delay() -> None:
    fl = streaming()
    fl.set(0.0, kill=True)  # a plan action at 0 s
    pod = PodStub()
    # At 0.2 s the pod acts on the state of -0.3 s: the flag as the spec set it (on).
    assert everyone_on(fl, pod, 0.2)
    assert not everyone_on(fl, pod, 0.5)


# --- who is on --------------------------------------------------------------------------------


def test_a_flag_scoped_to_versions_is_off_on_every_other_version() -> None:
    fl = flag(versions=["v2"])
    assert not everyone_on(fl, PodStub(version="v1"), 10.0)
    assert everyone_on(fl, PodStub(version="v2"), 10.0)


def test_a_smoke_test_request_never_runs_flagged_code() -> None:
    # Synthetic requests carry user -1 (DataPlane.inject): not a user, never bucketed.
    assert not flag().on(-1, PodStub(), 10.0)  # type: ignore[arg-type]


def test_the_edges_of_a_percentage_rollout() -> None:
    # LaunchDarkly's bucket lies in [0, 1]: the top 64 of the 2**60 hash values give
    # exactly 1.0 (rules.bucketing). Such a user is still on at 100 % ...
    full = flag()
    full.buckets[3] = 1.0
    assert full.on(3, PodStub(), 10.0)  # type: ignore[arg-type]
    # ... and at 50 % a user is on when the bucket is below 0.5, not at 0.5.
    half = flag(rollout=50)
    half.buckets[3], half.buckets[4] = 0.5, 0.4999
    assert not half.on(3, PodStub(), 10.0)  # type: ignore[arg-type]
    assert half.on(4, PodStub(), 10.0)  # type: ignore[arg-type]


def test_user_0_counts_as_exposed_and_a_smoke_test_does_not() -> None:
    recorder = Recorder(("v1",), 10.0, 1.0, users=3)
    recorder.flag_exposed(0)
    recorder.flag_exposed(-1)
    assert recorder.flag_exposed_users == bytearray([1, 0, 0])
