"""The CLI through ``main(argv)``: outputs, JSON contracts, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from simdeploy import Scenario, ScenarioError, load_scenario, simulate
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
    assert "FAIL downtime_s > 1 (got 0" in out
    assert "FAIL outcome == rolled_back (got completed)" in out
    assert "FAIL errors" not in out  # errors passed, not listed
    # Each failure says how to reproduce it.
    assert out.count(f"reproduce: simdeploy run {bad} --seed 3") == 2


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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "{f}", "--seeds", "many"], "argument --seeds: expected an integer >= 1"),
        (["compare", "{f}", "--seeds", "0"], "argument --seeds: expected an integer >= 1"),
        (["compare", "{f}", "--seeds", "1000000"], "and <= 1,000, got '1000000'"),
        (["compare", "{f}", "--jobs", "-1"], "argument --jobs: expected an integer >= 1"),
        (["run", "{f}", "--seed", "-1"], "argument --seed: expected an integer >= 0, got '-1'"),
        (["check", "{f}", "--seed", "1.5"], "argument --seed: expected an integer >= 0"),
        (["run", "{f}", "--plot", "{d}/out.xyz"], "--plot: {d}/out.xyz: cannot write a figure"),
        (["run", "{f}", "--plot", "{d}/noext"], "--plot: {d}/noext: cannot write a figure"),
        (["compare", "{f}", "--plot", "{d}/c.pgf"], "--plot: {d}/c.pgf: cannot write a figure"),
        (["run", "{f}", "--csv", "{d}"], "--csv: {d}: is a directory"),
        (["run", "{f}", "--events", "{d}"], "--events: {d}: is a directory"),
        (["compare", "{f}", "--csv", "{d}"], "--csv: {d}: is a directory"),
        (["run", "{f}", "--csv", "{f}/t.csv"], "--csv: {f}/t.csv: {f} is a file, not a folder"),
        (["run", "{f}", "--events", ""], "--events: expected a file path"),
        (["run", "{d}"], "{d}: is a directory, not a scenario file"),
        (["bogus"], "argument command: invalid choice: 'bogus'"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_bad_option_exits_2_naming_the_option(
    argv: list[str], message: str, small_file: Path, tmp_path: Path, capsys
) -> None:
    """Every bad option is one line on stderr naming the option (and the path), exit 2,
    returned by main() (argparse's own exit is caught), and nothing is written."""
    fill = {"f": str(small_file), "d": str(tmp_path)}
    assert main([a.format(**fill) for a in argv]) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    assert lines[0].startswith("simdeploy: error: ") and message.format(**fill) in lines[0]
    assert "Traceback" not in cap.err and cap.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def test_output_options_checked_before_the_run(small_file: Path, tmp_path: Path, capsys) -> None:
    """A bad --plot fails at once, before the simulation: --csv is not written either."""
    csv = tmp_path / "t.csv"
    assert main(["run", str(small_file), "--csv", str(csv), "--plot", str(tmp_path / "x")]) == 2
    assert not csv.exists()
    assert "--plot" in capsys.readouterr().err


def test_help_returns_0(capsys) -> None:
    assert main(["--help"]) == 0
    assert "validate" in capsys.readouterr().out


def test_validate_reports_each_file(small_file: Path, tmp_path: Path, capsys) -> None:
    """Good files get their ok line, each bad file its own error lines; exit 2 if any is bad."""
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(small_file.read_text().replace("small", "caf\xe9").encode("latin-1"))
    dup = tmp_path / "dup.yaml"
    dup.write_text(small_file.read_text() + "name: again\n")
    files = [small_file, latin1, dup, small_file]
    assert main(["validate", *map(str, files)]) == 2
    cap = capsys.readouterr()
    assert cap.out.splitlines() == [f"{small_file}: ok (small, 1 plan actions)"] * 2
    err = cap.err.splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"simdeploy: error: {latin1}: not UTF-8 text: byte 0xe9 at line")
    assert err[1].startswith(f"simdeploy: error: {dup}: name: duplicate key (lines 1 and ")


MARKUP = "[/bold] [red]x :smile: $x^$ \\[b]"


