"""simdeploy: a discrete-event simulator and teaching lab for deployment strategies.

>>> from simdeploy import load_scenario, simulate
>>> result = simulate(load_scenario("scenarios/rolling-zero-downtime.yaml"))
>>> result.record["downtime_s"]
0.0
"""

from simdeploy.experiment import compare, replicate
from simdeploy.result import Result
from simdeploy.scenario import Scenario, ScenarioError, load_scenario
from simdeploy.simulation import simulate

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "compare",
    "load_scenario",
    "replicate",
    "simulate",
]
__version__ = "0.1.0"
