"""The ``simulation:`` section: run length, seed, bucket width and data plane.

Only the settings of a run; the simulation itself is :mod:`simdeploy.run.simulation`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from simdeploy.spec.base import Duration, Strict


class Simulation(Strict):
    duration: Duration = 600.0
    seed: Annotated[int, Field(ge=0)] = 1
    bucket: Annotated[Duration, Field(gt=0)] = 1.0
    data_plane: Literal["requests", "fluid"] = Field(
        "requests",
        description="requests: every request simulated (world/traffic.py); fluid: counted "
        "per time step, for production traffic (world/fluid.py)",
    )
    fluid_step: Annotated[Duration, Field(gt=0, le=1)] = Field(
        0.1, description="the fluid data plane's time step (at most 1 s)"
    )

    @field_validator("data_plane", mode="before")
    @classmethod
    def _singular(cls, value: Any) -> Any:
        """``request`` (the name before the fluid plane existed) is ``requests``."""
        return "requests" if value == "request" else value
