"""``simdeploy import``: the manifests as a scenario file that validates and runs as written,
with the same summary as the ``manifests:`` form."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simdeploy import Scenario, simulate
from simdeploy.cli import main
from simdeploy.spec.manifests.importer import STARTER, import_scenario
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "manifests"
#: Every fixture with a workload, in the shape of the upstream examples.
WORKLOADS = [
    "nginx-deployment.yaml",
    "app.yaml",
    "argo/rollout-canary.yaml",
    "argo/rollout-bluegreen.yaml",
    "argo/canary-analysis.yaml",
    "argo/workload-ref.yaml",
    "flagger/podinfo.yaml",
    "../../scenarios/manifests/guestbook.yaml",
]


@pytest.mark.parametrize("fixture", WORKLOADS)
def test_the_imported_scenario_runs_as_the_manifests_form(fixture: str) -> None:
    text, _, _ = import_scenario([FIXTURES / fixture])
    imported = Scenario.parse(yaml.safe_load(text))
    as_manifests = Scenario.parse({"manifests": [str(FIXTURES / fixture)], **STARTER})
    assert imported.model_dump(exclude={"manifests"}) == as_manifests.model_dump(
        exclude={"manifests"}
    )
    assert simulate(imported).record == simulate(as_manifests).record


def test_the_file_says_where_it_came_from_and_what_was_left_out() -> None:
    text, warnings, _ = import_scenario([FIXTURES / "app.yaml"])
    head = text.split("\n\n", 1)[0].splitlines()
    assert head[0] == "# A simdeploy scenario imported from:"
    assert head[1].endswith("tests/manifests/app.yaml")
    assert "# Not simulated (ignored):" in head
    listed = head[head.index("# Not simulated (ignored):") + 1 : head.index("# Notes:")]
    assert listed == [f"#   {w}" for w in warnings]
    assert "\nservice:\n  version: v1\n  replicas: 6\n" in text


def test_import_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "deploy" / "checkout.yaml"
    assert main(["import", str(FIXTURES / "app.yaml"), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert main(["check", str(out)]) == 0  # the starter expect: holds
    assert main(["import", "--strict", str(FIXTURES / "app.yaml")]) == 2
    err = capsys.readouterr().err
    assert "containers[1]: container 'envoy' not simulated" in err and "(--strict)" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n")
    assert main(["import", str(bad)]) == 2
    assert "expected a list of containers" in capsys.readouterr().err
