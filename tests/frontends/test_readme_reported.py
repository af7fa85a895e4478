"""The README's "What is reported" section documents every summary field and timeline column."""

from __future__ import annotations

import re

from simdeploy import simulate
from simdeploy.spec.metrics import SUMMARY_FIELDS
from simdeploy.world.recorder import ERROR_CAUSES
from tests.conftest import ROOT, scenario

REPORTED = (ROOT / "README.md").read_text().split("## What is reported", 1)[1].split("\n## ")[0]


def _documented() -> set[str]:
    """Backticked names in the first cell of the section's table rows."""
    names: set[str] = set()
    for row in re.findall(r"^\| (.+?) \|", REPORTED, re.M):
        names.update(re.findall(r"`([^`]+)`", row))
    return names


def test_every_summary_field_is_in_the_table() -> None:
    missing = [f for f in SUMMARY_FIELDS if f not in _documented()]
    assert not missing, f"README 'What is reported' lacks {missing}"


def test_every_timeline_column_is_in_the_table() -> None:
    tl = simulate(scenario(simulation={"duration": "20s"})).timeline
    documented = _documented()
    causes = {f"errors_{c}" for c in ERROR_CAUSES}
    for col in tl.columns:
        generic = "errors_<cause>" if col in causes else re.sub(r"\[.*\]$", "[<version>]", col)
        assert generic in documented, f"timeline column {col!r} ({generic}) is not documented"
