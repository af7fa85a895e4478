"""The ``rollback:`` and ``slo:`` sections: when to roll back on its own (an SLO alert
plus a human's reaction, or the progress deadline) and the error-rate objective."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from simdeploy.spec.base import Duration, Fraction, Strict


class SloAlert(Strict):
    """An alert on the user-facing error ratio over a sliding window, then a human.

    Fires when errors / completed requests over the last ``window`` exceeds
    ``errorRate`` (with at least ``minRequests`` completed); the rollback is requested
    at the firing time and carried out ``reactionDelay`` later (someone gets paged).
    """

    error_rate: Fraction = 0.05
    window: Annotated[Duration, Field(gt=0)] = 60.0
    reaction_delay: Duration = 120.0
    min_requests: Annotated[int, Field(ge=1)] = 20


class Rollback(Strict):
    slo_alert: SloAlert | None = None
    on_progress_deadline: bool = False


class Slo(Strict):
    error_rate: Fraction = 0.01
