"""Distributions (:mod:`simdeploy.spec.distributions`): the samplers they build and
the one line a distribution missing a parameter gets."""

from __future__ import annotations

import numpy as np
import pytest

from simdeploy.rules.dists import BatchSampler, Exponential, LogNormal
from tests.conftest import errors_of


def test_lognormal_matches_its_mean_and_p99() -> None:
    d = LogNormal(0.05, 0.3)
    x = d.sample(np.random.default_rng(1), 200_000)
    assert x.mean() == pytest.approx(0.05, rel=0.02)
    assert np.quantile(x, 0.99) == pytest.approx(0.3, rel=0.05)


def test_batch_sampler_is_reproducible() -> None:
    a = BatchSampler(Exponential(1.0), np.random.default_rng(5), batch=7)
    b = BatchSampler(Exponential(1.0), np.random.default_rng(5), batch=7)
    assert [a.next() for _ in range(20)] == [b.next() for _ in range(20)]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        pytest.param(
            {"versions": {"v1": {"serviceTime": {"dist": "lognormal", "mean": "1s"}}}},
            "versions.v1.serviceTime: dist lognormal needs 'p99'",
            id="distribution-missing-parameter",
        ),
    ],
)
def test_bad_input_gets_one_line_naming_the_field(over: dict, message: str) -> None:
    assert errors_of(**over) == [message]
