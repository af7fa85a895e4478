"""``argoproj.io/v1alpha1 Rollout`` → the scenario's ``service:`` section.

The Rollout's ``spec.strategy.canary`` or ``spec.strategy.blueGreen`` becomes
``service.strategy`` (the scenario spells them as Argo does), its ``replicas`` (Argo's default
1), ``minReadySeconds``, ``progressDeadlineSeconds`` and ``revisionHistoryLimit`` the
service's, and its pod template (inline, or the Deployment a ``workloadRef`` names) is read
as a Deployment's (:mod:`.kubernetes`).

Canary steps: ``setWeight``, ``pause``, ``analysis``, ``setCanaryScale``,
``setMirrorRoute`` and ``experiment`` (:mod:`simdeploy.control.strategies.experiment`) are
read as written. ``setHeaderRoute`` is read with no user share (which users send the header
is not in the manifest: a warning says so; ``userShare`` in the scenario's own strategy gives
it).

Analysis references (steps, background ``analysis``, blue/green pre/post-promotion) keep
their ``templateName``; the templates are AnalysisTemplate manifests (:mod:`.analysis`) or
the scenario's own ``analysisTemplates:``. The ``args`` values a reference passes are handed
to the template (one value per argument and template across the Rollout).
"""

from __future__ import annotations

from typing import Any

from simdeploy.spec.manifests.documents import Document, Path_
from simdeploy.spec.manifests.kubernetes import Found, Reader, annotations_of, read_pod_template

_SERVICE_FIELDS = ("minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit")
_SPEC_READ = ("replicas", "strategy", "template", "workloadRef", "selector", *_SERVICE_FIELDS)

#: Canary fields read as written, and those that only name things (read silently).
_CANARY_READ = (
    "steps",
    "maxSurge",
    "maxUnavailable",
    "trafficRouting",
    "maxTrafficWeight",
    "dynamicStableScale",
    "abortScaleDownDelaySeconds",
    "scaleDownDelaySeconds",
    "minPodsPerReplicaSet",
    "replicaProgressThreshold",
)
_CANARY_NAMES = ("canaryService", "stableService", "canaryMetadata", "stableMetadata")
_BLUE_GREEN_READ = (
    "activeService",
    "previewService",
    "previewReplicaCount",
    "autoPromotionEnabled",
    "autoPromotionSeconds",
    "scaleDownDelaySeconds",
    "abortScaleDownDelaySeconds",
)
_BLUE_GREEN_NAMES = ("previewMetadata", "activeMetadata")
_STEP_AS_WRITTEN = ("setWeight", "pause", "setCanaryScale")


def from_rollout(doc: Document, deployments: dict[str, Document]) -> Found:
    """The ``service:`` fragment of a Rollout; ``deployments`` by name, for ``workloadRef``."""
    found = Found()
    r = Reader(doc, found)
    data = doc.data
    r.ignored(data, (), ("apiVersion", "kind", "metadata", "spec", "status"), "not simulated")
    spec = r.mapping(data.get("spec"), ("spec",))
    r.put("service.replicas", spec.get("replicas", 1), ("spec", "replicas"))
    for key in _SERVICE_FIELDS:
        if key in spec:
            r.put(f"service.{key}", spec[key], ("spec", key))
    r.ignored(spec, ("spec",), _SPEC_READ, "not simulated")
    _template(r, spec, data, deployments)
    strategy = r.mapping(spec.get("strategy"), ("spec", "strategy"))
    s_path: Path_ = ("spec", "strategy")
    r.ignored(strategy, s_path, ("canary", "blueGreen"), "not simulated")
    if "canary" in strategy:
        c_path: Path_ = (*s_path, "canary")
        canary = _canary(r, r.mapping(strategy["canary"], c_path), c_path)
        r.put("service.strategy", {"canary": canary}, s_path)
        _mark_all(r, "service.strategy.canary", canary, c_path)
    elif "blueGreen" in strategy:
        bg_path: Path_ = (*s_path, "blueGreen")
        blue_green = _blue_green(r, r.mapping(strategy["blueGreen"], bg_path), bg_path)
        r.put("service.strategy", {"blueGreen": blue_green}, s_path)
        _mark_all(r, "service.strategy.blueGreen", blue_green, bg_path)
    else:
        found.problems.append(f"{r.where(s_path)}: a Rollout needs a canary or blueGreen strategy")
    if doc.name:
        found.fragment["name"] = doc.name
        found.origin["name"] = r.where(("metadata", "name"))
    return found


