"""The kayenta and sequential analysis providers (control/analysis.py) on the recorder.

Each judge is first fed a recorder filled by hand, so its inputs are known counts, then run
inside a rollout (the bundled scenarios and an Argo experiment step).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy
import yaml

from simdeploy import Scenario, load_scenario, simulate
from simdeploy.control.analysis import (
    KAYENTA_RESUME_DELAY_S,
    RunResult,
    _metric_config,
    analysis_run,
    bucket_counts,
    counts,
    kayenta_measurement,
    metric_run,
    samples,
    sequential_measurement,
)
from simdeploy.experiments.policy import release
from simdeploy.rules import kayenta as judge
from simdeploy.rules.analysis_phase import Phase
from simdeploy.rules.sequential import log_e_value
from simdeploy.spec.progressive import (
    AnalysisTemplate,
    KayentaMetric,
    KayentaQuery,
    Metric,
    SequentialQuery,
)
from simdeploy.world import recorder as rec
from tests.control.test_experiment import TEMPLATES
from tests.control.test_experiment import scenario as experiment_scenario

ROLES = {"canary": "v2", "stable": "v1"}


def filled(per_bucket: dict[str, tuple[int, int]], seconds: int = 60) -> rec.Recorder:
    """A recorder of ``seconds`` 1 s buckets; each version ``(ok, errors)`` in every one."""
    r = rec.Recorder(("v1", "v2"), float(seconds), 1.0)
    for v, (ok, err) in per_bucket.items():
        col = r.version_index[v]
        for b in range(seconds):
            r.count_many(b, col, rec.I_OK, ok)
            r.count_many(b, col, rec.I_APP_ERROR, err)
    return r


# --- per-step samples and counts -----------------------------------------------------------------


def test_samples_are_one_value_per_step_oldest_first() -> None:
    # v1: 10 requests a second, 1 error a second in [0, 20), 2 in [20, 40), none after 40.
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    for b in range(40):
        r.count_many(b, 0, rec.I_OK, 9 if b < 20 else 8)
        r.count_many(b, 0, rec.I_APP_ERROR, 1 if b < 20 else 2)
    out = samples(r, "v1", "error_rate", 0.0, 60.0, 20.0)
    assert out[:2] == [pytest.approx(0.1), pytest.approx(0.2)] and math.isnan(out[2])
    # 200 requests per step: fewer than 300 is no data.
    assert all(math.isnan(v) for v in samples(r, "v1", "error_rate", 0.0, 60.0, 20.0, 300))
    # Only whole steps back from now: [10, 60) in steps of 20 is [20, 40), [40, 60).
    assert len(samples(r, "v1", "error_rate", 10.0, 60.0, 20.0)) == 2
    # (requests, errors) of a window: 20·10 + 20·10 = 400 requests, 20 + 40 = 60 errors.
    assert counts(r, "v1", 0.0, 60.0) == (400, 60)
    assert counts(r, "v2", 0.0, 60.0) == (0, 0)


def test_one_request_is_data_by_default() -> None:
    # minRequests defaults to 1 (as the spec's): v1's single ok request in [0, 1) is a
    # success rate of 1/1 = 1.0; [1, 2) holds none: NaN.
    r = rec.Recorder(("v1", "v2"), 2.0, 1.0)
    r.count_many(0, 0, rec.I_OK, 1)
    out = samples(r, "v1", "success_rate", 0.0, 2.0, 1.0)
    assert out[0] == 1.0 and math.isnan(out[1])


def test_bucket_counts_index_buckets_of_their_size() -> None:
    # 5 s buckets over 60 s: 12 buckets; v2 has b + 1 requests in bucket b, one of them an
    # error in bucket 3 ([15, 20)); v1 10 ok a bucket. [10, 30) is buckets 10/5 = 2 to
    # 30/5 = 6 (exclusive): requests 3, 4, 5, 6, errors 0, 1, 0, 0.
    r = rec.Recorder(("v1", "v2"), 60.0, 5.0)
    for b in range(12):
        r.count_many(b, 0, rec.I_OK, 10)
        r.count_many(b, 1, rec.I_OK, b + 1 - (b == 3))
        r.count_many(b, 1, rec.I_APP_ERROR, int(b == 3))
    done, err = bucket_counts(r, "v2", 10.0, 30.0)
    assert done.tolist() == [3, 4, 5, 6] and err.tolist() == [0, 1, 0, 0]
    # v1 over the same 4 buckets: 4 · 10 = 40 requests and no error (0, not None).
    assert counts(r, "v1", 10.0, 30.0) == (40, 0)
    # A version the run has not seen: zeros, one per bucket of the window.
    unseen = bucket_counts(r, "v9", 10.0, 30.0)
    assert [a.tolist() for a in unseen] == [[0, 0, 0, 0], [0, 0, 0, 0]]
    # An empty window ([30, 30)) has no bucket, seen version or not.
    for v in ("v2", "v9"):
        assert [len(a) for a in bucket_counts(r, v, 30.0, 30.0)] == [0, 0]


def test_bucket_counts_take_shadow_copies_and_every_error_cause() -> None:
    # 4 s of 1 s buckets; v2 in bucket b: 10 + b ok, 2 refused by no endpoint (the first
    # error cause, I_NO_ENDPOINT), 1 app error, and shadow copies: 5 ok, 3 errors. Requests
    # 10 + b + 2 + 1 + 5 + 3 = 21 + b, errors 2 + 1 + 3 = 6, as query counts them.
    r = rec.Recorder(("v1", "v2"), 4.0, 1.0)
    for b in range(4):
        r.count_many(b, 1, rec.I_OK, 10 + b)
        r.count_many(b, 1, rec.I_NO_ENDPOINT, 2)
        r.count_many(b, 1, rec.I_APP_ERROR, 1)
        r.count_mirror_many(b, 1, rec.I_OK, 5)
        r.count_mirror_many(b, 1, rec.I_APP_ERROR, 3)
    done, err = bucket_counts(r, "v2", 0.0, 4.0)
    assert done.tolist() == [21, 22, 23, 24] and err.tolist() == [6, 6, 6, 6]
    assert counts(r, "v2", 0.0, 4.0) == (21 + 22 + 23 + 24, 4 * 6)
    # A window of one bucket, [2, 3): bucket 2 alone, 23 requests and 6 errors.
    assert [a.tolist() for a in bucket_counts(r, "v2", 2.0, 3.0)] == [[23], [6]]
    # int64 arrays, as documented, whether the version was seen or not (v9: zeros).
    for v, window in [("v2", (0.0, 4.0)), ("v9", (0.0, 4.0)), ("v9", (2.0, 3.0))]:
        assert [a.dtype for a in bucket_counts(r, v, *window)] == [np.int64, np.int64]


# --- kayenta --------------------------------------------------------------------------------------


def kayenta(**over: Any) -> KayentaQuery:
    spec: dict[str, Any] = {
        "step": "5s",
        "thresholds": {"pass": 90, "marginal": 75},
        "metrics": [
            {
                "name": "error-rate",
                "metric": "error_rate",
                "groups": ["errors"],
                "direction": "increase",
                "critical": True,
            },
            {"name": "requests", "metric": "request_count", "groups": ["load"]},
        ],
        "groupWeights": {"errors": 50, "load": 50},
    }
    spec.update(over)
    return KayentaQuery.model_validate(spec)


def test_a_critical_high_metric_scores_zero() -> None:
    # Every 5 s step: v1 500 ok and 0 to 2 errors a second (about 0.4%), v2 100 ok and 10
    # errors a second (9.1%): error-rate is High, and critical, so the score is 0: Failed.
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    for b in range(60):
        r.count_many(b, 0, rec.I_OK, 500)
        r.count_many(b, 0, rec.I_APP_ERROR, b % 3)
        r.count_many(b, 1, rec.I_OK, 100)
        r.count_many(b, 1, rec.I_APP_ERROR, 10)
    phase, value, message = kayenta_measurement(r, kayenta(), ROLES, 0.0, 60.0, "seed")
    assert (phase, value) == (Phase.FAILED, 0.0)
    assert "error-rate High" in message and "score=0.00 (Fail" in message


def test_identical_samples_score_100() -> None:
    r = filled({"v1": (100, 2), "v2": (100, 2)})
    phase, value, message = kayenta_measurement(r, kayenta(), ROLES, 0.0, 60.0, "seed")
    assert (phase, value) == (Phase.SUCCESSFUL, 100.0)
    assert "score=100.00 (Pass; error-rate Pass, requests Pass)" in message


def test_a_score_between_the_thresholds_is_inconclusive() -> None:
    # v2 gets a fifth of v1's requests and the same error rate: requests is Low (either
    # direction), errors Pass: 50·1 + 50·0 = 50. With marginal 50 that is Inconclusive, with
    # 51 Failed, as Argo's provider maps the score.
    r = filled({"v1": (500, 5), "v2": (100, 1)})
    at_50 = kayenta(thresholds={"pass": 90, "marginal": 50})
    assert kayenta_measurement(r, at_50, ROLES, 0.0, 60.0, "s")[:2] == (Phase.INCONCLUSIVE, 50.0)
    at_51 = kayenta(thresholds={"pass": 90, "marginal": 51})
    assert kayenta_measurement(r, at_51, ROLES, 0.0, 60.0, "s")[:2] == (Phase.FAILED, 50.0)


def test_no_canary_data_fails_a_critical_metric() -> None:
    # The canary served nothing in the window: every step is NaN, removed: Nodata. A critical
    # metric with Nodata is a critical failure (Kayenta): score 0.
    r = filled({"v1": (100, 1)})
    assert kayenta_measurement(r, kayenta(), ROLES, 0.0, 60.0, "s")[:2] == (Phase.FAILED, 0.0)


def test_the_metric_config_carries_every_field_of_the_spec() -> None:
    # Every field away from its default, so a field dropped or not passed shows.
    km = KayentaMetric.model_validate(
        {
            "name": "p99",
            "metric": "latency_p99",
            "groups": ["latency", "slo"],
            "direction": "decrease",
            "nanStrategy": "replace",
            "outliers": {"strategy": "remove", "outlierFactor": 1.5},
            "critical": True,
            "mustHaveData": True,
            "muted": True,
            "effectSize": {
                "measure": "cles",
                "allowedIncrease": 0.6,
                "allowedDecrease": 0.4,
                "criticalIncrease": 0.8,
                "criticalDecrease": 0.2,
            },
        }
    )
    assert _metric_config(km) == judge.MetricConfig(
        name="p99",
        groups=("latency", "slo"),
        direction="decrease",
        nan_strategy="replace",
        outlier_strategy="remove",
        outlier_factor=1.5,
        critical=True,
        must_have_data=True,
        muted=True,
        effect_size_measure="cles",
        allowed_increase=0.6,
        allowed_decrease=0.4,
        critical_increase=0.8,
        critical_decrease=0.2,
    )


def test_baseline_and_canary_may_name_versions() -> None:
    # baseline v1 and canary v2 are no roles: they are read as versions. Identical samples
    # (100 ok, 2 errors a second each) score 100, as with the roles.
    r = filled({"v1": (100, 2), "v2": (100, 2)})
    q = kayenta(baseline="v1", canary="v2")
    assert kayenta_measurement(r, q, ROLES, 0.0, 60.0, "s")[:2] == (Phase.SUCCESSFUL, 100.0)


def test_min_requests_applies_to_both_samples() -> None:
    # 5 s steps: v1 100 requests a second (500 a step), v2 50 (250 a step). With
    # minRequests 300 every step of v2 is NaN, removed: the metric is Nodata whichever role
    # v2 plays (with v2's 250s kept it would be Low as the canary, High as the baseline).
    r = filled({"v1": (100, 0), "v2": (50, 0)})
    metric = {"name": "load", "metric": "request_count", "groups": ["load"], "minRequests": 300}
    q = kayenta(metrics=[metric], groupWeights={})
    for roles in (ROLES, {"canary": "v1", "stable": "v2"}):
        assert "(Fail; load Nodata)" in kayenta_measurement(r, q, roles, 0.0, 60.0, "s")[2]


def test_the_seed_decides_the_noise_of_two_constant_samples() -> None:
    # 5 s steps over 60 s: 12 steps of v1 at 5 · 40000 = 200000 requests and of v2 at 200003
    # (3 more in each step's first second). Both samples are constant, so the judge adds
    # noise of sd 200000 · 1e-5 = 2: the difference, 1.5 sd, is High for some draws and Pass
    # for others. The seed decides, and the same seed gives the same judgement.
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    for b in range(60):
        r.count_many(b, 0, rec.I_OK, 40_000)
        r.count_many(b, 1, rec.I_OK, 40_000 + 3 * (b % 5 == 0))
    metric = {"name": "load", "metric": "request_count", "groups": ["load"]}
    q = kayenta(metrics=[metric], groupWeights={})
    seeds = [f"run/load/{t}" for t in range(20)]
    first = {s: kayenta_measurement(r, q, ROLES, 0.0, 60.0, s) for s in seeds}
    assert {s: kayenta_measurement(r, q, ROLES, 0.0, 60.0, s) for s in seeds} == first
    assert {phase for phase, _, _ in first.values()} == {Phase.SUCCESSFUL, Phase.FAILED}


# --- sequential -----------------------------------------------------------------------------------


def test_the_sequential_measurement_is_the_e_value() -> None:
    # 60 s: v2 has 20 requests a second (20% of the traffic) and 15 errors in all, v1 80 and
    # none: the e-value of 15 canary errors to none at ρ = 0.2 is 28.0 ≥ 20 (rules'
    # log_e_value example): Failed. With 14, 20.3: still Failed; with 13, 14.9: Successful.
    q = SequentialQuery()
    for errors, phase in [(15, Phase.FAILED), (14, Phase.FAILED), (13, Phase.SUCCESSFUL)]:
        r = filled({"v1": (80, 0)})
        for b in range(60):  # v2: 20 requests a second, the errors among those of second 30
            failed = errors if b == 30 else 0
            r.count_many(b, 1, rec.I_OK, 20 - failed)
            r.count_many(b, 1, rec.I_APP_ERROR, failed)
        got, value, message = sequential_measurement(r, q, ROLES, 0.0, 60.0)
        assert got is phase
        assert value == pytest.approx(math.exp(log_e_value([errors], [0], [0.2])))
        assert f"errors {errors} canary, 0 baseline; canary share of requests 0.200" in message


def test_the_sequential_measurement_takes_each_buckets_share() -> None:
    # 30 s at 20 canary requests a second of 100, then 30 s at 60 of 100; both fail 1% then
    # 5% (one error a second per 100 requests, then five; the canary's are 0.2·1 → one every
    # 5 s, then 0.6·5 = 3). The e-value is log_e_value of the 60 buckets with their own shares
    # (0.2, then 0.6); the pooled share, 0.4, is only in the message.
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    for b in range(60):
        canary, errors = (20, 1) if b < 30 else (60, 5)
        mine = (b % 5 == 0) if b < 30 else 3
        r.count_many(b, 1, rec.I_OK, canary - mine)
        r.count_many(b, 1, rec.I_APP_ERROR, mine)
        r.count_many(b, 0, rec.I_OK, 100 - canary - (errors - mine))
        r.count_many(b, 0, rec.I_APP_ERROR, errors - mine)
    c = [int(b % 5 == 0) for b in range(30)] + [3] * 30
    s = [1 - x for x in c[:30]] + [2] * 30
    _, value, message = sequential_measurement(r, SequentialQuery(), ROLES, 0.0, 60.0)
    assert value == pytest.approx(math.exp(log_e_value(c, s, [0.2] * 30 + [0.6] * 30)))
    assert value != pytest.approx(math.exp(log_e_value([sum(c)], [sum(s)], [0.4])))
    assert "errors 96 canary, 84 baseline; canary share of requests 0.400" in message
    # bucket_counts is counts before the sum.
    done, err = bucket_counts(r, "v2", 10.0, 40.0)
    assert counts(r, "v2", 10.0, 40.0) == (int(done.sum()), int(err.sum()))
    assert list(done[[0, -1]]) == [20, 60] and len(done) == 30


def one_failing_second(canary_errors: int, baseline_errors: int) -> rec.Recorder:
    """60 s of 1 s buckets: v1 80 requests a second, v2 20 (a share of 0.2); the errors are
    among the requests of second 30."""
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    for b in range(60):
        for col, n, errors in ((0, 80, baseline_errors), (1, 20, canary_errors)):
            failed = errors if b == 30 else 0
            r.count_many(b, col, rec.I_OK, n - failed)
            r.count_many(b, col, rec.I_APP_ERROR, failed)
    return r


def test_the_sequential_baseline_and_canary_may_name_versions() -> None:
    # baseline v1 and canary v2 are no roles: they are read as versions. 15 canary errors to
    # none at ρ = 0.2: e-value 28.0 ≥ 20, Failed, as with the roles (rules' log_e_value).
    q = SequentialQuery(baseline="v1", canary="v2")
    phase, value, _ = sequential_measurement(one_failing_second(15, 0), q, ROLES, 0.0, 60.0)
    assert phase is Phase.FAILED
    assert value == pytest.approx(math.exp(log_e_value([15], [0], [0.2])))


def test_the_sequential_alpha_sets_the_bar() -> None:
    # 13 canary errors to none at ρ = 0.2: e-value 14.9, under 1/0.05 = 20 (Successful, the
    # default) but over 1/0.1 = 10: Failed with alpha 0.1, and the message shows 10.
    q = SequentialQuery(alpha=0.1)
    phase, value, message = sequential_measurement(one_failing_second(13, 0), q, ROLES, 0, 60)
    assert phase is Phase.FAILED and value == pytest.approx(14.9, abs=0.05)
    assert "(1/alpha 10; errors 13 canary, 0 baseline; canary share" in message


def test_the_sequential_direction_is_passed_to_the_test() -> None:
    # No canary error, 80 baseline errors in one second at ρ = 0.2: LR(θ) = (0.8 + 0.2θ)^-80.
    # With direction increase every θ > 1 has LR < 1: the e-value is under 1, Successful.
    # With decrease, θ < 1: at θ = e^-1, (0.8 + 0.2/e)^-80 = e^10.8; the prior's weight near
    # θ = 1 (sd 0.2 on log θ) leaves the e-value at log_e_value's, 61.5 ≥ 20: Failed.
    r = one_failing_second(0, 80)
    up = sequential_measurement(r, SequentialQuery(), ROLES, 0.0, 60.0)
    assert up[0] is Phase.SUCCESSFUL and up[1] < 1
    down = sequential_measurement(r, SequentialQuery(direction="decrease"), ROLES, 0.0, 60.0)
    assert down[0] is Phase.FAILED
    assert down[1] == pytest.approx(math.exp(log_e_value([0], [80], [0.2], direction="decrease")))
    assert down[1] == pytest.approx(61.5, abs=0.05)


@pytest.mark.filterwarnings("error")
def test_a_window_without_requests_is_an_e_value_of_1_without_warning() -> None:
    # No traffic in [0, 10): ten buckets of no requests. Their shares are 0 (no 0/0, no
    # numpy warning), no bucket has errors: e-value 1, Successful, and the pooled share of
    # no requests is shown as 0.
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    phase, value, message = sequential_measurement(r, SequentialQuery(), ROLES, 0.0, 10.0)
    assert (phase, value) == (Phase.SUCCESSFUL, 1.0)
    assert message == (
        "e-value=1 (1/alpha 20; errors 0 canary, 0 baseline; canary share of requests 0.000)"
        " → Successful"
    )


# --- one judge in an analysis run on a filled recorder --------------------------------------------


def run_metrics(
    r: rec.Recorder, *metrics: dict[str, Any], name: str = "run", roles: Any = ROLES
) -> RunResult:
    """An AnalysisRun ``name`` of ``metrics`` (template metrics as written), started at 0 on
    ``r`` and run to its end: its result."""
    template = AnalysisTemplate.model_validate({"metrics": list(metrics)})
    env = simpy.Environment()
    run = env.process(analysis_run(env, name, [template], r, roles))
    env.run(run)
    return run.value


def run_judge(
    r: rec.Recorder, provider: dict[str, Any], name: str = "run", **metric: Any
) -> tuple[RunResult, list[rec.Event]]:
    """An AnalysisRun ``name`` of one metric, ``judge``, started at 0 on ``r``: its result
    and the measurement events it added."""
    first = len(r.events)
    result = run_metrics(r, {"name": "judge", "provider": provider, **metric}, name=name)
    return result, [e for e in r.events[first:] if e.reason == "AnalysisMeasurement"]


def threshold(
    name: str,
    of: str,
    metric: str = "request_count",
    query: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A template metric ``name`` of the simdeploy provider: ``metric`` of ``of``."""
    provider = {"simdeploy": {"metric": metric, "of": of, **(query or {})}}
    return {"name": name, "provider": provider, **spec}


