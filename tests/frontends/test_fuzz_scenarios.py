"""Mutated scenarios through the CLI: ``validate`` and ``run`` end with 0 or 2, never a traceback.

Each example takes a bundled scenario (or the small one of ``tests/conftest.py``), made quick
(at most 20 req/s), and mutates it once: a key deleted, a value replaced by another type, by a
huge, negative, zero, tiny or non-finite number, by a wrong string, by a value from elsewhere
in the file or by lists nested deeper than the limit; or, in the YAML text, a line repeated
(a duplicate key), random bytes written over part of the file or the file cut short. Then:

- ``validate`` and ``run`` return 0 or 2 (an exception escaping ``main`` fails the test);
- exit 2 prints one or more ``simdeploy: error: <file>: ...`` lines and nothing else, exit 0
  prints no error; there is never a traceback;
- both agree: a file ``validate`` accepts runs, a file it refuses is refused by ``run`` too
  (nothing is caught only at run time).

Runs are kept short by the work budget (``simdeploy/spec/budget.py``), lowered here to
2 s of estimated computing: a mutation that makes the run long (``duration: 1e5``) is refused
with exit 2 like any scenario over the real limit. Deterministic (``derandomize``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simdeploy.cli import main
from simdeploy.spec import budget
from tests.conftest import SCENARIOS, base_dict

#: Estimated seconds of computing a fuzzed run may take (the real limit is 600 s).
FUZZ_MAX_SECONDS = 2.0
#: Memory a fuzzed run may take.
FUZZ_MAX_BYTES = 512 * 2**20
#: Highest request rate of a base scenario.
QUICK_RATE = 20.0


def _quick(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its request rate scaled down to at most :data:`QUICK_RATE`."""
    d = copy.deepcopy(data)
    traffic = d.get("traffic") or {}
    if isinstance(traffic.get("rate"), int | float):
        traffic["rate"] = min(traffic["rate"], QUICK_RATE)
    profile = traffic.get("profile")
    if isinstance(profile, dict):
        rates = [profile.get("rate"), profile.get("mean")]
        rates += [s.get("rate") for s in profile.get("steps") or []]
        peak = max((r for r in rates if isinstance(r, int | float)), default=QUICK_RATE)
        f = min(1.0, QUICK_RATE / peak) if peak > 0 else 1.0
        for key in ("rate", "mean"):
            if isinstance(profile.get(key), int | float):
                profile[key] *= f
        for s in profile.get("steps") or []:
            s["rate"] *= f
    return d


BASES: dict[str, dict[str, Any]] = {"small": base_dict()}
#: The manifests the bundled scenarios name (shown relative to the working directory).
MANIFESTS = "scenarios/manifests/"
for _path in sorted(SCENARIOS.glob("*.yaml")):
    BASES[_path.stem] = _quick(yaml.safe_load(_path.read_text(encoding="utf-8")))
    if "manifests" in BASES[_path.stem]:  # relative to the scenario's folder: made absolute
        BASES[_path.stem]["manifests"] = [
            str(_path.parent / m) for m in BASES[_path.stem]["manifests"]
        ]

#: Values a mutation writes in place of another: other types, extreme and non-finite numbers,
#: strings a field does not accept, markup.
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    -0.5,
    1e-300,
    1e-9,
    1e9,
    1e300,
    10**30,
    2**63,
    math.inf,
    -math.inf,
    math.nan,
    "",
    "abc",
    "-5s",
    "1e9",
    "1e400s",
    "0.000001ms",
    "999%",
    "50%",
    "-3",
    "[/bold]",
    "[red]x[/red]",
    "v1",
    "timeout",
    [],
    {},
    [1, 2, 3],
    {"x": 1},
    [{"at": 0, "rate": 1}],
]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path below ``node`` (dict keys and list indices), depth first."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*path, k)
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*path, i)
            yield from _paths(v, (*path, i))


