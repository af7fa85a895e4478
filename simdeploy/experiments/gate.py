"""A scenario's ``expect:`` checked over several seeds, for a CI gate.

(``expect: policy:`` is checked by :mod:`simdeploy.experiments.policy_gate`; :func:`check_seeds`
returns both.)

``require="all"``: an expectation holds when it holds on every seed; the seeds where it does
not are named. ``require="mean"``: a numeric bound holds when the whole 95% confidence
interval of the mean over the seeds is inside it, so noise cannot pass a gate by luck:
``downtime_s <= 5`` needs the CI's upper end <= 5, ``>= 0.99`` its lower end >= 0.99, a range
both ends inside. Equalities (``errors == 0``), text (``outcome: completed``) and a field
that is missing on a seed are checked on every seed either way. With one seed both are the
plain check.

Example: downtime 4.1, 4.9 and 5.6 s on 3 seeds against ``<= 5``: ``all`` fails on the third
seed; ``mean`` gives 4.87 ± 1.86 (t(0.975, 2) = 4.303), upper end 6.73 > 5: fails too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simdeploy.experiments.compare import checked_seeds, mean_ci95, replicate
from simdeploy.experiments.policy_gate import PolicyCheck, Require, check_policy
from simdeploy.run.checks import NO_SUCH_FIELD, Check, check_one, fmt_value, lookup
from simdeploy.run.result import Result
from simdeploy.spec.expect import Expectation
from simdeploy.spec.scenario import Scenario

REQUIRE: tuple[Require, ...] = ("all", "mean")


@dataclass(frozen=True)
class SeedsCheck:
    """One expectation over the seeds: whether it holds, and the evidence."""

    field: str
    expected: str
    passed: bool
    require: Require
    seeds: list[int]
    #: The field's value on each seed (None where the run has none).
    values: list[Any]
    #: Seeds where the single-run check fails.
    failed_seeds: list[int] = field(default_factory=list)
    mean: float | None = None
    ci95: tuple[float, float] | None = None

    @property
    def actual(self) -> Any:
        """What to show as the value: the one run's, or the mean over the seeds."""
        if len(self.values) == 1:
            return self.values[0]
        return self.mean if self.mean is not None else self.values

    @property
    def line(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        return f"{mark} {self.field} {self.expected} ({self.evidence})"

    @property
    def evidence(self) -> str:
        if len(self.values) == 1:
            return f"got {fmt_value(self.values[0])}"
        n = len(self.seeds)
        if self.require == "mean" and self.mean is not None:
            ci = (
                f", 95% CI [{fmt_value(self.ci95[0])}, {fmt_value(self.ci95[1])}]"
                if self.ci95
                else ""
            )
            return f"mean {fmt_value(self.mean)}{ci} over {n} seeds"
        if not self.failed_seeds:
            return f"held on all {n} seeds"
        got = ", ".join(
            f"seed {s}: {fmt_value(v)}"
            for s, v in zip(self.seeds, self.values, strict=True)
            if s in self.failed_seeds
        )
        return f"failed on {len(self.failed_seeds)} of {n} seeds: {got}"


#: A checked expectation: a summary field's over the seeds, or the policy's.
AnyCheck = SeedsCheck | PolicyCheck


def check_seeds(
    scenario: Scenario, seeds: int | list[int] = 1, require: Require = "all", jobs: int = 1
) -> tuple[list[AnyCheck], list[Result]]:
    """Every expectation of ``scenario.expect`` and the runs of the file's own scenario.

    The summary fields' are checked over the runs on ``seeds`` (a count from the scenario's
    own seed, or a list; no runs when there are none), then ``policy:``'s over its own
    releases and seeds (:mod:`simdeploy.experiments.policy_gate`)."""
    seed_list = checked_seeds(seeds, scenario)
    fields = scenario.expect.fields
    runs = replicate(scenario, seed_list, jobs=jobs) if fields else []
    records = [r.record for r in runs]
    checks: list[AnyCheck] = [
        seeds_check(name, exp, records, seed_list, require) for name, exp in fields.items()
    ]
    checks += check_policy(scenario, require, jobs)
    return checks, runs


def seeds_check(
    name: str,
    exp: Expectation,
    records: list[dict[str, Any]],
    seeds: list[int],
    require: Require,
) -> SeedsCheck:
    """One expectation over one record per seed (see the module docstring)."""
    values: list[Any] = []
    singles: list[Check] = []
    for record in records:
        try:
            value = lookup(record, name)
        except KeyError:
            value = NO_SUCH_FIELD
        values.append(value)
        singles.append(check_one(name, exp, value))
    failed = [s for s, c in zip(seeds, singles, strict=True) if not c.passed]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    bounded = exp.op in ("<", "<=", ">", ">=", "range")
    if require == "mean" and numeric and bounded and len(values) > 1:
        mean, ci = mean_ci95([float(v) for v in values])
        assert mean is not None and ci is not None
        low, high = ci
        if exp.op == "range":
            ok = (exp.min is None or low >= exp.min) and (exp.max is None or high <= exp.max)
        else:
            end = high if exp.op in ("<", "<=") else low  # the end that must stay inside
            ok = check_one(name, exp, end).passed
        return SeedsCheck(name, exp.text, ok, require, seeds, values, failed, mean, ci)
    mean = mean_ci95([float(v) for v in values])[0] if numeric else None
    return SeedsCheck(name, exp.text, not failed, require, seeds, values, failed, mean)