def kayenta_provider(**over: Any) -> dict[str, Any]:
    """A kayenta provider of one critical error-rate metric in 5 s steps."""
    errors = {"name": "error-rate", "metric": "error_rate", "groups": ["errors"]}
    errors |= {"direction": "increase", "critical": True}
    body = {"step": "5s", "thresholds": {"pass": 90, "marginal": 75}, "metrics": [errors]}
    return {"kayenta": body | over}


def test_kayenta_judges_the_metrics_interval_unless_it_looks_back() -> None:
    # v1 fails 2 of 100 requests a second throughout; v2 50 of 100 until 50 s, then 2 of 100.
    # One judgement (count 1) a minute after the run starts at 0, interval 10 s: the window
    # is [50, 60), two 5 s steps at 2% each: the samples are identical, Pass, score 100. With
    # lookback it is [0, 60): 10 of v2's 12 steps at 50% against v1's 2%; 120 of the 144
    # pairwise differences are 0.48 and 24 are 0, and the Mann-Whitney 95% interval of the
    # shift (rules.mann_whitney) is [0.48, 0.48], above 0: High, critical, score 0.
    # Either way Argo reads the score 15 s later (resumeDelay): the event is at 75 s.
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    for b in range(60):
        r.count_many(b, 0, rec.I_OK, 98)
        r.count_many(b, 0, rec.I_APP_ERROR, 2)
        failed = 50 if b < 50 else 2
        r.count_many(b, 1, rec.I_OK, 100 - failed)
        r.count_many(b, 1, rec.I_APP_ERROR, failed)
    timing = {"initialDelay": "60s", "interval": "10s", "count": 1}
    result, [event] = run_judge(r, kayenta_provider(), **timing)
    assert result.phase is Phase.SUCCESSFUL and event.t == 60 + KAYENTA_RESUME_DELAY_S
    assert event.message == (
        "kayenta score=100.00 (Pass; error-rate Pass) → Successful (judged at 60 s)"
    )
    result, [event] = run_judge(r, kayenta_provider(lookback=True), **timing)
    assert result.phase is Phase.FAILED
    assert event.message.startswith("kayenta score=0.00 (Fail; error-rate High) → Failed")


