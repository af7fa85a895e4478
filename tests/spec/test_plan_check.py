"""The plan check (``plan_check.lint``) on the bundled scenarios, the live-version window,
the CLI's ``check`` output, and the validation messages of the database and flag sections.

The rules themselves are table-tested in tests/rules/ (test_plan_lint.py and its siblings);
here: phases, live versions, findings as the user sees them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from simdeploy import Scenario, load_scenario
from simdeploy.cli import main
from simdeploy.spec.base import ScenarioError
from simdeploy.spec.plan_check import lint, plan_phases
from tests.conftest import SCENARIOS, base_dict

ID = {"name": "id", "nullable": False, "default": True}
DB = {"tables": {"users": {"rows": 1000, "columns": [ID, "name"]}}}


def rules(name: str) -> list[str]:
    return [f.rule for f in lint(load_scenario(SCENARIOS / f"{name}.yaml"))]


# --- the bundled scenarios --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("expand-contract", []),
        ("pgroll-rename", []),
        ("schema-change-at-once", ["ban-drop-column", "read-before-backfill"]),
        ("rename-during-rolling", ["renaming-column"]),
        ("not-null-too-early", ["ban-new-write-restriction"]),
        ("lock-queue", ["require-lock-timeout"]),
        ("lock-queue-timeout", []),
        ("blue-green-incompatible-data", ["rollback-incompatible-writes"]),
        ("flag-ramp", []),  # no database section
        ("dark-launch", []),
    ],
)
def test_lint_of_the_bundled_scenarios(name: str, expected: list[str]) -> None:
    assert rules(name) == expected


def test_a_drop_in_the_same_phase_as_the_deploy_names_the_phase() -> None:
    f, backfill = lint(load_scenario(SCENARIOS / "schema-change-at-once.yaml"))
    assert backfill.rule == "read-before-backfill" and backfill.phase == "deploy@1m"
    assert backfill.reason.startswith("v2 reads users.full_name, but some rows have none yet")
    assert f.phase == "change@1m"
    assert f.operation is not None
    assert "same phase as the deploy of v2" in f.reason
    assert "v1 still serves" in f.reason and "move it to a later phase" in f.reason
    assert str(f).startswith("[change@1m] ban-drop-column: ALTER TABLE users DROP COLUMN name ")


def test_findings_name_their_phase_and_version() -> None:
    (rename,) = lint(load_scenario(SCENARIOS / "rename-during-rolling.yaml"))
    assert rename.phase == "rename@1m" and "renamed to full_name" in rename.reason
    (lock,) = lint(load_scenario(SCENARIOS / "lock-queue.yaml"))
    assert lock.phase == "add-column@1m" and "without a lock_timeout" in lock.reason
    (bg,) = lint(load_scenario(SCENARIOS / "blue-green-incompatible-data.yaml"))
    assert bg.phase == "deploy@1m"
    assert bg.reason.startswith("v2 inserts users rows without name, which v1 reads")
    (restriction,) = lint(load_scenario(SCENARIOS / "not-null-too-early.yaml"))
    assert restriction.phase == "not-null@1m" and restriction.rule == "ban-new-write-restriction"
    assert "breaks v1" in restriction.reason and "NOT VALID" in restriction.reason


# --- live versions: running, plus the replaced one within rollbackWindow ------------------


def with_window(seconds: float) -> Scenario:
    sc = load_scenario(SCENARIOS / "expand-contract.yaml")
    assert sc.database is not None
    db = sc.database.model_copy(update={"rollback_window": seconds})
    return sc.model_copy(update={"database": db})


def test_live_versions_of_each_phase() -> None:
    phases = {p.name: [v.name for v in p.live] for p in plan_phases(with_window(180.0))}
    # backfill@3m: v2 runs, v1 (replaced at 1m) is still a rollback target;
    # contract@11m: v3 was replaced at 7m30s, 3m30s ago, beyond the 3m window.
    assert phases == {"expand@30s": ["v1"], "backfill@3m": ["v2", "v1"], "contract@11m": ["v4"]}


def test_a_contract_beyond_the_rollback_window_is_not_flagged() -> None:
    assert lint(with_window(180.0)) == []
    assert lint(with_window(209.0)) == []


def test_a_contract_within_the_rollback_window_is_flagged() -> None:
    (f,) = lint(with_window(240.0))
    assert f.phase == "contract@11m" and f.rule == "ban-drop-column"
    assert "breaks v3" in f.reason and "writes users.name, which was dropped" in f.reason
    assert [v.name for v in plan_phases(with_window(240.0))[-1].live] == ["v4", "v3"]


def test_a_contract_while_the_replaced_version_still_runs_is_flagged() -> None:
    sc = Scenario.parse(
        base_dict(
            database={**DB, "rollbackWindow": 0},
            versions={
                "v1": {"reads": {"users": ["id", "name"]}, "writes": {"users": ["id", "name"]}},
                "v2": {"reads": {"users": ["id"]}, "writes": {"users": ["id"]}},
            },
            plan=[
                {"at": "10s", "action": "deploy", "version": "v2"},
                {
                    "at": "12s",
                    "action": "migrate",
                    "name": "contract",
                    "lockTimeout": "2s",
                    "operations": [{"dropColumn": {"table": "users", "column": "name"}}],
                },
            ],
        )
    )
    # v1 pods serve until about 30 s (simulate() reports schema errors in "contract").
    assert "ban-drop-column" in [f.rule for f in lint(sc)]


# --- the CLI ------------------------------------------------------------------------------


def short_file(tmp_path: Path, name: str) -> Path:
    """A bundled scenario at 50 req/s for 90 s (its plan moved to 30 s), with its expect."""
    data = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    data["traffic"]["rate"] = 50
    data["simulation"]["duration"] = "90s"
    for a in data["plan"]:
        a["at"] = "30s"
    f = tmp_path / f"{name}.yaml"
    f.write_text(yaml.safe_dump(data))
    return f


def test_cli_check_prints_one_plan_line_per_finding(tmp_path: Path, capsys: Any) -> None:
    f = short_file(tmp_path, "schema-change-at-once")
    assert main(["check", str(f)]) == 0
    out = capsys.readouterr().out.splitlines()
    plan = [line for line in out if ": plan: " in line]
    assert len(plan) == 2  # ban-drop-column, read-before-backfill
    assert plan[0].startswith(
        f"{f}: plan: [change@30s] ban-drop-column: ALTER TABLE users DROP COLUMN name runs in "
        "the same phase as the deploy of v2"
    )
    assert f"{f}: ok (4/4 expectations)" in out


def test_cli_check_json_includes_the_plan_findings(tmp_path: Path, capsys: Any) -> None:
    f = short_file(tmp_path, "schema-change-at-once")
    assert main(["check", str(f), "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["passed"] is True
    finding, backfill = report["plan_findings"]
    assert backfill["rule"] == "read-before-backfill"
    assert finding["phase"] == "change@30s"
    assert finding["rule"] == "ban-drop-column"
    assert "same phase as the deploy of v2" in finding["reason"]
    assert {c["field"] for c in report["checks"]} >= {"plan_findings", "schema_errors"}


def test_cli_check_prints_no_plan_line_for_a_clean_plan(tmp_path: Path, capsys: Any) -> None:
    f = short_file(tmp_path, "lock-queue-timeout")
    assert main(["check", str(f)]) == 0
    assert ": plan: " not in capsys.readouterr().out


# --- bad input: one line, naming the field ------------------------------------------------

FLAG = {"new-checkout": {"rollout": 0}}
ADD_X = {"addColumn": {"table": "users", "column": "x"}}


def migrate_ops(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"database": DB, "plan": [{"at": "10s", "action": "migrate", "operations": list(ops)}]}


@pytest.mark.parametrize(
    ("over", "message"),
    [
        pytest.param(
            {
                "flags": FLAG,
                "plan": [{"at": "10s", "action": "flag", "flag": "new-chekout", "rollout": 5}],
            },
            "plan[0].flag: unknown flag 'new-chekout'; did you mean 'new-checkout'?",
            id="unknown-flag",
        ),
        pytest.param(
            {"flags": FLAG, "plan": [{"at": "10s", "action": "flag", "flag": "zzz", "kill": True}]},
            "plan[0].flag: unknown flag 'zzz'; known: new-checkout",
            id="unknown-flag-no-match",
        ),
        pytest.param(
            {"plan": [{"at": "10s", "action": "flag", "flag": "zzz", "kill": True}]},
            "plan[0].flag: unknown flag 'zzz'; none are defined",
            id="unknown-flag-none-defined",
        ),
        pytest.param(
            {"plan": [{"at": "10s", "action": "migrate", "operations": [ADD_X]}]},
            "plan[0]: migrate needs a database section",
            id="migrate-without-database",
        ),
        pytest.param(
            {"plan": [{"at": "10s", "action": "complete"}]},
            "plan[0]: complete needs a database section",
            id="complete-without-database",
        ),
        pytest.param(
            migrate_ops({**ADD_X, "dropColumn": {"table": "users", "column": "name"}}),
            "plan[0].operations[0]: an operation has exactly one kind (addColumn, dropColumn, ...)",
            id="two-kinds",
        ),
        pytest.param(
            {
                "database": {
                    **DB,
                    "longTransactions": [
                        {"at": "1s", "duration": "5s", "table": "users", "lock": "SHARED"}
                    ],
                }
            },
            "database.longTransactions[0].lock: unknown lock mode 'SHARED'; known: ACCESS SHARE, "
            "ROW SHARE, ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE, SHARE, SHARE ROW EXCLUSIVE, "
            "EXCLUSIVE, ACCESS EXCLUSIVE",
            id="unknown-lock-mode",
        ),
        pytest.param(
            {"flags": FLAG, "plan": [{"at": "10s", "action": "flag", "flag": "new-checkout"}]},
            "plan[0]: flag needs 'flag' and 'rollout' or 'kill'",
            id="flag-without-rollout-or-kill",
        ),
        pytest.param(
            migrate_ops(
                {
                    "addConstraint": {
                        "table": "users",
                        "name": "c",
                        "check": "name",
                        "foreignKey": "name",
                        "references": "orgs",
                    }
                }
            ),
            "plan[0].operations[0].addConstraint: give exactly one of check or foreignKey",
            id="check-and-foreign-key",
        ),
        pytest.param(
            {"flags": {"new-checkout": {"versions": ["v1", "v3"]}}},
            "flags.new-checkout.versions: unknown version 'v3'; known: v1, v2",
            id="unknown-flag-version",
        ),
        pytest.param(
            {"flags": {"new-checkout": {"rolout": 5}}},
            "flags.new-checkout.rolout: unknown field; did you mean 'rollout'?",
            id="flag-typo",
        ),
        pytest.param(
            migrate_ops({"addColumns": {"table": "users", "column": "x"}}),
            "plan[0].operations[0].addColumns: unknown field; did you mean 'addColumn'?",
            id="operation-typo",
        ),
        pytest.param(
            {
                "database": DB,
                "plan": [{"at": "10s", "action": "migrate", "pgroll": True, "operations": [ADD_X]}],
            },
            "plan[0]: a pgroll migration names the 'version' that sees the new schema",
            id="pgroll-without-version",
        ),
        pytest.param(
            {
                "flags": FLAG,
                "plan": [{"at": "10s", "action": "deploy", "version": "v2", "kill": True}],
            },
            "plan[0]: flag, rollout and kill belong to a flag action",
            id="kill-on-a-deploy",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_field(over: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(base_dict(**over))
    assert exc.value.errors == [message]


def test_add_column_not_null_without_default_is_a_validation_error() -> None:
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(
            base_dict(
                **migrate_ops({"addColumn": {"table": "users", "column": "x", "nullable": False}})
            )
        )
    (line,) = exc.value.errors
    assert line.startswith("plan[0].operations[0].addColumn")
