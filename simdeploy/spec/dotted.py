"""A scenario field by its dotted path in the file's spelling: ``service.replicas``,
``service.strategy.rollingUpdate.maxSurge``, ``plan.0.at`` (a list item by its index).

Pure: plain data in, plain data out; used by ``sweep:`` (the paths a sweep varies).
"""

from __future__ import annotations

import copy
from typing import Any

from simdeploy.spec.base import ScenarioError


def put(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with ``value`` at ``path`` (missing mappings on the way are made,
    as a file would spell them); :class:`ScenarioError` if the path runs into a value that
    is not a mapping or past the end of a list.

    Example: put({"service": {"replicas": 3}}, "service.pod.concurrency", 4) →
    {"service": {"replicas": 3, "pod": {"concurrency": 4}}}.
    """
    out = copy.deepcopy(data)
    node: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        else:
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
        if node is None:
            raise ScenarioError([f"{path}: no such place in the scenario ({part})"])
    last = parts[-1]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError([f"{path}: no such place in the scenario ({last})"])
    return out
