"""``apps/v1 Deployment`` and ``autoscaling HorizontalPodAutoscaler`` → the scenario's
``service:`` section.

What is read (everything else is reported, never an error):

- Deployment ``spec``: ``replicas`` (Kubernetes' default 1), ``strategy``, ``minReadySeconds``,
  ``progressDeadlineSeconds``, ``revisionHistoryLimit``; ``selector`` is identity.
- The pod template: ``terminationGracePeriodSeconds``; of the first container (the app),
  ``readinessProbe``, ``livenessProbe`` and ``startupProbe`` (their timing fields; the
  handler, ``httpGet``, ``tcpSocket``, ``exec`` or ``grpc``, is not simulated: a probe passes
  when the app is warm and healthy) and ``lifecycle.preStop``. A preStop ``sleep`` is taken
  as it is; an ``exec`` of ``sleep N`` (``["sleep", "5"]``, ``["/bin/sh", "-c", "sleep 5"]``)
  sleeps N seconds; any other ``exec`` or ``httpGet`` takes its duration from the annotation
  ``simdeploy.dev/prestop-seconds`` (on the pod template or the Deployment), else 0 s with a
  warning.
- HorizontalPodAutoscaler (``autoscaling/v2``, ``v1``) whose ``scaleTargetRef`` is the
  Deployment: ``minReplicas`` (default 1), ``maxReplicas`` and a CPU ``Utilization`` target
  (``averageUtilization``; v1 ``targetCPUUtilizationPercentage``) → ``service.autoscaler``.

Reported as a warning (one line per field path: ``--strict`` makes them errors): every other
field of the Deployment spec, the pod spec and the app container (``image``, ``resources``,
``env``, ``affinity``, ``volumes``, ...), other containers (sidecars), and
HPA ``behavior`` or metrics other than CPU utilisation. Identity and bookkeeping
(``apiVersion``, ``kind``, ``metadata``, ``status``, ``selector``, the container's ``name``)
are read silently.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from simdeploy.spec.manifests.documents import Document, Path_

#: The annotation that gives a preStop ``exec`` or ``httpGet`` hook its duration, in seconds.
PRESTOP_ANNOTATION = "simdeploy.dev/prestop-seconds"

_PROBE_TIMING = (
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "successThreshold",
    "failureThreshold",
)
_PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")
_SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash")
_SLEEP = re.compile(r"^\s*(?:/bin/|/usr/bin/)?sleep\s+([0-9]+(?:\.[0-9]+)?)s?\s*;?\s*$")


@dataclass
class Found:
    """What one document contributes: a scenario fragment as the scenario file spells it,
    where each of its fields came from, and what the reader has to say."""

    fragment: dict[str, Any] = field(default_factory=dict)
    #: scenario field path (``service.pod.readinessProbe``) → ``file:line: manifest path``
    origin: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: analysis template name → the ``args`` values the workload's references pass it
    template_args: dict[str, dict[str, str]] = field(default_factory=dict)

    def absorb(self, other: Found) -> None:
        """Add what ``other`` found: its fragment merged key by key (``other`` wins), its
        origins and its messages."""
        _merge_into(self.fragment, other.fragment)
        self.origin.update(other.origin)
        self.warnings.extend(other.warnings)
        self.notes.extend(other.notes)
        self.problems.extend(other.problems)


def _merge_into(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_into(base[key], value)
        else:
            base[key] = value


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Reader:
    """Copies manifest fields into the fragment, recording where each came from."""

    def __init__(self, doc: Document, found: Found) -> None:
        self.doc = doc
        self.found = found

    def where(self, path: Path_) -> str:
        return f"{self.doc.at(path)}: {_dotted(path)}"

    def put(self, target: str, value: Any, path: Path_) -> None:
        """Set the scenario field ``target`` (dotted) to ``value`` read at ``path``."""
        node = self.found.fragment
        *parents, last = target.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
        self.found.origin[target] = self.where(path)

    def mark(self, target: str, path: Path_) -> None:
        """Record that scenario field ``target`` came from ``path`` (its value set already)."""
        self.found.origin[target] = self.where(path)

    def ignored(self, mapping: Any, path: Path_, read: tuple[str, ...], what: str) -> None:
        """One warning per key of ``mapping`` not in ``read``."""
        if not isinstance(mapping, dict):
            return
        for key in mapping:
            if key not in read:
                self.found.warnings.append(f"{self.where((*path, key))}: {what}")

    def mapping(self, value: Any, path: Path_) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.found.problems.append(f"{self.where(path)}: expected a mapping")
            return {}
        return value


def from_deployment(doc: Document) -> Found:
    """The ``service:`` fragment of an ``apps/v1`` Deployment (see the module docstring)."""
    found = Found()
    r = Reader(doc, found)
    data = doc.data
    r.ignored(data, (), ("apiVersion", "kind", "metadata", "spec", "status"), "not simulated")
    spec = r.mapping(data.get("spec"), ("spec",))
    r.put("service.replicas", spec.get("replicas", 1), ("spec", "replicas"))
    for key in ("strategy", "minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit"):
        if key in spec:
            r.put(f"service.{key}", spec[key], ("spec", key))
    read = (
        "replicas",
        "strategy",
        "minReadySeconds",
        "progressDeadlineSeconds",
        "revisionHistoryLimit",
        "selector",
        "template",
    )
    r.ignored(spec, ("spec",), read, "not simulated")
    template = r.mapping(spec.get("template"), ("spec", "template"))
    read_pod_template(r, template, ("spec", "template"), annotations_of(data, template))
    name = doc.name
    if name:
        found.fragment["name"] = name
        found.origin["name"] = r.where(("metadata", "name"))
    return found


def annotations_of(data: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """The Deployment's annotations, overridden by the pod template's."""
    out: dict[str, Any] = {}
    for meta in (data.get("metadata"), template.get("metadata")):
        if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
            out.update(meta["annotations"])
    return out


def read_pod_template(
    r: Reader, template: dict[str, Any], path: Path_, annotations: dict[str, Any]
) -> None:
    r.ignored(template, path, ("metadata", "spec"), "not simulated")
    pod_path = (*path, "spec")
    pod = r.mapping(template.get("spec"), pod_path)
    if "terminationGracePeriodSeconds" in pod:
        r.put(
            "service.pod.terminationGracePeriodSeconds",
            pod["terminationGracePeriodSeconds"],
            (*pod_path, "terminationGracePeriodSeconds"),
        )
    r.ignored(pod, pod_path, ("containers", "terminationGracePeriodSeconds"), "not simulated")
    containers = pod.get("containers")
    if not isinstance(containers, list) or not containers:
        where = r.where((*pod_path, "containers"))
        r.found.problems.append(f"{where}: expected a list of containers")
        return
    for i in range(1, len(containers)):
        c = containers[i] if isinstance(containers[i], dict) else {}
        r.found.warnings.append(
            f"{r.where((*pod_path, 'containers', i))}: container {c.get('name', i)!r} not "
            "simulated (the first container is the app)"
        )
    c_path: Path_ = (*pod_path, "containers", 0)
    app = r.mapping(containers[0], c_path)
    read = ("name", "readinessProbe", "livenessProbe", "startupProbe", "lifecycle")
    r.ignored(app, c_path, read, "not simulated")
    for key in ("readinessProbe", "livenessProbe", "startupProbe"):
        if key in app:
            _probe(r, app[key], (*c_path, key), f"service.pod.{key}")
    if "lifecycle" in app:
        _lifecycle(r, app["lifecycle"], (*c_path, "lifecycle"), annotations)


def _probe(r: Reader, probe: Any, path: Path_, target: str) -> None:
    probe = r.mapping(probe, path)
    timing = {k: probe[k] for k in _PROBE_TIMING if k in probe}
    r.put(target, timing, path)
    for k in timing:
        r.found.origin[f"{target}.{k}"] = r.where((*path, k))
    r.ignored(probe, path, _PROBE_TIMING + _PROBE_HANDLERS, "not simulated")


def _lifecycle(r: Reader, lifecycle: Any, path: Path_, annotations: dict[str, Any]) -> None:
    lifecycle = r.mapping(lifecycle, path)
    r.ignored(lifecycle, path, ("preStop",), "not simulated")
    if "preStop" not in lifecycle:
        return
    hook_path = (*path, "preStop")
    hook = r.mapping(lifecycle["preStop"], hook_path)
    target = "service.pod.lifecycle.preStop.sleep.seconds"
    if PRESTOP_ANNOTATION in annotations:
        r.put(target, annotations[PRESTOP_ANNOTATION], hook_path)
        r.found.origin[target] = f"{r.where(hook_path)} (annotation {PRESTOP_ANNOTATION})"
        return
    if isinstance(hook.get("sleep"), dict) and "seconds" in hook["sleep"]:
        r.put(target, hook["sleep"]["seconds"], (*hook_path, "sleep", "seconds"))
        return
    seconds = _exec_sleep(hook.get("exec"))
    if seconds is not None:
        r.put(target, seconds, (*hook_path, "exec", "command"))
        where = r.where((*hook_path, "exec", "command"))
        r.found.notes.append(f"{where}: read as a sleep of {seconds:g} s")
        return
    kinds = [k for k in ("exec", "httpGet", "tcpSocket") if k in hook]
    what = kinds[0] if kinds else "the hook"
    r.found.warnings.append(
        f"{r.where(hook_path)}: how long {what} takes is unknown: taken as 0 s; set the "
        f"annotation {PRESTOP_ANNOTATION} on the pod template to say"
    )


def _exec_sleep(exec_: Any) -> float | None:
    """N when an exec hook's command only sleeps N seconds, else None."""
    if not isinstance(exec_, dict) or not isinstance(exec_.get("command"), list):
        return None
    cmd = [str(part) for part in exec_["command"]]
    shell = len(cmd) == 3 and cmd[0] in _SHELLS and cmd[1] == "-c"
    text = cmd[2] if shell else shlex.join(cmd)
    m = _SLEEP.match(text)
    return float(m.group(1)) if m else None


