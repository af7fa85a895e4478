"""Base types of the scenario format: strict camelCase models, durations, percentages.

Pure: pydantic only. ``scenario.py`` (Kubernetes, traffic, plan) and ``progressive.py``
(Argo Rollouts, Flagger, shadow, analysis) build on these.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from simdeploy.rules.durations import parse_duration


class ScenarioError(ValueError):
    """A scenario that cannot be run. ``errors`` holds one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


Duration = Annotated[float, BeforeValidator(parse_duration)]


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    """Base model: camelCase aliases, snake_case names, unknown keys rejected with a hint."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known: set[str] = set()
        for name, field in cls.model_fields.items():
            known.add(name)
            if field.alias:
                known.add(field.alias)
        for key in data:
            if key not in known:
                aliases = sorted(f.alias or n for n, f in cls.model_fields.items())
                close = difflib.get_close_matches(str(key), aliases, n=1, cutoff=0.6)
                hint = (
                    f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(aliases)}"
                )
                raise PydanticCustomError(
                    "unknown_field", "unknown field{hint}", {"key": str(key), "hint": hint}
                )
        return data
