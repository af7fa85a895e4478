"""Reading manifest files: globs relative to the scenario, multi-document YAML, line numbers.

A scenario's ``manifests:`` lists paths or globs (``deploy/*.yaml``), relative to the
scenario file's folder. Each file is read with the same limits and safe loader as a scenario
(:mod:`simdeploy.spec.loader`: UTF-8, 1 MiB, 32 levels, 100,000 values, no key twice), and
may hold several YAML documents separated by ``---`` (empty documents are skipped, as
``kubectl apply`` skips them). Each document keeps, for every mapping key and list item, the
line it starts on, so a problem can be reported as ``deploy/app.yaml:23: spec.replicas: ...``.

Pure: PyYAML only; problems are returned as one-line messages, never raised one at a time.
"""

from __future__ import annotations

import glob as globlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simdeploy.spec.base import ScenarioError
from simdeploy.spec.loader import (
    ScenarioLoader,
    check_shape,
    decode,
    duplicates,
    read_bytes,
    yaml_message,
)

#: Most manifest files one scenario may read (after globs are expanded).
MAX_FILES = 100

#: A path in a document: mapping keys and list indexes, from the top.
Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """One YAML document of a manifest file: its data and the line each path starts on."""

    file: str  # as shown in messages: relative to the working directory when inside it
    index: int  # 0 for the first document of the file
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def at(self, path: Path_) -> str:
        """``file:line`` of ``path`` (or of its nearest ancestor that has a line)."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                return f"{self.file}:{line}"
        return self.file

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", "")) if isinstance(self.data, dict) else ""

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion", "")) if isinstance(self.data, dict) else ""

    @property
    def name(self) -> str:
        meta = self.data.get("metadata") if isinstance(self.data, dict) else None
        return str(meta.get("name", "")) if isinstance(meta, dict) else ""


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def resolve(patterns: list[str], base_dir: Path) -> tuple[list[Path], list[str]]:
    """The files ``patterns`` name (each a path or a glob relative to ``base_dir``), in
    order, each once; and one problem per pattern that matches no file."""
    files: list[Path] = []
    problems: list[str] = []
    for i, pattern in enumerate(patterns):
        full = os.path.join(base_dir, os.path.expanduser(pattern))
        if globlib.has_magic(pattern):
            matches = sorted(Path(m) for m in globlib.glob(full, recursive=True))
            matches = [m for m in matches if m.is_file()]
            if not matches:
                problems.append(f"manifests[{i}]: no file matches {pattern!r} (in {base_dir})")
        else:
            p = Path(full)
            matches = [p] if p.is_file() else []
            if not matches:
                what = "is a directory, not a file" if p.is_dir() else "no such file"
                problems.append(f"manifests[{i}]: {pattern!r}: {what} (in {base_dir})")
        for m in matches:
            if m.resolve() not in {f.resolve() for f in files}:
                files.append(m)
    if len(files) > MAX_FILES:
        problems.append(f"manifests: {len(files)} files; at most {MAX_FILES} are read")
    return files, problems


def read_documents(path: Path) -> tuple[list[Document], list[str]]:
    """The non-empty documents of the manifest file at ``path``, and its problems (a file
    that cannot be read or parsed gives one problem and no documents)."""
    name = shown(path)
    try:
        text = decode(read_bytes(path))
    except ScenarioError as exc:
        return [], [f"{name}: {line}" for line in exc.errors]
    docs: list[Document] = []
    problems: list[str] = []
    loader = ScenarioLoader(text)  # type: ignore[call-arg]
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            problems.extend(f"{name}: {line}" for _, line in sorted(duplicates(loader, node)))
            data = loader.construct_document(node)
            check_shape(data)
            if data is not None:
                docs.append(Document(name, index, data, _lines(node)))
            index += 1
    except yaml.YAMLError as exc:
        problems.append(f"{name}: {yaml_message(exc, text, loader.byte_offsets)}")
    except ScenarioError as exc:
        problems.extend(f"{name}: {line}" for line in exc.errors)
    finally:
        loader.dispose()
    return docs, problems


def _lines(root: Node) -> dict[Path_, int]:
    """Line (from 1) of the document and of every mapping key and list item under it."""
    lines: dict[Path_, int] = {(): root.start_mark.line + 1}
    stack: list[tuple[Node, Path_]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:  # an alias: its lines are those of the anchor
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode):
                    sub = (*path, str(key.value))
                    lines.setdefault(sub, key.start_mark.line + 1)
                    stack.append((value, sub))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                sub = (*path, i)
                lines.setdefault(sub, item.start_mark.line + 1)
                stack.append((item, sub))
    return lines
