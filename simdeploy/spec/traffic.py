"""The ``traffic:`` section: Poisson arrivals at a rate or a rate profile, the users,
the read/write mix and the client timeout."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simdeploy.spec.base import Duration, Fraction, Strict


class Step(Strict):
    at: Duration
    rate: Annotated[float, Field(ge=0)]


class Profile(Strict):
    """A request-rate profile (req/s): constant, steps, or a diurnal sine."""

    type: Literal["constant", "steps", "diurnal"] = "constant"
    rate: Annotated[float, Field(ge=0)] | None = None
    steps: list[Step] | None = None
    mean: Annotated[float, Field(ge=0)] | None = None
    amplitude: Fraction = 0.5
    period: Annotated[Duration, Field(gt=0)] = 86400.0

    @model_validator(mode="after")
    def _params(self) -> Profile:
        if self.type == "constant" and self.rate is None:
            raise ValueError("constant profile needs 'rate'")
        if self.type == "steps" and not self.steps:
            raise ValueError("steps profile needs a non-empty 'steps' list")
        if self.type == "diurnal" and self.mean is None:
            raise ValueError("diurnal profile needs 'mean'")
        return self


class Traffic(Strict):
    """Arrivals (Poisson), users, the read/write mix and the client timeout."""

    rate: Annotated[float, Field(ge=0)] | None = None
    profile: Profile | None = None
    users: Annotated[int, Field(ge=1)] = 10_000
    user_distribution: Literal["uniform", "zipf"] = "uniform"
    zipf_exponent: Annotated[float, Field(gt=0)] = 1.1
    write_ratio: Fraction = 0.1
    timeout: Annotated[Duration, Field(gt=0)] = 10.0

    @model_validator(mode="after")
    def _one_rate(self) -> Traffic:
        if self.rate is not None and self.profile is not None:
            raise ValueError("give either 'rate' or 'profile', not both")
        return self

    @property
    def rate_profile(self) -> Profile:
        if self.profile is not None:
            return self.profile
        return Profile(type="constant", rate=100.0 if self.rate is None else self.rate)
