"""``simdeploy import``: manifests written out as a complete scenario file to edit.

The manifests are read as ``manifests:`` reads them (:mod:`.expand`), and what they give
(``service:``, ``analysisTemplates:``) is written inline, followed by a starter traffic,
versions, plan, simulation and ``expect:`` block. What was not simulated, skipped or
inferred is listed in comments at the top. The text validates and runs as written, with the
same summary as a scenario that names the same manifests under ``manifests:`` and has the
same starter blocks (tests/spec/test_manifests_import.py checks both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from simdeploy.spec.base import ScenarioError
from simdeploy.spec.manifests.documents import shown
from simdeploy.spec.manifests.expand import expand_manifests

#: The starter blocks, written after the manifests' sections (edit them).
STARTER: dict[str, Any] = {
    "versions": {"v1": {}, "v2": {}},
    "traffic": {"rate": 50, "users": 1000},
    "plan": [{"at": "30s", "action": "deploy", "version": "v2"}],
    "simulation": {"duration": "5m", "seed": 1},
    "expect": {"outcome": "completed", "errors": 0},
}
_COMMENTS = {
    "name": "from the workload's metadata.name",
    "service": "read from the manifests (see the notes above)",
    "analysisTemplates": "read from the AnalysisTemplate manifests, bound to simulator queries",
    "versions": "starter: the version running at t=0, then the release (image tags are not "
    "versions)",
    "traffic": "starter: requests per second and distinct users",
    "plan": "starter: deploy v2 30 s in",
    "simulation": "starter",
    "expect": "starter: what the CI gate asserts (simdeploy check)",
}


def import_scenario(paths: list[str | Path]) -> tuple[str, list[str], list[str]]:
    """(the scenario file's text, warnings, notes) for the manifests at ``paths``.

    Raises :class:`ScenarioError` with the manifests' problems, one line each.
    """
    patterns = [str(Path(p).resolve()) for p in paths]
    expansion = expand_manifests({"manifests": patterns, **STARTER}, Path.cwd())
    if expansion.problems:
        raise ScenarioError(expansion.problems)
    data = {k: v for k, v in expansion.data.items() if k != "manifests"}
    if isinstance(data.get("service"), dict) and "version" in data["service"]:
        service = data["service"]  # the version running at t=0 first
        data["service"] = {"version": service["version"], **service}
    ordered = {k: data[k] for k in ("name", "service", "analysisTemplates") if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    lines = [
        "# A simdeploy scenario imported from:",
        *(f"#   {shown(Path(p))}" for p in patterns),
        "# Edit the starter blocks (versions, traffic, plan, expect); `simdeploy check` runs it.",
    ]
    if expansion.warnings:
        lines.append("# Not simulated (ignored):")
        lines += [f"#   {w}" for w in expansion.warnings]
    notes = [n for n in expansion.notes if not n.startswith("service.version:")]
    if notes:
        lines.append("# Notes:")
        lines += [f"#   {n}" for n in notes]
    for key, value in ordered.items():
        lines.append("")
        if key in _COMMENTS:
            lines.append(f"# {_COMMENTS[key]}")
        lines.append(yaml.safe_dump({key: value}, sort_keys=False, width=100).rstrip())
    return "\n".join(lines) + "\n", expansion.warnings, expansion.notes
