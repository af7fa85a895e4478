"""Recreate's wait: no pod of the new revision is created while an old pod may still run.

After scaling every old replica set to 0, ``rolloutRecreate`` waits while ``oldPodsRunning``
holds: some old replica set still reports replicas in its status, or some pod not owned by the
new replica set is in a phase other than Failed or Succeeded (Pending, Running and the
deprecated Unknown all count; a terminating pod is still Running until it is gone). So
Recreate waits for the full termination of every old pod, grace period included.

Worked example: old RS scaled to 0 with status.replicas 0, one of its pods Terminating (phase
Running, in its 30 s grace period) → still running; 30 s later the pod is gone → the new
replica set is created at full size.

Ported from ``kubernetes/kubernetes`` ``pkg/controller/deployment/recreate.go``
(``oldPodsRunning``). Pure: stdlib only.
"""

from collections.abc import Mapping, Sequence

__all__ = ["TERMINAL_PHASES", "old_pods_running"]

#: Pod phases that no longer run a container.
TERMINAL_PHASES = frozenset({"Failed", "Succeeded"})


def old_pods_running(
    new_rs: str | None,
    old_status_replicas: Sequence[int],
    pod_phases: Mapping[str, Sequence[str]],
) -> bool:
    """Whether ``rolloutRecreate`` must keep waiting (``oldPodsRunning``).

    ``old_status_replicas`` is ``status.replicas`` of each old replica set; ``pod_phases`` maps a
    replica set (by name) to the phases of the pods it owns. Pods of ``new_rs`` are ignored; any
    other pod in a non-terminal phase (Pending, Running, Unknown, or anything else) counts.

    Example: old status [0], pods {"old": ["Succeeded", "Failed"]} → False;
    {"old": ["Failed"], "other": ["Pending"]} → True; old status [1] with no pods → True.
    """
    if sum(old_status_replicas) > 0:
        return True
    for rs, phases in pod_phases.items():
        if new_rs is not None and rs == new_rs:
            continue
        if any(phase not in TERMINAL_PHASES for phase in phases):
            return True
    return False
