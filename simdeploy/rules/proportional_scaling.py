"""Proportional scaling: what the Deployment controller does when ``spec.replicas`` changes
while more than one replica set has pods (a scaling event mid-rollout).

Every replica set the controller sizes carries two annotations, written by
``SetReplicasAnnotations`` each time the controller scales it:
``deployment.kubernetes.io/desired-replicas`` (the Deployment's ``spec.replicas`` then) and
``deployment.kubernetes.io/max-replicas`` (``replicas + maxSurge`` then). A sync is a *scaling
event* when an active replica set's desired-replicas differs from ``spec.replicas``
(``isScalingEvent``); the controller then runs ``scale`` instead of the rollout: the one active
(or newest) replica set takes the whole count; a saturated new replica set takes it and the old
ones go to 0; otherwise, for RollingUpdate, the difference between ``replicas + maxSurge`` and
Σ spec is shared out in proportion to each replica set's size at its last sizing
(``GetProportion`` / ``getReplicaSetFraction``), the leftover going to the largest one.

Worked example (the Kubernetes docs'): 10 replicas, maxSurge 3, a rollout stuck at new 5 /
old 8 (13 pods, both annotated max-replicas 13), scaled to 15 → allowed 15 + 3 = 18, 5 to add:
old (the larger) gets round(8 × 18 / 13) − 8 = round(11.08) − 8 = +3 → 11, new gets
min(round(5 × 18 / 13) − 5, 5 − 3) = min(round(6.92) − 5, 2) = +2 → 7.

Ported from ``kubernetes/kubernetes``:

- ``pkg/controller/deployment/sync.go`` (``scale``, ``isScalingEvent``, ``scaleReplicaSet``)
- ``pkg/controller/deployment/util/deployment_util.go`` (``GetProportion``,
  ``getReplicaSetFraction``, ``FindActiveOrLatest``, ``IsSaturated``,
  ``SetReplicasAnnotations``, ``MaxSurge``)
- ``pkg/controller/controller_utils.go`` (``ReplicaSetsBySizeNewer``, ``ReplicaSetsBySizeOlder``,
  ``FilterActiveReplicaSets``)
- ``k8s.io/utils/integer`` (``RoundToInt32``: x.5 rounds away from zero)

Pure: stdlib only. Replica sets are immutable :class:`ScalingRS`; :func:`scale` returns the new
``spec.replicas`` of every replica set the controller writes.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ScalingRS",
    "apply_sizes",
    "find_active_or_latest",
    "get_proportion",
    "get_replica_set_fraction",
    "is_saturated",
    "is_scaling_event",
    "replicas_annotations",
    "round_to_int32",
    "scale",
    "sorted_by_size_newer",
    "sorted_by_size_older",
]


@dataclass(frozen=True)
class ScalingRS:
    """A replica set as ``scale`` reads it.

    ``desired_replicas`` and ``max_replicas`` are the two annotations (None when absent);
    ``available_replicas`` is ``status.availableReplicas``; ``created`` orders replica sets
    (older first, ties by name), as ``ReplicaSetsByCreationTimestamp`` does.
    """

    name: str
    created: float
    spec_replicas: int
    available_replicas: int = 0
    desired_replicas: int | None = None
    max_replicas: int | None = None


def round_to_int32(x: float) -> int:
    """``integer.RoundToInt32``: ``int32(math.Round(x))``, halves away from zero.

    Example: 2.5 → 3, −2.5 → −3, 11.69 → 12 (Python's ``round`` would give 2 for 2.5).
    """
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def replicas_annotations(replicas: int, max_surge: int) -> tuple[int, int]:
    """(desired-replicas, max-replicas) that ``SetReplicasAnnotations`` writes on a replica set
    the controller sizes: ``spec.replicas`` and ``spec.replicas + MaxSurge``.

    Example: 10 replicas, maxSurge 25% (→ 3) → (10, 13); Recreate has no surge → (10, 10).
    """
    return replicas, replicas + max_surge


def _by_creation(rs: ScalingRS) -> tuple[float, str]:
    return (rs.created, rs.name)


def sorted_by_size_newer(rs_list: Sequence[ScalingRS]) -> list[ScalingRS]:
    """Largest first; among equal sizes the newer first (``ReplicaSetsBySizeNewer``: scaling up
    grows newer replica sets first). Example: [a@1:2, b@2:2, c@3:5] → [c, b, a]."""
    newest_first = sorted(rs_list, key=_by_creation, reverse=True)
    return sorted(newest_first, key=lambda rs: -rs.spec_replicas)


def sorted_by_size_older(rs_list: Sequence[ScalingRS]) -> list[ScalingRS]:
    """Largest first; among equal sizes the older first (``ReplicaSetsBySizeOlder``: scaling
    down shrinks older replica sets first). Example: [a@1:2, b@2:2, c@3:5] → [c, a, b]."""
    oldest_first = sorted(rs_list, key=_by_creation)
    return sorted(oldest_first, key=lambda rs: -rs.spec_replicas)


def _active(rs_list: Sequence[ScalingRS | None]) -> list[ScalingRS]:
    """``FilterActiveReplicaSets``: replica sets with spec.replicas > 0."""
    return [rs for rs in rs_list if rs is not None and rs.spec_replicas > 0]


def is_scaling_event(replicas: int, all_rs: Sequence[ScalingRS | None]) -> bool:
    """``isScalingEvent``: an active replica set's desired-replicas annotation differs from
    ``spec.replicas`` (replica sets without the annotation are skipped). A template change is
    not a scaling event. Example: replicas 12, old RS (spec 8, desired 10) → True."""
    return any(
        rs.desired_replicas is not None and rs.desired_replicas != replicas
        for rs in _active(all_rs)
    )


def find_active_or_latest(
    new_rs: ScalingRS | None, old_rs: Sequence[ScalingRS]
) -> ScalingRS | None:
    """``FindActiveOrLatest``: the only active replica set, or the newest when none is active
    (the new one if it exists), or None when two or more are active (scale proportionally).

    Example: new (0), old a (0) → new; no new, olds a@1 (0), b@2 (0) → b; a (3), b (2) → None.
    """
    if new_rs is None and not old_rs:
        return None
    olds = sorted(old_rs, key=_by_creation, reverse=True)
    active = _active([*olds, new_rs])
    if not active:
        return new_rs if new_rs is not None else olds[0]
    if len(active) == 1:
        return active[0]
    return None


def is_saturated(replicas: int, rs: ScalingRS | None) -> bool:
    """``IsSaturated``: the new replica set has ``spec.replicas`` pods by spec, by its
    desired-replicas annotation and available. Example: replicas 2, new (spec 2, desired 2,
    available 0) → False (the "saturated but broken" row of TestScale)."""
    if rs is None or rs.desired_replicas is None:
        return False
    return (
        rs.spec_replicas == replicas
        and rs.desired_replicas == replicas
        and rs.available_replicas == replicas
    )


def get_replica_set_fraction(
    rs: ScalingRS, replicas: int, max_surge: int, status_replicas: int
) -> int:
    """``getReplicaSetFraction``: how many replicas ``rs`` gains (or loses) in a scaling event.

    Scaling to 0 takes the whole replica set away. Otherwise its share of the new total
    ``replicas + maxSurge`` relative to the total it was last sized for (its max-replicas
    annotation; when that is missing or 0, the Deployment's ``status.replicas``; when that is 0
    too, no change), rounded half away from zero, minus its size.

    Example: 120 replicas, surge 10 (→ 130), RS of 50 annotated max 110 → round(50 × 130 / 110)
    − 50 = round(59.09) − 50 = 9.
    """
    if replicas == 0:
        return -rs.spec_replicas
    deployment_replicas = replicas + max_surge
    annotated = rs.max_replicas
    if annotated is None or annotated == 0:
        annotated = status_replicas
        if annotated == 0:
            return 0
    new_size = rs.spec_replicas * deployment_replicas / annotated
    return round_to_int32(new_size) - rs.spec_replicas


def get_proportion(
    rs: ScalingRS | None,
    replicas: int,
    max_surge: int,
    status_replicas: int,
    to_add: int,
    added: int,
) -> int:
    """``GetProportion``: the replicas ``rs`` gets of ``to_add`` with ``added`` already handed
    out, never past what is left (min when scaling up, max when scaling down). A replica set at 0
    never scales proportionally.

    Example: to add 6 with 4 already given, an RS whose fraction is +2 → min(2, 6 − 4) = 2; to
    remove 5 (−5) with −3 given, fraction −4 → max(−4, −2) = −2.
    """
    if rs is None or rs.spec_replicas == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = get_replica_set_fraction(rs, replicas, max_surge, status_replicas)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def scale(
    replicas: int,
    max_surge: int,
    rolling: bool,
    new_rs: ScalingRS | None,
    old_rs: Sequence[ScalingRS],
    status_replicas: int,
) -> dict[str, int]:
    """``DeploymentController.scale``: the replica sets the controller writes, with their new
    ``spec.replicas`` (a write may leave the size as is and only refresh the annotations).

    1. One active replica set (or none: the newest) takes ``replicas``; nothing is written when
       it already has them.
    2. A saturated new replica set: every active old one goes to 0.
    3. RollingUpdate only: Σ spec of the active replica sets moves to ``replicas + maxSurge``
       (0 when scaling to 0), shared by :func:`get_proportion` from the largest down (ties:
       newer first when growing, older first when shrinking); the leftover goes to the first
       (largest), floored at 0. Every active replica set is written.

    Recreate with two active replica sets (its old pods not yet scaled down) writes nothing.

    Example (TestScale "proportional scaling: 5 -> 10", surge 0): new 2 and old 3, both
    annotated max 5 → allowed 10, to add 5: old 3 → round(3 × 10 / 5) = 6 (+3), new 2 → 4 (+2).
    """
    latest = find_active_or_latest(new_rs, old_rs)
    if latest is not None:
        return {} if latest.spec_replicas == replicas else {latest.name: replicas}
    if is_saturated(replicas, new_rs):
        return {rs.name: 0 for rs in _active(old_rs)}
    if not rolling:
        return {}
    all_rs = _active([*old_rs, new_rs])
    total = sum(rs.spec_replicas for rs in all_rs)
    allowed = replicas + max_surge if replicas > 0 else 0
    to_add = allowed - total
    if to_add > 0:
        all_rs = sorted_by_size_newer(all_rs)
    elif to_add < 0:
        all_rs = sorted_by_size_older(all_rs)
    sizes: dict[str, int] = {}
    added = 0
    for rs in all_rs:
        if to_add != 0:
            proportion = get_proportion(rs, replicas, max_surge, status_replicas, to_add, added)
            sizes[rs.name] = rs.spec_replicas + proportion
            added += proportion
        else:
            sizes[rs.name] = rs.spec_replicas
    if all_rs and to_add != 0:
        first = all_rs[0].name
        sizes[first] = max(sizes[first] + to_add - added, 0)
    return sizes


def apply_sizes(rs_list: Sequence[ScalingRS], sizes: Mapping[str, int]) -> dict[str, int]:
    """Every replica set's spec after ``sizes`` is applied (a test and display helper).

    Example: [a (3), b (2)] with {"a": 6} → {"a": 6, "b": 2}.
    """
    return {rs.name: sizes.get(rs.name, rs.spec_replicas) for rs in rs_list}