def test_kayentas_noise_is_seeded_by_the_run_the_metric_and_the_time() -> None:
    # The two constant samples of test_the_seed_decides_the_noise_of_two_constant_samples
    # (v2 3 requests a step above v1's 200000, 1.5 noise sd): the judgement of run "run-i"
    # at 60 s draws its noise from the run's name, the metric's and the time, so the same run
    # judges the same way twice, and the 20 runs do not all draw alike (some High, some Pass).
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    for b in range(60):
        r.count_many(b, 0, rec.I_OK, 40_000)
        r.count_many(b, 1, rec.I_OK, 40_000 + 3 * (b % 5 == 0))
    load = {"name": "load", "metric": "request_count", "groups": ["load"]}
    provider = kayenta_provider(metrics=[load])
    runs = [f"run-{i}" for i in range(20)]

    def messages() -> list[str]:
        return [run_judge(r, provider, run, initialDelay="60s")[1][0].message for run in runs]

    first = messages()
    assert messages() == first
    assert {m.split(" → ")[1] for m in first} == {
        "Successful (judged at 60 s)",
        "Failed (judged at 60 s)",
    }


@pytest.mark.parametrize("kind", ["kayenta", "sequential"])
def test_a_judges_event_names_the_run_the_metric_and_the_canarys_version(kind: str) -> None:
    # v1 and v2 alike (100 ok a second each): the event of the one measurement (at 0 + 60 s,
    # kayenta's 15 s later) is on object "run/judge" and names v2, whether the canary is
    # given as the role (canary → v2) or as the version itself (no role of that name).
    r = filled({"v1": (100, 0), "v2": (100, 0)})
    body = kayenta_provider()["kayenta"] if kind == "kayenta" else {}
    for canary in ({}, {"canary": "v2", "baseline": "v1"}):
        result, [event] = run_judge(r, {kind: body | canary}, initialDelay="60s")
        assert result.phase is Phase.SUCCESSFUL
        assert event.t == 60 + (KAYENTA_RESUME_DELAY_S if kind == "kayenta" else 0)
        assert (event.object, event.version) == ("run/judge", "v2")


