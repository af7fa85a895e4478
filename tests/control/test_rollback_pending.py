"""A rollback requested with a reaction delay, while the rollout aborts on its own meanwhile.

Found by tests/frontends/test_fuzz_scenarios.py: blue/green whose post-promotion analysis
errors (a 1 ns window never has data) while an SLO alert's rollback waits out its 60 s
reaction delay. The analysis aborts the rollout at 162 s; the alert's interrupt, due at
192 s, reached the process inside its rollback path, where nothing catches it, and escaped
``simulate`` as ``simpy.Interrupt``. The rollout now ignores a rollback it is already doing.
"""

from __future__ import annotations

import yaml

from simdeploy import Scenario, simulate
from tests.conftest import SCENARIOS


def test_pending_slo_rollback_after_an_analysis_abort_is_dropped() -> None:
    data = yaml.safe_load((SCENARIOS / "blue-green-bad-release.yaml").read_text())
    data["traffic"]["rate"] = 20
    metric = data["analysisTemplates"]["success-rate"]["metrics"][0]
    metric["provider"]["simdeploy"]["window"] = "0.000001ms"
    result = simulate(Scenario.parse(data))
    ev = result.events
    requested = ev[ev.reason == "RollbackRequested"]
    assert list(requested.message) == ["SLOAlert: error ratio 2.01% > 2.00% over 60s"]
    (t_alert,) = requested.t
    (t_abort,) = ev[ev.reason == "AnalysisRunError"].t
    (t_undo,) = ev[ev.reason == "RolloutUndo"].t
    assert t_alert < t_abort == t_undo < t_alert + 60  # aborted before the alert's delay ran out
    assert list(ev[ev.reason == "RollbackCompleted"].message) == ["rolled_back"]
    assert result.record["outcome"] == "rolled_back"
