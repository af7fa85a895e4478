"""Build the world from a Scenario, run it, return a Result.

Randomness: one seed per run, split into independent named streams (traffic, balancer,
pod timings, one per version) with ``SeedSequence(seed, spawn_key=(crc32(name),))``, so
adding a component never shifts the numbers another one draws. Two runs of two
strategies on the same seed therefore see the same arrivals and users (common random
numbers): the differences between them come from the strategy.
"""

from __future__ import annotations

import zlib
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from simdeploy.balancer import Balancer
from simdeploy.bucketing import bucket_many
from simdeploy.cluster import Cluster
from simdeploy.database import Database
from simdeploy.dbspec import LOCK_NAMES
from simdeploy.deployment import Deployment
from simdeploy.flags import FlagRuntime, Flags
from simdeploy.recorder import Recorder
from simdeploy.result import Result, build_result
from simdeploy.rollback import (
    MANUAL,
    RollbackRequested,
    Rollout,
    k8s_rollout,
    request_rollback,
    slo_alert,
    watch_rollback_done,
)
from simdeploy.scenario import Action, Scenario
from simdeploy.strategies import get_strategy
from simdeploy.traffic import DataPlane, VersionModel


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream called ``name`` of run ``seed``; independent of every other name."""
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))
    )


@dataclass(eq=False)
class World:
    """Everything one run is made of; processes receive it with an explicit ``env``."""

    env: simpy.Environment
    scenario: Scenario
    recorder: Recorder
    balancer: Balancer
    cluster: Cluster
    deployment: Deployment
    data_plane: DataPlane
    rollouts: list[Rollout] = field(default_factory=list)
    database: Database | None = None
    flags: Flags | None = None

    seed: int = 0

    @property
    def rollout(self) -> Rollout | None:
        return self.rollouts[-1] if self.rollouts else None

    def stream(self, name: str) -> np.random.Generator:
        """A named random stream of this run (see :func:`stream`)."""
        return stream(self.seed, name)

    def cohort_mask(self, key: str, share: float) -> bytearray:
        """Users in a sticky cohort of ``share``: LaunchDarkly bucketing of each user id
        under ``key``, so the same users are picked in every run and every strategy."""
        buckets = bucket_many(key, "cohort", range(self.scenario.traffic.users))
        return bytearray(1 if b < share else 0 for b in buckets)


def build_world(scenario: Scenario, seed: int) -> World:
    env = simpy.Environment()
    sim, svc = scenario.simulation, scenario.service
    versions = tuple(scenario.versions)
    recorder = Recorder(versions, sim.duration, sim.bucket, scenario.traffic.users)
    balancer = Balancer(
        env,
        svc.balancer.policy,
        svc.balancer.endpoint_propagation_delay,
        stream(seed, "balancer"),
        recorder,
    )
    models = {
        name: VersionModel.build(
            name, i, spec, stream(seed, f"version:{name}"), scenario.traffic.users
        )
        for i, (name, spec) in enumerate(scenario.versions.items())
    }
    cluster = Cluster(
        env, svc.pod, models, balancer, recorder, stream(seed, "pods"), svc.min_ready_seconds
    )
    data_plane = DataPlane(
        env, balancer, recorder, scenario.traffic, stream(seed, "traffic"), sim.duration
    )
    for model in models.values():
        model.data_plane = data_plane
    cluster.start_steady(cluster.replica_set(svc.version), svc.replicas)
    balancer.refresh()
    deployment = Deployment(
        env, cluster, svc.replicas, svc.version, svc.strategy, svc.progress_deadline_seconds
    )
    world = World(env, scenario, recorder, balancer, cluster, deployment, data_plane, seed=seed)
    if scenario.database is not None:
        world.database = Database(env, scenario.database, dict(scenario.versions), recorder)
        data_plane.db = world.database
        for lt in scenario.database.long_transactions:
            env.process(
                world.database.long_transaction(
                    lt.table, LOCK_NAMES[lt.lock.upper()], lt.at, lt.duration
                )
            )
    if scenario.flags:
        users = scenario.traffic.users
        world.flags = Flags({k: FlagRuntime(k, f, users) for k, f in scenario.flags.items()})
        data_plane.flags = world.flags
    return world


def run_plan(env: simpy.Environment, world: World) -> Generator[simpy.Event, Any, None]:
    """Carry out the plan's timed actions in order of time (ties keep file order)."""
    for action in sorted(world.scenario.plan, key=lambda a: a.at):
        if action.at > env.now:
            yield env.timeout(action.at - env.now)
        apply_action(env, world, action)