# --- inside a rollout -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kayenta_sc() -> Scenario:
    return load_scenario("scenarios/canary-kayenta.yaml")


@pytest.fixture(scope="module")
def sequential_sc() -> Scenario:
    return load_scenario("scenarios/canary-sequential.yaml")


def _measurements(result: Any) -> list[tuple[float, str]]:
    ev = result.events
    rows = ev[ev.reason == "AnalysisMeasurement"]
    return [(float(t), str(m)) for t, m in zip(rows.t, rows.message, strict=True)]


def test_the_kayenta_scenario_judges_after_its_initial_delay(kayenta_sc: Scenario) -> None:
    # The analysis step starts when the canary is at 20%; the first judgement is a minute
    # later (initialDelay), over the six 10 s steps of that minute: v2's 5% errors against
    # v1's none is High on a critical metric, score 0, Failed. Argo's provider reads the
    # score 15 s after it starts the judgement (resumeDelay): the measurement finishes at
    # started + 60 + 15 s and the rollout aborts then.
    r = simulate(kayenta_sc)
    started = float(r.events[r.events.reason == "AnalysisRunStarted"].t.iloc[0])
    [(t, message)] = _measurements(r)
    assert t == pytest.approx(started + 60 + KAYENTA_RESUME_DELAY_S)
    assert message == (
        "kayenta score=0.00 (Fail; error-rate High, latency-p95 Pass) → Failed "
        f"(judged at {started + 60:g} s)"
    )
    assert r.record["outcome"] == "rolled_back"
    aborted = float(r.events[r.events.reason == "RolloutAborted"].t.iloc[0])
    assert aborted == pytest.approx(t)


