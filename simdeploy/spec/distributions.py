"""The distributions used throughout the scenario file (``serviceTime``, ``startupDelay``,
``schedulingDelay``, ...): ``{dist: exponential, mean: 50ms}`` or a bare duration.

A distribution is not a section of its own: ``service.pod`` and ``versions`` use it.
``DistSpec.build()`` gives the sampler from :mod:`simdeploy.rules.dists`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, model_validator

from simdeploy.rules import dists
from simdeploy.spec.base import Duration, DurationInput, Strict

#: The parameters each ``dist`` needs, checked by :meth:`DistSpec._params` and stated in the
#: JSON Schema (``simdeploy schema``) so that editors flag a missing one too.
NEEDS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "exponential": ("mean",),
    "uniform": ("low", "high"),
    "lognormal": ("mean", "p99"),
}


def _needs_schema() -> dict[str, Any]:
    """``if dist is X then required [...]`` for each X (an absent ``dist`` is ``constant``)."""
    rules = [
        {
            "if": {"properties": {"dist": {"const": dist}}, "required": ["dist"]},
            "then": {"required": list(need)},
        }
        for dist, need in NEEDS.items()
    ]
    rules.append({"if": {"not": {"required": ["dist"]}}, "then": {"required": ["value"]}})
    return {"allOf": rules}


class DistSpec(Strict):
    """A duration distribution: ``{dist: exponential, mean: 50ms}`` and friends.

    A bare duration (``2s``) anywhere a distribution is expected means a constant.
    """

    model_config = ConfigDict(json_schema_extra=_needs_schema())

    dist: Literal["constant", "exponential", "uniform", "lognormal"] = "constant"
    value: Duration | None = None
    mean: Duration | None = None
    low: Duration | None = None
    high: Duration | None = None
    p99: Duration | None = None

    @model_validator(mode="after")
    def _params(self) -> DistSpec:
        for name in NEEDS[self.dist]:
            if getattr(self, name) is None:
                raise ValueError(f"dist {self.dist} needs '{name}'")
        if self.dist == "uniform" and self.low > self.high:  # type: ignore[operator]
            raise ValueError("uniform needs low <= high")
        if self.dist == "lognormal":
            mean, p99 = self.mean or 0.0, self.p99 or 0.0
            if not 0 < mean < p99 <= 15 * mean:
                raise ValueError("lognormal needs 0 < mean < p99 <= 15 x mean")
        return self

    def build(self) -> dists.Distribution:
        if self.dist == "constant":
            return dists.Constant(self.value or 0.0)
        if self.dist == "exponential":
            return dists.Exponential(self.mean or 0.0)
        if self.dist == "uniform":
            return dists.Uniform(self.low or 0.0, self.high or 0.0)
        return dists.LogNormal(self.mean or 0.0, self.p99 or 0.0)


def _dist_shorthand(value: Any) -> Any:
    if isinstance(value, bool):  # never a number of seconds
        flag = "true" if value else "false"
        raise ValueError(f"expected a duration or a distribution, got a boolean ({flag})")
    if isinstance(value, int | float | str):
        return {"dist": "constant", "value": value}
    return value


#: A distribution, or a bare duration meaning a constant (the schema accepts both forms).
Dist = Annotated[
    DistSpec, BeforeValidator(_dist_shorthand, json_schema_input_type=DistSpec | DurationInput)
]
