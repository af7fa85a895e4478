"""``simdeploy check`` for CI: JUnit XML, GitHub annotations at the expectation's line,
reproduce commands, and ``--seeds N --require all|mean``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simdeploy.cli import main
from tests.conftest import base_dict

# Recreate's downtime (about 3.5 s here) fails `downtime_s: "<= 1"` and `errors: 0`; the
# outcome holds. The expect: keys are on lines 3, 4, 5 of the file written below.
EXPECT = 'expect:\n  downtime_s: "<= 1"\n  errors: 0\n  outcome: completed\n'


def failing(folder: Path, name: str = "gate.yaml") -> Path:
    import yaml

    data = base_dict(simulation={"duration": "40s"})
    data["service"]["strategy"] = {"type": "Recreate"}
    path = folder / name
    path.write_text("# a gate\n" + EXPECT + yaml.safe_dump(data))
    return path


def test_junit_has_one_testcase_per_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = failing(tmp_path)
    report = tmp_path / "out" / "junit.xml"
    assert main(["check", str(path), "--junit", str(report)]) == 1
    root = ET.parse(report).getroot()
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["downtime_s", "errors", "outcome"]
    assert cases["outcome"].find("failure") is None
    failure = cases["errors"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("errors == 0: got ")
    assert f"reproduce: simdeploy run {path} --seed 3" in (failure.text or "")
    assert "errors by cause (seed 3): " in (failure.text or "")
    capsys.readouterr()


def test_github_annotations_point_at_the_expectations_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A path with a comma and a colon: escaped in the annotation's properties.
    folder = tmp_path / "a,b:c"
    folder.mkdir()
    path = failing(folder)
    assert main(["check", str(path), "--format", "github"]) == 1
    out = capsys.readouterr().out.splitlines()
    notes = [line for line in out if line.startswith("::error ")]
    escaped = str(path).replace(",", "%2C").replace(":", "%3A")
    assert [n.split("::")[1] for n in notes] == [
        f"error file={escaped},line=3,title=simdeploy%3A downtime_s",
        f"error file={escaped},line=4,title=simdeploy%3A errors",
    ]
    assert all("%0Areproduce: simdeploy run " in n for n in notes)  # one line each


def test_several_seeds_and_the_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = failing(tmp_path)
    assert main(["check", str(path), "--seeds", "3", "--require", "mean", "--json"]) == 1
    (report,) = json.loads(capsys.readouterr().out)
    assert report["seeds"] == [3, 4, 5] and report["require"] == "mean"
    downtime = report["checks"][0]
    assert downtime["field"] == "downtime_s" and not downtime["passed"]
    assert len(downtime["values"]) == 3
    low, high = downtime["ci95"]
    assert low <= downtime["actual"] <= high
    assert main(["check", str(path), "--seeds", "3"]) == 1
    out = capsys.readouterr().out
    assert f"{path}: FAIL (1/3 expectations, 3 seeds)" in out
    assert "FAIL errors == 0 (failed on 3 of 3 seeds: seed 3: " in out


def test_bad_gate_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = failing(tmp_path)
    assert main(["check", str(path), "--require", "most"]) == 2
    assert main(["check", str(path), "--seeds", "0"]) == 2
    assert main(["check", str(path), "--junit", str(tmp_path)]) == 2  # a folder
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--junit" in err


def test_policy_expectations_in_check_junit_and_annotations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # canary-analysis rolls back a 5% release every time, two failed measurements 20 s apart
    # after the canary's first request: so never within 10 s (tests/run/test_policy_gate.py).
    import yaml

    from tests.conftest import SCENARIOS

    data = yaml.safe_load((SCENARIOS / "canary-analysis.yaml").read_text())
    del data["expect"]
    policy = (
        "expect:\n"
        "  policy:\n"
        "    seeds: 3\n"
        '    falseRollbackRate: "<= 0.1"\n'  # line 5
        "    detects:\n"
        '      - {errorRate: 0.05, probability: ">= 0.9", within: 2m}\n'  # line 7
        '      - {errorRate: 0.05, probability: ">= 0.9", within: 10s}\n'  # line 8
    )
    path = tmp_path / "policy.yaml"
    path.write_text("# a policy gate\n" + policy + yaml.safe_dump(data))
    report = tmp_path / "junit.xml"
    code = main(["check", str(path), "--format", "github", "--junit", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{path}: FAIL (2/3 expectations, " not in out  # no runs of the file's own
    assert f"{path}: FAIL (2/3 expectations)" in out
    assert (
        "FAIL policy.detects[1] errorRate 0.05 rolled back within 10 s with probability >= 0.9 "
        "(rolled back within 10 s in 0 of 3 runs: 0, Wilson 95% CI [0, 0.561])"
        in out  # 3.8415 / 6.8415
    )
    assert f"reproduce: simdeploy policy {path} --regressions 0.05 --kind errors --seeds 3" in out
    notes = [line for line in out.splitlines() if line.startswith("::error ")]
    assert len(notes) == 1 and ",line=8," in notes[0]
    cases = {c.get("name"): c for c in ET.parse(report).getroot().iter("testcase")}
    assert list(cases) == ["policy.falseRollbackRate", "policy.detects[0]", "policy.detects[1]"]
    assert [c.find("failure") is None for c in cases.values()] == [True, True, False]
    assert main(["check", str(path), "--json"]) == 1
    (entry,) = json.loads(capsys.readouterr().out)
    fields = {c["field"]: c for c in entry["checks"]}
    assert fields["policy.falseRollbackRate"]["values"] == [0, 0, 0]
    assert fields["policy.detects[0]"]["actual"] == 1.0