def test_a_good_release_passes_kayenta(kayenta_sc: Scenario) -> None:
    # The same scenario with v2 as good as v1 (policy's regression 0): no errors on either,
    # identical error-rate samples, latency alike: 100 twice (count 2), promoted. The two
    # judgements end 75 s and 150 s into the step, then 60% and a minute's pause: 6 minutes
    # of run leave room to complete.
    good = release(kayenta_sc, 0.0)
    r = simulate(
        good.model_copy(
            update={"simulation": good.simulation.model_copy(update={"duration": 360.0})}
        )
    )
    ms = _measurements(r)
    assert len(ms) == 2 and all("score=100.00 (Pass" in m for _, m in ms)
    # The next judgement starts an interval after the last one finished (Argo: FinishedAt +
    # interval), and finishes 15 s later: 60 + 15 s apart.
    assert ms[1][0] - ms[0][0] == pytest.approx(60 + KAYENTA_RESUME_DELAY_S)
    assert r.record["outcome"] == "completed"


def test_the_sequential_scenario_checks_every_10_s(sequential_sc: Scenario) -> None:
    r = simulate(sequential_sc)
    ms = _measurements(r)
    assert [round(t - ms[0][0], 6) for t, _ in ms] == [0, 10, 20]
    assert ms[0][1].startswith("e-value=1 ")  # nothing counted at the run's start
    assert ms[-1][1].endswith("→ Failed") and all(m.endswith("Successful") for _, m in ms[:-1])
    assert r.record["outcome"] == "rolled_back"


