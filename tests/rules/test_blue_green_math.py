"""Table tests for simdeploy.rules.blue_green_math (Argo's blue/green arithmetic).

Rows marked "upstream" are ported from argoproj/argo-rollouts (v1.10.0-rc1, commit 9f8d111):
``utils/replicaset/replicaset_test.go`` (TestNewRSNewReplicas,
TestNewRSNewReplicasWitPreviewReplicaCount) and ``utils/replicaset/bluegreen_test.go``
(TestReadyForPause), named as there. The other rows follow the branches of
``rollout/bluegreen.go`` (calculateScaleUpPreviewCheckPoint, needsBlueGreenControllerPause) and
``utils/annotations/annotations.go`` (IsSaturated).
"""

from typing import Any

import pytest

from simdeploy.rules.blue_green_math import (
    calculate_scale_up_preview_checkpoint,
    is_saturated,
    needs_blue_green_controller_pause,
    new_rs_new_replicas,
    ready_for_pause,
)


def test_new_rs_new_replicas_without_preview_count() -> None:
    """upstream TestNewRSNewReplicas: blue/green without previewReplicaCount → all replicas."""
    assert new_rs_new_replicas(3, None) == 3
    assert new_rs_new_replicas(3, None, scale_up_preview_checkpoint=False, paused=True) == 3


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"has_active": False}, 10, id="upstream-No active rs is set"),
        pytest.param({"active_is_new": True}, 10, id="upstream-Active rs is the new RS"),
        pytest.param(
            {"new_template": True, "scale_up_preview_checkpoint": True},
            1,
            id="upstream-Rollout's currentPodHash doesn't match up",
        ),
        pytest.param(
            {"scale_up_preview_checkpoint": True},
            10,
            id="upstream-Rollout is unpaused and ready to scale up",
        ),
        pytest.param({}, 1, id="upstream-The rollout should use the preview value"),
        pytest.param(
            {"promote_full": True},
            10,
            id="upstream-Ignore preview replica count during promote full",
        ),
        pytest.param(
            {"scale_up_preview_checkpoint": True, "paused": True},
            1,
            id="paused-past-the-checkpoint-keeps-the-preview-size",
        ),
    ],
)
def test_new_rs_new_replicas_with_preview_replica_count(
    kwargs: dict[str, Any], expected: int
) -> None:
    # upstream: 10 replicas, previewReplicaCount 1, the new RS "foo", the other "bar".
    assert new_rs_new_replicas(10, 1, **kwargs) == expected


def test_preview_count_is_not_capped_at_replicas() -> None:
    """Upstream returns previewReplicaCount as given; so does the port (4 replicas, preview 6)."""
    assert new_rs_new_replicas(4, 6) == 6
    assert new_rs_new_replicas(4, 6, scale_up_preview_checkpoint=True) == 4


@pytest.mark.parametrize(
    ("desired", "spec", "available", "expected"),
    [
        pytest.param(1, 1, 1, True, id="upstream-TestReadyForPause-readyRS"),
        pytest.param(1, 1, 0, False, id="upstream-TestReadyForPause-notReadyRS"),
        pytest.param(2, 1, 1, False, id="spec-not-yet-at-desired"),
        pytest.param(0, 0, 0, True, id="preview-of-zero-is-ready"),
        pytest.param(3, 3, 4, False, id="more-available-than-desired-is-not-ready"),
    ],
)
def test_ready_for_pause(desired: int, spec: int, available: int, expected: bool) -> None:
    assert ready_for_pause(desired, spec, available) is expected


@pytest.mark.parametrize(
    ("spec", "available", "expected"),
    [
        pytest.param(4, 4, True, id="all-replicas-available"),
        pytest.param(4, 3, False, id="one-not-available"),
        pytest.param(1, 1, False, id="preview-size-is-not-saturated"),
        pytest.param(5, 4, False, id="spec-above-replicas"),
    ],
)
def test_is_saturated(spec: int, available: int, expected: bool) -> None:
    assert is_saturated(4, spec, available) is expected


@pytest.mark.parametrize(
    ("preview", "previous", "analysis_done", "pause_done", "available", "expected"),
    [
        pytest.param(None, False, True, True, 4, False, id="feature-not-used"),
        pytest.param(2, True, False, False, 0, True, id="one-way-trip-wire-stays-true"),
        pytest.param(2, False, False, True, 2, False, id="pre-promotion-analysis-incomplete"),
        pytest.param(2, False, True, False, 2, False, id="pause-incomplete"),
        pytest.param(2, False, True, True, 2, True, id="preview-count-available"),
        pytest.param(2, False, True, True, 1, False, id="preview-count-not-all-available"),
    ],
)
def test_calculate_scale_up_preview_checkpoint(
    preview: int | None,
    previous: bool,
    analysis_done: bool,
    pause_done: bool,
    available: int,
    expected: bool,
) -> None:
    result = calculate_scale_up_preview_checkpoint(
        preview, previous, analysis_done, pause_done, available
    )
    assert result is expected


@pytest.mark.parametrize(
    ("enabled", "seconds", "expected"),
    [
        pytest.param(False, None, True, id="auto-promotion-disabled"),
        pytest.param(False, 30, True, id="auto-promotion-disabled-with-seconds"),
        pytest.param(None, 30, True, id="auto-promotion-seconds"),
        pytest.param(True, 0, False, id="auto-promotion-immediate"),
        pytest.param(None, None, False, id="defaults-no-pause"),
    ],
)
def test_needs_blue_green_controller_pause(
    enabled: bool | None, seconds: float | None, expected: bool
) -> None:
    assert needs_blue_green_controller_pause(enabled, seconds) is expected
