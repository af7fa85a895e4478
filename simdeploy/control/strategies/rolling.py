"""RollingUpdate (rolling.go): grow the new replica set within ``replicas + maxSurge``
pods by spec; shrink old ones while ``replicas - maxUnavailable`` stay available.

One pass does one of the two, never both, exactly like ``rolloutRolling``:

    if reconcileNewReplicaSet changed something: return
    if reconcileOldReplicaSets changed something: return

The arithmetic is ``replica_math`` (pure, table-tested); this file only applies it.
Worked example (10 replicas, 25%/25% → surge 3, unavailable 2): the new RS is created
at 3; old goes 10 → 8 (13 − 8 − 3 unavailable new = 2); then each newly available pod
lets the old side shrink and the new side grow again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simdeploy.rules.replica_math import reconcile_new_replica_set, reconcile_old_replica_sets

if TYPE_CHECKING:
    from simdeploy.control.deployment import Deployment


def sync(dep: Deployment) -> bool:
    """One pass of ``rolloutRolling``; True when it scaled something."""
    ru = dep.strategy.rolling
    new = dep.new_rs_or_create()
    olds = sorted(dep.old_rss(), key=lambda rs: (rs.created_at, rs.name))
    new_state = dep.rs_state(new)
    old_states = [dep.rs_state(rs) for rs in olds]
    all_states = [*old_states, new_state]

    target = reconcile_new_replica_set(all_states, new_state, dep.replicas, ru.max_surge)
    if target is not None:
        dep.scale(new, target, "rolling: new replica set")
        return True

    # reconcileOldReplicaSets
    active_old = [s for s in old_states if s.spec_replicas > 0]
    if not active_old:
        return False
    changes, total = reconcile_old_replica_sets(
        all_states, active_old, new_state, dep.replicas, ru.max_surge, ru.max_unavailable
    )
    if total <= 0:
        return False
    by_name = {rs.name: rs for rs in olds}
    for name, replicas in changes.items():
        dep.scale(by_name[name], replicas, "rolling: scale down old RS")
    return True
