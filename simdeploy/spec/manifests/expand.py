"""Reading a scenario's ``manifests:`` into its data: kinds, the overlay of the scenario's own
fields, and validation problems moved to the manifest line they came from (the package
docstring, :mod:`simdeploy.spec.manifests`, says what is read and how it is reported)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simdeploy.spec.manifests.analysis import from_analysis_template
from simdeploy.spec.manifests.argo import from_rollout
from simdeploy.spec.manifests.documents import Document, read_documents, resolve
from simdeploy.spec.manifests.flagger import from_canary
from simdeploy.spec.manifests.kubernetes import Found, from_autoscaler, from_deployment

__all__ = ["Expansion", "expand_manifests", "relocate", "without_consequences"]

_NOT_YET = {
    "argoproj.io": "Argo Rollouts",
    "flagger.app": "Flagger",
}  # the kinds of these groups not read above


@dataclass
class Expansion:
    """A scenario's data with its manifests read in, and what reading them had to say."""

    data: dict[str, Any]
    #: scenario field path → ``file:line: manifest path`` it was read from
    origin: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def expand_manifests(data: dict[str, Any], base_dir: Path) -> Expansion:
    """Read ``data["manifests"]`` (relative to ``base_dir``) into a copy of ``data``.

    Never raises for bad input: every problem is one line of ``Expansion.problems``.
    """
    out = Expansion(dict(data))
    patterns = data.get("manifests")
    if patterns is None:
        return out
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        out.problems.append("manifests: expected a list of file paths or globs")
        return out
    files, out.problems = resolve(patterns, base_dir)
    docs: list[Document] = []
    for f in files:
        found_docs, problems = read_documents(f)
        docs.extend(found_docs)
        out.problems.extend(problems)
    deployments: list[Document] = []
    rollouts: list[Document] = []
    autoscalers: list[Document] = []
    templates: list[Document] = []
    canaries: list[Document] = []
    metric_templates: list[Document] = []
    for doc in docs:
        kind, group = doc.kind, doc.api_version.split("/")[0]
        where = f"{doc.at(())}: {kind or 'document'} {doc.name!r}"
        if not isinstance(doc.data, dict) or not kind:
            out.problems.append(f"{doc.at(())}: not a Kubernetes object (no kind:)")
        elif kind == "Rollout" and group == "argoproj.io":
            rollouts.append(doc)
        elif kind == "Canary" and group == "flagger.app":
            canaries.append(doc)
        elif kind == "MetricTemplate" and group == "flagger.app":
            metric_templates.append(doc)
        elif kind == "AlertProvider" and group == "flagger.app":
            out.notes.append(f"{where}: skipped (not simulated)")
        elif kind in ("AnalysisTemplate", "ClusterAnalysisTemplate") and group == "argoproj.io":
            templates.append(doc)
        elif group in _NOT_YET:
            out.problems.append(
                f"{where} ({doc.api_version}): {_NOT_YET[group]} {kind} manifests are not read yet"
            )
        elif kind == "Deployment" and group == "apps":
            deployments.append(doc)
        elif kind == "HorizontalPodAutoscaler" and group == "autoscaling":
            autoscalers.append(doc)
        else:
            out.notes.append(f"{where}: skipped (not simulated)")
    found: list[Found] = []
    by_name = {d.name: d for d in deployments}
    if rollouts or canaries:
        # A Rollout or a Canary is the workload; a Deployment only lends it pods
        # (workloadRef, targetRef), and an HPA it names is read with it.
        refs = {_workload_ref(r) for r in rollouts} | {_target(c, "targetRef") for c in canaries}
        extra = [d for d in deployments if d.name not in refs]
        workloads = rollouts + canaries + extra
        if len(workloads) == 1 and rollouts:
            found.append(from_rollout(rollouts[0], by_name))
        elif len(workloads) == 1:
            hpas = {h.name: h for h in autoscalers}
            flagger_templates = {t.name: t for t in metric_templates}
            bound = data.get("metricBindings")
            bound = bound if isinstance(bound, dict) else {}
            found.append(from_canary(canaries[0], by_name, hpas, flagger_templates, bound))
            autoscalers = [
                h for h in autoscalers if h.name != _target(canaries[0], "autoscalerRef")
            ]
    else:
        workloads = deployments
        if len(workloads) == 1:
            found.append(from_deployment(deployments[0]))
    if len(workloads) > 1:
        at = ", ".join(f"{d.kind} {d.at(())}" for d in workloads)
        out.problems.append(f"manifests: {len(workloads)} workloads ({at}); a scenario has one")
    if not workloads:
        if not out.problems:
            out.problems.append(
                "manifests: no apps/v1 Deployment, Argo Rollout or Flagger Canary in "
                + ", ".join(patterns)
            )
        return out
    if len(workloads) == 1:
        target = workloads[0]
        found += [from_autoscaler(doc, target.kind, target.name) for doc in autoscalers]
    bindings = data.get("metricBindings")
    bindings = bindings if isinstance(bindings, dict) else {}
    passed = found[0].template_args if found else {}
    found += [from_analysis_template(doc, bindings, passed.get(doc.name, {})) for doc in templates]
    read = Found()
    for f in found:
        read.absorb(f)
    fragment = read.fragment
    out.origin.update(read.origin)
    out.warnings += read.warnings
    out.notes += read.notes
    out.problems += read.problems
    out.warnings.sort(key=_by_place)
    out.notes.sort(key=_by_place)
    out.data = _overlay(fragment, data)
    out.origin = {k: v for k, v in out.origin.items() if not _is_set(data, k)}
    service = out.data.get("service")
    versions = data.get("versions")
    first = next(iter(versions), None) if isinstance(versions, dict) else None
    if isinstance(service, dict) and "version" not in service and first is not None:
        out.data["service"] = {**service, "version": first}
        out.notes.append(
            f"service.version: {first!r}, the first of versions: (the version running at t=0)"
        )
    return out


