"""Recreate (recreate.go): scale every old replica set to 0, wait until every old pod is
gone (its full termination, grace period included), then create the new pods at once.

The downtime this causes is at least termination + scheduling + start-up + readiness
(+ minReadySeconds): no pod of the new revision exists while an old one still runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simdeploy.control.deployment import Deployment


def sync(dep: Deployment) -> bool:
    """One pass of ``rolloutRecreate``; True when it scaled something.

    The wait is ``oldPodsRunning`` (:func:`simdeploy.rules.recreate_wait.old_pods_running`),
    so no new pod exists while an old one may still serve.
    """
    scaled = False
    for rs in dep.old_rss():
        if rs.spec_replicas > 0:
            dep.scale(rs, 0, "recreate: old replica sets to 0")
            scaled = True
    if scaled:
        return True
    if dep.old_pods_running():
        return False  # the next pod deletion wakes us
    new = dep.new_rs_or_create()
    if new.spec_replicas != dep.replicas:
        dep.scale(new, dep.replicas, "recreate: new replica set to full size")
        return True
    return False
