"""Argo canary ``experiment`` steps: the events, reasons and timings a user reads (found by
mutation testing of control/strategies/experiment.py).

The scenario is test_experiment's: 10 replicas, v2 deployed at 10 s with setWeight 10, then
step 1 ("experiment-1"): a baseline (stable, v1) and an exp-canary (canary, v2) replica set of
1 replica and weight 5 each, with the analysis "check" (error_rate of exp-canary ≤ 1 %,
every 10 s, count 3, failureLimit 0 by default).
"""

from __future__ import annotations

import pandas as pd
import pytest

from simdeploy import Result, Scenario, simulate
from tests.control.test_experiment import TEMPLATES, scenario
from tests.control.test_progressive import first_t

ANALYSES = [{"name": "check", "templateName": "check"}]
STEP = "experiment-1"  # the experiment is the canary's step 1
RUN = "experiment-1-check"  # an analysis run is named <experiment>-<analysis>
FAILED = 'Metric "errors" assessed Failed due to failed (1) > failureLimit (0)'


def short(duration: str, min_ready: float = 0.0, bug: float = 0.0) -> Scenario:
    """The scenario with an experiment of ``duration``, run for 60 s only."""
    sc = scenario({"duration": duration, "templates": TEMPLATES, "analyses": ANALYSES}, bug=bug)
    return sc.model_copy(
        update={
            "simulation": sc.simulation.model_copy(update={"duration": 60.0}),
            "service": sc.service.model_copy(update={"min_ready_seconds": min_ready}),
        }
    )


def rows(r: Result, reason: str) -> list[tuple[str, str, str]]:
    ev = r.events[r.events.reason == reason]
    return list(zip(ev.object, ev.version, ev.message, strict=True))


def experiment_pods_ready(ev: pd.DataFrame) -> float:
    """When the last of the experiment's pods became Ready."""
    ready = ev[(ev.reason == "Ready") & ev.object.str.startswith(f"app-{STEP}-")]
    assert len(ready) == 2  # one pod per template
    return float(ready.t.max())


def test_a_completed_experiment_is_reported_and_its_replica_sets_scaled_down() -> None:
    """Duration 10 s from when both replica sets are available (minReadySeconds 0: Ready):
    ExperimentCompleted on the rollout for v2 names the step; the analysis run, named
    "experiment-1-check", is terminated then (Successful, "Run Terminated"); both replica sets
    are scaled 1 → 0 with the experiment named as the reason, in the same instant."""
    r = simulate(short("10s"))
    ev = r.events
    done = experiment_pods_ready(ev) + 10
    assert rows(r, "ExperimentCompleted") == [("rollout", "v2", STEP)]
    assert first_t(r, "ExperimentCompleted") == pytest.approx(done)
    assert rows(r, "AnalysisRunStarted") == [(RUN, "v2", "")]
    assert rows(r, "AnalysisRunSuccessful") == [(RUN, "v2", "Run Terminated")]
    down = ev[(ev.reason == "ScalingReplicaSet") & ev.message.str.contains("down")]
    down = down[down.object.str.startswith(f"app-{STEP}-")]
    assert list(zip(down.object, down.message, strict=True)) == [
        (f"app-{STEP}-baseline-v1", f"scaled down from 1 to 0 (experiment {STEP} ended)"),
        (f"app-{STEP}-exp-canary-v2", f"scaled down from 1 to 0 (experiment {STEP} ended)"),
    ]
    assert down.t.tolist() == [pytest.approx(done)] * 2


def test_a_failed_experiment_is_reported_with_the_analysis_message_and_rolls_back() -> None:
    """v2 errs 5 % > 1 %: the first measurement fails, failed (1) > failureLimit (0).
    ExperimentFailed on the rollout for v2 carries the run's message, and the rollback is
    requested in the same instant with reason AnalysisFailed and that message."""
    r = simulate(short("1m", bug=0.05))
    assert rows(r, "AnalysisRunFailed") == [(RUN, "v2", FAILED)]
    assert rows(r, "ExperimentFailed") == [("rollout", "v2", FAILED)]
    assert rows(r, "RollbackRequested") == [("deployment", "v2", f"AnalysisFailed: {FAILED}")]
    assert first_t(r, "RollbackRequested") == pytest.approx(first_t(r, "ExperimentFailed"))


def test_the_experiment_waits_for_its_replica_sets_to_be_available() -> None:
    """minReadySeconds 5: the experiment's pods count as available 5 s after their Ready, so
    the analysis starts then and the 10 s duration ends at last Ready + 5 + 10."""
    r = simulate(short("10s", min_ready=5.0))
    available = experiment_pods_ready(r.events) + 5
    assert first_t(r, "AnalysisRunStarted") == pytest.approx(available)
    assert first_t(r, "ExperimentCompleted") == pytest.approx(available + 10)
