"""Build the world and its control plane from a Scenario, run it, return a Result.

Randomness: see :mod:`simdeploy.world.world` (one seed, named independent streams, common
random numbers across strategies).
"""

from __future__ import annotations

import numbers
from collections.abc import Generator
from typing import Any

import simpy
from pydantic_core import PydanticSerializationError

from simdeploy.control.autoscaler import HorizontalPodAutoscaler
from simdeploy.control.deployment import Deployment
from simdeploy.control.plan import run_plan
from simdeploy.control.plane import ControlPlane
from simdeploy.control.rollback import slo_alert
from simdeploy.control.strategies import get_strategy
from simdeploy.run.result import Result, build_result, version_column
from simdeploy.spec.base import UsageError
from simdeploy.spec.database import LOCK_NAMES
from simdeploy.spec.scenario import Scenario
from simdeploy.world.balancer import Balancer
from simdeploy.world.cluster import Cluster
from simdeploy.world.database import Database
from simdeploy.world.flags import FlagRuntime, Flags
from simdeploy.world.fluid import FluidPlane
from simdeploy.world.pod import Pod, WatchedPod
from simdeploy.world.recorder import Recorder
from simdeploy.world.traffic import DataPlane
from simdeploy.world.versions import VersionModel
from simdeploy.world.world import World, stream


def build(scenario: Scenario, seed: int) -> ControlPlane:
    """The world of ``scenario`` in its steady state at t=0, and its control plane."""
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
        env,
        svc.pod,
        models,
        balancer,
        recorder,
        stream(seed, "pods"),
        svc.min_ready_seconds,
        WatchedPod if sim.data_plane == "fluid" else Pod,
    )
    data_plane: DataPlane | FluidPlane
    if sim.data_plane == "fluid":
        data_plane = FluidPlane(
            env,
            balancer,
            recorder,
            scenario.traffic,
            stream(seed, "traffic"),
            sim.duration,
            models,
            sim.fluid_step,
        )
    else:
        data_plane = DataPlane(
            env, balancer, recorder, scenario.traffic, stream(seed, "traffic"), sim.duration
        )
    cluster.kill_in_flight = data_plane.kill
    cluster.start_steady(cluster.replica_set(svc.version), svc.replicas)
    balancer.refresh()
    world = World(env, scenario, recorder, balancer, cluster, data_plane, seed=seed)
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
    deployment = Deployment(
        env,
        cluster,
        svc.replicas,
        svc.version,
        svc.strategy.kubernetes,  # a progressive block is the rollouts', not the Deployment's
        svc.progress_deadline_seconds,
        sync_for=lambda type_: get_strategy(type_).sync,
        revision_history_limit=svc.revision_history_limit,
    )
    cp = ControlPlane(world, deployment)
    if svc.autoscaler is not None:
        cp.autoscaler = HorizontalPodAutoscaler(env, svc.autoscaler, deployment, recorder)
    return cp


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


def sample_state(env: simpy.Environment, cp: ControlPlane) -> Generator[simpy.Event, Any, None]:
    """Once per bucket: pods by version and state, endpoints (for the timeline)."""
    world = cp.world
    rec, bal = world.recorder, world.balancer
    while True:
        row: dict[str, float] = {"t": env.now, "pods": world.cluster.pod_count}
        for v in rec.versions:
            row[version_column("pods", v)] = 0
            row[version_column("ready", v)] = 0
            row[version_column("terminating", v)] = 0
        for rs in world.cluster.replica_sets:  # the counts each replica set keeps, not its pods
            if rs.pods:
                row[version_column("pods", rs.version)] += len(rs.pods)
                row[version_column("ready", rs.version)] += rs.n_ready
                row[version_column("terminating", rs.version)] += len(rs.pods) - rs.n_active
        ro = cp.rollout
        row["weight_asked"] = (
            ro.weight_asked if ro is not None and ro.weight_asked is not None else float("nan")
        )
        row["endpoints"] = len(bal.endpoints)
        row["serving_endpoints"] = sum(bal.serving_by_version().values())
        rec.samples.append(row)
        yield late_timeout(env, rec.bucket_s)


def checked_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as an int >= 0 (numpy integers too); :class:`UsageError` naming ``name``
    for a bool, a float such as 1.5, a string or a negative number."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise UsageError([f"{name}: expected an integer >= 0, got {_shown(seed)}"])
    if seed < 0:
        raise UsageError([f"{name}: expected an integer >= 0, got {seed}"])
    return int(seed)


def checked_scenario(scenario: object, name: str = "scenario") -> Scenario:
    """``scenario`` validated again, as the file format would validate it.

    ``model_copy(update=...)`` skips validation, so a copy may hold a value no file could
    (``rate=-1``, a dict for a section, a run too large to simulate): it is dumped and parsed
    again (a few milliseconds), raising :class:`ScenarioError` with the same lines as
    ``validate``. Anything but a :class:`Scenario` is a :class:`UsageError`.
    """
    if not isinstance(scenario, Scenario):
        raise UsageError(
            [
                f"{name}: expected a Scenario (load_scenario(path) or Scenario.parse(mapping)),"
                f" got {type(scenario).__name__}"
            ]
        )
    try:
        data = scenario.model_dump(by_alias=True, exclude_unset=True, warnings=False)
    except (PydanticSerializationError, ValueError, TypeError) as exc:
        raise UsageError([f"{name}: not a valid Scenario: {exc}"]) from None
    data.pop("manifests", None)  # already read into service:, not to be read again
    return Scenario.parse(data, source=name)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:39]}…"


def simulate(scenario: Scenario, seed: int | None = None) -> Result:
    """Run ``scenario`` once and return its :class:`Result`.

    ``seed`` (an int >= 0) overrides ``simulation.seed``; the same seed gives identical
    results. The scenario is validated again first (:func:`checked_scenario`), so a copy
    made with ``model_copy(update=...)`` is held to the file format's rules and limits.
    Raises :class:`ScenarioError` (:class:`UsageError` for a bad argument).
    """
    scenario = checked_scenario(scenario)
    seed = scenario.simulation.seed if seed is None else checked_seed(seed)
    cp = build(scenario, seed)
    world = cp.world
    env = world.env
    env.process(run_plan(env, cp))
    env.process(sample_state(env, cp))
    alert = scenario.rollback.slo_alert
    if alert is not None:
        env.process(slo_alert(env, alert, world.recorder, lambda: cp.rollout))
    world.data_plane.start()
    duration = scenario.simulation.duration
    if duration > 0:
        env.run(until=duration)
    world.balancer.close(duration)
    world.data_plane.finish()
    return build_result(cp, seed)
