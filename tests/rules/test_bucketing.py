"""Tests for simdeploy.rules.bucketing: LaunchDarkly's published vectors, then properties.

The vectors come from LaunchDarkly's SDK test suites (flag key "hashKey", salt "saltyA"):
python-server-sdk ``ldclient/testing/impl/test_evaluator_bucketing.py``
(test_bucket_by_user_key, test_bucket_by_user_key_with_seed, test_bucket_by_int_attr) and
go-server-sdk-evaluation ``evaluator_bucketing_testdata_test.go``. Upstream asserts them to
about 1e-7 (Go computes in float32); the full-precision float64 values match the Rust SDK's
``test_bucket_user`` (0.4215758743392494, 0.6708484965703435).
"""

import hashlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chisquare

from simdeploy.rules.bucketing import (
    LONG_SCALE,
    _from_digest,
    bucket,
    bucket_many,
    hash_input,
    in_rollout,
)

keys = st.text(max_size=40)
percentages = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


@pytest.mark.parametrize(
    ("user_key", "seed", "expected"),
    [
        pytest.param("userKeyA", None, 0.42157587, id="ld-userKeyA"),
        pytest.param("userKeyB", None, 0.6708485, id="ld-userKeyB"),
        pytest.param("userKeyC", None, 0.10343106, id="ld-userKeyC"),
        pytest.param("userKeyA", 61, 0.09801207, id="ld-userKeyA-seed61"),
        pytest.param("userKeyB", 61, 0.14483777, id="ld-userKeyB-seed61"),
        pytest.param("userKeyC", 61, 0.9242641, id="ld-userKeyC-seed61"),
        pytest.param("33333", None, 0.54771423, id="ld-int-attr-33333"),
        pytest.param("99999", None, 0.7309658, id="ld-numeric-string-99999"),
    ],
)
def test_launchdarkly_vectors(user_key: str, seed: int | None, expected: float) -> None:
    assert bucket("hashKey", "saltyA", user_key, seed) == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize(
    ("user_key", "expected"),
    [
        pytest.param("userKeyA", 0.4215758743392494, id="rust-sdk-userKeyA"),
        pytest.param("userKeyB", 0.6708484965703435, id="rust-sdk-userKeyB"),
    ],
)
def test_full_precision_matches_rust_sdk(user_key: str, expected: float) -> None:
    assert bucket("hashKey", "saltyA", user_key) == expected


def test_bucket_is_the_published_formula() -> None:
    text = "hashKey.saltyA.userKeyA"
    by_hand = int(hashlib.sha1(text.encode()).hexdigest()[:15], 16) / 0xFFFFFFFFFFFFFFF
    assert bucket("hashKey", "saltyA", "userKeyA") == by_hand
    assert LONG_SCALE == float(0xFFFFFFFFFFFFFFF) == 2.0**60  # the float rounds up


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        pytest.param(None, "hashKey.saltyA.userKeyA", id="flag-and-salt"),
        pytest.param(61, "61.userKeyA", id="seed-replaces-flag-and-salt"),
        pytest.param(0, "0.userKeyA", id="seed-zero-is-a-seed"),
    ],
)
def test_hash_input(seed: int | None, expected: str) -> None:
    assert hash_input("hashKey", "saltyA", "userKeyA", seed) == expected


def test_seed_is_independent_of_flag_key_and_salt() -> None:
    # Upstream test_seed_independent_of_salt_and_hashKey.
    a = bucket("hashKey", "saltyA", "userKeyA", seed=61)
    assert a == bucket("hashKey", "saltyB", "userKeyA", seed=61)
    assert a == bucket("hashKey2", "saltyA", "userKeyA", seed=61)
    assert a != bucket("hashKey", "saltyA", "userKeyA", seed=62)


@pytest.mark.parametrize(
    ("percentage", "expected"),
    [
        pytest.param(0, False, id="0%-nobody"),
        pytest.param(42.15, False, id="just-below-bucket-0.42158"),
        pytest.param(42.16, True, id="just-above-bucket-0.42158"),
        pytest.param(50, True, id="50%"),
        pytest.param(100, True, id="100%-everybody"),
    ],
)
def test_in_rollout_threshold(percentage: float, expected: bool) -> None:
    assert in_rollout("hashKey", "saltyA", "userKeyA", percentage) is expected


