"""Argo Rollouts' blue/green arithmetic: preview size, "ready", the scale-up checkpoint.

A blue/green update creates the new (green) ReplicaSet beside the active (blue) one. It starts
at ``previewReplicaCount`` pods (all replicas when unset) behind the preview Service; once
pre-promotion analysis has succeeded and the pause is over, a one-way *checkpoint* flips and
the new ReplicaSet is scaled to full size; the active Service switches to it only when it is
ready and saturated (every replica available). Counts are pods.

Ported from ``argoproj/argo-rollouts`` (read at v1.10.0-rc1, commit 9f8d111):

- ``utils/replicaset/replicaset.go``: NewRSNewReplicas (its blue/green branch)
- ``utils/replicaset/bluegreen.go``: ReadyForPause
- ``utils/annotations/annotations.go``: IsSaturated
- ``rollout/bluegreen.go``: calculateScaleUpPreviewCheckPoint, needsBlueGreenControllerPause

Pure: stdlib only.
"""

__all__ = [
    "calculate_scale_up_preview_checkpoint",
    "is_saturated",
    "needs_blue_green_controller_pause",
    "new_rs_new_replicas",
    "ready_for_pause",
]


def new_rs_new_replicas(
    replicas: int,
    preview_replica_count: int | None,
    *,
    active_is_new: bool = False,
    has_active: bool = True,
    promote_full: bool = False,
    new_template: bool = False,
    paused: bool = False,
    scale_up_preview_checkpoint: bool = False,
) -> int:
    """``spec.replicas`` of the new ReplicaSet of a blue/green rollout (NewRSNewReplicas).

    Without ``previewReplicaCount`` always ``replicas``. With it, ``replicas`` when there is no
    active ReplicaSet yet (``has_active`` False: the first deploy), when the active Service
    already selects the new ReplicaSet (``active_is_new``: past the switch), on ``promote
    --full``, or once the scale-up checkpoint has passed and the rollout is not paused;
    otherwise ``previewReplicaCount``. ``new_template`` (the new ReplicaSet is not the one the
    status last recorded: a new update) forces the preview count. The preview count is used as
    given, not capped at ``replicas``, as upstream does.

    Example (upstream rows, 10 replicas, preview 1): no active RS → 10; active is the new RS →
    10; a new template with the checkpoint set → 1; unpaused past the checkpoint → 10; otherwise
    → 1; promote full → 10.
    """
    if preview_replica_count is None:
        return replicas
    if not has_active or active_is_new:
        return replicas
    if promote_full:
        return replicas
    if new_template:
        return preview_replica_count
    if not paused and scale_up_preview_checkpoint:
        return replicas
    return preview_replica_count


def ready_for_pause(desired: int, spec_replicas: int, available_replicas: int) -> bool:
    """Whether the new ReplicaSet is at its desired size with every pod available.

    ReadyForPause: ``spec.replicas`` and ``status.availableReplicas`` both equal ``desired``
    (:func:`new_rs_new_replicas`). Pre-promotion analysis starts, and the pause is reconciled,
    only from then on.

    Example: desired 1, spec 1, available 1 → True; available 0 → False; desired 0 with an empty
    ReplicaSet → True.
    """
    return spec_replicas == desired and available_replicas == desired


def is_saturated(replicas: int, spec_replicas: int, available_replicas: int) -> bool:
    """Whether the new ReplicaSet runs every replica, all available (IsSaturated).

    The active Service switches to the new ReplicaSet only when it is ready for pause *and*
    saturated, so a preview of ``previewReplicaCount`` pods never receives production traffic.
    (Upstream also requires the desired-replicas annotation to equal ``replicas``; the
    simulator's replica count is fixed, so it always does.)

    Example: 4 replicas, spec 4, 4 available → True; spec 4, 3 available → False; spec 1 → False.
    """
    return spec_replicas == replicas and available_replicas == replicas


def calculate_scale_up_preview_checkpoint(
    preview_replica_count: int | None,
    previous: bool,
    pre_promotion_analysis_completed: bool,
    pause_completed: bool,
    available_replicas: int,
) -> bool:
    """``status.blueGreen.scaleUpPreviewCheckPoint`` after this reconcile.

    calculateScaleUpPreviewCheckPoint. A one-way trip-wire: False without
    ``previewReplicaCount``; once True it stays True (until a new template or full promotion,
    which the caller handles); it becomes True only after pre-promotion analysis succeeded and
    the pause completed, and then only when exactly ``previewReplicaCount`` pods are available.

    Example: preview 2, analysis done, pause done, 2 available → True; 1 available → False;
    analysis still running → False; previously True → True.
    """
    if preview_replica_count is None:
        return False
    if previous:
        return True
    if not pre_promotion_analysis_completed or not pause_completed:
        return False
    return preview_replica_count == available_replicas


def needs_blue_green_controller_pause(
    auto_promotion_enabled: bool | None, auto_promotion_seconds: float | None
) -> bool:
    """Whether the controller pauses before the switch (needsBlueGreenControllerPause).

    ``autoPromotionEnabled: false`` → a pause that waits for a promote; otherwise a pause only
    when ``autoPromotionSeconds`` > 0 (it ends by itself that many seconds later). None means
    the field is absent (auto-promotion on, 0 s).

    Example: (False, None) → True; (None, 30) → True; (True, 0) → False; (None, None) → False.
    """
    if auto_promotion_enabled is not None and not auto_promotion_enabled:
        return True
    return auto_promotion_seconds is not None and auto_promotion_seconds > 0