def test_a_good_release_passes_the_sequential_test(sequential_sc: Scenario) -> None:
    # v2 as good as v1: both fail 1% through the payments client. Twelve looks (count 12),
    # every e-value under 20, promoted.
    r = simulate(release(sequential_sc, 0.0))
    ms = _measurements(r)
    assert len(ms) == 12 and all(m.endswith("→ Successful") for _, m in ms)
    e_values = [float(m.split()[0].removeprefix("e-value=")) for _, m in ms]
    assert max(e_values) < 20
    assert r.record["outcome"] == "completed"


def test_a_background_analysis_across_a_weight_change_and_a_shared_failure() -> None:
    # canary-sequential with v2 as good as v1, its analysis in the background from the deploy
    # (30 s; the canary has 0% until its pods are ready, ~52 s), setWeight 20 then 60 (~92 s,
    # routed ~115 s), and a second flag, on both versions, failing 5% of requests from 100 s.
    # Twelve looks, 30 s to 140 s, span all of it. In each bucket every request fails with
    # the same probability whichever version serves it, so each bucket's errors split as its
    # requests do: the judge's e-value is a supermartingale under H₀ and each seed rolls
    # back with probability at most α = 0.05 (0.7% in the rules' simulation of this shape,
    # test_a_share_and_an_error_rate_that_change_keep_the_false_alarm_rate); none of 8 does.
    # The pooled share would not hold: at the 120 s look the canary had 17% of the requests
    # since the run began but, serving 60% of the now 6%-failing traffic, ~25% of the errors
    # (~90 of ~370): the closed form's BF passes 20 and every seed rolled back.
    data = yaml.safe_load(Path("scenarios/canary-sequential.yaml").read_text())
    del data["expect"], data["versions"]["v2"]["errorRate"]
    data["simulation"]["duration"] = "200s"
    data["flags"]["shared-failure"] = {
        "rollout": 0,
        "versions": ["v1", "v2"],
        "feature": {"errorRate": 0.05},
    }
    data["plan"] = [
        {
            "at": "30s",
            "action": "deploy",
            "version": "v2",
            "strategy": {
                "canary": {
                    "trafficRouting": {"istio": {}},
                    "analysis": {"templates": [{"templateName": "sequential-errors"}]},
                    "steps": [
                        {"setWeight": 20},
                        {"pause": {"duration": "40s"}},
                        {"setWeight": 60},
                        {"pause": {"duration": "40s"}},
                    ],
                }
            },
        },
        {"at": "100s", "action": "flag", "flag": "shared-failure", "rollout": 100},
    ]
    for seed in range(1, 9):
        data["simulation"]["seed"] = seed
        r = simulate(Scenario.parse(data))
        ms = _measurements(r)
        weights = r.events[r.events.reason == "SetWeight"]
        assert list(weights.message[:2]) == ["asked 20%", "asked 60%"]
        assert ms[0][0] < weights.t.iloc[1] < 100 < ms[-1][0] and len(ms) == 12
        assert all(m.endswith("→ Successful") for _, m in ms)
        assert r.record["outcome"] == "completed"


