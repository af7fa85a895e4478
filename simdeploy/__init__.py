"""simdeploy: a discrete-event simulator and teaching lab for deployment strategies.

>>> from simdeploy import load_scenario, simulate
>>> result = simulate(load_scenario("scenarios/rolling-zero-downtime.yaml"))
>>> result.record["downtime_s"]
0.0
"""

from simdeploy.experiments.compare import compare, replicate
from simdeploy.experiments.policy import policy
from simdeploy.experiments.sweep import sweep
from simdeploy.run.result import Result
from simdeploy.run.simulation import simulate
from simdeploy.spec.base import ScenarioError, UsageError
from simdeploy.spec.scenario import Scenario, load_scenario

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "UsageError",
    "compare",
    "load_scenario",
    "policy",
    "replicate",
    "simulate",
    "sweep",
]
__version__ = "0.1.0"
