"""``flagger.app/v1beta1 Canary`` → the scenario's ``service:`` section.

The Canary's ``targetRef`` Deployment gives the pods (replicas, pod template, as
:mod:`.kubernetes` reads a Deployment; its own ``strategy`` is Flagger's to drive, so it is
not read; its ``autoscalerRef`` is reported as not simulated, since the simulator scales
replicas for Recreate and RollingUpdate only), and
``spec.analysis`` becomes ``service.strategy.flagger.analysis``: ``interval``,
``threshold``, ``maxWeight``, ``stepWeight``, ``stepWeights``, ``stepWeightPromotion``,
``iterations``, ``mirror``, ``mirrorWeight`` and the built-in metrics
``request-success-rate`` and ``request-duration`` (``thresholdRange``, ``interval``).
``spec.progressDeadlineSeconds`` and ``spec.skipAnalysis`` are read too.

Webhooks (``analysis.webhooks``, :class:`~simdeploy.spec.progressive.FlaggerWebhook`):
``rollout`` (load tests: traffic comes from the scenario), ``pre-rollout``, ``post-rollout``
and ``event`` hooks are taken to pass; the gates (``confirm-rollout``,
``confirm-traffic-increase``, ``confirm-promotion``) wait for a ``promote`` plan action, the
approval; a ``rollback`` hook is the plan's ``rollback`` action. Each gets a note. A metric
with a ``templateRef`` gets the simulator query its MetricTemplate's ``query`` stands for:
the scenario's ``metricBindings`` (by ``<template>/<metric>`` or metric name), else a
recognised PromQL shape (:func:`.analysis.recognise`), else a problem naming the binding.
An A/B ``match`` routes no user until the scenario's own ``service.strategy`` says which share
of users matches (a warning says so).
"""

from __future__ import annotations

from typing import Any

from simdeploy.spec.manifests.analysis import recognise
from simdeploy.spec.manifests.documents import Document, Path_
from simdeploy.spec.manifests.kubernetes import Found, Reader, from_deployment
from simdeploy.spec.progressive import FLAGGER_BUILT_IN, FLAGGER_GATES

_ANALYSIS_READ = (
    "interval",
    "threshold",
    "maxWeight",
    "stepWeight",
    "stepWeights",
    "stepWeightPromotion",
    "iterations",
    "mirror",
    "mirrorWeight",
)
_SPEC_READ = (
    "targetRef",
    "autoscalerRef",
    "analysis",
    "progressDeadlineSeconds",
    "skipAnalysis",
    "service",
    "provider",
    "ingressRef",
    "routeRef",
)


def from_canary(
    doc: Document,
    deployments: dict[str, Document],
    autoscalers: dict[str, Document],
    metric_templates: dict[str, Document] | None = None,
    bindings: dict[str, Any] | None = None,
) -> Found:
    """The ``service:`` fragment of a Flagger Canary and the Deployment it targets;
    ``metric_templates`` by name and the scenario's ``metricBindings`` for custom metrics."""
    found = Found()
    r = Reader(doc, found)
    data = doc.data
    spec = r.mapping(data.get("spec"), ("spec",))
    r.ignored(data, (), ("apiVersion", "kind", "metadata", "spec", "status"), "not simulated")
    r.ignored(spec, ("spec",), _SPEC_READ, "not simulated")
    target = _ref(r, spec, "targetRef", deployments)
    if target is not None:
        pods = from_deployment(target)
        pods.fragment.get("service", {}).pop("strategy", None)  # Flagger drives the rollout
        pods.origin.pop("service.strategy", None)
        found.absorb(pods)
    if "autoscalerRef" in spec and _ref(r, spec, "autoscalerRef", autoscalers) is not None:
        # The simulator scales replicas for Recreate and RollingUpdate only.
        found.warnings.append(
            f"{r.where(('spec', 'autoscalerRef'))}: the autoscaler of a Flagger canary is not "
            "simulated: the replicas stay at the Deployment's"
        )
    for key, field in (("progressDeadlineSeconds", "service.progressDeadlineSeconds"),):
        if key in spec:
            r.put(field, spec[key], ("spec", key))
    a_path: Path_ = ("spec", "analysis")
    analysis = r.mapping(spec.get("analysis"), a_path)
    out: dict[str, Any] = {k: analysis[k] for k in _ANALYSIS_READ if k in analysis}
    read = (*_ANALYSIS_READ, "metrics", "webhooks", "match", "alerts")
    r.ignored(analysis, a_path, read, "not simulated")
    templates, bound = metric_templates or {}, bindings or {}
    metrics = [
        _metric(r, m, (*a_path, "metrics", i), templates, bound)
        for i, m in enumerate(_list(analysis, "metrics"))
    ]
    out["metrics"] = [m for m in metrics if m is not None]
    if analysis.get("match"):
        out["match"] = [{"userShare": 0} for _ in _list(analysis, "match")]
        found.warnings.append(
            f"{r.where((*a_path, 'match'))}: which users match is not in the manifest: no user "
            "is routed (give userShare in the scenario's service.strategy)"
        )
    hooks = [
        _webhook(r, h, (*a_path, "webhooks", i)) for i, h in enumerate(_list(analysis, "webhooks"))
    ]
    if hooks:
        out["webhooks"] = hooks
    block: dict[str, Any] = {"analysis": out}
    if "skipAnalysis" in spec:
        block["skipAnalysis"] = spec["skipAnalysis"]
    r.put("service.strategy", {"flagger": block}, ("spec", "analysis"))
    for key in out:
        found.origin[f"service.strategy.flagger.analysis.{key}"] = r.where((*a_path, key))
    if doc.name:
        found.fragment["name"] = doc.name
        found.origin["name"] = r.where(("metadata", "name"))
    return found