def _workload_ref(rollout: Document) -> str | None:
    return _target(rollout, "workloadRef")


def _target(doc: Document, key: str) -> str | None:
    """The ``name`` of ``spec.<key>`` (a workloadRef, targetRef or autoscalerRef)."""
    spec = doc.data.get("spec")
    ref = spec.get(key) if isinstance(spec, dict) else None
    return str(ref.get("name")) if isinstance(ref, dict) else None


def _by_place(line: str) -> tuple[str, int]:
    """Sort key of a ``file:line: ...`` message: by file, then line."""
    file, _, rest = line.partition(":")
    number = rest.split(":", 1)[0]
    return file, int(number) if number.isdigit() else 0


#: Scenario fields a scenario replaces as a whole, not key by key.
_WHOLE = {"strategy"}


def _overlay(manifest: dict[str, Any], scenario: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with every field the scenario sets itself replaced by the scenario's."""
    out = dict(manifest)
    for key, value in scenario.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in _WHOLE:
            out[key] = _overlay(out[key], value)
        else:
            out[key] = value
    return out


def _is_set(data: Any, dotted: str) -> bool:
    """Whether the scenario itself sets ``dotted`` or one of its ancestors in ``_WHOLE``."""
    node = data
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        if key in _WHOLE:
            return True
        node = node[key]
    return True


def relocate(lines: list[str], origin: dict[str, str]) -> tuple[list[str], list[str]]:
    """Split validation lines into (those about a field read from a manifest, rewritten to
    start with its ``file:line: manifest path``; the others, unchanged)."""
    located: list[str] = []
    rest: list[str] = []
    keys = sorted(origin, key=len, reverse=True)
    for line in lines:
        for key in keys:
            if line.startswith(key) and line[len(key) : len(key) + 1] in (":", ".", "["):
                located.append(f"{origin[key]}{line[len(key) :]}")
                break
        else:
            rest.append(line)
    return located, rest


def _place(line: str) -> tuple[str, str] | None:
    """(file, manifest path) of a ``file:line: path: message`` line, else None."""
    parts = line.split(": ", 2)
    if len(parts) < 3 or ":" not in parts[0]:
        return None
    return parts[0].rsplit(":", 1)[0], parts[1]


def without_consequences(located: list[str], problems: list[str]) -> list[str]:
    """``located`` validation lines minus those about a field the manifest reader already
    reported a problem with (the same file, one path inside the other): said once."""
    places = [p for p in map(_place, problems) if p is not None]

    def repeats(line: str) -> bool:
        place = _place(line)
        if place is None:
            return False
        file, path = place
        return any(f == file and (path.startswith(q) or q.startswith(path)) for f, q in places)

    return [line for line in located if not repeats(line)]
