"""The docs name the code as it is: every module they cite exists, the README's layout lists
every module of the package, and nothing points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "simdeploy"
README = (ROOT / "README.md").read_text()
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()


def _modules() -> set[Path]:
    return {p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}


def _cited_paths(text: str) -> set[str]:
    """Backticked ``something.py`` tokens, with or without folders."""
    return set(re.findall(r"`([\w/]+\.py)`", text))


def _exists(cited: str) -> bool:
    if "/" in cited:
        return (ROOT / cited).exists() or (PACKAGE / cited).exists()
    return any(p.name == cited for d in (PACKAGE, ROOT / "tests") for p in d.rglob("*.py"))


def test_architecture_cites_only_modules_that_exist() -> None:
    cited = _cited_paths(ARCHITECTURE)
    assert len(cited) > 30  # the page names the code; an empty match would prove nothing
    missing = sorted(c for c in cited if not _exists(c))
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_readme_cites_only_modules_that_exist() -> None:
    missing = sorted(c for c in _cited_paths(README) if not _exists(c))
    assert not missing, f"README.md names modules that do not exist: {missing}"


def test_readme_layout_lists_every_module_and_no_other() -> None:
    section = README.split("## Layout", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None
    listed = set(re.findall(r"\b(\w+\.py)\b", block.group(1)))
    actual = {p.name for p in _modules()}
    assert listed == actual, (
        f"missing from the README layout: {sorted(actual - listed)}; "
        f"listed but not in the package: {sorted(listed - actual)}"
    )


def test_architecture_lists_every_layer_folder() -> None:
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert folders == ["control", "experiments", "rules", "run", "spec", "world"]
    for folder in folders:
        assert f"{folder}/" in ARCHITECTURE, folder


def test_docs_point_only_inside_the_repository() -> None:
    docs = (
        ("README.md", README),
        ("docs/architecture.md", ARCHITECTURE),
        ("CHANGELOG.md", CHANGELOG),
    )
    for name, text in docs:
        assert "DESIGN" not in text, f"{name} cites a design file users do not have"
        for link in re.findall(r"\]\(([^)#]+)\)", text):
            if not link.startswith(("http://", "https://")):
                assert (ROOT / link).exists(), f"{name} links to {link}, which does not exist"
    assert "](docs/architecture.md)" in README
    assert "](CHANGELOG.md)" in README


def test_changelog_names_summary_fields_that_exist() -> None:
    from simdeploy.spec.metrics import SUMMARY_FIELDS

    named = set(re.findall(r"`(latency_\w+|errors_by_\w+|extra_cost|rollback_time_s)`", CHANGELOG))
    assert named, "the changelog names the summary fields it changed"
    assert named <= set(SUMMARY_FIELDS), named - set(SUMMARY_FIELDS)
