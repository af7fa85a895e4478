"""The ``simulation:`` section: run length, seed, bucket width and data plane.

Only the settings of a run; the simulation itself is :mod:`simdeploy.run.simulation`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simdeploy.spec.base import Duration, Strict


class Simulation(Strict):
    duration: Duration = 600.0
    seed: Annotated[int, Field(ge=0)] = 1
    bucket: Annotated[Duration, Field(gt=0)] = 1.0
    data_plane: Literal["request"] = "request"