def test_user_text_is_never_markup(tmp_path: Path, capsys) -> None:
    """Rich markup, emoji codes and mathtext in names, variant keys and paths are printed
    (and drawn) as written by run, compare, check and validate: no MarkupError, no emoji,
    no mathtext parse error."""
    folder = tmp_path / "[b] [red] :x:"
    folder.mkdir()
    f = write(
        folder,
        "m.yaml",
        base_dict(
            name=MARKUP,
            simulation={"duration": "20s"},
            compare={MARKUP: {"type": "Recreate"}, "$a$ [/]": {"type": "RollingUpdate"}},
            expect={"errors": ">= 0", "downtime_s": "< 0"},
        ),
    )
    assert main(["validate", str(f)]) == 0
    assert capsys.readouterr().out == f"{f}: ok ({MARKUP}, 1 plan actions)\n"
    assert main(["run", str(f), "--plot", str(tmp_path / "t.png")]) == 0
    assert f"{MARKUP} (seed 3)" in capsys.readouterr().out
    assert main(["compare", str(f), "--plot", str(tmp_path / "c.svg")]) == 0
    out = capsys.readouterr().out
    assert MARKUP in out and "$a$ [/]" in out
    assert (tmp_path / "t.png").stat().st_size > 1000 and (tmp_path / "c.svg").exists()
    assert main(["check", str(f)]) == 1
    out = capsys.readouterr().out
    assert f"{f}: FAIL (1/2 expectations)" in out and "FAIL downtime_s < 0 (got" in out
    assert main(["run", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == MARKUP


def test_error_lines_are_not_markup(tmp_path: Path, capsys) -> None:
    """A file path with brackets and a message quoting user text come out verbatim."""
    folder = tmp_path / "[bold]x[red]"
    folder.mkdir()
    f = write(folder, "a.yaml", base_dict(service={"version": "[/v9]"}))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}: service.version: unknown version '[/v9]'" in err


@pytest.mark.parametrize(
    ("over", "line"),
    [
        ({"traffic": {"rate": float("inf")}}, "traffic.rate: Input should be a finite number"),
        ({"simulation": {"bucket": 1e-9}}, "simulation.bucket: too large to simulate: "),
        ({"service": {"replicas": -1}}, "service.replicas: Input should be greater than or equal"),
    ],
    ids=["rate-inf", "bucket-1e-9", "replicas-negative"],
)
def test_library_raises_the_line_the_cli_prints(
    over: dict, line: str, tmp_path: Path, capsys
) -> None:
    """The CLI prints ``simdeploy: error: `` + each line of the library's ScenarioError:
    from ``load_scenario`` (with the path), and from ``simulate`` on a ``model_copy`` that
    holds the same bad value (without a path: no file)."""
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(base_dict(**over)))
    assert main(["validate", str(f)]) == 2
    printed = capsys.readouterr().err.splitlines()
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    assert printed == [f"simdeploy: error: {e}" for e in exc.value.errors]
    assert printed[0].startswith(f"simdeploy: error: {f}: {line}")

    good = Scenario.parse(base_dict())
    section, values = next(iter(over.items()))
    copy = good.model_copy(
        update={section: getattr(good, section).model_copy(update=values)}
    )  # skips validation
    with pytest.raises(ScenarioError) as exc:
        simulate(copy)
    assert [f"{f}: {e}" for e in exc.value.errors] == [
        p.removeprefix("simdeploy: error: ") for p in printed
    ]


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


