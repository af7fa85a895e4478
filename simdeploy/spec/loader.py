"""Reading a scenario file: bytes → text → YAML → plain data, with limits checked up front.

What reaches the models is plain data (dicts, lists, str, int, float, bool, None) no larger
than these limits, each named in the one-line message that refuses a file:

- :data:`MAX_FILE_BYTES` (1 MiB): the bundled scenarios are under 4 KiB;
- text must be UTF-8 (a UTF-8 byte order mark is allowed); Latin-1, UTF-16 and binary files
  are refused with the line and column of the first bad byte;
- :data:`MAX_DEPTH` (32 levels of nested mappings and lists): the deepest bundled path,
  ``plan[].strategy.canary.steps[].analysis.templates[].templateName``, is 10 levels;
- :data:`MAX_NODES` (100,000 values once aliases are expanded): aliases share one object,
  but the models walk every copy, so ``&a [*b, *b, ...]`` chains ("billion laughs") are
  measured as the models would see them; recursive aliases are refused;
- a key given twice in one mapping is an error naming the key and both lines (PyYAML keeps
  the last one silently). A merge key (``<<: *base``) is not a duplicate: its keys are
  overridden by explicit ones, as YAML defines.

Safe loading only: :class:`ScenarioLoader` composes nodes like :class:`yaml.SafeLoader`
(from libyaml's C parser when PyYAML has it: about four times as fast, so a file at the size
limit is read in seconds, not minutes; PyYAML's own parser otherwise), reads
timestamps as plain strings (a scenario has no dates; ``at: 2024-13-45`` would otherwise
raise from ``datetime``) and ``1e9`` / ``1e-9`` as numbers, as YAML 1.2 does (PyYAML's YAML
1.1 wants ``1.0e+9`` and would pass ``rate: 1e9`` on as a string). Pure: PyYAML only;
raises :class:`ScenarioError`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from simdeploy.spec.base import ScenarioError

#: Largest scenario file read, in bytes.
MAX_FILE_BYTES = 1 << 20
#: Deepest nesting of mappings and lists (the top-level mapping is level 1).
MAX_DEPTH = 32
#: Most values (mappings, lists and scalars) once aliases are expanded.
MAX_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class _LimitError(yaml.MarkedYAMLError):
    """A limit of this module, reported like a YAML error (with its line)."""


class _Limits(Composer, SafeConstructor, Resolver):
    """A safe composer and constructor with nesting and node-count limits checked while
    composing, timestamps read as strings, and value errors of scalars (``int('9' * 5000)``)
    reported as YAML errors with their line. Combined with a parser below."""

    #: Whether the parser's reader errors count bytes of the UTF-8 text (libyaml) rather
    #: than characters (PyYAML).
    byte_offsets: ClassVar[bool] = False

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def _start(self) -> None:
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        Composer.__init__(self)
        self._depth = 0
        self._nodes = 0
        self._open: list[str] = []  # anchors of the collections being composed
        self._expanded: dict[int, int] = {}  # id(node) → values once aliases are expanded

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()  # type: ignore[attr-defined]
        limit = None
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                limit = f"*{event.anchor} is inside &{event.anchor} (a recursive alias); remove it"
        else:
            self._nodes += 1
            if self._nodes > MAX_NODES:
                limit = f"more than {MAX_NODES:,} values (mappings, lists, scalars: the limit)"
            elif self._depth >= MAX_DEPTH and isinstance(
                event, yaml.MappingStartEvent | yaml.SequenceStartEvent
            ):
                limit = f"nested deeper than {MAX_DEPTH} levels (the limit)"
        if limit is not None:
            raise _LimitError(None, None, limit, event.start_mark)
        anchor = getattr(event, "anchor", None) if not isinstance(event, yaml.AliasEvent) else None
        self._depth += 1
        if anchor is not None:
            self._open.append(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open.pop()
        if not isinstance(event, yaml.AliasEvent):
            self._expanded[id(node)] = size = 1 + sum(
                self._expanded.get(id(child), 1) for child in _child_nodes(node)
            )
            if size > MAX_NODES:
                raise _LimitError(
                    None,
                    None,
                    f"this value holds more than {MAX_NODES:,} values once its aliases are "
                    "expanded (the limit); use fewer aliases",
                    node.start_mark,
                )
        return node  # type: ignore[no-any-return]

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, OverflowError, TypeError) as exc:
            text = str(node.value)
            shown = text if len(text) <= 40 else f"{text[:39]}… ({len(text)} characters)"
            reason = str(exc).split(";")[0]  # not Python's advice on sys.set_int_max_str_digits
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown}: {reason}", node.start_mark
            ) from None


def _child_nodes(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class PureLoader(_Limits, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """:class:`_Limits` on PyYAML's own reader, scanner and parser (pure Python)."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        self._start()


