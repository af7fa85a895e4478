"""Reading a scenario file (``spec/loader.py``): bytes → UTF-8 text → YAML → plain data.

Each limit is tested at its edge (the largest accepted input and the smallest refused one),
with both parsers: libyaml's (the default when PyYAML has it) and PyYAML's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simdeploy.spec import loader
from simdeploy.spec.base import ScenarioError
from simdeploy.spec.loader import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    PureLoader,
    check_shape,
    decode,
    parse_yaml,
    read_bytes,
    read_scenario_data,
)
from tests.conftest import SCENARIOS

LOADERS = [PureLoader]
if hasattr(loader, "FastLoader"):
    LOADERS.append(loader.FastLoader)


@pytest.fixture(params=LOADERS, ids=lambda c: c.__name__)
def loader_class(request: pytest.FixtureRequest) -> type:
    return request.param


def errors(text: str, loader_class: type) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        parse_yaml(text, loader_class)
    return exc.value.errors


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_scenarios_read_as_safe_load_reads_them(path: Path, loader_class: type) -> None:
    text = path.read_text(encoding="utf-8")
    assert parse_yaml(text, loader_class) == (yaml.safe_load(text), [])


def test_default_loader_is_libyaml_when_available() -> None:
    if yaml.__with_libyaml__:
        assert loader.ScenarioLoader is loader.FastLoader


# --- nesting and size ------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_depth_limit_edge(loader_class: type) -> None:
    data, _ = parse_yaml(nested(MAX_DEPTH), loader_class)
    assert data is not None
    assert errors(nested(MAX_DEPTH + 1), loader_class) == [
        f"line 1: nested deeper than {MAX_DEPTH} levels (the limit)"
    ]


def test_very_deep_nesting_is_refused_without_recursion_error(loader_class: type) -> None:
    """200,000 levels: refused at level 33, long before Python's recursion limit."""
    text = "a:\n  b: " + nested(200_000)
    assert errors(text, loader_class) == ["line 2: nested deeper than 32 levels (the limit)"]


def test_deep_block_mappings_name_the_line(loader_class: type) -> None:
    text = "".join(" " * i + f"k{i}:\n" for i in range(40))
    assert errors(text, loader_class) == ["line 33: nested deeper than 32 levels (the limit)"]


def test_node_limit_edge(loader_class: type) -> None:
    """A list of n scalars is n + 1 values."""
    ok = "[" + "1," * (MAX_NODES - 1) + "]"
    assert len(parse_yaml(ok, loader_class)[0]) == MAX_NODES - 1
    bad = "[" + "1," * MAX_NODES + "]"
    (line,) = errors(bad, loader_class)
    assert line == f"line 1: more than {MAX_NODES:,} values (mappings, lists, scalars: the limit)"


def test_alias_expansion_counts_every_use(loader_class: type) -> None:
    """``&a`` of 10 values used 10 000 times is 100 000 values for the models: refused at
    the line of the list that expands beyond the limit, before anything is built."""
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for name, prev in zip("bcde", "abcd", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    text = "\n".join(lines)
    assert errors(text, loader_class) == [
        f"line 5: this value holds more than {MAX_NODES:,} values once its aliases are "
        "expanded (the limit); use fewer aliases"
    ]
    data, _ = parse_yaml("\n".join(lines[:4]), loader_class)  # 10,000 leaves: accepted
    assert len(data["d"]) == 10 and data["d"][0] == data["c"]


def test_recursive_alias_names_its_line(loader_class: type) -> None:
    assert errors("a: 1\nb: &x\n  c: [1, *x]\n", loader_class) == [
        "line 3: *x is inside &x (a recursive alias); remove it"
    ]


def test_check_shape_of_python_data() -> None:
    """Data built in code: shared objects count each time, a loop is refused."""
    leaf = list(range(10))
    shared = [leaf] * 100  # 1 + 100 × 11 values
    check_shape({"x": shared})
    with pytest.raises(ScenarioError, match="more than 100,000 values"):
        check_shape({"x": [shared] * 100})
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(ScenarioError, match="contains itself"):
        check_shape(loop)
    deep: list = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ScenarioError, match="nested deeper than 32 levels"):
        check_shape(deep)


# --- duplicate keys --------------------------------------------------------------------------


