"""The pytest plugin collects scenario files' expectations as tests."""

from __future__ import annotations

import yaml

from tests.conftest import base_dict


def test_plugin_collects_and_runs_expectations(pytester) -> None:
    good = base_dict(simulation={"duration": "30s"}, expect={"downtime_s": 0, "errors": "< 5"})
    bad = base_dict(simulation={"duration": "30s"}, expect={"outcome": "rolled_back"})
    pytester.makefile(
        ".yaml",
        good=yaml.safe_dump(good),
        bad=yaml.safe_dump(bad),
        other=yaml.safe_dump({"not": "a scenario"}),
    )
    res = pytester.runpytest("-v")
    res.assert_outcomes(passed=2, failed=1)
    res.stdout.fnmatch_lines(["*bad.yaml: FAIL outcome == rolled_back (got completed)*"])


def test_plugin_reports_invalid_scenario_as_collection_error(pytester) -> None:
    d = base_dict(expect={"errors": 0})
    d["service"]["replica"] = 3
    pytester.makefile(".yaml", typo=yaml.safe_dump(d))
    res = pytester.runpytest()
    res.assert_outcomes(errors=1)
    res.stdout.fnmatch_lines(["*service.replica: unknown field; did you mean 'replicas'?*"])


def test_plugin_checks_several_seeds_and_collects_manifest_scenarios(pytester) -> None:
    # A scenario whose service: comes from a Deployment manifest next to it, gated on 2 seeds.
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 4, "template": {"spec": {"containers": [{"name": "web"}]}}},
    }
    scenario = {
        "manifests": ["web-deployment.yaml"],
        "versions": {"v1": {}, "v2": {}},
        "traffic": {"rate": 20, "users": 100},
        "plan": [{"at": "10s", "action": "deploy", "version": "v2"}],
        "simulation": {"duration": "40s", "seed": 5},
        "expect": {"outcome": "completed", "downtime_s": "<= 0"},
    }
    pytester.makefile(".yaml", **{"web-deployment": yaml.safe_dump(deployment)})
    pytester.makefile(".yaml", gate=yaml.safe_dump(scenario))
    res = pytester.runpytest("-v", "--simdeploy-seeds", "2", "--simdeploy-require", "mean")
    res.assert_outcomes(passed=2)
    res = pytester.runpytest("-v", "--simdeploy-seeds", "2", "--simdeploy-require", "most")
    assert res.ret != 0  # an unknown --simdeploy-require is refused


def test_plugin_collects_policy_expectations(pytester) -> None:
    # canary-analysis: a good release is never rolled back; a 5% release always, never
    # within 10 s (tests/run/test_policy_gate.py).
    from tests.conftest import SCENARIOS

    data = yaml.safe_load((SCENARIOS / "canary-analysis.yaml").read_text())
    data["expect"] = {
        "policy": {
            "seeds": 2,
            "falseRollbackRate": "<= 0.1",
            "detects": {"errorRate": 0.05, "probability": ">= 0.9", "within": "10s"},
        }
    }
    pytester.makefile(".yaml", gate=yaml.safe_dump(data))
    res = pytester.runpytest("-v")
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines(
        [
            "*policy*falseRollbackRate PASSED*",
            "*gate.yaml: FAIL policy.detects errorRate 0.05 rolled back within 10 s with "
            "probability >= 0.9 (rolled back within 10 s in 0 of 2 runs*",
        ]
    )
