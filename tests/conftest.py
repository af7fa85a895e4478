"""Shared helpers: small scenarios built in code, so each test states what it varies."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from simdeploy import Scenario, ScenarioError
from simdeploy.rules.canary_math import CanaryRS
from simdeploy.rules.migrations import AddConstraint
from simdeploy.rules.schema import Column, ConstraintKind, Schema

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

#: tests/bad/ holds the bad-file table (scenario files that must fail validation): data that
#: tests read, not scenario files for the pytest plugin to collect.
collect_ignore_glob = ["bad/*"]


def base_dict(**over: Any) -> dict[str, Any]:
    """A small, fast scenario: 4 replicas, 100 req/s, v1 → v2 at 10 s, 90 s run."""
    d: dict[str, Any] = {
        "name": "small",
        "service": {
            "version": "v1",
            "replicas": 4,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "pod": {
                "schedulingDelay": "0.5s",
                "startupDelay": {"dist": "uniform", "low": "1s", "high": "2s"},
                "readinessProbe": {"initialDelaySeconds": 2, "periodSeconds": 1},
                "lifecycle": {"preStop": {"sleep": {"seconds": 3}}},
                "terminationGracePeriodSeconds": 30,
            },
            "balancer": {"endpointPropagationDelay": "1s"},
        },
        "traffic": {"rate": 100, "users": 1000, "timeout": "5s"},
        "versions": {
            "v1": {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "warmup": "2s"},
            "v2": {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "warmup": "2s"},
        },
        "plan": [{"at": "10s", "action": "deploy", "version": "v2"}],
        "simulation": {"duration": "90s", "seed": 3},
    }
    return merge(d, over)


def merge(d: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``over`` into a copy of ``d``; a value of None deletes the key."""
    out = copy.deepcopy(d)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def scenario(**over: Any) -> Scenario:
    return Scenario.parse(base_dict(**over))


def errors_of(**over: Any) -> list[str]:
    """The one-line errors of ``base_dict(**over)``, which must not validate."""
    with pytest.raises(ScenarioError) as exc:
        Scenario.parse(base_dict(**over))
    return exc.value.errors


@pytest.fixture
def small() -> Scenario:
    return scenario()


# --- database rules (tests/rules/test_migrations.py, test_schema_changes.py, ...) -------------

ID = Column("id", nullable=False, has_default=True)

# users.email is NOT NULL without default; users.name nullable; orders references users.
BASE = Schema.build(
    {
        "users": [ID, Column("email", nullable=False), "name"],
        "orders": [ID, Column("user_id", nullable=False), "total"],
    }
)

FK = AddConstraint(
    "orders", "orders_user_fk", ConstraintKind.FOREIGN_KEY, "user_id", False, "users"
)
FK_NOT_VALID = AddConstraint(
    "orders", "orders_user_fk", ConstraintKind.FOREIGN_KEY, "user_id", True, "users"
)
CHECK = AddConstraint("users", "name_nn", ConstraintKind.CHECK, "name")
CHECK_NOT_VALID = AddConstraint("users", "name_nn", ConstraintKind.CHECK, "name", not_valid=True)


# --- Argo canary ReplicaSets (tests/rules/test_canary_math.py, test_canary_steps.py) -----------


def stable_rs(spec: int, available: int, replicas: int | None = None) -> CanaryRS:
    return CanaryRS("stable", spec, available, replicas)


def canary_rs(spec: int, available: int, replicas: int | None = None) -> CanaryRS:
    return CanaryRS("canary", spec, available, replicas)
