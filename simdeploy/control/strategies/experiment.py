"""An Argo canary ``experiment`` step (``rollout/experiment.go``, ``experiments/``).

The step starts one replica set per template, ``<template>`` of the stable or the canary
version (``specRef``), at its ``replicas``; once they are available, the router gives each
its ``weight``, taken from the stable side (the canary keeps its own), and the analyses run.
The step ends after ``duration``, or, without one, when every analysis marked
``requiredForCompletion`` has completed; a failed or errored analysis fails the experiment
and aborts the rollout. At the end the analyses are terminated, the weights go back to
stable and the experiment's replica sets are scaled to zero.

A query's ``of:`` may name a template: its version, so a baseline of the stable version is
measured as the stable version is (the simulator keeps counters per version, not per
replica set). E.g. 10 replicas at setWeight 20, an experiment with a baseline and a canary of
1 replica and weight 5 each: stable 70 %, canary 20 %, baseline 5 %, experiment canary 5 %.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from simdeploy.control.analysis import RunResult, analysis_run
from simdeploy.control.rollback import ANALYSIS_FAILED, AbortRollout, RollbackRequested
from simdeploy.rules.analysis_phase import Phase

if TYPE_CHECKING:
    from simdeploy.control.rollback import Rollout
    from simdeploy.spec.progressive import Experiment
    from simdeploy.world.balancer import Routing
    from simdeploy.world.world import World


def run_experiment(
    env: simpy.Environment,
    world: World,
    ro: Rollout,
    exp: Experiment,
    name: str,
    routing: Callable[[dict[str, int]], Routing],
) -> Generator[simpy.Event, Any, None]:
    """Run the experiment ``exp`` of step ``name``; ``routing(extra)`` is the rollout's
    routing with ``extra`` weights (replica set name → %) taken from stable."""
    cluster, rec, bal = world.cluster, world.recorder, world.balancer
    owned = []
    for t in exp.templates:
        version = ro.stable if t.spec_ref == "stable" else ro.version
        rs = cluster.replica_set(version, owner=f"app-{name}-{t.name}")
        cluster.scale(rs, t.replicas, f"experiment {name}: {t.name}")
        owned.append((t, rs))
    rec.event(env.now, "ExperimentStarted", "rollout", ro.version, name)
    runs: list[tuple[bool, simpy.Process]] = []
    try:
        yield cluster.until(
            lambda: all(rs.counts(cluster.min_ready_s, env.now)[2] >= t.replicas for t, rs in owned)
        )
        weights = {rs.name: t.weight for t, rs in owned if t.weight}
        if weights:
            bal.set_routing_later(routing(weights))
        roles = {**ro.roles, **{t.name: rs.version for t, rs in owned}}
        templates = world.scenario.analysis_templates
        for a in exp.analyses:
            proc = env.process(
                analysis_run(env, f"{name}-{a.name}", [templates[a.template_name]], rec, roles)
            )
            runs.append((a.required_for_completion, proc))
        required = [proc for needed, proc in runs if needed]
        end = env.timeout(exp.duration) if exp.duration is not None else env.all_of(required)
        failed = env.event()
        for _, proc in runs:
            proc.callbacks.append(lambda e, failed=failed: _on_result(e, failed))
        outcome = yield end | failed
        if failed in outcome:
            result: RunResult = failed.value
            rec.event(env.now, "ExperimentFailed", "rollout", ro.version, result.message)
            raise AbortRollout(RollbackRequested(ANALYSIS_FAILED, env.now, result.message))
        rec.event(env.now, "ExperimentCompleted", "rollout", ro.version, name)
    finally:
        for _, proc in runs:
            if proc.is_alive:
                proc.interrupt("experiment ended")
        if any(t.weight for t, _ in owned):
            bal.set_routing_later(routing({}))
        for _, rs in owned:
            cluster.scale(rs, 0, f"experiment {name} ended")


def _on_result(event: simpy.Event, failed: simpy.Event) -> None:
    """Fail the experiment on the first analysis run that ends Failed or Error."""
    result = event.value if event.ok else None
    bad = isinstance(result, RunResult) and result.phase in (Phase.FAILED, Phase.ERROR)
    if bad and not failed.triggered:
        failed.succeed(result)