def _mark_all(r: Reader, target: str, value: Any, path: Path_) -> None:
    """Origins for every field and list item under ``value`` (copied from ``path``), so a
    problem deep in a step is reported at the step's own line."""
    if isinstance(value, dict):
        for key, sub in value.items():
            r.mark(f"{target}.{key}", (*path, key))
            _mark_all(r, f"{target}.{key}", sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            r.mark(f"{target}[{i}]", (*path, i))
            _mark_all(r, f"{target}[{i}]", sub, (*path, i))


def _template(
    r: Reader, spec: dict[str, Any], data: dict[str, Any], deployments: dict[str, Document]
) -> None:
    """The pod template: inline, or the one of the Deployment ``workloadRef`` names."""
    if "template" in spec:
        template = r.mapping(spec["template"], ("spec", "template"))
        read_pod_template(r, template, ("spec", "template"), annotations_of(data, template))
        return
    ref = spec.get("workloadRef")
    ref_path: Path_ = ("spec", "workloadRef")
    if not isinstance(ref, dict):
        r.found.problems.append(f"{r.where(('spec',))}: a Rollout needs a template or workloadRef")
        return
    name = ref.get("name")
    target = deployments.get(str(name))
    if ref.get("kind") != "Deployment" or target is None:
        r.found.problems.append(
            f"{r.where(ref_path)}: {ref.get('kind')} {name!r} is not among the manifests"
        )
        return
    # The Deployment's template, read at its own lines.
    other = Reader(target, r.found)
    target_spec = other.mapping(target.data.get("spec"), ("spec",))
    template = other.mapping(target_spec.get("template"), ("spec", "template"))
    read_pod_template(other, template, ("spec", "template"), annotations_of(target.data, template))
    r.found.notes.append(
        f"{r.where(ref_path)}: the pod template of Deployment {name!r} ({target.at(())})"
    )


def _canary(r: Reader, canary: dict[str, Any], path: Path_) -> dict[str, Any]:
    out = {k: canary[k] for k in _CANARY_READ if k in canary and k != "steps"}
    r.ignored(canary, path, (*_CANARY_READ, *_CANARY_NAMES, "analysis"), "not simulated")
    steps = canary.get("steps")
    if isinstance(steps, list):
        out["steps"] = [_step(r, step, (*path, "steps", i)) for i, step in enumerate(steps)]
        out["steps"] = [s for s in out["steps"] if s is not None]
    elif steps is not None:
        out["steps"] = steps  # the scenario's validation says what is wrong, at this line
    if "analysis" in canary:
        out["analysis"] = _run_ref(r, canary["analysis"], (*path, "analysis"))
    return out


def _step(r: Reader, step: Any, path: Path_) -> dict[str, Any] | None:
    if not isinstance(step, dict):
        return step  # type: ignore[no-any-return]
    out: dict[str, Any] = {k: step[k] for k in _STEP_AS_WRITTEN if k in step}
    if "analysis" in step:
        out["analysis"] = _run_ref(r, step["analysis"], (*path, "analysis"))
    if "setHeaderRoute" in step:
        route = r.mapping(step["setHeaderRoute"], (*path, "setHeaderRoute"))
        out["setHeaderRoute"] = {"name": route.get("name")}
        if route.get("match"):
            r.found.warnings.append(
                f"{r.where((*path, 'setHeaderRoute', 'match'))}: which users send a matching "
                "header is not in the manifest: no user is routed (give userShare in the "
                "scenario's service.strategy)"
            )
    if "setMirrorRoute" in step:
        route = r.mapping(step["setMirrorRoute"], (*path, "setMirrorRoute"))
        out["setMirrorRoute"] = {k: route[k] for k in ("name", "percentage") if k in route}
        r.ignored(
            route, (*path, "setMirrorRoute"), ("name", "percentage", "match"), "not simulated"
        )
    if "experiment" in step:
        out["experiment"] = _experiment(r, step["experiment"], (*path, "experiment"))
    read = (*_STEP_AS_WRITTEN, "analysis", "setHeaderRoute", "setMirrorRoute", "experiment")
    r.ignored(step, path, read, "not simulated")
    return out


def _experiment(r: Reader, exp: Any, path: Path_) -> Any:
    """An experiment step: its duration, templates (name, specRef, replicas, weight) and
    analyses (name, templateName, requiredForCompletion; ``args`` handed to the template)."""
    if not isinstance(exp, dict):
        return exp
    out: dict[str, Any] = {k: exp[k] for k in ("duration",) if k in exp}
    r.ignored(exp, path, ("duration", "templates", "analyses"), "not simulated")
    templates = []
    for i, t in enumerate(exp.get("templates") or []):
        read = ("name", "specRef", "replicas", "weight")
        if isinstance(t, dict):
            r.ignored(t, (*path, "templates", i), (*read, "metadata", "selector"), "not simulated")
            templates.append({k: t[k] for k in read if k in t})
        else:
            templates.append(t)
    out["templates"] = templates
    analyses = []
    for i, a in enumerate(exp.get("analyses") or []):
        if not isinstance(a, dict):
            analyses.append(a)
            continue
        a_path: Path_ = (*path, "analyses", i)
        read = ("name", "templateName", "requiredForCompletion")
        r.ignored(a, a_path, (*read, "args", "clusterScope"), "not simulated")
        _pass_args(r, [a.get("templateName")], a.get("args"), a_path)
        analyses.append({k: a[k] for k in read if k in a})
    if analyses:
        out["analyses"] = analyses
    return out


def _pass_args(r: Reader, names: list[Any], args: Any, path: Path_) -> None:
    """Record the ``args`` values a reference passes to each of the templates ``names``
    (one value per argument and template across the Rollout; a second one is a warning)."""
    for i, arg in enumerate(args if isinstance(args, list) else []):
        if isinstance(arg, dict) and "name" in arg and "value" in arg:
            for name in names:
                passed = r.found.template_args.setdefault(str(name), {})
                if passed.setdefault(str(arg["name"]), str(arg["value"])) != str(arg["value"]):
                    r.found.warnings.append(
                        f"{r.where((*path, 'args', i))}: {name} gets args.{arg['name']} "
                        f"{passed[str(arg['name'])]!r} from an earlier reference, not "
                        f"{arg['value']!r}: one template, one value"
                    )


def _run_ref(r: Reader, ref: Any, path: Path_) -> Any:
    """``{templates: [{templateName}], startingStep}``; the ``args`` go to the templates."""
    if not isinstance(ref, dict):
        return ref
    out: dict[str, Any] = {}
    templates = ref.get("templates")
    if isinstance(templates, list):
        out["templates"] = [
            {"templateName": t.get("templateName")} if isinstance(t, dict) else t for t in templates
        ]
    elif templates is not None:
        out["templates"] = templates
    if "startingStep" in ref:
        out["startingStep"] = ref["startingStep"]
    names = [t.get("templateName") for t in out.get("templates", []) if isinstance(t, dict)]
    _pass_args(r, names, ref.get("args"), path)
    read = ("templates", "startingStep", "args")
    r.ignored(ref, path, read, "not simulated")
    return out


def _blue_green(r: Reader, blue_green: dict[str, Any], path: Path_) -> dict[str, Any]:
    out = {k: blue_green[k] for k in _BLUE_GREEN_READ if k in blue_green}
    for key in ("prePromotionAnalysis", "postPromotionAnalysis"):
        if key in blue_green:
            out[key] = _run_ref(r, blue_green[key], (*path, key))
    read = (*_BLUE_GREEN_READ, *_BLUE_GREEN_NAMES, "prePromotionAnalysis", "postPromotionAnalysis")
    r.ignored(blue_green, path, read, "not simulated")
    return out