def apply_action(env: simpy.Environment, world: World, action: Action) -> None:
    rec, dep = world.recorder, world.deployment
    if action.action == "deploy":
        assert action.version is not None
        strategy = action.strategy or world.scenario.service.strategy
        ro = Rollout(
            action.version,
            dep.template,
            strategy,
            env.now,
            rollback_on_deadline=world.scenario.rollback.on_progress_deadline,
        )
        world.rollouts.append(ro)
        impl = get_strategy(strategy.type)
        if impl.run is not None:
            ro.process = env.process(impl.run(env, world, ro))
        else:
            ro.process = env.process(k8s_rollout(env, dep, ro, rec))
        watch_rollback_done(ro, world.balancer, dep.replicas)
    elif action.action == "rollback":
        request_rollback(env, world.rollout, RollbackRequested(MANUAL, env.now, "plan"), rec)
        db = world.database
        if db is not None and db.pending is not None:
            # pgroll rollback once the app is back on the old version: pods of the new
            # version still serving during the undo keep their schema version meanwhile.
            ro = world.rollout
            if ro is None or ro.process is None or ro.outcome == "rolled_back":
                db.pgroll_rollback()
            else:
                cluster, version = world.cluster, ro.version

                def after_undo(outcome: str) -> None:
                    # ... and once the new version's last pod is gone (terminating pods
                    # still serve until then).
                    if outcome == "rolled_back":
                        cluster.until(
                            lambda: not any(p.version == version for p in cluster.pods())
                        ).callbacks.append(lambda _e: db.pgroll_rollback())

                ro.on_finish.append(after_undo)
    elif action.action == "migrate":
        assert world.database is not None
        if action.pgroll:
            world.database.pgroll_start(action)
        else:
            env.process(world.database.migrate(action))
    elif action.action == "complete":
        assert world.database is not None
        world.database.complete()
    elif action.action == "flag":
        assert world.flags is not None and action.flag is not None
        flag = world.flags.flags[action.flag]
        flag.set(env.now, action.rollout, action.kill)
        what = "kill switch" if action.kill else f"rollout {action.rollout:g}%"
        rec.event(env.now, "FlagChanged", action.flag, "", what)
    elif action.action == "promote":
        ro = world.rollout
        rec.event(env.now, "Promote", "rollout", ro.version if ro else "", "plan")
        if ro is not None and ro.promote_event is not None and not ro.promote_event.triggered:
            ro.promote_event.succeed()


#: Priority below SimPy's NORMAL (1): among events at the same instant, runs last.
LATE = 2


def late_timeout(env: simpy.Environment, delay: float) -> simpy.Event:
    """A timeout that fires after every ordinary event of its instant, cascades included.

    The sampler uses it so a row never catches a half-finished instant (Recreate's old
    pods gone and the new ones not yet created, at the same simulated time).
    """
    ev = simpy.Event(env)
    ev._ok, ev._value = True, None  # what Event.succeed() sets, scheduled at LATE priority
    env.schedule(ev, LATE, delay)
    return ev


def sample_state(env: simpy.Environment, world: World) -> Generator[simpy.Event, Any, None]:
    """Once per bucket: pods by version and state, endpoints (for the timeline)."""
    rec, bal = world.recorder, world.balancer
    while True:
        row: dict[str, float] = {"t": env.now, "pods": world.cluster.pod_count}
        for v in rec.versions:
            row[f"pods_{v}"] = 0
            row[f"ready_{v}"] = 0
            row[f"terminating_{v}"] = 0
        for pod in world.cluster.pods():
            row[f"pods_{pod.version}"] += 1
            row[f"ready_{pod.version}"] += pod.ready
            row[f"terminating_{pod.version}"] += pod.terminating
        ro = world.rollout
        row["weight_asked"] = (
            ro.weight_asked if ro is not None and ro.weight_asked is not None else float("nan")
        )
        row["endpoints"] = len(bal.endpoints)
        row["serving_endpoints"] = sum(bal.serving_by_version().values())
        rec.samples.append(row)
        yield late_timeout(env, rec.bucket_s)


def simulate(scenario: Scenario, seed: int | None = None) -> Result:
    """Run ``scenario`` once and return its :class:`Result`.

    ``seed`` overrides ``simulation.seed``; the same seed gives identical results.
    """
    seed = scenario.simulation.seed if seed is None else seed
    world = build_world(scenario, seed)
    env = world.env
    env.process(run_plan(env, world))
    env.process(sample_state(env, world))
    alert = scenario.rollback.slo_alert
    if alert is not None:
        env.process(slo_alert(env, alert, world.recorder, lambda: world.rollout))
    world.data_plane.start()
    duration = scenario.simulation.duration
    if duration > 0:
        env.run(until=duration)
    world.balancer.close(duration)
    return build_result(world, seed)
