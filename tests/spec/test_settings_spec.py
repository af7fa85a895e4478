"""The ``simulation:`` section (:mod:`simdeploy.spec.settings`): one line per bad input."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of


@pytest.mark.parametrize(
    ("over", "message"),
    [
        pytest.param(
            {"simulation": {"seed": -1}},
            "simulation.seed: Input should be greater than or equal to 0",
            id="negative-seed",
        ),
    ],
)
def test_bad_input_gets_one_line_naming_the_field(over: dict, message: str) -> None:
    assert errors_of(**over) == [message]