def test_sweep_prints_one_row_per_point_and_writes_csv(tmp_path: Path, capsys) -> None:
    f = write(tmp_path, "s.yaml", base_dict(simulation={"duration": "40s"}))
    out_csv = tmp_path / "sweep.csv"
    cache = ["--cache", str(tmp_path / "cache")]
    path = "service.pod.lifecycle.preStop.sleep.seconds"
    assert (
        main(
            ["sweep", str(f), "--set", f"{path}=0,3", "--seeds", "2", "--csv", str(out_csv), *cache]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "sweep of small: 2 rows, 2 seed(s) each" in out
    rows = out_csv.read_text().splitlines()
    assert rows[0].startswith(f"{path},variant,")
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "3"]
    assert main(["sweep", str(f), "--set", f"{path}=0", "--json", *cache, "--resume"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row[path] == 0 and row["variant"] == "small"


def test_sweep_bad_input_exits_2_naming_path_and_value(tmp_path: Path, capsys) -> None:
    f = write(tmp_path, "s.yaml", base_dict())
    assert main(["sweep", str(f), "--set", "service.replica=3"]) == 2
    assert main(["sweep", str(f), "--set", "service.replicas"]) == 2
    assert main(["sweep", str(f)]) == 2  # nothing to sweep
    err = capsys.readouterr().err
    assert "simdeploy: error: --set service.replica: unknown field; did you mean" in err
    assert "--set service.replicas: expected PATH=V1,V2" in err
    assert "Traceback" not in err


def test_an_unknown_set_path_is_one_line_naming_set(tmp_path: Path, capsys) -> None:
    """``--set service.nope=1,2``: the path is wrong whatever the value, said once, for
    sweep and report alike."""
    f = write(tmp_path, "s.yaml", base_dict())
    for command in (["sweep"], ["report", "-o", str(tmp_path / "r.html")]):
        assert main([*command, str(f), "--set", "service.nope=1,2"]) == 2
        err = capsys.readouterr().err
        assert err.count("unknown field") == 1, err
        assert "simdeploy: error: --set service.nope: unknown field; known: " in err
    assert not (tmp_path / "r.html").exists()


def test_sweep_takes_the_files_sweep_block(tmp_path: Path, capsys) -> None:
    f = write(tmp_path, "s.yaml", base_dict(sweep={"service.replicas": [2, 4]}))
    cache = ["--cache", str(tmp_path / "cache")]
    assert main(["sweep", str(f), "--json", *cache]) == 0
    assert [r["service.replicas"] for r in json.loads(capsys.readouterr().out)] == [2, 4]
    assert main(["sweep", str(f), "--set", "service.replicas=3", "--json", *cache]) == 0
    assert [r["service.replicas"] for r in json.loads(capsys.readouterr().out)] == [3]
    plain = write(tmp_path, "p.yaml", base_dict())
    assert main(["sweep", str(plain)]) == 2
    assert "nothing to sweep" in capsys.readouterr().err


def test_sweep_dask_option_is_checked(tmp_path: Path, capsys) -> None:
    f = write(tmp_path, "s.yaml", base_dict(simulation={"duration": "30s"}))
    args = ["sweep", str(f), "--set", "service.replicas=2", "--cache", str(tmp_path / "c")]
    assert main([*args, "--dask", "kubernetes"]) == 2
    assert "--dask 'kubernetes': expected 'local' or a scheduler address" in capsys.readouterr().err


def test_sweep_writes_parquet_with_mixed_values_as_text(tmp_path: Path, capsys) -> None:
    import pandas as pd

    f = write(tmp_path, "s.yaml", base_dict(simulation={"duration": "30s"}))
    out = tmp_path / "out" / "sweep.parquet"
    path = "service.strategy.rollingUpdate.maxSurge"
    args = ["sweep", str(f), "--set", f"{path}=1,25%", "--parquet", str(out)]
    assert main([*args, "--cache", str(tmp_path / "c"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    table = pd.read_parquet(out)
    assert list(table[path]) == ["1", "25%"]  # an int and a percent: kept as written
    assert list(table.columns) == list(rows[0])
    assert table["errors"].tolist() == [r["errors"] for r in rows]
    assert main(["sweep", str(f), "--set", f"{path}=1", "--parquet", str(tmp_path)]) == 2
    assert "--parquet" in capsys.readouterr().err


def test_policy_prints_a_row_per_regression_and_checks_its_input(tmp_path: Path, capsys) -> None:
    f = "scenarios/canary-analysis.yaml"
    png = tmp_path / "oc.png"
    args = ["policy", f, "--regressions", "0,0.05", "--seeds", "2"]
    assert main([*args, "--json", "--plot", str(png)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["regression"] for r in rows] == [0, 0.05]
    assert set(rows[0]) >= {"p_rollback", "p_rollback_ci95", "p_promote", "time_to_detect_s"}
    assert rows[1]["p_rollback"] == 1.0 and png.stat().st_size > 0
    assert main(["policy", f, "--regressions", "0,1.5"]) == 2
    assert main(["policy", f, "--regressions", "0,x"]) == 2
    assert main(["policy", f, "--seeds", "1"]) == 2
    assert main(["policy", "scenarios/recreate.yaml", "--seeds", "2"]) == 2
    err = capsys.readouterr().err
    assert "regressions[1]: 1.5 is outside [0, 1)" in err
    assert "--regressions: 'x' is not a number" in err
    assert "can never roll a release back" in err
    assert "Traceback" not in err
