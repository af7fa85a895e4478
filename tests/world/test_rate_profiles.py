"""``rate_at``: the request rate of each traffic profile at a time (the thinning of
``arrivals`` keeps a candidate with probability rate_at / peak).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from simdeploy.spec.traffic import Profile
from simdeploy.world.traffic import rate_at


def profile(**spec: Any) -> Profile:
    return Profile.model_validate(spec)


def test_a_constant_profile_has_its_rate_at_every_time() -> None:
    assert [rate_at(profile(rate=50), t) for t in (0.0, 7.5, 1e6)] == [50.0, 50.0, 50.0]
    assert rate_at(profile(rate=0), 10.0) == 0.0


def test_a_step_profile_has_the_rate_of_the_last_step_reached() -> None:
    # Listed out of order on purpose: the steps apply in order of time.
    steps = profile(type="steps", steps=[{"at": "10s", "rate": 20}, {"at": "5s", "rate": 50}])
    assert rate_at(steps, 4.9) == 0.0  # before the first step: no traffic
    assert rate_at(steps, 5.0) == 50.0  # a step applies from its own instant
    assert rate_at(steps, 9.9) == 50.0
    assert rate_at(steps, 10.0) == 20.0
    assert rate_at(steps, 1e6) == 20.0


def test_a_diurnal_profile_follows_its_sine_around_the_mean() -> None:
    # mean 100 req/s, amplitude 0.5, period 100 s: 100 × (1 + 0.5 sin(2π t / 100)).
    day = profile(type="diurnal", mean=100, amplitude=0.5, period="100s")
    assert rate_at(day, 0.0) == pytest.approx(100.0)
    assert rate_at(day, 25.0) == pytest.approx(150.0)  # a quarter period: the peak
    assert rate_at(day, 75.0) == pytest.approx(50.0)  # three quarters: the trough
    # An eighth of a period: sin(π/4) = √2/2, so 100 × (1 + 0.5 × 0.7071) ≈ 135.36.
    assert rate_at(day, 12.5) == pytest.approx(100.0 * (1 + 0.5 * math.sqrt(2) / 2))
    assert rate_at(profile(type="diurnal", mean=0), 25.0) == 0.0
