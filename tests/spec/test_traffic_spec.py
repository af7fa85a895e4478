"""The ``traffic:`` section (:mod:`simdeploy.spec.traffic`): one line per bad input."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of


@pytest.mark.parametrize(
    ("over", "message"),
    [
        pytest.param(
            {"traffic": {"profile": {"type": "constant", "rate": 3}}},
            "traffic: give either 'rate' or 'profile', not both",
            id="rate-and-profile",
        ),
    ],
)
def test_bad_input_gets_one_line_naming_the_field(over: dict, message: str) -> None:
    assert errors_of(**over) == [message]
