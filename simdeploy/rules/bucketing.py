"""Sticky percentage bucketing for feature flags and cohorts, as LaunchDarkly does it.

A user's bucket is a number in ``[0, 1]`` that depends only on the flag key, the flag's salt
and the user key, so the same user lands in the same bucket in every process, run and replica.
A percentage rollout turns the flag on for a user when the bucket is below the percentage. The
scheme is LaunchDarkly's server-side SDK algorithm (``_bucket_context`` in
``launchdarkly/python-server-sdk`` ``ldclient/impl/evaluator_common.py``;
``computeBucketValue`` in ``launchdarkly/go-server-sdk-evaluation`` ``evaluator_bucketing.go``)::

    prefix     = f"{flag_key}.{salt}"            # or str(seed) when the rollout has a seed
    hash_input = f"{prefix}.{user_key}"
    bucket     = int(sha1(hash_input).hexdigest()[:15], 16) / 0xFFFFFFFFFFFFFFF

Worked example (LaunchDarkly's own test vector): flag key ``"hashKey"``, salt ``"saltyA"``,
user ``"userKeyA"``. The hash input is ``"hashKey.saltyA.userKeyA"``; its SHA-1 hex digest
starts with 15 hex digits whose integer value, divided by ``0xFFFFFFFFFFFFFFF`` (2**60 - 1),
is ``0.4215758743...``. So the user is in a 50 % rollout (0.42 < 0.50) but not in a 40 % one.
With seed ``61`` the input becomes ``"61.userKeyA"`` and the bucket ``0.0980120...``: a seed
replaces flag key and salt, so two flags sharing a seed share their cohorts.

Upstream divides by ``float(0xFFFFFFFFFFFFFFF)``, which rounds to exactly ``2.0**60``, and the
integer is rounded to a float first; the top 64 of the 2**60 hash values therefore give exactly
``1.0`` (probability 2**-54). LaunchDarkly then puts the user in the last variation;
:func:`in_rollout` does the same by treating 100 % as "everyone".

Pure: stdlib :mod:`hashlib` only, no clock, no randomness.
"""

import hashlib
import operator
from collections.abc import Iterable

__all__ = [
    "LONG_SCALE",
    "bucket",
    "bucket_many",
    "hash_input",
    "in_rollout",
]

LONG_SCALE = float(0xFFFFFFFFFFFFFFF)
"""The divisor, ``__LONG_SCALE__`` upstream: 15 hex 'f' digits as a float (rounds to 2.0**60)."""


def hash_input(flag_key: str, salt: str, user_key: str, seed: int | None = None) -> str:
    """The string that is hashed: ``"{flag_key}.{salt}.{user_key}"`` or ``"{seed}.{user_key}"``.

    >>> hash_input("hashKey", "saltyA", "userKeyA")
    'hashKey.saltyA.userKeyA'
    >>> hash_input("hashKey", "saltyA", "userKeyA", seed=61)
    '61.userKeyA'
    """
    prefix = f"{flag_key}.{salt}" if seed is None else str(seed)
    return f"{prefix}.{user_key}"


def _from_digest(digest: bytes) -> float:
    # The first 15 hex digits are the top 60 bits of the SHA-1 digest: read 8 bytes (64 bits)
    # and drop the low 4. Same value as int(hexdigest()[:15], 16), without building the string.
    return (int.from_bytes(digest[:8], "big") >> 4) / LONG_SCALE


def bucket(flag_key: str, salt: str, user_key: str, seed: int | None = None) -> float:
    """The user's bucket for this flag, in ``[0, 1]`` (``1.0`` only with probability 2**-54).

    ``int(sha1(hash_input(...)).hexdigest()[:15], 16) / 0xFFFFFFFFFFFFFFF``.

    >>> round(bucket("hashKey", "saltyA", "userKeyA"), 8)
    0.42157587
    >>> round(bucket("hashKey", "saltyA", "userKeyA", seed=61), 8)
    0.09801207
    """
    data = hash_input(flag_key, salt, user_key, seed).encode("utf-8")
    return _from_digest(hashlib.sha1(data).digest())


def _check_percentage(percentage: float) -> float:
    # NaN fails both comparisons, so it is rejected too.
    if not 0.0 <= percentage <= 100.0:
        raise ValueError(f"percentage must be within [0, 100], got {percentage!r}")
    return percentage / 100.0


def in_rollout(
    flag_key: str, salt: str, user_key: str, percentage: float, seed: int | None = None
) -> bool:
    """Whether the flag is on for this user at ``percentage`` (0-100) of users.

    On when ``bucket < percentage / 100``, and always on at 100 %. The threshold only grows with
    the percentage, so raising a rollout only adds users and lowering it only removes them.

    >>> in_rollout("hashKey", "saltyA", "userKeyA", 50)  # bucket 0.4216
    True
    >>> in_rollout("hashKey", "saltyA", "userKeyA", 40)
    False

    Raises:
        ValueError: ``percentage`` is outside ``[0, 100]`` or NaN.
    """
    threshold = _check_percentage(percentage)
    if threshold >= 1.0:
        return True
    return bucket(flag_key, salt, user_key, seed) < threshold


def bucket_many(
    flag_key: str, salt: str, user_ids: Iterable[int], seed: int | None = None
) -> list[float]:
    """Buckets of many integer user ids, in order; user key = ``str(id)`` as upstream does.

    Equal to ``[bucket(flag_key, salt, str(i), seed) for i in user_ids]`` but hashes the shared
    prefix once and skips the hex string (about 1 µs per user: 100k users in ~0.1 s).

    >>> [round(b, 8) for b in bucket_many("hashKey", "saltyA", [33333, 99999])]
    [0.54771423, 0.7309658]

    Raises:
        TypeError: an id is not an integer (``int`` or a numpy integer). A ``bool`` is
            refused: LaunchDarkly does not bucket booleans.
    """
    prefix = hashlib.sha1(hash_input(flag_key, salt, "", seed).encode("utf-8"))
    out: list[float] = []
    append = out.append
    for user_id in user_ids:
        if isinstance(user_id, bool):
            raise TypeError("user ids must be integers, got bool")
        try:
            key = str(operator.index(user_id))  # int, or a numpy integer
        except TypeError:
            raise TypeError(f"user ids must be integers, got {type(user_id).__name__}") from None
        h = prefix.copy()
        h.update(key.encode("ascii"))
        append(_from_digest(h.digest()))
    return out
