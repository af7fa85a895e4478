"""Argo ``AnalysisTemplate`` / ``ClusterAnalysisTemplate`` → the scenario's
``analysisTemplates:``, each metric bound to a simulator query.

A template's metrics keep their Argo fields (``interval``, ``initialDelay``, ``count``,
``successCondition``, ``failureCondition``, ``failureLimit``, ``inconclusiveLimit``,
``consecutiveErrorLimit``, ``consecutiveSuccessLimit``; ``spec.dryRun`` marks metrics dry-run).
``{{args.NAME}}`` in those fields is replaced as Argo replaces it: by the value the Rollout's
reference passes, else the template's default ``value``; an argument with neither, or with
``valueFrom`` (a Secret or a field of the Rollout, which the simulator does not have), is a
problem where it is used. Arguments used only inside a provider's query need no value.

The provider (Prometheus, Datadog, New Relic, CloudWatch, Wavefront, web, job, Kayenta, ...)
is not called: each metric is bound to a simulator query
(:class:`~simdeploy.spec.progressive.SimQuery`):

1. the scenario's ``metricBindings``, by ``<template>/<metric>`` or by metric name:
   ``metricBindings: {success-rate: {metric: success_rate, of: canary, window: 5m}}``;
2. else the common PromQL shapes of a ``query``, with a note saying so:
   - a ratio whose numerator excludes 5xx (``response_code!~"5.*"``, ``code!~"5.."``) →
     ``success_rate``; whose numerator selects them (``=~"5.*"``) → ``error_rate``;
   - ``histogram_quantile(0.99, ...)`` (0.5, 0.95, 0.99) → ``latency_p99``, scaled by 1000
     when the histogram is in milliseconds (``..._milliseconds_bucket``);
   - the window is the query's first range (``[5m]``), the role ``canary``;
3. else a problem naming the metric and the binding to add.

A ``kayenta`` provider (Argo's: ``address``, ``application``, ``canaryConfigName``,
``threshold`` — the docs spell it ``thresholds`` — ``scopes``, ``lookback``) becomes the
scenario's ``kayenta`` provider: its pass and marginal scores, the first scope's ``step``
and ``lookback`` (a scope with ``start`` and ``end``, as in Argo's experiment example, is
read as ``lookback``: the window since the analysis began). The canary config it names
lives in Kayenta, not in the manifest: its metrics come from the binding
(``metricBindings: {mann-whitney: {metrics: [{name: errors, metric: error_rate, groups:
[errors]}], groupWeights: {...}}}``), and without one the metric is a problem. A condition
on a Kayenta metric is dropped with a warning: Argo's Kayenta provider never reads one.
"""

from __future__ import annotations

import re
from typing import Any

from simdeploy.spec.manifests.documents import Document, Path_
from simdeploy.spec.manifests.kubernetes import Found, Reader

_METRIC_FIELDS = (
    "interval",
    "initialDelay",
    "count",
    "successCondition",
    "failureCondition",
    "failureLimit",
    "inconclusiveLimit",
    "consecutiveErrorLimit",
    "consecutiveSuccessLimit",
)
_ARG = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}")
_RANGE = re.compile(r"\[\s*([0-9]+(?:ms|s|m|h))\s*\]")
_QUANTILE = re.compile(r"histogram_quantile\s*\(\s*(0?\.[0-9]+|1(?:\.0*)?)\s*,")
_NOT_5XX = re.compile(r"!~\s*\"5(?:\.\*|\.\.|xx)\"")
_5XX = re.compile(r"(?<![!])=~\s*\"5(?:\.\*|\.\.|xx)\"")
_QUANTILES = {0.5: "latency_p50", 0.95: "latency_p95", 0.99: "latency_p99"}
#: Where Argo's Kayenta provider finds Kayenta: read, not needed (the simulator judges).
_KAYENTA_SERVER = (
    "address",
    "application",
    "canaryConfigName",
    "metricsAccountName",
    "configurationAccountName",
    "storageAccountName",
)


