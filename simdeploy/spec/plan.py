"""The ``plan:`` section: timed actions (deploy, rollback, promote, migrate, complete, flag).

Version, flag and table names and the end of the run are checked by the root model in
:mod:`simdeploy.spec.scenario`; the plan lint is :mod:`simdeploy.spec.plan_check`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simdeploy.spec.base import Duration, Strict
from simdeploy.spec.database import Operation
from simdeploy.spec.service import Strategy


class Action(Strict):
    """A timed plan action: ``deploy`` a version (with a strategy), ``rollback`` (undo,
    or Argo's abort), ``promote`` (Argo's promote: ends a pause or an inconclusive wait)."""

    at: Duration
    action: Literal["deploy", "rollback", "promote", "migrate", "complete", "flag"]
    version: str | None = None
    strategy: Strategy | None = None
    # migrate
    name: str | None = None
    operations: list[Operation] = Field(default_factory=list)
    lock_timeout: Duration | None = None
    retries: Annotated[int, Field(ge=0)] = 0
    pgroll: bool = False
    # flag
    flag: str | None = None
    rollout: Annotated[float, Field(ge=0, le=100)] | None = None
    kill: bool | None = None

    @model_validator(mode="after")
    def _fields(self) -> Action:
        a = self.action
        if a == "deploy" and not self.version:
            raise ValueError("deploy needs 'version'")
        if a in ("rollback", "promote", "complete") and (self.version or self.strategy):
            raise ValueError(f"{a} takes only 'at' (it acts on the last deploy or migration)")
        if a == "migrate" and not self.operations:
            raise ValueError("migrate needs 'operations'")
        if a == "migrate" and self.pgroll and self.version is None:
            raise ValueError("a pgroll migration names the 'version' that sees the new schema")
        if a != "migrate" and (self.operations or self.lock_timeout is not None or self.retries):
            raise ValueError("operations, lockTimeout and retries belong to a migrate action")
        if a == "flag" and (self.flag is None or (self.rollout is None and self.kill is None)):
            raise ValueError("flag needs 'flag' and 'rollout' or 'kill'")
        if a != "flag" and (
            self.flag is not None or self.rollout is not None or self.kill is not None
        ):
            raise ValueError("flag, rollout and kill belong to a flag action")
        return self
