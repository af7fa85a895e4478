"""Scenario models for feature flags: the ``flags:`` section.

```yaml
flags:
  new-checkout:
    rollout: 0                 # percent of users, LaunchDarkly bucketing
    delivery: {mode: polling, interval: 30s}
    versions: [v2]             # versions that contain the flagged code
    feature: {errorRate: 0.2, reads: {orders: [id, coupon]}}
```

Pure: pydantic only. Who has a flag on at run time is ``world/flags.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simdeploy.spec.base import Duration, Fraction, Strict


class Delivery(Strict):
    """How pods learn of flag changes: streaming (a delay) or polling (every interval)."""

    mode: Literal["streaming", "polling"] = "streaming"
    delay: Duration = 0.2
    interval: Annotated[Duration, Field(gt=0)] = 30.0


class Feature(Strict):
    """The flagged code path: its own error model and data access."""

    error_rate: Fraction = 0.0
    reads: dict[str, list[str]] = Field(default_factory=dict)
    writes: dict[str, list[str]] = Field(default_factory=dict)


class Flag(Strict):
    """A feature flag: sticky percentage rollout (LaunchDarkly bucketing), kill switch."""

    salt: str | None = None
    rollout: Annotated[float, Field(ge=0, le=100)] = 0.0
    delivery: Delivery = Delivery()
    versions: list[str] | None = None
    feature: Feature = Feature()
    dark_launch: bool = False
