"""An expect: block over several seeds (experiments/gate.py): every seed, or the mean's CI."""

from __future__ import annotations

import math
from typing import Any

import pytest

from simdeploy.experiments.gate import check_seeds, seeds_check
from simdeploy.spec.expect import Expectation
from tests.conftest import scenario


def exp(value: Any, field: str = "downtime_s") -> Expectation:
    """The expectation a scenario file's ``expect: {field: value}`` gives."""
    return scenario(expect={field: value}).expect[field]


def records(field: str, values: list[Any]) -> list[dict[str, Any]]:
    return [{field: v} for v in values]


def test_the_docstring_example_fails_both_ways() -> None:
    # 4.1, 4.9, 5.6 against <= 5: the third seed fails; mean 4.867, sd 0.7506,
    # t(0.975, 2) = 4.303 → half-width 4.303 · 0.7506 / √3 = 1.865 → upper end 6.73 > 5.
    values = [4.1, 4.9, 5.6]
    every = seeds_check("downtime_s", exp("<= 5"), records("downtime_s", values), [1, 2, 3], "all")
    assert not every.passed and every.failed_seeds == [3]
    assert every.evidence == "failed on 1 of 3 seeds: seed 3: 5.6"
    mean = seeds_check("downtime_s", exp("<= 5"), records("downtime_s", values), [1, 2, 3], "mean")
    assert not mean.passed
    assert mean.mean == pytest.approx(4.8667, abs=1e-4)
    assert mean.ci95 is not None and mean.ci95[1] == pytest.approx(6.731, abs=1e-3)


def test_the_mean_can_hold_where_one_seed_does_not() -> None:
    # 4.0 .. 4.3 and 5.2 against <= 5: seed 5 fails, but mean 4.36, sd √(0.932 / 4) = 0.483,
    # t(0.975, 4) = 2.776 → upper end 4.36 + 2.776 · 0.483 / √5 = 4.959 <= 5.
    values = [4.0, 4.1, 4.2, 4.3, 5.2]
    seeds = [1, 2, 3, 4, 5]
    data = records("downtime_s", values)
    assert not seeds_check("downtime_s", exp("<= 5"), data, seeds, "all").passed
    mean = seeds_check("downtime_s", exp("<= 5"), data, seeds, "mean")
    assert mean.passed
    assert mean.ci95 is not None and mean.ci95[1] == pytest.approx(4.959, abs=1e-3)
    assert mean.evidence == "mean 4.36, 95% CI [3.761, 4.959] over 5 seeds"


@pytest.mark.parametrize(
    ("bound", "values", "passed"),
    [
        # >= uses the lower end: mean 0.995, tiny spread → lower end above 0.99.
        pytest.param(">= 0.99", [0.994, 0.995, 0.996], True, id="lower-end-inside"),
        # mean 0.993 but spread ±0.004 · 4.303 / √3 → lower end 0.983 < 0.99.
        pytest.param(">= 0.99", [0.989, 0.993, 0.997], False, id="lower-end-outside"),
        pytest.param({"min": 1, "max": 3}, [1.9, 2.0, 2.1], True, id="range-inside"),
        pytest.param({"min": 1, "max": 3}, [1.0, 2.0, 3.0], False, id="range-ci-too-wide"),
    ],
)
def test_mean_bounds(bound: Any, values: list[float], passed: bool) -> None:
    check = seeds_check("x", exp(bound), records("x", values), [1, 2, 3], "mean")
    assert check.passed is passed


def test_equalities_and_text_are_checked_on_every_seed_even_for_mean() -> None:
    errors = seeds_check(
        "errors", exp(0, "errors"), records("errors", [0, 0, 3]), [7, 8, 9], "mean"
    )
    assert not errors.passed and errors.failed_seeds == [9]
    outcome = seeds_check(
        "outcome",
        exp("completed", "outcome"),
        records("outcome", ["completed"] * 2),
        [1, 2],
        "mean",
    )
    assert outcome.passed and outcome.mean is None


def test_counts_print_as_integers() -> None:
    check = seeds_check("errors", exp(0, "errors"), records("errors", [12.0]), [1], "all")
    assert check.line == "FAIL errors == 0 (got 12)"


def test_check_seeds_runs_each_seed() -> None:
    sc = scenario(expect={"downtime_s": 0, "outcome": "completed"})
    checks, runs = check_seeds(sc, 2, "all")
    assert [r.seed for r in runs] == [3, 4]  # from the scenario's own seed (3)
    assert [c.passed for c in checks] == [True, True]
    assert all(c.values == [r.record[c.field] for r in runs] for c in checks)
    assert not math.isnan(float(checks[0].mean or 0))