def test_maximal_hash_is_one_and_still_in_a_full_rollout() -> None:
    # The top 64 hash values round to exactly 1.0 upstream; LaunchDarkly then uses the last
    # variation, so a 100 % rollout must include those users.
    top = 0xFFFFFFFFFFFFFFF
    assert _from_digest(b"\xff" * 20) == top / LONG_SCALE == 1.0
    assert _from_digest(((top - 63) << 4).to_bytes(8, "big")) == 1.0
    assert _from_digest(((top - 64) << 4).to_bytes(8, "big")) < 1.0
    assert _from_digest(b"\x00" * 20) == 0.0


@pytest.mark.parametrize("bad", [-0.1, 100.5, float("nan")], ids=["negative", "over", "nan"])
def test_in_rollout_rejects_bad_percentage(bad: float) -> None:
    with pytest.raises(ValueError, match="percentage"):
        in_rollout("f", "s", "u", bad)


def test_bucket_many_equals_bucket() -> None:
    ids = [0, 1, 7, 33333, 99999, 123456789, -5]
    assert bucket_many("flag", "salt", ids) == [bucket("flag", "salt", str(i)) for i in ids]
    assert bucket_many("flag", "salt", ids, seed=9) == [
        bucket("flag", "salt", str(i), seed=9) for i in ids
    ]


def test_bucket_many_accepts_numpy_integers() -> None:
    ids = np.arange(5, dtype=np.int64)
    assert bucket_many("flag", "salt", ids) == bucket_many("flag", "salt", range(5))


@pytest.mark.parametrize("bad", [True, 1.0, "1"], ids=["bool", "float", "str"])
def test_bucket_many_rejects_non_integers(bad: object) -> None:
    with pytest.raises(TypeError, match="user ids must be integers"):
        bucket_many("flag", "salt", [1, bad])  # type: ignore[list-item]


@given(flag=keys, salt=keys, user=keys)
def test_deterministic_and_in_unit_interval(flag: str, salt: str, user: str) -> None:
    b = bucket(flag, salt, user)
    assert b == bucket(flag, salt, user)
    assert 0.0 <= b < 1.0  # 1.0 needs one of the top 64 hash values: probability 2**-54


@given(flag=keys, salt=keys, p1=percentages, p2=percentages)
def test_raising_the_percentage_only_adds_users(flag: str, salt: str, p1: float, p2: float) -> None:
    low, high = sorted((p1, p2))
    users = [str(i) for i in range(200)]
    at_low = {u for u in users if in_rollout(flag, salt, u, low)}
    at_high = {u for u in users if in_rollout(flag, salt, u, high)}
    assert at_low <= at_high


def test_uniform_over_100k_users() -> None:
    # Fixed keys, so the statistic is a constant: deterministic, not flaky.
    buckets = np.array(bucket_many("new-checkout", "a1b2c3", range(100_000)))
    counts, _ = np.histogram(buckets, bins=20, range=(0.0, 1.0))
    assert counts.sum() == 100_000
    assert chisquare(counts).pvalue > 0.001


def test_rollout_share_matches_percentage() -> None:
    buckets = np.array(bucket_many("new-checkout", "a1b2c3", range(100_000)))
    for pct in (1, 5, 25, 50, 90):
        share = float(np.mean(buckets < pct / 100))
        assert share == pytest.approx(pct / 100, abs=0.005)


def test_two_flags_give_independent_cohorts() -> None:
    # The flag key (and salt) decorrelates cohorts: a user in flag A's 10 % is not more likely
    # to be in flag B's 10 %.
    a = np.array(bucket_many("flag-a", "salt-a", range(50_000)))
    b = np.array(bucket_many("flag-b", "salt-b", range(50_000)))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02
    both = float(np.mean((a < 0.1) & (b < 0.1)))
    assert both == pytest.approx(0.01, abs=0.003)


def test_docstring_examples() -> None:
    import doctest

    from simdeploy.rules import bucketing

    assert doctest.testmod(bucketing).failed == 0