def from_analysis_template(doc: Document, bindings: dict[str, Any], args: dict[str, str]) -> Found:
    """The ``analysisTemplates.<name>`` fragment of one template; ``bindings`` are the
    scenario's ``metricBindings``, ``args`` the values the Rollout's references pass."""
    found = Found()
    r = Reader(doc, found)
    data = doc.data
    name = doc.name
    r.ignored(data, (), ("apiVersion", "kind", "metadata", "spec"), "not simulated")
    spec = r.mapping(data.get("spec"), ("spec",))
    r.ignored(spec, ("spec",), ("metrics", "args", "dryRun"), "not simulated")
    values = _arg_values(r, spec, args)
    dry = {
        str(d.get("metricName"))
        for d in spec.get("dryRun") or []
        if isinstance(d, dict) and d.get("metricName")
    }
    metrics_in = spec.get("metrics")
    if not isinstance(metrics_in, list) or not metrics_in:
        found.problems.append(f"{r.where(('spec', 'metrics'))}: a template needs metrics")
        return found
    metrics = []
    for i, metric in enumerate(metrics_in):
        path: Path_ = ("spec", "metrics", i)
        metric = r.mapping(metric, path)
        out = _metric(r, name, metric, path, values, bindings)
        if out is not None:
            if out["name"] in dry or "*" in dry:
                out["dryRun"] = True
            metrics.append(out)
            target = f"analysisTemplates.{name}.metrics[{len(metrics) - 1}]"
            found.origin[target] = r.where(path)
    # Set directly: a template's name may hold dots, which put() would read as a path.
    found.fragment.setdefault("analysisTemplates", {})[name] = {"metrics": metrics}
    found.origin[f"analysisTemplates.{name}"] = r.where(("spec",))
    return found