ScenarioLoader: type[_Limits] = PureLoader
try:  # libyaml's scanner and parser (in C); the composer stays PyYAML's: it checks the limits
    from yaml.cyaml import CParser

    class FastLoader(_Limits, CParser):  # type: ignore[misc]
        """:class:`_Limits` on libyaml's parser, about four times as fast."""

        byte_offsets = True

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            self._start()

    ScenarioLoader = FastLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    pass


# YAML 1.2 reads 1e9 and 1E-9 as numbers; PyYAML (YAML 1.1) wants a dot (1.0e+9) and would
# hand ``rate: 1e9`` over as the string "1e9". Read them as floats, as YAML 1.2 does.
_Limits.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def decode(raw: bytes) -> str:
    """UTF-8 text of ``raw``; :class:`ScenarioError` (no path) naming what is wrong."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return _refuse(
                f"a {name} byte order mark at line 1, column 1: the file is {name} text; "
                "save it as UTF-8"
            )
    nul = raw.find(b"\0")
    if nul >= 0:
        return _refuse(
            f"binary data, or UTF-16 text without a byte order mark: a NUL byte at "
            f"{_position(raw, nul)}; save the file as UTF-8 text"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _refuse(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at {_position(raw, exc.start)} "
            "cannot be read as UTF-8 (Latin-1?); save the file as UTF-8"
        )


def _position(raw: bytes | str, offset: int) -> str:
    """``line L, column C`` (from 1) of ``offset`` in ``raw`` (bytes, or the text)."""
    nl = b"\n" if isinstance(raw, bytes) else "\n"
    line = raw.count(nl, 0, offset) + 1  # type: ignore[arg-type]
    column = offset - (raw.rfind(nl, 0, offset) + 1) + 1  # type: ignore[arg-type]
    return f"line {line}, column {column}"


def _refuse(message: str) -> str:
    raise ScenarioError([message])


def read_bytes(path: Path) -> bytes:
    """The file's bytes, at most :data:`MAX_FILE_BYTES`; errors without the path prefix."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError([_too_big(size)])
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError([f"cannot read the file: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_FILE_BYTES:  # a file that grew, or a pipe
        raise ScenarioError([_too_big(len(raw))])
    return raw


def _too_big(size: int) -> str:
    return (
        f"the file is {size:,} bytes; a scenario file may be at most {MAX_FILE_BYTES:,} bytes "
        f"({MAX_FILE_BYTES >> 20} MiB)"
    )


def parse_yaml(text: str, loader_class: type[_Limits] | None = None) -> tuple[Any, list[str]]:
    """(data, duplicate-key problems) of one YAML document.

    Raises :class:`ScenarioError` for invalid YAML or a limit exceeded. Duplicate keys are
    returned, not raised, so that the caller can report them with the other problems.
    ``loader_class``: :data:`ScenarioLoader` (libyaml's parser when available) by default.
    """
    cls = loader_class or ScenarioLoader
    try:
        loader = cls(text)  # type: ignore[call-arg]  # the reader refuses control characters
        try:
            node = loader.get_single_node()
            if node is None:
                return None, []
            twice = [line for _, line in sorted(duplicates(loader, node))]
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ScenarioError([yaml_message(exc, text, cls.byte_offsets)]) from None
    check_shape(data)
    return data, twice


def yaml_message(exc: yaml.YAMLError, text: str, byte_offsets: bool) -> str:
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, _LimitError):
        return f"line {mark.line + 1}: {exc.problem}"
    if mark is not None and "maximum nesting depth" in str(exc.problem):  # libyaml's own limit
        return f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels (the limit)"
    where = f" (line {mark.line + 1})" if mark is not None else ""
    if isinstance(exc, yaml.reader.ReaderError):
        at = exc.position  # libyaml counts bytes of the UTF-8 text, PyYAML characters
        if byte_offsets:
            at = len(text.encode("utf-8")[:at].decode("utf-8", "ignore"))
        char = exc.character if isinstance(exc.character, int) else ord(exc.character or "?")
        return (
            f"invalid YAML ({_position(text, min(at, len(text)))}): "
            f"character #x{char:04x} is not allowed in YAML text"
        )
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    return f"invalid YAML{where}: {f'{context}, ' if context else ''}{problem}"


def duplicates(loader: _Limits, root: Node) -> Iterator[tuple[tuple[int, int], str]]:
    """((line, column) of the second key, ``path.key: ...``) for every key given twice in
    one mapping (aliases walked once)."""
    seen: set[int] = set()
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            items = list(enumerate(node.value))
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(items))
        elif isinstance(node, MappingNode):
            first: dict[Any, yaml.Mark] = {}
            children = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue
                key = loader.construct_object(key_node, deep=True)
                sub = f"{path}.{key}" if path else str(key)
                mark = key_node.start_mark
                try:
                    if key in first:
                        yield (
                            (mark.line, mark.column),
                            (
                                f"{sub}: duplicate key ({_where(first[key], mark)}); "
                                "YAML would keep only the last one: remove one"
                            ),
                        )
                        continue
                    first[key] = mark
                except TypeError:  # an unhashable key: the constructor reports it
                    continue
                children.append((value_node, sub))
            stack.extend(reversed(children))


