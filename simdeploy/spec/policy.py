"""What a scenario's rollout policy is made of: the release it judges and what can roll it
back. Pure: reads a validated scenario.

``simdeploy policy`` and ``expect: policy:`` need both; a scenario without a deploy, or
whose policy can never roll back, has no operating characteristics to measure.
"""

from __future__ import annotations

from typing import Protocol

from simdeploy.spec.expect import ExpectBlock
from simdeploy.spec.plan import Action
from simdeploy.spec.rollback import Rollback
from simdeploy.spec.service import Service, Strategy

NO_DEPLOY = "plan: no deploy action, so there is no release for a policy to judge"
NO_TRIGGER = (
    "the scenario's policy can never roll a release back (no analysis, Flagger checks, SLO "
    "alert or shadow comparison): its false-rollback rate would be 0 and its power 0 by "
    "construction"
)


class PolicyParts(Protocol):
    """What the policy is read from."""

    @property
    def service(self) -> Service: ...
    @property
    def plan(self) -> list[Action]: ...
    @property
    def rollback(self) -> Rollback: ...
    @property
    def expect(self) -> ExpectBlock: ...


def new_version(sc: PolicyParts) -> str | None:
    """The version the plan deploys (its first ``deploy``), or None."""
    for action in sc.plan:
        if action.action == "deploy" and action.version:
            return action.version
    return None


def triggers(sc: PolicyParts) -> list[str]:
    """What in ``sc`` can roll a release back on its own (field paths, for messages)."""
    out = []
    if sc.rollback.slo_alert is not None:
        out.append("rollback.sloAlert")
    strategies = [("service.strategy", sc.service.strategy)]
    strategies += [(f"plan[{i}].strategy", a.strategy) for i, a in enumerate(sc.plan) if a.strategy]
    for path, st in strategies:
        out += [f"{path}.{what}" for what in _strategy_triggers(st)]
    return out


def _strategy_triggers(st: Strategy) -> list[str]:
    out = []
    if st.canary is not None:
        c = st.canary
        if c.analysis is not None:
            out.append("canary.analysis")
        for i, step in enumerate(c.steps):
            if step.analysis is not None:
                out.append(f"canary.steps[{i}].analysis")
            if step.experiment is not None and step.experiment.analyses:
                out.append(f"canary.steps[{i}].experiment.analyses")
    if st.blue_green is not None:
        bg = st.blue_green
        if bg.pre_promotion_analysis is not None:
            out.append("blueGreen.prePromotionAnalysis")
        if bg.post_promotion_analysis is not None:
            out.append("blueGreen.postPromotionAnalysis")
    if st.flagger is not None and not st.flagger.skip_analysis:
        a = st.flagger.analysis
        if a.metrics or a.webhooks:
            out.append("flagger.analysis")
    if st.shadow is not None and st.shadow.analysis is not None:
        out.append("shadow.analysis")
    return out


def policy_problems(sc: PolicyParts) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, message) for an ``expect: policy:`` that cannot be measured."""
    if sc.expect.policy is None:
        return []
    where: tuple[str | int, ...] = ("expect", "policy")
    if new_version(sc) is None:
        return [(where, NO_DEPLOY.removeprefix("plan: "))]
    if not triggers(sc):
        return [(where, NO_TRIGGER)]
    return []
