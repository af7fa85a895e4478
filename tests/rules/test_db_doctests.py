"""The docstring examples of the PostgreSQL rule modules (pg_locks ... plan_lint), run."""

import doctest

from simdeploy.rules import compatibility, migrations, pg_locks, plan_lint, schema, schema_changes


def test_docstring_examples() -> None:
    for module in (pg_locks, schema, migrations, schema_changes, compatibility, plan_lint):
        assert doctest.testmod(module).failed == 0, module.__name__
