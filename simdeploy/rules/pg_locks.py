"""PostgreSQL table locks: the 8 lock modes, which waits for which, what a request takes.

One concern: the conflict table. A migration's lock (:mod:`simdeploy.rules.migrations`) and a
plain request's lock (:func:`request_lock`) meet here; :func:`conflicts` says whether one
waits for the other.

Sources: PostgreSQL "Explicit Locking" (13.3.1, Table 13.2 "Conflicting Lock Modes"), the
same table as ``LockConflicts[]`` in ``src/backend/storage/lmgr/lock.c``.

Pure: no SimPy, no clock; every function is deterministic.
"""

from enum import IntEnum

__all__ = [
    "LockMode",
    "blocks_reads",
    "blocks_writes",
    "conflicts",
    "request_lock",
]


class LockMode(IntEnum):
    """The 8 table-level lock modes, numbered as in PostgreSQL's ``lockdefs.h`` (1-8).

    All are table locks, even those named "row"; the names are historical. The number is not a
    strength order for conflicts (use :func:`conflicts`), only PostgreSQL's enumeration.
    """

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def sql(self) -> str:
        """The name as SQL spells it: ``LockMode.ROW_EXCLUSIVE.sql == "ROW EXCLUSIVE"``."""
        return self.name.replace("_", " ")


_L = LockMode
# Row by row from lock.c LockConflicts[] / the docs' Table 13.2: the modes each mode waits for.
_CONFLICTS: dict[LockMode, frozenset[LockMode]] = {
    _L.ACCESS_SHARE: frozenset({_L.ACCESS_EXCLUSIVE}),
    _L.ROW_SHARE: frozenset({_L.EXCLUSIVE, _L.ACCESS_EXCLUSIVE}),
    _L.ROW_EXCLUSIVE: frozenset(
        {_L.SHARE, _L.SHARE_ROW_EXCLUSIVE, _L.EXCLUSIVE, _L.ACCESS_EXCLUSIVE}
    ),
    _L.SHARE_UPDATE_EXCLUSIVE: frozenset(
        {
            _L.SHARE_UPDATE_EXCLUSIVE,
            _L.SHARE,
            _L.SHARE_ROW_EXCLUSIVE,
            _L.EXCLUSIVE,
            _L.ACCESS_EXCLUSIVE,
        }
    ),
    _L.SHARE: frozenset(
        {
            _L.ROW_EXCLUSIVE,
            _L.SHARE_UPDATE_EXCLUSIVE,
            _L.SHARE_ROW_EXCLUSIVE,
            _L.EXCLUSIVE,
            _L.ACCESS_EXCLUSIVE,
        }
    ),
    _L.SHARE_ROW_EXCLUSIVE: frozenset(set(LockMode) - {_L.ACCESS_SHARE, _L.ROW_SHARE}),
    _L.EXCLUSIVE: frozenset(set(LockMode) - {_L.ACCESS_SHARE}),
    _L.ACCESS_EXCLUSIVE: frozenset(LockMode),
}


def conflicts(a: LockMode, b: LockMode) -> bool:
    """Whether two transactions can not hold ``a`` and ``b`` on the same table at once.

    Symmetric. A transaction never conflicts with itself; that is the caller's business.

    >>> conflicts(LockMode.ROW_EXCLUSIVE, LockMode.ROW_EXCLUSIVE)  # concurrent writers
    False
    >>> conflicts(LockMode.SHARE, LockMode.ROW_EXCLUSIVE)  # CREATE INDEX blocks writes
    True
    """
    return b in _CONFLICTS[a]


def blocks_reads(mode: LockMode) -> bool:
    """Whether holding (or queueing for) ``mode`` makes a plain SELECT wait."""
    return conflicts(mode, LockMode.ACCESS_SHARE)


def blocks_writes(mode: LockMode) -> bool:
    """Whether holding (or queueing for) ``mode`` makes INSERT/UPDATE/DELETE wait."""
    return conflicts(mode, LockMode.ROW_EXCLUSIVE)


_REQUEST_LOCKS: dict[str, LockMode] = {
    "read": LockMode.ACCESS_SHARE,
    "select": LockMode.ACCESS_SHARE,
    "write": LockMode.ROW_EXCLUSIVE,
    "insert": LockMode.ROW_EXCLUSIVE,
    "update": LockMode.ROW_EXCLUSIVE,
    "delete": LockMode.ROW_EXCLUSIVE,
}


def request_lock(kind: str) -> LockMode:
    """The table lock a plain request takes: read/SELECT → ACCESS SHARE, write/INSERT/UPDATE/
    DELETE → ROW EXCLUSIVE (case-insensitive).

    Raises:
        ValueError: unknown request kind.
    """
    try:
        return _REQUEST_LOCKS[kind.lower()]
    except KeyError:
        raise ValueError(
            f"unknown request kind {kind!r}; expected one of {sorted(_REQUEST_LOCKS)}"
        ) from None
