"""Revision history: which old replica sets the Deployment controller deletes, and which one
``kubectl rollout undo`` goes back to.

``spec.revisionHistoryLimit`` (default 10 in ``apps/v1``) is how many old replica sets a
Deployment keeps for undo. Once a rollout is complete (or the Deployment is paused) the
controller's ``cleanupDeployment`` deletes the surplus, lowest revision first, but only replica
sets that are scaled to 0 and have no pods left. ``kubectl rollout undo`` without
``--to-revision`` patches the template back to the replica set with the second-highest revision;
when none is left it fails with ``no rollout history found for deployment "<name>"`` and changes
nothing.

Worked example: limit 1, old replica sets at revisions 1, 2 and 3, all at 0 → the two lowest
(1 and 2) are deleted; undo then goes back to revision 3. With limit 0 every empty old replica
set goes and undo has nothing to go back to.

Ported from ``kubernetes/kubernetes``:

- ``pkg/controller/deployment/sync.go`` (``cleanupDeployment``)
- ``pkg/controller/deployment/util/deployment_util.go`` (``ReplicaSetsByRevision``,
  ``Revision``: a missing annotation is revision 0; ``HasRevisionHistoryLimit``)
- ``staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollback.go`` (``deploymentRevision``:
  the previous revision, or ``revisionNotFoundErr``)

Pure: stdlib only.
"""

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_INT32",
    "RevisionRS",
    "cleanup_deployment",
    "has_revision_history_limit",
    "no_history_message",
    "revision_not_found_message",
    "rollback_target",
    "sorted_by_revision",
]

MAX_INT32 = 2**31 - 1
"""``math.MaxInt32``: a revisionHistoryLimit of this value means "keep everything"."""


@dataclass(frozen=True)
class RevisionRS:
    """An old replica set as ``cleanupDeployment`` reads it.

    ``revision`` is the ``deployment.kubernetes.io/revision`` annotation (None when absent, which
    sorts as 0); ``status_replicas`` counts its pods that are not terminating; ``deleting`` is a
    set deletionTimestamp (such a replica set is neither counted nor deleted again).
    """

    name: str
    created: float
    spec_replicas: int
    status_replicas: int
    revision: int | None = None
    deleting: bool = False


def has_revision_history_limit(limit: int | None) -> bool:
    """``HasRevisionHistoryLimit``: set and not MaxInt32. Example: 10 → True, None → False."""
    return limit is not None and limit != MAX_INT32


def sorted_by_revision(rs_list: Sequence[RevisionRS]) -> list[RevisionRS]:
    """Lowest revision first (``ReplicaSetsByRevision``); a missing revision counts as 0 and
    equal revisions fall back to creation time, then name.

    Example: [a@1 rev 3, b@2 rev 1, c@3 rev None] → [c (0), b (1), a (3)].
    """
    return sorted(rs_list, key=lambda rs: (rs.revision or 0, rs.created, rs.name))


def cleanup_deployment(old_rs: Sequence[RevisionRS], limit: int | None) -> list[str]:
    """Names of the old replica sets ``cleanupDeployment`` deletes, in the order it deletes them.

    Only replica sets not already being deleted count; ``len(alive) − limit`` of them, lowest
    revision first, are candidates, and a candidate is deleted only when both its spec and its
    status replicas are 0 (a skipped candidate is not replaced by the next one).

    Example: limit 1, revisions 1 (spec 1), 2 (0), 3 (0) → candidates revisions 1 and 2; 1 still
    has a replica → only 2 is deleted.
    """
    if not has_revision_history_limit(limit):
        return []
    assert limit is not None
    alive = [rs for rs in old_rs if not rs.deleting]
    diff = len(alive) - limit
    if diff <= 0:
        return []
    return [
        rs.name
        for rs in sorted_by_revision(alive)[:diff]
        if rs.spec_replicas == 0 and rs.status_replicas == 0
    ]


def no_history_message(deployment: str) -> str:
    """kubectl's error when there is no previous revision to undo to."""
    return f'no rollout history found for deployment "{deployment}"'


def revision_not_found_message(revision: int) -> str:
    """kubectl's error for ``--to-revision`` naming a revision that is not kept."""
    return f"unable to find specified revision {revision} in history"


def rollback_target(
    all_rs: Sequence[RevisionRS], to_revision: int = 0, deployment: str = "app"
) -> tuple[RevisionRS | None, str | None]:
    """The replica set ``kubectl rollout undo`` rolls back to, or the error it prints.

    ``all_rs`` is every replica set of the Deployment (old and new). ``to_revision`` 0 means
    the previous revision: the second-highest revision among them. Returns (target, None) or
    (None, message): :func:`revision_not_found_message` for an explicit revision,
    :func:`no_history_message` for ``deployment`` otherwise.

    Example: revisions 3 (current) and 2 → revision 2; only revision 3 left → (None,
    'no rollout history found for deployment "app"').
    """
    latest: RevisionRS | None = None
    latest_rev = -1
    previous: RevisionRS | None = None
    previous_rev = -1
    for rs in all_rs:
        v = rs.revision or 0
        if to_revision == 0:
            if latest_rev < v:
                previous, previous_rev = latest, latest_rev
                latest, latest_rev = rs, v
            elif previous_rev < v:
                previous, previous_rev = rs, v
        elif v == to_revision:
            return rs, None
    if to_revision > 0:
        return None, revision_not_found_message(to_revision)
    if previous is None:
        return None, no_history_message(deployment)
    return previous, None
