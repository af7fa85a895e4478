"""``expect: policy:`` checked by replication, for a CI gate.

A policy expectation is a probability: how often the rollout policy rolls back a release
identical to the old version (``falseRollbackRate``), or rolls back a release of a given
regression, within a time when asked (``detects``). Each is measured on ``seeds`` runs of
its release (:func:`simdeploy.experiments.policy.release_records`; the seeds are shared,
common random numbers) and summarised as k of n with its Wilson 95% interval.

``require="all"`` compares the observed share with the bound; ``require="mean"`` needs the
whole interval inside it, so a lucky few runs cannot pass the gate.

Example: 0 false rollbacks in 20 runs against ``falseRollbackRate: "<= 0.1"``: the share 0
passes with ``all``; with ``mean`` the interval [0, 0.161] reaches above 0.1, which fails
(it takes 0 of 35 runs, [0, 0.0989], to pass).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from simdeploy.experiments.compare import checked_seeds
from simdeploy.experiments.policy import Kind, release_records
from simdeploy.rules.proportions import wilson
from simdeploy.run.checks import check_one
from simdeploy.spec.expect import Expectation, PolicyDetects
from simdeploy.spec.scenario import Scenario

Require = Literal["all", "mean"]


@dataclass(frozen=True)
class PolicyCheck:
    """One policy expectation: k of n runs did what it asks, and whether that holds."""

    #: ``policy.falseRollbackRate``, ``policy.detects`` or ``policy.detects[i]``
    field: str
    expected: str
    passed: bool
    require: Require
    seeds: list[int]
    #: 1 where the run did what is counted (rolled back; in time for ``detects``), else 0
    values: list[int]
    regression: float
    kind: Kind
    ci95: tuple[float, float] = (0.0, 1.0)
    #: what the runs counted are, for the evidence ("releases identical to the old version")
    counted: str = ""
    failed_seeds: list[int] = field(default_factory=list)

    @property
    def hits(self) -> int:
        return sum(self.values)

    @property
    def mean(self) -> float:
        return self.hits / len(self.values)

    @property
    def actual(self) -> float:
        return self.mean

    @property
    def line(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        return f"{mark} {self.field} {self.expected} ({self.evidence})"

    @property
    def evidence(self) -> str:
        low, high = self.ci95
        return (
            f"{self.counted} in {self.hits} of {len(self.values)} runs: {self.mean:.3g}, "
            f"Wilson 95% CI [{low:.3g}, {high:.3g}]"
        )

    def command(self, file: str) -> str:
        """The ``simdeploy policy`` command that shows this row."""
        args = ["simdeploy", "policy", file, "--regressions", f"{self.regression:g}"]
        args += ["--kind", self.kind, "--seeds", str(len(self.seeds))]
        return shlex.join(args)


def check_policy(scenario: Scenario, require: Require = "all", jobs: int = 1) -> list[PolicyCheck]:
    """Every expectation of ``scenario.expect.policy`` (none without one), in file order.

    Runs each release once per seed of ``policy.seeds`` (from the scenario's own seed), on
    the fluid data plane where the scenario allows it, as ``simdeploy policy`` does."""
    expectation = scenario.expect.policy
    if expectation is None:
        return []
    wanted: list[tuple[str, Expectation, PolicyDetects | None]] = []
    if expectation.false_rollback_rate is not None:
        wanted.append(("policy.falseRollbackRate", expectation.false_rollback_rate, None))
    names = [n for n in expectation.names() if n.startswith("policy.detects")]
    for name, detects in zip(names, expectation.detection, strict=True):
        wanted.append((name, detects.probability, detects))
    releases: list[tuple[float, Kind]] = [
        (0.0, "errors") if d is None else (d.regression, d.kind) for _, _, d in wanted
    ]
    seeds = checked_seeds(expectation.seeds, scenario)
    records = release_records(scenario, releases, seeds, jobs)
    out = []
    for (name, exp, detects), (regression, kind), recs in zip(
        wanted, releases, records, strict=True
    ):
        within = None if detects is None else detects.within
        values = [int(_counted(rec, within)) for rec in recs]
        expected = exp.text if detects is None else detects.text
        counted = (
            "rolled back a release identical to the old version"
            if detects is None
            else "rolled back" + ("" if within is None else f" within {within:g} s")
        )
        out.append(_check(name, exp, expected, values, seeds, require, regression, kind, counted))
    return out


def _counted(record: dict[str, Any], within: float | None) -> bool:
    """Did the run roll back (within ``within`` seconds of detecting, when given)?"""
    if record["outcome"] != "rolled_back":
        return False
    if within is None:
        return True
    detect = record.get("time_to_detect_s")
    return detect is not None and detect <= within


def _check(
    name: str,
    exp: Expectation,
    expected: str,
    values: list[int],
    seeds: list[int],
    require: Require,
    regression: float,
    kind: Kind,
    counted: str,
) -> PolicyCheck:
    """``values`` (1 = counted) against ``exp``: the share itself (``all``), or its whole
    Wilson interval (``mean``: the end that must stay inside for <, <=, >, >=; both for a
    range; the share for == and !=)."""
    n, k = len(values), sum(values)
    share = k / n
    low, high = wilson(k, n)
    if require == "mean" and exp.op == "range":
        passed = (exp.min is None or low >= exp.min) and (exp.max is None or high <= exp.max)
    elif require == "mean" and exp.op in ("<", "<="):
        passed = check_one(name, exp, high).passed
    elif require == "mean" and exp.op in (">", ">="):
        passed = check_one(name, exp, low).passed
    else:
        passed = check_one(name, exp, share).passed
    # The seeds to look at: runs that rolled back a good release, or missed a bad one.
    bad = 1 if name == "policy.falseRollbackRate" else 0
    failed = [] if passed else [s for s, v in zip(seeds, values, strict=True) if v == bad]
    return PolicyCheck(
        name,
        expected,
        bool(passed),
        require,
        seeds,
        values,
        regression,
        kind,
        (low, high),
        counted,
        failed,
    )
