"""The ``plan:`` section: timed actions (deploy, rollback, promote, scale, migrate, complete,
flag).

Version, flag and table names and the end of the run are checked by the root model in
:mod:`simdeploy.spec.scenario`; the plan lint is :mod:`simdeploy.spec.plan_check`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simdeploy.spec.base import Duration, Strict, problem, raise_problems
from simdeploy.spec.database import Operation
from simdeploy.spec.service import Strategy


class Action(Strict):
    """A timed plan action: ``deploy`` a version (with a strategy), ``rollback`` (undo,
    or Argo's abort), ``promote`` (Argo's promote: ends a pause or an inconclusive wait),
    ``scale`` (``kubectl scale --replicas N``: a scaling event, proportional mid-rollout)."""

    at: Duration
    action: Literal["deploy", "rollback", "promote", "scale", "migrate", "complete", "flag"]
    version: str | None = None
    strategy: Strategy | None = None
    # scale
    replicas: Annotated[int, Field(ge=0)] | None = None
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

    @property
    def phase_name(self) -> str:
        """The name a migration's errors are counted under (``errors_by_phase``): its
        ``name``, else ``migration@<at>s`` (``pgroll@<at>s`` for a pgroll migration)."""
        return self.name or f"{'pgroll' if self.pgroll else 'migration'}@{self.at:g}s"

    @model_validator(mode="after")
    def _fields(self) -> Action:
        """Every problem of the action at once (a field that belongs to another action, a
        missing one)."""
        a, out = self.action, []
        if a == "deploy" and not self.version:
            out.append(problem((), "deploy needs 'version'"))
        if a in ("rollback", "promote", "complete") and (self.version or self.strategy):
            out.append(
                problem((), f"{a} takes only 'at' (it acts on the last deploy or migration)")
            )
        if a == "scale" and self.replicas is None:
            out.append(problem((), "scale needs 'replicas'"))
        if a != "scale" and self.replicas is not None:
            out.append(problem((), "replicas belongs to a scale action"))
        if a == "scale" and (self.version or self.strategy):
            out.append(problem((), "scale takes only 'at' and 'replicas'"))
        if a == "migrate" and not self.operations:
            out.append(problem((), "migrate needs 'operations'"))
        if a == "migrate" and self.pgroll and self.version is None:
            out.append(
                problem((), "a pgroll migration names the 'version' that sees the new schema")
            )
        if a != "migrate" and (self.operations or self.lock_timeout is not None or self.retries):
            out.append(
                problem((), "operations, lockTimeout and retries belong to a migrate action")
            )
        if a == "flag" and (self.flag is None or (self.rollout is None and self.kill is None)):
            out.append(problem((), "flag needs 'flag' and 'rollout' or 'kill'"))
        if a != "flag" and (
            self.flag is not None or self.rollout is not None or self.kill is not None
        ):
            out.append(problem((), "flag, rollout and kill belong to a flag action"))
        raise_problems(type(self).__name__, out)
        return self