def test_kayenta_against_an_experiment_baseline() -> None:
    # Argo's Kayenta practice: an experiment step runs a baseline replica set beside the
    # canary, and the judge compares them by template name. The baseline measures as its
    # version (v1) does; v2 with a 20% bug is High: the experiment fails, the rollout aborts.
    judge = {
        "metrics": [
            {
                "name": "judge",
                "initialDelay": "20s",
                "provider": {
                    "kayenta": {
                        "baseline": "baseline",
                        "canary": "exp-canary",
                        "step": "2s",
                        "thresholds": {"pass": 90, "marginal": 75},
                        "metrics": [
                            {
                                "name": "errors",
                                "metric": "error_rate",
                                "groups": ["errors"],
                                "direction": "increase",
                            }
                        ],
                    }
                },
            }
        ]
    }
    base = experiment_scenario(
        {
            "duration": "1m",
            "templates": TEMPLATES,
            "analyses": [{"name": "a", "templateName": "check"}],
        },
        bug=0.2,
    )
    data = base.model_dump(by_alias=True, exclude_none=True)
    data["analysisTemplates"]["check"] = judge
    r = simulate(Scenario.parse(data))
    [(_, message)] = _measurements(r)
    assert message.startswith("kayenta score=0.00 (Fail; errors High) → Failed (judged at ")
    assert r.record["outcome"] == "rolled_back"


def test_metric_run_carries_every_field_of_the_template_metric() -> None:
    # Every field off its default (failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit
    # 4, consecutiveSuccessLimit 0, dryRun false, noData Error), durations in seconds.
    m = Metric.model_validate(
        {
            "name": "errors",
            "provider": {"simdeploy": {"metric": "error_rate", "of": "canary"}},
            "interval": "30s",
            "initialDelay": "10s",
            "count": 5,
            "successCondition": "result < 0.05",
            "failureCondition": "result > 0.1",
            "failureLimit": 2,
            "inconclusiveLimit": 3,
            "consecutiveErrorLimit": 7,
            "consecutiveSuccessLimit": 2,
            "dryRun": True,
            "noData": "Inconclusive",
        }
    )
    run = metric_run(m)
    assert (run.name, run.interval, run.initial_delay, run.count) == ("errors", 30.0, 10.0, 5)
    assert (run.failure_limit, run.inconclusive_limit) == (2, 3)
    assert (run.consecutive_error_limit, run.consecutive_success_limit) == (7, 2)
    assert run.dry_run is True
    assert run.no_data is Phase.INCONCLUSIVE
    assert run.success is not None and run.failure is not None


# --- the run itself: its events, its result, its end on interruption ----------------------


def test_a_run_without_a_canary_role_records_no_version() -> None:
    # A blue/green analysis maps only preview and active: the run's own events name no
    # version ("" as every event without one), and the result carries the run's name.
    r = rec.Recorder(("v1", "v2"), 20.0, 1.0)
    errors = threshold("errors", "preview", successCondition="result >= 1", noData="Inconclusive")
    result = run_metrics(r, errors, name="pre", roles={"preview": "v2", "active": "v1"})
    assert result.name == "pre"
    assert result.phase is Phase.INCONCLUSIVE  # no requests: noData Inconclusive
    own = [(e.reason, e.version) for e in r.events if e.object == "pre"]
    assert own == [("AnalysisRunStarted", ""), ("AnalysisRunInconclusive", "")]


