"""What an aborted Argo rollout does with the new ReplicaSet: ``abortScaleDownDelaySeconds``.

After an abort, all traffic goes back to stable and the new ReplicaSet (the canary, or the
blue/green preview) is scaled down ``abortScaleDownDelaySeconds`` later (30 by default). The
value 0 means "never": the ReplicaSet stays up for someone to look at. Whether the field was
*given* matters as much as its value: under ``dynamicStableScale`` the canary follows the
weight down unless the delay was set explicitly (to a non-zero value). A value is seconds;
``None`` stands for "not in the spec", as upstream's nil pointer does.

Ported from ``argoproj/argo-rollouts``:

- ``utils/defaults/defaults.go``: GetAbortScaleDownDelaySecondsOrDefault,
  HasExplicitAbortScaleDownDelay, DefaultAbortScaleDownDelaySeconds
- ``rollout/replicaset.go``: shouldDelayScaleDownOnAbort

Pure: stdlib only.
"""

from typing import Final

__all__ = [
    "DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS",
    "abort_scale_down_delay_seconds",
    "has_explicit_abort_scale_down_delay",
    "should_delay_scale_down_on_abort",
]

DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS: Final = 30
"""``DefaultAbortScaleDownDelaySeconds``: the new ReplicaSet goes 30 s after an abort."""


def abort_scale_down_delay_seconds(
    value: float | None, *, blue_green: bool = False, traffic_routing: bool = False
) -> tuple[float | None, bool]:
    """(delay in seconds or None for "never", whether the field was set).

    GetAbortScaleDownDelaySecondsOrDefault. ``value`` is ``abortScaleDownDelaySeconds`` as
    written, None when absent. Blue/green, and a canary with a traffic router: absent → 30;
    0 → None (keep the ReplicaSet up); anything else → itself. A canary without a router
    (``blue_green`` and ``traffic_routing`` both False) has no abort delay: (0, False), the
    field being ignored.

    Example: blue/green with 60 → (60, True); with 0 → (None, True); absent → (30, False);
    basic canary with 60 → (0, False).
    """
    if not (blue_green or traffic_routing):
        return 0, False
    if value is None:
        return DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS, False
    if value == 0:
        return None, True
    return value, True


def has_explicit_abort_scale_down_delay(
    value: float | None, *, blue_green: bool = False, traffic_routing: bool = False
) -> bool:
    """Whether the delay was given in the spec *and* is not 0 (HasExplicitAbortScaleDownDelay).

    "Explicit" is about presence, not the value: ``abortScaleDownDelaySeconds: 30`` written out
    is explicit though it equals the default; 0 is not (it means "never scale down").

    Example: routed canary with 30 → True; absent → False; 0 → False.
    """
    delay, was_set = abort_scale_down_delay_seconds(
        value, blue_green=blue_green, traffic_routing=traffic_routing
    )
    return was_set and delay is not None


def should_delay_scale_down_on_abort(
    value: float | None,
    *,
    blue_green: bool = False,
    traffic_routing: bool = False,
    dynamic_stable_scale: bool = False,
    aborted: bool = True,
    stable_exists: bool = True,
) -> bool:
    """Whether an abort keeps the new ReplicaSet up until a scale-down deadline.

    shouldDelayScaleDownOnAbort. False (the new ReplicaSet follows the replica arithmetic, or
    stays as it is) when: not aborted; no stable ReplicaSet; a canary without a router; the
    delay is 0 (never scale down: the ReplicaSet keeps its size); or ``dynamicStableScale``
    without an explicit delay (the canary shrinks as the weight steps down). Otherwise True: the
    controller waits until the stable ReplicaSet is fully available, annotates the new one with
    a deadline of now + delay, and scales it to 0 when the deadline passes.

    Example: routed canary, delay absent → True; the same with dynamicStableScale → False;
    with dynamicStableScale and 60 → True; blue/green with 0 → False.
    """
    if not aborted or not stable_exists:
        return False
    if not blue_green and not traffic_routing:
        return False
    delay, _ = abort_scale_down_delay_seconds(
        value, blue_green=blue_green, traffic_routing=traffic_routing
    )
    if delay is None:
        return False
    # dynamicStableScale (a canary only) shrinks the canary with the weight unless the delay is
    # explicit.
    follows_weight = not blue_green and dynamic_stable_scale
    return not follows_weight or has_explicit_abort_scale_down_delay(
        value, traffic_routing=traffic_routing
    )