def _where(a: yaml.Mark, b: yaml.Mark) -> str:
    if a.line == b.line:
        return f"line {a.line + 1}, columns {a.column + 1} and {b.column + 1}"
    return f"lines {a.line + 1} and {b.line + 1}"


def check_shape(data: Any) -> None:
    """Refuse data nested deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_NODES`
    values once shared parts (YAML aliases, reused Python objects) are counted each time
    they appear, and data that contains itself. Iterative: deep input cannot exhaust the stack.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        obj, done = stack.pop()
        children = _children(obj)
        if children is None:
            continue
        oid = id(obj)
        if done:
            on_path.discard(oid)
            size[oid] = 1 + sum(size.get(id(c), 1) for c in children)
            depth[oid] = 1 + max((depth.get(id(c), 0) for c in children), default=0)
            if depth[oid] > MAX_DEPTH:
                raise ScenarioError([f"nested deeper than {MAX_DEPTH} levels (the limit)"])
            if size[oid] > MAX_NODES:
                raise ScenarioError(
                    [
                        f"more than {MAX_NODES:,} values (mappings, lists, scalars: the limit) "
                        "counting each use of a YAML alias or shared object"
                    ]
                )
            continue
        if oid in size:
            continue
        if oid in on_path:
            raise ScenarioError(["a value contains itself (a recursive alias); remove the loop"])
        if len(on_path) >= MAX_DEPTH:
            raise ScenarioError([f"nested deeper than {MAX_DEPTH} levels (the limit)"])
        on_path.add(oid)
        stack.append((obj, True))
        stack.extend((c, False) for c in children if id(c) not in size)


def _children(obj: Any) -> list[Any] | None:
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, list | tuple | set | frozenset):
        return list(obj)
    return None


def read_scenario_data(path: Path) -> tuple[Any, list[str]]:
    """(data, duplicate-key problems) of the scenario file at ``path``.

    Raises :class:`ScenarioError` whose lines start with the path, for an unreadable,
    oversized, non-UTF-8 or invalid YAML file.
    """
    try:
        data, twice = parse_yaml(decode(read_bytes(path)))
    except ScenarioError as exc:
        raise ScenarioError([f"{path}: {line}" for line in exc.errors]) from None
    return data, twice
