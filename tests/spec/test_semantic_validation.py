"""Semantic validation: values as upstream validates them, references checked when the file is
validated, every independent problem in one pass.

The bad files are ``tests/bad/semantic-*.yaml`` (the bad-file table's format: each starts with
``# expect: <substring of an error line>`` lines); here each must fail with exactly one line per
``# expect:`` line, so a file with five mistakes shows five lines and a file with one shows
one (no line derived from another). The upstream rows below carry the names of Argo Rollouts'
own tests (``pkg/apis/rollouts/validation/validation_test.go``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from simdeploy import ScenarioError, load_scenario
from simdeploy.spec import base
from simdeploy.spec.scenario import Scenario
from tests.conftest import ROOT, base_dict, errors_of

BAD = sorted((ROOT / "tests" / "bad").glob("semantic-*.yaml"))


def expected_lines(path: Path) -> list[str]:
    return [
        m.group(1).strip()
        for m in re.finditer(r"^# expect: (.+)$", path.read_text(encoding="utf-8"), re.M)
    ]


def test_the_table_covers_each_class() -> None:
    names = {p.stem.removeprefix("semantic-") for p in BAD}
    for cls in (
        "canary-max-surge-not-a-number",
        "canary-max-surge-negative",
        "canary-max-unavailable-over-100",
        "canary-both-zero",
        "canary-max-surge-boolean",
        "canary-set-canary-scale-weight",
        "canary-max-traffic-weight-without-router",
        "canary-starting-step-past-last",
        "flagger-threshold-zero",
        "flagger-max-weight-zero",
        "boolean-replicas",
        "metric-of-unknown",
        "migration-missing-table",
        "migration-missing-column",
        "migration-add-existing-column",
        "version-reads-missing-column",
        "complete-without-pgroll",
        "long-transaction-after-end",
        "expect-unknown-operator",
        "expect-nan-bound",
        "expect-unknown-outcome",
        "five-mistakes",
    ):
        assert cls in names


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_file_fails_with_one_line_per_mistake(path: Path) -> None:
    expected = expected_lines(path)
    assert expected, f"{path.name} has no '# expect:' line"
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    lines = [line.removeprefix(f"{path}: ") for line in exc.value.errors]
    assert all(line != err for line, err in zip(lines, exc.value.errors, strict=True))
    assert len(lines) == len(expected), lines
    for want in expected:
        assert any(want in line for line in lines), (want, lines)


# --- every independent problem in one pass ---------------------------------------------------


def test_several_unknown_keys_of_one_model_are_all_reported() -> None:
    errs = errors_of(service={"replicaz": 3, "minReadySecond": 1})
    assert errs == [
        "service.replicaz: unknown field; did you mean 'replicas'?",
        "service.minReadySecond: unknown field; did you mean 'minReadySeconds'?",
    ]


def test_a_broken_section_does_not_hide_a_reference_error_elsewhere() -> None:
    errs = errors_of(
        service={"pod": {"concurrency": 0}},
        plan=[{"at": "10s", "action": "deploy", "version": "v9"}],
        expect={"downtim_s": 0},
    )
    assert errs == [
        "service.pod.concurrency: Input should be greater than or equal to 1",
        "plan[0].version: unknown version 'v9'; known: v1, v2",
        "expect.downtim_s: unknown summary field; did you mean 'downtime_s'?",
    ]


def test_a_version_whose_entry_is_broken_is_still_a_known_name() -> None:
    # v2 fails on its own; the deploy of v2 must not be reported as an unknown version too.
    errs = errors_of(versions={"v2": {"errorRate": 2}})
    assert errs == ["versions.v2.errorRate: Input should be less than or equal to 1"]


def test_independent_rules_of_one_action_are_all_reported() -> None:
    errs = errors_of(plan=[{"at": "10s", "action": "rollback", "version": "v2", "retries": 2}])
    assert errs == [
        "plan[0]: rollback takes only 'at' (it acts on the last deploy or migration)",
        "plan[0]: operations, lockTimeout and retries belong to a migrate action",
    ]


def test_a_broken_plan_action_skips_the_schema_walk_instead_of_guessing() -> None:
    # The addTable action is broken, so a version reading that table is not "unknown": the
    # walk over the plan does not run on half a plan.
    db = {"tables": {"users": {"columns": ["id"]}}}
    errs = errors_of(
        database=db,
        versions={"v2": {"reads": {"orders": ["id"]}}},
        plan=[{"at": "5s", "action": "migrate", "operations": [{"addTable": {"tabel": "orders"}}]}],
    )
    assert errs == [
        "plan[0].operations[0].addTable.tabel: unknown field; did you mean 'table'?",
        "plan[0].operations[0].addTable.table: required field is missing",
    ]


# --- booleans are never numbers, anywhere -----------------------------------------------------


def _models(root: type[BaseModel]) -> list[type[base.Strict]]:
    seen: list[type[base.Strict]] = []
    todo: list[Any] = [root]
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and issubclass(tp, base.Strict):
            if tp in seen:
                continue
            seen.append(tp)
            todo += [f.annotation for f in tp.model_fields.values()]
        else:
            todo += [a for a in getattr(tp, "__args__", ()) if a is not None]
            meta = getattr(tp, "__metadata__", None)
            if meta is not None:
                todo.append(tp.__origin__)
    return seen


def _numeric_fields() -> list[tuple[type[base.Strict], str]]:
    out = []
    for model in _models(Scenario):
        for name, f in model.model_fields.items():
            leaves = base._leaves(f.annotation)
            if any(t in (int, float) for t in leaves) and bool not in leaves:
                out.append((model, f.alias or name))
    return out


NUMERIC = _numeric_fields()


def test_the_walk_finds_the_numeric_fields() -> None:
    found = {f"{m.__name__}.{a}" for m, a in NUMERIC}
    for field in ("Service.replicas", "ArgoCanary.maxSurge", "FlaggerAnalysis.threshold"):
        assert field in found
    assert len(found) > 60


@pytest.mark.parametrize(("model", "alias"), NUMERIC, ids=[f"{m.__name__}.{a}" for m, a in NUMERIC])
def test_a_boolean_is_rejected_by_every_numeric_field(model: type[BaseModel], alias: str) -> None:
    with pytest.raises(ValidationError) as exc:
        model.model_validate({alias: True})
    mine = [e for e in exc.value.errors() if e["loc"] == (alias,)]
    assert [e["msg"] for e in mine] == ["expected a number, got a boolean (true)"]


def test_a_field_that_takes_booleans_keeps_them() -> None:
    strategy = {"type": None, "rollingUpdate": None, "canary": {"dynamicStableScale": False}}
    sc = Scenario.parse(base_dict(service={"strategy": strategy}))
    assert sc.service.strategy.canary is not None
    assert sc.service.strategy.canary.dynamic_stable_scale is False


# --- Argo Rollouts' own validation rows (validation_test.go) ----------------------------------


def _canary(**block: Any) -> dict[str, Any]:
    block.setdefault("steps", [{"setWeight": 20}])
    return {
        "plan": [{"at": "10s", "action": "deploy", "version": "v2", "strategy": {"canary": block}}]
    }


def _bg(starting_step: int) -> dict[str, Any]:
    return {"templates": [{"templateName": "t"}], "startingStep": starting_step}


C = "plan[0].strategy.canary"
BOTH_ZERO = "MaxSurge and MaxUnavailable both can not be zero"


@pytest.mark.parametrize(
    ("surge", "unavailable", "shown"),
    [
        pytest.param(0, 0, "0", id="TestInvalidMaxSurgeMaxUnavailable/int-0-int-0"),
        pytest.param("0", 0, '"0"', id="TestInvalidMaxSurgeMaxUnavailable/str-0-int-0"),
        pytest.param("0%", 0, '"0%"', id="TestInvalidMaxSurgeMaxUnavailable/pct-0-int-0"),
        pytest.param(0, "0", "0", id="TestInvalidMaxSurgeMaxUnavailable/int-0-str-0"),
        pytest.param(0, "0%", "0", id="TestInvalidMaxSurgeMaxUnavailable/int-0-pct-0"),
        pytest.param("0", "0", '"0"', id="TestInvalidMaxSurgeMaxUnavailable/str-0-str-0"),
        pytest.param("0%", "0%", '"0%"', id="TestInvalidMaxSurgeMaxUnavailable/pct-0-pct-0"),
    ],
)
def test_invalid_max_surge_max_unavailable(surge: Any, unavailable: Any, shown: str) -> None:
    errs = errors_of(**_canary(maxSurge=surge, maxUnavailable=unavailable))
    assert errs == [f"{C}.maxSurge: Invalid value: {shown}: {BOTH_ZERO}"]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        pytest.param(
            {"steps": [{"setWeight": 101}]},
            f"{C}.steps[0].setWeight: Invalid value: 101: SetWeight needs to be between 0 and 100",
            id="TestValidateRolloutStrategyCanary/invalid set weight value",
        ),
        pytest.param(
            {"steps": [{"setCanaryScale": {"replicas": 1}}]},
            f"{C}.steps[0].setCanaryScale: requires trafficRouting",
            id="TestValidateRolloutStrategyCanary/invalid setCanaryScale without trafficRouting",
        ),
        pytest.param(
            {"scaleDownDelaySeconds": 60},
            f"{C}.scaleDownDelaySeconds: Canary scaleDownDelaySeconds can only be used with "
            "traffic routing",
            id="TestCanaryScaleDownDelaySeconds/scaleDownDelaySeconds with basic canary",
        ),
        pytest.param(
            {"dynamicStableScale": True},
            f"{C}.dynamicStableScale: requires trafficRouting",
            id="TestCanaryDynamicStableScale/dynamicStableScale with basic canary",
        ),
        pytest.param(
            {
                "trafficRouting": {"smi": {}},
                "dynamicStableScale": True,
                "scaleDownDelaySeconds": 60,
            },
            f"{C}.dynamicStableScale: Canary dynamicStableScale cannot be used with "
            "scaleDownDelaySeconds",
            id="TestCanaryDynamicStableScale/dynamicStableScale with scaleDownDelaySeconds",
        ),
        pytest.param(
            {"steps": [{"setMirrorRoute": {"name": "m"}}]},
            f"{C}.steps[0].setMirrorRoute: requires trafficRouting",
            id="TestValidateRolloutStrategyCanarySetMirrorRoute/"
            "using SetMirrorRoute step without the traffic routing",
        ),
    ],
)
def test_argo_canary_validation_rows(block: dict[str, Any], message: str) -> None:
    assert errors_of(**_canary(**block)) == [message]


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(
            {"trafficRouting": {"smi": {}}, "scaleDownDelaySeconds": 60},
            id="TestCanaryScaleDownDelaySeconds/scaleDownDelaySeconds with traffic weight canary",
        ),
        pytest.param(
            {
                "trafficRouting": {"nginx": {}},
                "maxTrafficWeight": 1000,
                "steps": [{"setWeight": 500}],
            },
            id="setWeight-up-to-maxTrafficWeight",
        ),
        pytest.param({"maxSurge": "200%", "maxUnavailable": 0}, id="surge-has-no-upper-bound"),
        pytest.param({"maxSurge": "25", "maxUnavailable": "10"}, id="argo-reads-25-as-25pct"),
        pytest.param({"maxSurge": "1%", "maxUnavailable": 0}, id="one-percent-may-resolve-to-0"),
        pytest.param(
            {"steps": [{"setWeight": 20}, {"pause": {}}], "analysis": _bg(1)},
            id="startingStep-at-the-last-step",
        ),
    ],
)
def test_argo_canary_accepts(block: dict[str, Any]) -> None:
    templates = {
        "t": {"metrics": [{"name": "m", "provider": {"simdeploy": {"metric": "success_rate"}}}]}
    }
    Scenario.parse(base_dict(**_canary(**block), analysisTemplates=templates))


def test_validate_rollout_strategy_blue_green_duplicated_services() -> None:
    # TestValidateRolloutStrategyBlueGreen: the same Service for active and preview.
    plan = [
        {
            "at": "10s",
            "action": "deploy",
            "version": "v2",
            "strategy": {"blueGreen": {"activeService": "svc", "previewService": "svc"}},
        }
    ]
    assert errors_of(plan=plan) == [
        'plan[0].strategy.blueGreen.activeService: Invalid value: "svc": This rollout uses the '
        "same service for the active and preview services, but two different services are "
        "required."
    ]


def test_a_boolean_is_not_a_duration_either() -> None:
    assert errors_of(service={"pod": {"startupDelay": True}}) == [
        "service.pod.startupDelay: expected a duration or a distribution, got a boolean (true)"
    ]


# --- the schema through the plan ---------------------------------------------------------------

DB = {"tables": {"users": {"rows": 100, "columns": ["id", "name"]}}}
PGROLL = {
    "at": "5s",
    "action": "migrate",
    "pgroll": True,
    "version": "v2",
    "operations": [{"renameColumn": {"table": "users", "column": "name", "newName": "full_name"}}],
}


def test_a_column_that_only_a_pgroll_migration_makes_exists() -> None:
    versions = {"v2": {"reads": {"users": ["id", "full_name"]}}}
    plan = [PGROLL, {"at": "10s", "action": "deploy", "version": "v2"}]
    Scenario.parse(base_dict(database=DB, versions=versions, plan=plan))


def test_complete_after_a_rolled_back_pgroll_migration_is_accepted() -> None:
    # The rollback discards the pgroll migration; a later complete has nothing to do, as at
    # run time (tests/world/test_database.py runs this plan).
    plan = [
        PGROLL,
        {"at": "10s", "action": "deploy", "version": "v2"},
        {"at": "12s", "action": "rollback"},
        {"at": "40s", "action": "complete"},
    ]
    Scenario.parse(base_dict(database=DB, plan=plan))


def test_a_second_complete_has_no_migration_left() -> None:
    plan = [PGROLL, {"at": "20s", "action": "complete"}, {"at": "30s", "action": "complete"}]
    assert errors_of(database=DB, plan=plan) == [
        "plan[2]: complete with no pgroll migration before it to complete (complete ends a "
        "migration with pgroll: true)"
    ]


def test_migrations_apply_in_time_order_not_file_order() -> None:
    # The file lists the drop first, but it runs after the add: valid.
    plan = [
        {"at": "20s", "action": "migrate", "operations": [_op("dropColumn", column="extra")]},
        {"at": "10s", "action": "migrate", "operations": [_op("addColumn", column="extra")]},
    ]
    Scenario.parse(base_dict(database=DB, plan=plan))


def test_a_refused_migration_is_reported_at_its_first_refused_operation_only() -> None:
    ops = [_op("dropColumn", column="nope"), _op("dropColumn", column="nope")]
    plan = [{"at": "10s", "action": "migrate", "operations": ops}]
    assert errors_of(database=DB, plan=plan) == [
        'plan[0].operations[0].dropColumn: column "nope" of relation "users" does not exist'
    ]


def _op(kind: str, **fields: str) -> dict[str, Any]:
    return {kind: {"table": "users", **fields}}


def test_kubernetes_lines_and_a_reference_error_come_together() -> None:
    # A section's several Kubernetes lines are kept when the root adds its own problems.
    errs = errors_of(
        service={"strategy": {"rollingUpdate": {"maxSurge": "5", "maxUnavailable": "101%"}}},
        plan=[{"at": "10s", "action": "deploy", "version": "v9"}],
    )
    assert [e.split(":")[0] for e in errs] == [
        "service.strategy.rollingUpdate.maxSurge",
        "service.strategy.rollingUpdate.maxUnavailable",
        "plan[0].version",
    ]


def test_the_names_validation_knows_are_the_ones_the_run_uses() -> None:
    # spec/ may not import world/ or control/: the lists are repeated there, and pinned here.
    from simdeploy.control.analysis import ROLES
    from simdeploy.spec.metrics import ERROR_CAUSES, FIRST_PHASE
    from simdeploy.spec.progressive import QUERY_ROLES, ROLES_OF
    from simdeploy.world import recorder
    from simdeploy.world.database import Database

    assert ERROR_CAUSES == recorder.ERROR_CAUSES
    assert set(QUERY_ROLES) == set(ROLES)
    assert all(set(roles) <= set(QUERY_ROLES) for roles in ROLES_OF.values())
    assert Database.phase == FIRST_PHASE
