"""The ``plan:`` section (:mod:`simdeploy.spec.plan`): one line per bad action.

References to versions and the end of the run are the root model's checks
(``test_scenario_root.py``).
"""

from __future__ import annotations

import pytest

from tests.conftest import errors_of


@pytest.mark.parametrize(
    ("over", "message"),
    [
        pytest.param(
            {"plan": [{"at": "5x", "action": "deploy", "version": "v2"}]},
            "plan[0].at: invalid duration '5x': use seconds or 250ms / 30s / 5m / 1h",
            id="bad-duration",
        ),
        pytest.param(
            {"plan": [{"at": "5s", "action": "deploy"}]},
            "plan[0]: deploy needs 'version'",
            id="deploy-without-version",
        ),
    ],
)
def test_bad_input_gets_one_line_naming_the_field(over: dict, message: str) -> None:
    assert errors_of(**over) == [message]
