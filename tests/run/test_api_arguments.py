"""Bad arguments to the Python API: a typed error (``UsageError``, a ``ScenarioError``) whose
one line names the argument, never a TypeError or ValueError from deep inside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simdeploy import Scenario, ScenarioError, UsageError, compare, load_scenario, simulate
from simdeploy.experiments.compare import replicate
from tests.conftest import scenario


@pytest.fixture(scope="module")
def quick() -> Scenario:
    return scenario(simulation={"duration": "20s"}, plan=[])


CASES: list[tuple[str, Callable[[Scenario], Any], str]] = [
    ("load-none", lambda sc: load_scenario(None), "load_scenario: expected a file path"),
    ("load-int", lambda sc: load_scenario(123), "load_scenario: expected a file path"),
    ("load-bytes", lambda sc: load_scenario(b"a.yaml"), "(str or Path), got bytes"),
    ("simulate-dict", lambda sc: simulate({"service": {}}), "scenario: expected a Scenario"),
    ("simulate-seed-float", lambda sc: simulate(sc, seed=1.5), "seed: expected an integer >= 0"),
    ("simulate-seed-negative", lambda sc: simulate(sc, seed=-1), "got -1"),
    ("simulate-seed-bool", lambda sc: simulate(sc, seed=True), "got True"),
    ("simulate-seed-str", lambda sc: simulate(sc, seed="3"), "got '3'"),
    ("compare-seeds-0", lambda sc: compare([sc], seeds=0), "seeds: expected a count >= 1"),
    ("compare-seeds-empty", lambda sc: compare([sc], seeds=[]), "got an empty list"),
    ("compare-seeds-str", lambda sc: compare([sc], seeds="12"), "got str"),
    ("compare-seed-negative", lambda sc: compare([sc], seeds=[1, -2]), "seeds[1]: expected"),
    ("compare-jobs-negative", lambda sc: compare([sc], jobs=-1), "jobs: expected an integer >= 1"),
    ("compare-jobs-zero", lambda sc: compare([sc], jobs=0), "jobs: expected an integer >= 1"),
    ("compare-nothing", lambda sc: compare({}), "variants: nothing to compare"),
    ("compare-not-a-scenario", lambda sc: compare({"a": {}}), "variants['a']: expected"),
    ("compare-string", lambda sc: compare("a.yaml"), "variants: expected a Scenario"),
    ("replicate-seeds-0", lambda sc: replicate(sc, seeds=0), "seeds: expected a count >= 1"),
]


@pytest.mark.parametrize(("call", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_is_a_usage_error(quick: Scenario, call, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        call(quick)
    (line,) = exc.value.errors
    assert message in line
    assert isinstance(exc.value, ScenarioError) and str(exc.value) == line


def test_numpy_integers_are_seeds(quick: Scenario) -> None:
    assert simulate(quick, seed=np.int64(5)).seed == 5
    assert compare([quick], seeds=[np.int32(1)]).seeds == [1]


def test_a_directory_or_a_device_is_not_a_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path)
    assert exc.value.errors == [f"{tmp_path}: is a directory, not a scenario file"]
    if Path("/dev/zero").exists():  # endless: must be refused, not read
        with pytest.raises(ScenarioError) as exc:
            load_scenario("/dev/zero")
        assert exc.value.errors == ["/dev/zero: not a regular file"]


@pytest.mark.parametrize(
    ("update", "line"),
    [
        ({"rate": -1.0}, "traffic.rate: Input should be greater than or equal to 0"),
        ({"rate": float("nan")}, "traffic.rate: Input should be a finite number"),
        ({"rate": 1e9}, "traffic.rate: too large to simulate: "),
        ({"users": "many"}, "traffic.users: Input should be a valid integer"),
    ],
    ids=["negative", "nan", "too-large", "wrong-type"],
)
def test_model_copy_is_validated_again(quick: Scenario, update: dict, line: str) -> None:
    """``model_copy(update=...)`` skips pydantic's validation; simulate, compare and
    replicate validate again and raise the line ``validate`` would print for a file."""
    bad = quick.model_copy(update={"traffic": quick.traffic.model_copy(update=update)})
    for run in (simulate, lambda sc: compare([sc]), lambda sc: replicate(sc, 1)):
        with pytest.raises(ScenarioError) as exc:
            run(bad)
        assert not isinstance(exc.value, UsageError)
        assert exc.value.errors[0].startswith(line)