def _list(mapping: dict[str, Any], key: str) -> list[Any]:
    value = mapping.get(key)
    return value if isinstance(value, list) else []


def _ref(r: Reader, spec: dict[str, Any], key: str, known: dict[str, Document]) -> Document | None:
    ref = spec.get(key)
    if ref is None:
        if key == "targetRef":
            r.found.problems.append(f"{r.where(('spec',))}: a Canary needs a targetRef")
        return None
    name = ref.get("name") if isinstance(ref, dict) else None
    doc = known.get(str(name))
    if doc is None:
        kind = ref.get("kind") if isinstance(ref, dict) else None
        r.found.problems.append(
            f"{r.where(('spec', key))}: {kind} {name!r} is not among the manifests"
        )
    return doc


def _metric(
    r: Reader,
    metric: Any,
    path: Path_,
    templates: dict[str, Document],
    bindings: dict[str, Any],
) -> dict[str, Any] | None:
    """A built-in metric as written; a ``templateRef`` metric with the simulator query its
    MetricTemplate's query stands for (``metricBindings``, else a recognised PromQL shape)."""
    if not isinstance(metric, dict):
        return metric  # type: ignore[no-any-return]
    name = str(metric.get("name"))
    read = ("name", "thresholdRange", "interval", "templateRef")
    r.ignored(metric, path, read, "not simulated")
    out = {k: metric[k] for k in ("name", "thresholdRange", "interval") if k in metric}
    ref = metric.get("templateRef")
    if ref is None:
        if name not in FLAGGER_BUILT_IN:
            r.found.problems.append(
                f"{r.where(path)}: metric {name!r}: neither a built-in metric "
                "(request-success-rate, request-duration) nor a templateRef"
            )
            return None
        return out
    template_name = str(ref.get("name")) if isinstance(ref, dict) else ""
    template = templates.get(template_name)
    if template is None:
        r.found.problems.append(
            f"{r.where((*path, 'templateRef'))}: MetricTemplate {template_name!r} is not among "
            "the manifests"
        )
        return None
    spec = template.data.get("spec") if isinstance(template.data, dict) else None
    spec = spec if isinstance(spec, dict) else {}
    binding = bindings.get(f"{template_name}/{name}", bindings.get(name))
    if binding is None:
        query = spec.get("query")
        binding = recognise(query) if isinstance(query, str) else None
        if binding is not None:
            shown = ", ".join(f"{k}: {v}" for k, v in binding.items())
            r.found.notes.append(
                f"{template.at(('spec', 'query'))}: spec.query of MetricTemplate "
                f"{template_name!r} read as {{{shown}}}"
            )
    if binding is None:
        provider = spec.get("provider") if isinstance(spec.get("provider"), dict) else {}
        r.found.problems.append(
            f"{r.where((*path, 'templateRef'))}: metric {name!r} ({provider.get('type', '?')} "
            f"query of MetricTemplate {template_name!r}) is not bound to a simulator metric: "
            f"add metricBindings: {{{name}: {{metric: error_rate, of: canary}}}} (or "
            "success_rate, latency_p99, ...; scale: 100 for a percentage)"
        )
        return None
    out["query"] = binding
    return out


def _webhook(r: Reader, hook: Any, path: Path_) -> Any:
    """``{name, type}``, with a note on what the simulator makes of it."""
    if not isinstance(hook, dict):
        return hook
    kind = str(hook.get("type", "rollout"))  # Flagger's default type
    name = hook.get("name")
    if kind in FLAGGER_GATES:
        what = "waits for a promote plan action (the approval)"
    elif kind == "rollback":
        what = "a rollback plan action plays it"
    else:
        what = "taken to pass"
    r.found.notes.append(f"{r.where(path)}: {kind} webhook {name!r}: {what}")
    r.ignored(
        hook, path, ("name", "type", "url", "timeout", "metadata", "muteAlert"), "not simulated"
    )
    return {"name": name, "type": kind}