def test_an_interrupted_run_ends_at_once_and_measures_no_more() -> None:
    # Measured every 10 s without a count (until terminated), as a background analysis; the
    # rollout interrupts it at 25 s. Measurements at 0, 10 and 20 (v2 sends nothing: no data
    # is Inconclusive, the limit 5 is not reached), then the run ends Successful at 25 s
    # (a terminated run with no failure) and measures nothing at 30.
    r = rec.Recorder(("v1", "v2"), 60.0, 1.0)
    errors = threshold(
        "errors", "canary", "error_rate", interval="10s", noData="Inconclusive", inconclusiveLimit=5
    )
    template = AnalysisTemplate.model_validate({"metrics": [errors]})
    env = simpy.Environment()
    run = env.process(analysis_run(env, "bg", [template], r, ROLES))

    def rollout() -> Any:
        yield env.timeout(25)
        run.interrupt("promoted")

    env.process(rollout())
    env.run(until=60)
    assert run.triggered and run.value.phase is Phase.SUCCESSFUL
    measured = [e.t for e in r.events if e.reason == "AnalysisMeasurement"]
    assert measured == [0.0, 10.0, 20.0]
    ended = [
        (e.t, e.reason) for e in r.events if e.object == "bg" and e.reason != "AnalysisRunStarted"
    ]
    assert ended == [(25.0, "AnalysisRunSuccessful")]


def test_a_kayenta_score_is_read_15_s_after_its_judgement_while_other_metrics_measure() -> None:
    # A Kayenta judgement at 60 s (initialDelay) beside a threshold metric measured every
    # second from 0 to 99 s (count 100): the run passes 61 ... 74 s while the judgement is in
    # progress, and the score is read only at 60 + 15 = 75 s (Argo's resumeDelay), not at 74 s
    # a second early. v1 and v2 fail 2 of 100 alike: score 100, Successful.
    r = filled({"v1": (98, 2), "v2": (98, 2)}, seconds=120)
    judge = {"name": "judge", "provider": kayenta_provider(), "initialDelay": "60s"}
    tick = threshold("tick", "canary", interval="1s", count=100)
    assert run_metrics(r, judge, tick).phase is Phase.SUCCESSFUL
    judged = [e.t for e in r.events if e.object == "run/judge"]
    assert judged == [60 + KAYENTA_RESUME_DELAY_S]
    ticks = [e.t for e in r.events if e.object == "run/tick"]
    assert ticks == [float(i) for i in range(100)]


def test_a_metric_measured_every_second() -> None:
    # interval 1s, count 3: measured at 0, 1 and 2 s; each wait of exactly 1 s is waited.
    r = filled({"v1": (10, 0), "v2": (10, 0)}, seconds=10)
    run_metrics(r, threshold("tick", "canary", interval="1s", count=3))
    assert [e.t for e in r.events if e.object == "run/tick"] == [0.0, 1.0, 2.0]


def test_a_threshold_metric_may_name_a_version() -> None:
    # `of: v1` is no role, so it names the version: v1 serves 7 requests a second, v2 10; a
    # 10 s window at 10 s holds 70 of v1's (request_count 70, success 70 >= 70).
    r = filled({"v1": (7, 0), "v2": (10, 0)}, seconds=20)
    load = threshold(
        "load",
        "v1",
        query={"window": "10s"},
        initialDelay="10s",
        successCondition="result >= 70",
        failureCondition="result < 70",
    )
    assert run_metrics(r, load).phase is Phase.SUCCESSFUL
    [event] = [e for e in r.events if e.object == "run/load"]
    assert (event.version, event.message) == ("v1", "request_count=70 → Successful")


def test_every_metric_due_at_an_instant_is_measured_before_the_run_is_assessed() -> None:
    # A sequential judge and a threshold metric, both due at 60 s (initialDelay): 15 canary
    # errors to none fail the judge (e-value 28.0 ≥ 20), yet the threshold metric listed after
    # it is still measured at 60 s before the run ends Failed, as Argo measures every due
    # metric in one reconcile and assesses the run after.
    r = one_failing_second(15, 0)
    judge = {"name": "judge", "provider": {"sequential": {}}, "initialDelay": "60s"}
    load = threshold("load", "canary", initialDelay="60s")
    assert run_metrics(r, judge, load).phase is Phase.FAILED
    measured = [(e.t, e.object) for e in r.events if e.reason == "AnalysisMeasurement"]
    assert measured == [(60.0, "run/judge"), (60.0, "run/load")]


def test_a_threshold_metric_scales_its_value_and_needs_min_requests() -> None:
    # v1 serves 7 requests a second: a 10 s window at 10 s holds 70. With scale 1000 the
    # condition reads 70,000; with minRequests 71 the same window is no data (Inconclusive).
    r = filled({"v1": (7, 0), "v2": (10, 0)}, seconds=20)

    def measure(**query: Any) -> str:
        load = threshold(
            "load",
            "v1",
            query={"window": "10s", **query},
            initialDelay="10s",
            successCondition="result >= 70",
            noData="Inconclusive",
        )
        first = len(r.events)
        run_metrics(r, load)
        [event] = [e for e in r.events[first:] if e.object == "run/load"]
        return event.message

    assert measure(scale=1000) == "request_count=7e+04 → Successful"
    assert measure(minRequests=71) == "request_count=no data → Inconclusive"
    assert measure(minRequests=70) == "request_count=70 → Successful"
