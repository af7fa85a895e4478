"""``simdeploy check`` results in the forms CI systems read: JUnit XML, GitHub annotations,
and the text that says how to reproduce a failure.

A front end's helper: it formats, the CLI writes. User text (scenario names, fields,
messages) goes into XML through :mod:`xml.etree.ElementTree`, which escapes it, and into
GitHub workflow commands with their own escaping (``%``, CR, LF; also ``:`` and ``,`` in
properties), so a name cannot inject markup or a second command.
"""

from __future__ import annotations

import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simdeploy.experiments.gate import AnyCheck
from simdeploy.experiments.policy_gate import PolicyCheck
from simdeploy.spec.manifests.documents import read_documents


@dataclass
class FileReport:
    """One scenario file's checks, the records of its runs and its seeds."""

    file: str
    name: str
    checks: list[AnyCheck]
    records: list[dict[str, Any]]
    seeds: list[int]
    #: expectation field → line in the file (for annotations)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[AnyCheck]:
        return [c for c in self.checks if not c.passed]


def expectation_lines(path: str | Path) -> dict[str, int]:
    """The line of each key of the file's ``expect:`` block, by the name its check has
    (``downtime_s``, ``policy.falseRollbackRate``, ``policy.detects[1]``); empty if the file
    cannot be read."""
    docs, _ = read_documents(Path(path))
    if not docs:
        return {}
    out = {}
    for key, line in docs[0].lines.items():
        if key[:1] != ("expect",) or len(key) < 2:
            continue
        if len(key) == 2:
            out[str(key[1])] = line
        elif key[1] == "policy" and len(key) == 3:
            out[f"policy.{key[2]}"] = line
        elif key[1:3] == ("policy", "detects") and len(key) == 4 and isinstance(key[3], int):
            out[f"policy.detects[{key[3]}]"] = line
    return out


def failure_detail(report: FileReport, check: AnyCheck) -> list[str]:
    """What a failed expectation needs to be looked into: expected and actual, the errors by
    cause of the seed that shows it, the seed and the command that reproduces it (for a
    policy expectation: the seeds that rolled back a good release or missed a bad one, and
    the ``simdeploy policy`` command of its release)."""
    if isinstance(check, PolicyCheck):
        seeds = ", ".join(str(s) for s in check.failed_seeds[:10])
        more = " ..." if len(check.failed_seeds) > 10 else ""
        return [
            f"expected {check.field} {check.expected}; {check.evidence}",
            f"seeds to look at: {seeds}{more}" if seeds else "no single seed shows it",
            f"reproduce: {check.command(report.file)}",
        ]
    seed = check.failed_seeds[0] if check.failed_seeds else report.seeds[0]
    record = report.records[report.seeds.index(seed)]
    causes = record.get("errors_by_cause") or {}
    errors = ", ".join(f"{cause} {int(n):,}" for cause, n in causes.items() if n) or "none"
    command = shlex.join(["simdeploy", "run", report.file, "--seed", str(seed)])
    return [
        f"expected {check.field} {check.expected}; {check.evidence}",
        f"errors by cause (seed {seed}): {errors}",
        f"reproduce: {command}",
    ]


def junit_xml(reports: list[FileReport]) -> str:
    """One ``testsuite`` per scenario file, one ``testcase`` per expectation; a failed one
    carries the evidence as its message and the detail as its text."""
    root = ET.Element("testsuites", name="simdeploy check")
    for report in reports:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=report.file,
            tests=str(len(report.checks)),
            failures=str(len(report.failed)),
        )
        for check in report.checks:
            case = ET.SubElement(suite, "testcase", classname=report.file, name=check.field)
            if not check.passed:
                failure = ET.SubElement(
                    case, "failure", message=f"{check.field} {check.expected}: {check.evidence}"
                )
                failure.text = "\n".join(failure_detail(report, check))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(report: FileReport) -> list[str]:
    """``::error file=...,line=...::`` for each failed expectation, at its line."""
    out = []
    for check in report.failed:
        where = f"file={_property(report.file)}"
        line = report.lines.get(check.field)
        if line is not None:
            where += f",line={line}"
        title = _property(f"simdeploy: {check.field}")
        message = _data("\n".join(failure_detail(report, check)))
        out.append(f"::error {where},title={title}::{message}")
    return out