def _arg_values(r: Reader, spec: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """Each argument's value: the reference's, else the template's default; ``None`` when
    it has neither (or only a ``valueFrom``): a problem only if a field needs it."""
    values: dict[str, Any] = {}
    for i, arg in enumerate(spec.get("args") or []):
        if not isinstance(arg, dict) or "name" not in arg:
            r.found.problems.append(f"{r.where(('spec', 'args', i))}: an argument needs a name")
            continue
        arg_name = str(arg["name"])
        values[arg_name] = given.get(arg_name, arg.get("value"))
        if values[arg_name] is None and "valueFrom" in arg:
            r.found.warnings.append(
                f"{r.where(('spec', 'args', i, 'valueFrom'))}: args.{arg_name} comes from a "
                "Secret or a field of the Rollout, which the simulator does not read (fine if "
                "only a provider's query uses it)"
            )
    for arg_name, value in given.items():
        values.setdefault(arg_name, value)
    return values


def _metric(
    r: Reader,
    template: str,
    metric: dict[str, Any],
    path: Path_,
    values: dict[str, Any],
    bindings: dict[str, Any],
) -> dict[str, Any] | None:
    name = str(metric.get("name", ""))
    out: dict[str, Any] = {"name": name}
    for key in _METRIC_FIELDS:
        if key in metric:
            out[key] = _substitute(r, metric[key], (*path, key), values)
    r.ignored(metric, path, ("name", "provider", *_METRIC_FIELDS), "not simulated")
    provider = r.mapping(metric.get("provider"), (*path, "provider"))
    kinds = list(provider)
    binding = bindings.get(f"{template}/{name}", bindings.get(name))
    if isinstance(provider.get("kayenta"), dict):
        return _kayenta(r, template, out, provider["kayenta"], path, values, binding)
    if binding is not None:
        out["provider"] = {"simdeploy": binding}
        return out
    query = _query_of(provider)
    guessed = recognise(query) if query is not None else None
    if guessed is None:
        what = kinds[0] if kinds else "no provider"
        r.found.problems.append(
            f"{r.where((*path, 'provider'))}: metric {name!r} ({what}) is not bound to a "
            f"simulator metric: add metricBindings: {{{template}/{name}: {{metric: "
            "success_rate, of: canary, window: 5m}} (or error_rate, latency_p99, ...)"
        )
        return None
    out["provider"] = {"simdeploy": guessed}
    shown = ", ".join(f"{k}: {v}" for k, v in guessed.items())
    r.found.notes.append(
        f"{r.where((*path, 'provider'))}: {kinds[0]} query of {name!r} read as {{{shown}}}"
    )
    return out


def _kayenta(
    r: Reader,
    template: str,
    out: dict[str, Any],
    body: dict[str, Any],
    path: Path_,
    values: dict[str, Any],
    binding: Any,
) -> dict[str, Any] | None:
    """``out`` (the metric so far) with Argo's Kayenta provider read into ``kayenta:``."""
    name = out["name"]
    at = (*path, "provider", "kayenta")
    for key in ("successCondition", "failureCondition"):
        if out.pop(key, None) is not None:
            r.found.warnings.append(
                f"{r.where((*path, key))}: dropped: Argo's Kayenta provider decides the "
                "measurement from the score and never reads a condition"
            )
    config = body.get("canaryConfigName", "?")
    if not isinstance(binding, dict) or "metrics" not in binding:
        r.found.problems.append(
            f"{r.where(at)}: metric {name!r} (kayenta, canaryConfigName {config!r}) judges the "
            "metrics of a canary config that lives in Kayenta: add metricBindings: "
            f"{{{template}/{name}: {{metrics: [{{name: errors, metric: error_rate, groups: "
            "[errors]}]}} (and groupWeights)"
        )
        return None
    r.ignored(
        body,
        at,
        ("threshold", "thresholds", "scopes", "lookback", *_KAYENTA_SERVER),
        "not simulated",
    )
    kayenta: dict[str, Any] = {}
    key = "threshold" if "threshold" in body else "thresholds"
    if key == "thresholds":
        r.found.warnings.append(
            f"{r.where((*at, key))}: read as threshold, the field of Argo's AnalysisTemplate "
            "CRD (its docs spell it thresholds; the API server would refuse the manifest)"
        )
    limits = r.mapping(body.get(key), (*at, key))
    kayenta["thresholds"] = {
        k: _substitute(r, limits[k], (*at, key, k), values)
        for k in ("pass", "marginal")
        if k in limits
    }
    scopes = body.get("scopes")
    scope = r.mapping(scopes[0], (*at, "scopes", 0)) if isinstance(scopes, list) and scopes else {}
    experiment = r.mapping(scope.get("experimentScope"), (*at, "scopes", 0, "experimentScope"))
    step = _substitute(
        r, experiment.get("step"), (*at, "scopes", 0, "experimentScope", "step"), values
    )
    if step:
        kayenta["step"] = step
    lookback = bool(body.get("lookback", False))
    if experiment.get("start") or experiment.get("end"):
        lookback = True
        r.found.notes.append(
            f"{r.where((*at, 'scopes', 0, 'experimentScope'))}: start and end read as "
            "lookback: the window since the analysis began"
        )
    if lookback:
        kayenta["lookback"] = True
    kayenta.update(binding)
    out["provider"] = {"kayenta": kayenta}
    r.found.notes.append(
        f"{r.where(at)}: canary config {config!r} of {name!r} read from metricBindings"
    )
    return out


def _substitute(r: Reader, value: Any, path: Path_, values: dict[str, Any]) -> Any:
    """``value`` with ``{{args.X}}`` replaced (a whole-field placeholder keeps its type)."""
    if not isinstance(value, str) or not _ARG.search(value):
        return value
    missing = [m for m in _ARG.findall(value) if values.get(m) is None]
    if missing:
        r.found.problems.append(
            f"{r.where(path)}: args.{missing[0]} has no value (the reference passes none, the "
            "template has no default, or it is a valueFrom the simulator cannot read)"
        )
        return value
    text = _ARG.sub(lambda m: str(values[m.group(1)]), value)
    whole = _ARG.fullmatch(value.strip())
    if whole is not None:
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text
    return text


def _query_of(provider: dict[str, Any]) -> str | None:
    for body in provider.values():
        if isinstance(body, dict) and isinstance(body.get("query"), str):
            return str(body["query"])
    return None


def recognise(query: str) -> dict[str, Any] | None:
    """A simulator query for the common PromQL shapes, or None."""
    window = _RANGE.search(query)
    found: dict[str, Any] = {"of": "canary"}
    if window is not None:
        found["window"] = window.group(1)
    q = _QUANTILE.search(query)
    if q is not None:
        metric = _QUANTILES.get(round(float(q.group(1)), 4))
        if metric is None:
            return None
        found = {"metric": metric, **found}
        if "_milliseconds" in query or "_ms_" in query:
            found["scale"] = 1000
        return found
    if "/" not in query:
        return None
    numerator = query.split("/", 1)[0]
    if _NOT_5XX.search(numerator):
        return {"metric": "success_rate", **found}
    if _5XX.search(numerator):
        return {"metric": "error_rate", **found}
    return None