PATHS = {name: list(_paths(data)) for name, data in BASES.items()}


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """(what was done, the bytes of the mutated scenario file)."""
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    kind = draw(
        st.sampled_from(
            [
                "delete",
                "replace",
                "number",
                "transplant",
                "nest",
                "duplicate-line",
                "bytes",
                "truncate",
            ]
        )
    )
    path = draw(st.sampled_from(PATHS[name]))
    parent, key = _parent(data, path), path[-1]
    what = f"{name}: {kind} {'.'.join(map(str, path))}"
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        parent[key] = draw(st.sampled_from(ODD_VALUES))
    elif kind == "number":
        parent[key] = draw(
            st.one_of(
                st.integers(min_value=-(10**12), max_value=10**12),
                st.floats(allow_nan=True, allow_infinity=True),
                st.sampled_from([0, -1, 0.0, -0.0, 1e-12, 1e12, 10**400]),
            )
        )
    elif kind == "transplant":  # a value of the right kind from elsewhere: a version name
        other = draw(st.sampled_from(PATHS[name]))  # as a table, a step as a strategy, ...
        parent[key] = copy.deepcopy(_parent(BASES[name], other)[other[-1]])
    elif kind == "nest":
        parent[key] = _nested(draw(st.integers(min_value=20, max_value=300)))
    if kind in ("delete", "replace", "number", "transplant", "nest"):
        what += f" → {str(parent.get(key) if isinstance(parent, dict) else '')[:40]}"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    raw = text.encode("utf-8")
    if kind == "duplicate-line":  # the same key twice in one mapping (or a list item twice)
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        raw = "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]]).encode("utf-8")
        what = f"{name}: repeat line {i + 1}: {lines[i].strip()[:40]}"
    elif kind == "bytes":
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        junk = draw(st.binary(min_size=1, max_size=16))
        raw = raw[:at] + junk + raw[at + len(junk) :]
        what = f"{name}: bytes {junk!r} at {at}"
    elif kind == "truncate":
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        raw = raw[:at]
        what = f"{name}: cut at byte {at}"
    return what, raw


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "MAX_SECONDS", FUZZ_MAX_SECONDS)
    monkeypatch.setattr(budget, "MAX_BYTES", FUZZ_MAX_BYTES)


def test_every_base_is_valid_and_quick(small_budget: None, tmp_path: Path) -> None:
    """The bases run (so mutations reach the simulation), within the lowered budget."""
    for name, data in BASES.items():
        f = tmp_path / f"{name}.yaml"
        f.write_text(yaml.safe_dump(data, sort_keys=False))
        code, _, err = _cli(["validate", str(f)])
        assert code == 0, err


@settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=mutated())
def test_mutated_scenario_exits_0_or_2(small_budget: None, case: tuple[str, bytes]) -> None:
    what, raw = case
    with tempfile.TemporaryDirectory() as folder:
        f = Path(folder) / "fuzz.yaml"
        f.write_bytes(raw)
        codes = {}
        for command in ("validate", "run"):
            code, out, err = _cli([command, str(f)] + (["--json"] if command == "run" else []))
            assert code in (0, 2), f"{what}: {command} exited {code}\n{err}"
            assert "Traceback" not in err + out, what
            # A problem is about the fuzzed file, or at a line of a manifest it names;
            # reading manifests also prints notes and warnings.
            places = (f"simdeploy: error: {f}: ", f"simdeploy: error: {MANIFESTS}")
            said = ("simdeploy: note: ", "simdeploy: warning: ")
            if code == 2:
                assert err and out == "", f"{what}: {command}"
                for line in err.splitlines():
                    assert line.startswith(places + said), f"{what}: {line}"
            else:
                assert all(line.startswith(said) for line in err.splitlines()), f"{what}: {err}"
            codes[command] = code
        assert codes["validate"] == codes["run"], f"{what}: {codes}\n{err}"