def test_duplicate_keys_name_the_path_and_both_lines(loader_class: type) -> None:
    text = (
        "service:\n  replicas: 3\n  pod: {a: 1}\n  replicas: 0\n"
        "plan:\n  - {setWeight: 20, setWeight: 50}\n"
        "plan: []\n"
    )
    data, dups = parse_yaml(text, loader_class)
    assert data["service"]["replicas"] == 0  # what PyYAML would have kept, silently
    assert dups == [  # in the order of the file
        "service.replicas: duplicate key (lines 2 and 4); YAML would keep only the last one: "
        "remove one",
        "plan[0].setWeight: duplicate key (line 6, columns 6 and 21); YAML would keep only "
        "the last one: remove one",
        "plan: duplicate key (lines 5 and 7); YAML would keep only the last one: remove one",
    ]


def test_merge_keys_are_not_duplicates(loader_class: type) -> None:
    text = "base: &b {x: 1, y: 2}\nuse: {<<: *b, x: 3}\n"
    assert parse_yaml(text, loader_class) == (
        {"base": {"x": 1, "y": 2}, "use": {"x": 3, "y": 2}},
        [],
    )


def test_keys_equal_as_values_are_duplicates(loader_class: type) -> None:
    """``1`` and ``0x1`` are the same key once read (the models would see one)."""
    _, dups = parse_yaml("{1: a, 0x1: b}", loader_class)
    assert dups and dups[0].startswith("1: duplicate key (line 1, columns 2 and 8)")


# --- scalars ---------------------------------------------------------------------------------


def test_scalars_read_as_yaml_1_2(loader_class: type) -> None:
    data, _ = parse_yaml("a: 1e9\nb: 1E-9\nc: 2024-13-45\nd: 2024-01-01\ne: .inf\n", loader_class)
    assert data == {"a": 1e9, "b": 1e-9, "c": "2024-13-45", "d": "2024-01-01", "e": float("inf")}


def test_unreadable_scalar_names_its_line(loader_class: type) -> None:
    (line,) = errors("a: 1\nb: " + "9" * 5000 + "\n", loader_class)
    assert line.startswith("invalid YAML (line 2): cannot read 999999999999999999999")
    assert "(5000 characters)" in line and "set_int_max_str_digits" not in line


def test_control_character_names_line_and_column(loader_class: type) -> None:
    """libyaml counts bytes, PyYAML characters: both report the character's column."""
    assert errors("a: 1\nb: é\x07\n", loader_class) == [
        "invalid YAML (line 2, column 5): character #x0007 is not allowed in YAML text"
    ]


def test_python_tags_are_refused(loader_class: type) -> None:
    (line,) = errors("a: !!python/object/apply:os.system [echo]\n", loader_class)
    assert "could not determine a constructor" in line


# --- bytes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "name: caf\xe9\n".encode("latin-1"),
            "not UTF-8 text: byte 0xe9 at line 1, column 10 cannot be read as UTF-8 (Latin-1?)",
        ),
        ("a: 1\n".encode("utf-16"), "a UTF-16 byte order mark at line 1, column 1"),
        ("a: 1\n".encode("utf-32"), "a UTF-32 byte order mark at line 1, column 1"),
        ("a: 1\n".encode("utf-16-be"), "a NUL byte at line 1, column 1"),
        (b"a: 1\nb: \x00\x01", "a NUL byte at line 2, column 4"),
    ],
    ids=["latin-1", "utf-16", "utf-32", "utf-16-be-no-bom", "binary"],
)
def test_decode_refuses_what_is_not_utf8(raw: bytes, message: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        decode(raw)
    (line,) = exc.value.errors
    assert message in line


def test_decode_accepts_utf8_with_or_without_bom() -> None:
    assert decode("name: café\n".encode()) == "name: café\n"
    assert decode("name: café\n".encode("utf-8-sig")) == "name: café\n"


def test_file_size_limit_edge(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_bytes(b"#" * MAX_FILE_BYTES)
    assert len(read_bytes(f)) == MAX_FILE_BYTES
    f.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ScenarioError) as exc:
        read_bytes(f)
    assert exc.value.errors == [
        "the file is 1,048,577 bytes; a scenario file may be at most 1,048,576 bytes (1 MiB)"
    ]


def test_read_scenario_data_prefixes_the_path(tmp_path: Path) -> None:
    f = tmp_path / "x.yaml"
    f.write_bytes(b"a: [1\n")
    with pytest.raises(ScenarioError) as exc:
        read_scenario_data(f)
    (line,) = exc.value.errors
    assert line.startswith(f"{f}: invalid YAML (line 2)")
