"""The CLI through ``main(argv)``: outputs, JSON contracts, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from simdeploy.cli import main
from simdeploy.spec.metrics import SUMMARY_FIELDS
from tests.conftest import base_dict


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    f = tmp_path / "small.yaml"
    f.write_text(yaml.safe_dump(base_dict(simulation={"duration": "40s", "seed": 3})))
    return f


def write(tmp_path: Path, name: str, data: dict) -> Path:
    f = tmp_path / name
    f.write_text(yaml.safe_dump(data))
    return f


def test_run_json_has_every_summary_field(small_file: Path, capsys) -> None:
    assert main(["run", str(small_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(SUMMARY_FIELDS) <= set(out)
    assert out["name"] == "small" and out["seed"] == 3
    assert isinstance(out["errors_by_cause"], dict)


def test_run_table_csv_and_plot(small_file: Path, tmp_path: Path, capsys) -> None:
    csv, events, png = tmp_path / "t.csv", tmp_path / "e.csv", tmp_path / "o" / "t.png"
    code = main(
        ["run", str(small_file), "--csv", str(csv), "--events", str(events), "--plot", str(png)]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "downtime_s" in text and "rollback_time_s" in text
    assert csv.read_text().startswith("t,requests,")
    assert "reason" in events.read_text().splitlines()[0]
    assert png.stat().st_size > 1000


def test_run_seed_override_changes_result(small_file: Path, capsys) -> None:
    main(["run", str(small_file), "--json", "--seed", "4"])
    a = json.loads(capsys.readouterr().out)
    main(["run", str(small_file), "--json"])
    b = json.loads(capsys.readouterr().out)
    assert a["seed"] == 4 and a["requests"] != b["requests"]


def test_compare_json_one_object_per_variant(tmp_path: Path, capsys) -> None:
    f = write(
        tmp_path,
        "cmp.yaml",
        base_dict(
            simulation={"duration": "40s"},
            compare={
                "recreate": {"type": "Recreate"},
                "rolling": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
                },
            },
        ),
    )
    assert main(["compare", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["name"] for o in out] == ["recreate", "rolling"]
    assert out[0]["downtime_s"] > 0 and out[1]["downtime_s"] == 0
    assert out[0]["requests"] == out[1]["requests"]  # common random numbers
    assert set(SUMMARY_FIELDS) <= set(out[0])


def test_compare_seeds_gives_mean_and_ci(tmp_path: Path, capsys) -> None:
    f = write(tmp_path, "cmp.yaml", base_dict(simulation={"duration": "30s"}))
    assert main(["compare", str(f), "--seeds", "3", "--json"]) == 0
    (obj,) = json.loads(capsys.readouterr().out)
    low, high = obj["requests_ci95"]
    assert low < obj["requests"] < high
    assert obj["runs"] == 3
    assert obj["rollback_time_s_ci95"] is None  # no rollback in any run


def test_compare_several_files_table(small_file: Path, tmp_path: Path, capsys) -> None:
    other = write(tmp_path, "other.yaml", base_dict(name="other", simulation={"duration": "40s"}))
    png = tmp_path / "cmp.png"
    assert main(["compare", str(small_file), str(other), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "small" in text and "other" in text and "downtime_s" in text
    assert png.stat().st_size > 1000


def test_check_passes_and_fails(tmp_path: Path, capsys) -> None:
    good = write(
        tmp_path,
        "good.yaml",
        base_dict(
            simulation={"duration": "40s"},
            expect={"downtime_s": 0, "outcome": "completed", "errors_by_cause.no_endpoint": "<= 0"},
        ),
    )
    assert main(["check", str(good)]) == 0
    assert "ok (3/3" in capsys.readouterr().out
    bad = write(
        tmp_path,
        "bad.yaml",
        base_dict(
            simulation={"duration": "40s"},
            expect={"downtime_s": "> 1", "outcome": "rolled_back", "errors": {"max": 10}},
        ),
    )
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAIL downtime_s > 1.0 (got 0" in out
    assert "FAIL outcome == rolled_back (got completed)" in out
    assert "errors" not in out.split("FAIL outcome")[1]  # errors passed, not listed


def test_check_json(tmp_path: Path, capsys) -> None:
    f = write(tmp_path, "f.yaml", base_dict(simulation={"duration": "30s"}, expect={"errors": 0}))
    assert main(["check", str(f), "--json"]) == 0
    (rep,) = json.loads(capsys.readouterr().out)
    assert rep["passed"] is True and rep["checks"][0]["field"] == "errors"


def test_validate_and_schema(small_file: Path, capsys) -> None:
    assert main(["validate", str(small_file)]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Scenario"


@pytest.mark.parametrize(
    ("argv_tail", "data", "message"),
    [
        pytest.param(
            ["run"],
            {"service": {"version": "v1", "replica": 2}, "versions": {"v1": {}}},
            "service.replica: unknown field; did you mean 'replicas'?",
            id="typo",
        ),
        pytest.param(
            ["validate"],
            {"service": {"version": "v9"}, "versions": {"v1": {}}},
            "service.version: unknown version 'v9'",
            id="bad-version",
        ),
        pytest.param(
            ["check"],
            {"service": {"version": "v1"}, "versions": {"v1": {}}, "expect": {"downtime": 0}},
            "expect.downtime: unknown summary field; did you mean 'downtime_s'?",
            id="expect-typo",
        ),
        pytest.param(
            ["compare"],
            {
                "service": {
                    "version": "v1",
                    "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}},
                },
                "versions": {"v1": {}},
            },
            "service.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: "
            "may not be 0 when `maxSurge` is 0",
            id="both-zero",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys, argv_tail, data, message) -> None:
    f = write(tmp_path, "bad.yaml", data)
    assert main([*argv_tail, str(f)]) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0] and lines[0].startswith("simdeploy: error: ")
    assert "Traceback" not in cap.err


def test_missing_file_exits_2(capsys) -> None:
    assert main(["run", "does-not-exist.yaml"]) == 2
    assert "no such scenario file" in capsys.readouterr().err


def test_bad_option_exits_2(capsys, small_file: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(small_file), "--seeds", "many"])
    assert exc.value.code == 2
    assert main(["compare", str(small_file), "--seeds", "0"]) == 2
    assert "--seeds: must be at least 1" in capsys.readouterr().err


def test_module_entry_point(small_file: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "simdeploy", "validate", str(small_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
