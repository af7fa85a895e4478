"""Timeline column names: per-version columns are ``<kind>[<version>]`` and never collide.

Before the namespace, a version named ``timeout`` wrote its errors into ``errors_timeout``
(the per-cause column), so ``errors_by_cause["timeout"]`` counted that version's errors.
"""

from __future__ import annotations

from typing import Any

import pytest

from simdeploy import Scenario, plots, simulate
from simdeploy.run.result import version_column
from tests.conftest import scenario

KINDS = ("requests", "errors", "pods", "ready", "terminating")


def named(old: str, new: str, **over: Any) -> Scenario:
    """The small scenario with versions ``old`` → ``new``, each failing some requests."""
    return scenario(
        service={"version": old},
        versions={
            "v1": None,
            "v2": None,
            old: {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "errorRate": 0.05},
            new: {"serviceTime": {"dist": "exponential", "mean": "20ms"}, "errorRate": 0.1},
        },
        plan=[{"at": "10s", "action": "deploy", "version": new}],
        **over,
    )


def test_versions_named_like_causes_keep_the_cause_columns() -> None:
    r = simulate(named("timeout", "app_error"))
    rec, tl = r.record, r.timeline
    assert tl.columns.is_unique
    # Nobody timed out (20 ms service, 5 s client timeout), whatever a version is called.
    assert rec["errors_by_cause"]["timeout"] == tl["errors_timeout"].sum() == 0
    assert tl["errors[timeout]"].sum() > 0 and tl["errors[app_error]"].sum() > 0
    # Errors are counted once: by cause, by version (+ no pod), and in total.
    by_version = tl["errors[timeout]"].sum() + tl["errors[app_error]"].sum()
    no_pod = rec["errors_by_cause"]["no_endpoint"]
    assert rec["errors"] == sum(rec["errors_by_cause"].values()) == tl["errors"].sum()
    assert rec["errors"] == by_version + no_pod
    assert rec["errors_by_cause"]["app_error"] == tl["errors_app_error"].sum() > 0
    assert r.summary["errors_timeout"] == 0


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("requests", "errors", id="named-like-totals"),
        pytest.param("ok", "t", id="named-like-plain-columns"),
        pytest.param("pods", "p99_s", id="named-like-samples"),
        pytest.param("a]b", "errors[x]", id="brackets-in-names"),
    ],
)
def test_no_version_name_collides_with_another_column(old: str, new: str) -> None:
    r = simulate(named(old, new, simulation={"duration": "40s"}))
    tl = r.timeline
    assert tl.columns.is_unique
    for kind in KINDS:
        assert version_column(kind, old) in tl and version_column(kind, new) in tl
    # The plain columns keep their meaning: totals are the sums of the per-version ones.
    reqs = tl[version_column("requests", old)] + tl[version_column("requests", new)]
    assert (tl["ok"] + tl["errors"] - tl["errors_no_endpoint"] == reqs).all()
    assert plots.versions_of(tl) == [old, new]
    assert tl["t"].is_monotonic_increasing and tl["p99_s"].dropna().gt(0).all()
