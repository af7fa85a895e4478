"""The summary fields of a run: names, units and meaning. Pure.

These names are the contract of ``Result.summary``, ``simdeploy run --json`` and the
``expect:`` block of a scenario; docs and tables read their descriptions from here.
"""

from __future__ import annotations

#: name -> (unit, meaning)
SUMMARY: dict[str, tuple[str, str]] = {
    "downtime_s": ("s", "time with no ready endpoint able to serve users (continuous)"),
    "degraded_s": ("s", "length of buckets whose user-facing error ratio exceeds the SLO"),
    "requests": ("", "user requests that arrived"),
    "errors": ("", "user requests that ended in an error"),
    "error_rate": ("", "errors / requests with an outcome"),
    "errors_by_cause": ("", "errors per cause (no_endpoint, connection_refused, ...)"),
    "users_affected": ("", "distinct users who received at least one error"),
    "latency_p50_s": ("s", "median latency of user requests that reached an app (within 1%)"),
    "latency_p95_s": ("s", "95th percentile latency of those requests (within 1%)"),
    "latency_p99_s": ("s", "99th percentile latency of those requests (within 1%)"),
    "latency_mean_s": ("s", "mean latency of those requests (exact)"),
    "rollout_duration_s": ("s", "deploy action to the rollout's end (complete or rolled back)"),
    "time_to_detect_s": ("s", "first request served by the new version to the rollback trigger"),
    "rollback_time_s": (
        "s",
        "rollback carried out (trigger + reaction delay) to all user traffic on the stable "
        "version at full ready capacity",
    ),
    "peak_pods": ("", "most pods in existence at once, terminating ones included"),
    "pod_seconds": ("pod·s", "pod-seconds over the whole run"),
    "extra_cost": (
        "",
        "pod-seconds from the deploy until the pods settle / the replicas asked for over that "
        "window (pod-seconds) - 1",
    ),
    "outcome": ("", "completed, rolled_back, stuck, running, or none (no deploy in the plan)"),
    "in_flight": ("", "requests still queued or in service when the run ended"),
    "users_flipped": ("", "users who went back and forth between versions during the rollout"),
    "mirrored_requests": ("", "shadow copies of requests (never seen by users)"),
    "shadow_mismatches": ("", "shadow copies whose outcome differed from the served one"),
    "duplicate_writes": ("", "mirrored writes that reached the shared database"),
    "schema_errors": ("", "requests that failed on the schema (missing or renamed column, ...)"),
    "data_incompatible_errors": ("", "reads of rows that lack a column the version needs"),
    "lock_wait_s": ("s", "total time requests waited in table lock queues"),
    "errors_by_phase": ("", "user-facing errors per migration phase (before, <migration>, ...)"),
    "plan_findings": ("", "unsafe migration orderings the plan check reports"),
    "flag_exposed_users": ("", "users who had a feature flag on at least once"),
    "flagged_errors": ("", "errors of requests that ran a flagged code path"),
    "unflagged_errors": ("", "errors of requests that ran no flagged code path (with flags)"),
    "dark_launch_errors": ("", "errors of dark-launched code (never seen by users)"),
    "kill_to_last_flagged_error_s": (
        "s",
        "kill switch to the last error of a flagged code path (propagation included)",
    ),
}

SUMMARY_FIELDS: tuple[str, ...] = tuple(SUMMARY)
#: The reference article's questions: the columns of comparison and sweep tables.
ARTICLE_FIELDS: tuple[str, ...] = (
    "downtime_s",
    "errors",
    "users_affected",
    "time_to_detect_s",
    "rollback_time_s",
    "extra_cost",
    "peak_pods",
    "outcome",
)
OUTCOMES_OF_ROLLOUT: tuple[str, ...] = ("completed", "rolled_back", "stuck", "running", "none")

#: The keys of ``errors_by_cause`` (``world/recorder.py``'s ERROR_CAUSES, in its order), so that
#: ``expect: {errors_by_cause.timeout: 0}`` is checked when the scenario is validated.
ERROR_CAUSES: tuple[str, ...] = (
    "no_endpoint",
    "connection_refused",
    "killed_in_flight",
    "timeout",
    "app_error",
    "schema_error",
    "data_incompatible",
)
#: The phase ``errors_by_phase`` counts errors under before the first migration.
FIRST_PHASE = "before"