def from_autoscaler(doc: Document, kind: str, name: str) -> Found:
    """The ``service.autoscaler`` fragment of an HPA on the workload ``kind`` ``name`` (the
    Deployment or the Rollout); an HPA on another target contributes a note only."""
    found = Found()
    r = Reader(doc, found)
    data = doc.data
    spec = r.mapping(data.get("spec"), ("spec",))
    ref = spec.get("scaleTargetRef") if isinstance(spec.get("scaleTargetRef"), dict) else {}
    if ref.get("kind") != kind or ref.get("name") != name:
        found.notes.append(
            f"{r.where(('spec', 'scaleTargetRef'))}: scales {ref.get('kind')} "
            f"{ref.get('name')!r}, not this {kind} {name!r}: skipped"
        )
        return found
    r.ignored(data, (), ("apiVersion", "kind", "metadata", "spec", "status"), "not simulated")
    if "minReplicas" in spec:
        r.put("service.autoscaler.minReplicas", spec["minReplicas"], ("spec", "minReplicas"))
    r.put("service.autoscaler.maxReplicas", spec.get("maxReplicas"), ("spec", "maxReplicas"))
    read = ("scaleTargetRef", "minReplicas", "maxReplicas", "metrics")
    if "targetCPUUtilizationPercentage" in spec:  # autoscaling/v1
        target = spec["targetCPUUtilizationPercentage"]
        path: Path_ = ("spec", "targetCPUUtilizationPercentage")
        r.put("service.autoscaler.targetCPUUtilizationPercentage", target, path)
        read += ("targetCPUUtilizationPercentage",)
    r.ignored(spec, ("spec",), read, "not simulated")
    metrics = spec.get("metrics")
    for i, metric in enumerate(metrics if isinstance(metrics, list) else []):
        m_path: Path_ = ("spec", "metrics", i)
        resource = metric.get("resource") if isinstance(metric, dict) else None
        tgt = resource.get("target") if isinstance(resource, dict) else None
        if (
            isinstance(tgt, dict)
            and metric.get("type") == "Resource"
            and resource.get("name") == "cpu"  # type: ignore[union-attr]
            and tgt.get("type") == "Utilization"
            and "averageUtilization" in tgt
        ):
            r.put(
                "service.autoscaler.targetCPUUtilizationPercentage",
                tgt["averageUtilization"],
                (*m_path, "resource", "target", "averageUtilization"),
            )
        else:
            found.warnings.append(
                f"{r.where(m_path)}: only a CPU Utilization target is simulated: not simulated"
            )
    return found
