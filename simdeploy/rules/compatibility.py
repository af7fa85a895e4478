"""Request compatibility: can an app version's requests run against a schema?

One concern: :func:`check_request`, which finds the first column a request reads or writes
that is missing (never added, dropped or renamed) or a NOT NULL column its insert leaves
empty, as a :class:`RequestError` with the outcome cause ``schema_error``.

Pure and deterministic: cache per ``(schema, version)`` rather than calling it per request.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from simdeploy.rules.schema import ColumnRef, Schema

__all__ = ["SCHEMA_ERROR", "RequestError", "check_request", "request_errors"]

SCHEMA_ERROR = "schema_error"
"""The request outcome cause for schema mismatches (same string as ``recorder.SCHEMA_ERROR``)."""


@dataclass(frozen=True)
class RequestError:
    """Why a request fails against a schema: ``cause`` is the outcome (``"schema_error"``)."""

    reason: str
    cause: str = SCHEMA_ERROR

    def __str__(self) -> str:
        return f"{self.cause}: {self.reason}"


def _missing(schema: Schema, verb: str, table: str, column: str) -> RequestError | None:
    if schema.table(table) is None:
        return RequestError(f"{verb} {table}.{column}, but table {table} does not exist")
    if schema.column(table, column) is not None:
        return None
    gone = next(
        (r for r in reversed(schema.retired) if (r.table, r.column) == (table, column)), None
    )
    if gone is not None and gone.renamed_to is not None:
        return RequestError(f"{verb} {table}.{column}, which was renamed to {gone.renamed_to}")
    if gone is not None:
        return RequestError(f"{verb} {table}.{column}, which was dropped")
    return RequestError(f"{verb} {table}.{column}, which does not exist")


def request_errors(
    schema: Schema, reads: Iterable[ColumnRef], writes: Iterable[ColumnRef]
) -> Iterator[RequestError]:
    """Every reason the request fails, in :func:`check_request`'s fixed order (reads, then
    writes, each sorted); empty when it works."""
    read_set, write_set = set(reads), set(writes)
    for verb, refs in (("reads", read_set), ("writes", write_set)):
        for table, column in sorted(refs):
            err = _missing(schema, verb, table, column)
            if err is not None:
                yield err
    for table in sorted({t for t, _ in write_set}):
        written = {c for t, c in write_set if t == table}
        for d in schema.dual_writes:
            if d.table == table and written & {d.column, d.other}:
                written |= {d.column, d.other}
        for column in schema.required_on_insert(table):
            if column not in written:
                col = schema.column(table, column)
                why = "NOT NULL" if col is not None and not col.nullable else "NOT NULL by CHECK"
                yield RequestError(
                    f"writes to {table} omit {column}, which is {why} without a default"
                )


def check_request(
    schema: Schema, reads: Iterable[ColumnRef], writes: Iterable[ColumnRef]
) -> RequestError | None:
    """Whether a request reading ``reads`` and writing ``writes`` works on ``schema``.

    Fails (``schema_error``) when a column read or written is missing (never added, dropped or
    renamed), or when a write to a table omits a column that is NOT NULL (or under a not-null
    CHECK, even NOT VALID) and has no default. A write is treated as an INSERT of the listed
    columns; active dual writes fill the mirrored column. Checks run in a fixed order (reads,
    then writes, each sorted) and the first failure is returned, so the reason is
    deterministic. Pure: cache it per ``(schema, version)`` rather than calling it per request.

    >>> from simdeploy.rules.schema import Column
    >>> s = Schema.build({"users": [Column("id", False, True), "name"]})
    >>> print(check_request(s, {("users", "email")}, set()))
    schema_error: reads users.email, which does not exist
    >>> check_request(s, {("users", "name")}, {("users", "name")}) is None
    True
    """
    return next(request_errors(schema, reads, writes), None)
