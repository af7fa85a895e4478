"""The shared schema as an immutable value: tables, columns, constraints, dual writes.

One concern: what the schema *is*. A :class:`Schema` is frozen and hashable, so callers can
cache per schema version; :func:`simdeploy.rules.schema_changes.apply` makes the next one,
and :func:`simdeploy.rules.compatibility.check_request` judges a request against it.

Pure: no SimPy, no clock.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

__all__ = [
    "Column",
    "ColumnRef",
    "Constraint",
    "ConstraintKind",
    "DualWrite",
    "Retired",
    "Schema",
    "Table",
]

ColumnRef = tuple[str, str]
"""``(table, column)``."""


@dataclass(frozen=True)
class Column:
    """A column: nullable or not, with or without a default (which fills omitted writes)."""

    name: str
    nullable: bool = True
    has_default: bool = False


class ConstraintKind(StrEnum):
    """The constraint kinds that ``NOT VALID`` applies to."""

    CHECK = "check"
    FOREIGN_KEY = "foreign_key"


@dataclass(frozen=True)
class Constraint:
    """``CHECK (column IS NOT NULL)`` or ``FOREIGN KEY (column) REFERENCES references``.

    ``validated`` is False after ``ADD ... NOT VALID`` until ``VALIDATE CONSTRAINT``. A NOT
    VALID constraint is still enforced on new writes; only pre-existing rows are unchecked.
    """

    name: str
    kind: ConstraintKind
    column: str
    validated: bool
    references: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def constraint(self, name: str) -> Constraint | None:
        return next((c for c in self.constraints if c.name == name), None)


@dataclass(frozen=True)
class Retired:
    """A column that left the schema: renamed to ``renamed_to``, or dropped (None)."""

    table: str
    column: str
    renamed_to: str | None


@dataclass(frozen=True)
class DualWrite:
    """Writes to either column are mirrored into the other (app-level dual write).

    Modelled as applying to every app version's writes, as a shared data-access layer or a
    pair of pgroll-style up/down triggers would.
    """

    table: str
    column: str
    other: str


@dataclass(frozen=True)
class Schema:
    """One version of the shared schema. Immutable and hashable; ``schema_changes.apply`` makes
    the next.

    ``retired`` remembers renamed and dropped columns, for error messages; ``dual_writes`` the
    active dual-write pairs.
    """

    tables: tuple[Table, ...] = ()
    retired: tuple[Retired, ...] = ()
    dual_writes: tuple[DualWrite, ...] = ()

    @classmethod
    def build(cls, tables: Mapping[str, Iterable[Column | str]]) -> "Schema":
        """A schema from ``{table: [Column | name, ...]}``; a bare name is a nullable column
        without default.

        >>> s = Schema.build({"users": [Column("id", nullable=False, has_default=True), "email"]})
        >>> s.column("users", "email")
        Column(name='email', nullable=True, has_default=False)
        """
        return cls(
            tables=tuple(
                Table(name, tuple(c if isinstance(c, Column) else Column(c) for c in cols))
                for name, cols in tables.items()
            )
        )

    @cached_property
    def _by_name(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    def table(self, name: str) -> Table | None:
        return self._by_name.get(name)

    def column(self, table: str, column: str) -> Column | None:
        t = self.table(table)
        return None if t is None else t.column(column)

    def has_valid_not_null_check(self, table: str, column: str) -> bool:
        """Whether a validated ``CHECK (column IS NOT NULL)`` exists (lets PG 12+ skip the
        SET NOT NULL scan)."""
        t = self.table(table)
        return t is not None and any(
            c.kind is ConstraintKind.CHECK and c.column == column and c.validated
            for c in t.constraints
        )

    def required_on_insert(self, table: str) -> tuple[str, ...]:
        """Columns an insert must write: no default, and NOT NULL or under a not-null CHECK
        (valid or NOT VALID: both reject new NULLs)."""
        t = self.table(table)
        if t is None:
            return ()
        checked = {c.column for c in t.constraints if c.kind is ConstraintKind.CHECK}
        return tuple(
            c.name for c in t.columns if not c.has_default and (not c.nullable or c.name in checked)
        )
