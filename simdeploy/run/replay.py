"""A run step by step: what the cluster, the balancer and the rollout looked like at time t.

The view of a rollout dashboard (Argo Rollouts' ``kubectl argo rollouts get rollout``), for a
simulated run: the replica sets with their desired count and their pods by state, the weight
the strategy asked for and the share the new version really served, the error ratio, the
current step, and how many control-plane events had happened. With several deploys in the
plan, "the new version" and its step are those of the rollout in progress at ``t``: the last
deploy at or before ``t`` (``Result.deploys``); before the first deploy there is none. Pure
data, read from a finished :class:`~simdeploy.run.result.Result`; nothing here runs during a
simulation.

Pods and replica sets are exact at any ``t`` (they come from the state changes the cluster
recorded: ``Result.pod_states``, ``Result.replica_sets``); a frame at ``t`` shows the state
after every change at or before ``t``. Traffic quantities (requests, errors, error ratio,
weights) are those of the timeline bucket holding ``t``: at a bucket's start they are that
row of ``Result.timeline``, whose pod columns the frame's counts then equal.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from simdeploy.run.result import Result, version_column
from simdeploy.world.pod import GONE
from simdeploy.world.recorder import POD_STATES, READY, TERMINATING

#: Events whose object is the rollout itself: the latest one is the rollout's status.
ROLLOUT_OBJECTS = frozenset({"rollout", "deployment", "canary", "shadow"})


@dataclass(frozen=True)
class ReplicaSetView:
    """One replica set at a moment: ``desired`` is its ``spec.replicas``; ``pods`` counts its
    pods by state (every key of ``world.recorder.POD_STATES``, zeros included)."""

    name: str
    owner: str
    version: str
    desired: int
    pods: dict[str, int]

    @property
    def total(self) -> int:
        """Every pod it has, terminating ones included (the timeline's ``pods[v]``)."""
        return sum(self.pods.values())

    @property
    def ready(self) -> int:
        return self.pods[READY]

    @property
    def terminating(self) -> int:
        return self.pods[TERMINATING]


@dataclass(frozen=True)
class Frame:
    """The run at ``t`` (simulated seconds).

    ``replica_sets``: those with a desired count or a pod, in creation order.
    ``bucket``: the timeline row holding ``t``; ``requests`` arrived in it, ``errors`` and
    ``error_ratio`` (errors / completed) of user requests. ``version``: the new version of
    the rollout in progress (the last deploy at or before ``t``; None before the first).
    ``weight_asked``: the canary weight the strategy asked for (percent; None without one);
    ``weight_served``: the share of the bucket's completed user requests ``version`` served
    (percent; None without a rollout in progress or a completed request). ``step``: that
    rollout's current step if it is an Argo canary, ``"2/6 pause: 60s"`` (None otherwise).
    ``status``: the rollout's latest event, ``"reason: message"`` (None before the first).
    ``events``: how many control-plane events happened at or before ``t`` (``Result.events``
    is in time order: the last ones are ``events.iloc[:n].tail(k)``).
    """

    t: float
    replica_sets: list[ReplicaSetView]
    bucket: int
    requests: int
    errors: int
    error_ratio: float
    version: str | None
    weight_asked: float | None
    weight_served: float | None
    step: str | None
    status: str | None
    events: int

    def pods(self, version: str, state: str | None = None) -> int:
        """Pods of ``version`` (in ``state``, or all) over its replica sets."""
        return sum(
            rs.total if state is None else rs.pods[state]
            for rs in self.replica_sets
            if rs.version == version
        )


def frame_times(result: Result, max_frames: int = 1200) -> list[float]:
    """The start of every timeline bucket, thinned to every k-th bucket so that there are
    at most ``max_frames`` (the last bucket always kept): every k-th with k =
    ceil(buckets / (max_frames - 1)). E.g. 480 buckets → all 480; 3,600 one-second buckets,
    1,200 frames → k = ceil(3600 / 1199) = 4: every 4th (0, 4, ..., 3596 s) and 3599 s,
    901 frames."""
    t = [float(x) for x in result.timeline["t"]]
    if len(t) <= max_frames:
        return t
    k = math.ceil(len(t) / max(1, max_frames - 1))
    out = t[::k]
    return out if out[-1] == t[-1] else [*out, t[-1]]


def frames(result: Result, times: Sequence[float] | None = None) -> list[Frame]:
    """The frame at each of ``times`` (default :func:`frame_times`), in the order given."""
    times = frame_times(result) if times is None else list(times)
    order = sorted(range(len(times)), key=lambda i: times[i])
    out: list[Frame | None] = [None] * len(times)
    pods = _table(result.pod_states, ["t", "pod", "replica_set", "version", "state"])
    specs = _table(result.replica_sets, ["t", "replica_set", "owner", "version", "spec"])
    steps = _table(result.steps, ["t", "version", "index", "steps", "step"])
    deploys = _table(result.deploys, ["t", "version"])
    events = result.events
    event_t = [float(x) for x in events["t"]]
    rollout_rows = [i for i, o in enumerate(events["object"]) if o in ROLLOUT_OBJECTS]
    tl = result.timeline
    bucket_t = [float(x) for x in tl["t"]]
    state: dict[str, tuple[str, str]] = {}  # pod -> (replica set, state)
    desired: dict[str, int] = {}
    owners: dict[str, tuple[str, str]] = {}  # replica set -> (owner, version), creation order
    ip = ispec = 0
    for i in order:
        t = times[i]
        while ispec < len(specs) and specs[ispec][0] <= t:
            _, name, owner, version, spec = specs[ispec]
            owners.setdefault(name, (owner, version))
            desired[name] = int(spec)
            ispec += 1
        while ip < len(pods) and pods[ip][0] <= t:
            _, pod, rs, version, st = pods[ip]
            owners.setdefault(rs, ("", version))
            if st == GONE:
                state.pop(pod, None)
            else:
                state[pod] = (rs, st)
            ip += 1
        out[i] = _frame(
            t, state, desired, owners, tl, bucket_t, steps, deploys, events, event_t, rollout_rows
        )
    return [f for f in out if f is not None]


def frame_at(result: Result, t: float) -> Frame:
    """The frame at ``t`` (see :class:`Frame`)."""
    return frames(result, [t])[0]


def _table(df: pd.DataFrame | None, columns: list[str]) -> list[tuple]:
    """The rows of ``df`` as tuples in time order (stable: same-time rows keep their order)."""
    if df is None or df.empty:
        return []
    return list(df[columns].sort_values("t", kind="stable").itertuples(index=False, name=None))


def _frame(
    t: float,
    state: dict[str, tuple[str, str]],
    desired: dict[str, int],
    owners: dict[str, tuple[str, str]],
    tl: pd.DataFrame,
    bucket_t: list[float],
    steps: list[tuple],
    deploys: list[tuple],
    events: pd.DataFrame,
    event_t: list[float],
    rollout_rows: list[int],
) -> Frame:
    counts: dict[str, dict[str, int]] = {}
    for rs, st in state.values():
        counts.setdefault(rs, dict.fromkeys(POD_STATES, 0))[st] += 1
    views = [
        ReplicaSetView(
            name,
            owner,
            version,
            desired.get(name, 0),
            counts.get(name, dict.fromkeys(POD_STATES, 0)),
        )
        for name, (owner, version) in owners.items()
        if desired.get(name, 0) > 0 or name in counts
    ]
    b = max(0, min(bisect.bisect_right(bucket_t, t) - 1, len(bucket_t) - 1))
    row = tl.iloc[b]
    n_events = bisect.bisect_right(event_t, t)
    k = bisect.bisect_left(rollout_rows, n_events)  # rollout events among the first n
    status = None
    if k:
        ev = events.iloc[rollout_rows[k - 1]]
        status = f"{ev['reason']}: {ev['message']}" if ev["message"] else str(ev["reason"])
    # The rollout in progress: the last deploy at or before t.
    k = bisect.bisect_right([d[0] for d in deploys], t)
    started, version = deploys[k - 1] if k else (math.inf, None)
    served = None
    done = int(row["ok"]) + int(row["errors"])
    column = None if version is None else version_column("requests", version)
    if column is not None and column in row and done:
        served = 100.0 * int(row[column]) / done
    # Argo's "Step: 2/6": currentStepIndex (the step running now, from 0) of len(steps), of
    # that rollout only (an earlier deploy's last step is not the current one's).
    own = [s for s in steps if s[1] == version and started <= s[0] <= t]
    step = None
    if own:
        _, _, index, total, label = own[-1]
        step = f"{int(index)}/{int(total)} {label}"
    return Frame(
        t=t,
        replica_sets=views,
        bucket=b,
        requests=int(row["requests"]),
        errors=int(row["errors"]),
        error_ratio=float(row["error_ratio"]),
        version=version,
        weight_asked=_number(row.get("weight_asked")),
        weight_served=served,
        step=step,
        status=status,
        events=n_events,
    )


def _number(value: object) -> float | None:
    """A float, or None for a missing value (NaN, None)."""
    if value is None:
        return None
    x = float(value)  # type: ignore[arg-type]
    return None if math.isnan(x) else x
