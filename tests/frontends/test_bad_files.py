"""The bad-file table: every file in ``tests/bad/`` fails ``validate`` and ``run`` the same way.

Each file is one class of bad input (issue 8, section 1). A text file states what it must
print in ``# expect: <substring of an error line>`` lines at its top; the files whose bytes
are the point (Latin-1, UTF-16, binary: their comments cannot be read as UTF-8 text) have
their expectations in :data:`NOT_TEXT` below. Files added later are picked up by the glob.

For both commands: exit code 2, nothing on stdout, no traceback, one stderr line per problem
of the form ``simdeploy: error: <file>: <where>: <message>`` where ``<where>`` is a field path
(``service.replicas``, ``plan[0].strategy.canary.steps[1]``) or a line of the file, or the
problem is the file as a whole (empty, not a mapping); and every expected substring appears.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simdeploy.cli import main
from tests.conftest import ROOT

BAD_DIR = ROOT / "tests" / "bad"
BAD = sorted(p for p in BAD_DIR.iterdir() if p.is_file())

#: Expectations of the files that are not UTF-8 text (their ``# expect:`` could not be read).
NOT_TEXT: dict[str, list[str]] = {
    "encoding-latin1.yaml": [
        "not UTF-8 text: byte 0xe9 at line 1, column 10 cannot be read as UTF-8 (Latin-1?)"
    ],
    "encoding-utf16.yaml": [
        "a UTF-16 byte order mark at line 1, column 1: the file is UTF-16 text; save it as UTF-8"
    ],
    "encoding-utf16-no-bom.yaml": [
        "binary data, or UTF-16 text without a byte order mark: a NUL byte at line 1, column 2"
    ],
    "encoding-binary.yaml": ["binary data, or UTF-16 text without a byte order mark"],
}

#: ``<where>: `` at the start of a problem: a field path (a key, ``[i]`` indices, dotted
#: keys, which may be a user's variant name such as ``[red]x[/red]``).
FIELD = re.compile(r"^[A-Za-z_][\w-]*(?:\[\d+\]|\.[^:\s][^:]*?)*: ")
LINE = re.compile(r"\bline \d+\b")
#: Problems of the file as a whole, which have neither a field nor a line.
WHOLE_FILE = ("the file is empty", "expected a mapping at the top level")


def expectations(path: Path) -> list[str]:
    if path.name in NOT_TEXT:
        return NOT_TEXT[path.name]
    text = path.read_text(encoding="utf-8")
    return [m.group(1).strip() for m in re.finditer(r"^# expect: (.+)$", text, re.M)]


def test_the_table_covers_each_class_of_part_a1() -> None:
    """One file at least per class of bad input at the front door."""
    names = {p.stem for p in BAD}
    for cls in (
        "encoding-latin1",
        "encoding-utf16",
        "encoding-utf16-no-bom",
        "encoding-binary",
        "yaml-deep-nesting",
        "yaml-alias-bomb",
        "yaml-recursive-alias",
        "yaml-huge-integer",
        "yaml-syntax-error",
        "yaml-control-character",
        "yaml-empty",
        "yaml-top-level-list",
        "yaml-two-documents",
        "yaml-python-tag",
        "markup-in-user-text",
        "nonfinite-rate",
        "nonfinite-steps",
        "nonfinite-diurnal-mean",
        "nonfinite-preview-traffic",
        "nonfinite-durations",
        "duplicate-key-replicas",
        "duplicate-key-set-weight",
        "duplicate-key-plan",
        "size-users",
        "size-duration",
        "size-bucket",
        "size-rate",
        "size-replicas",
        "size-canary-scale",
    ):
        assert cls in names, f"tests/bad/{cls}.yaml is missing"
    for name in NOT_TEXT:  # the point of these files: they are not UTF-8 text
        raw = (BAD_DIR / name).read_bytes()
        assert b"\0" in raw or raw.startswith(b"\xff\xfe") or not _utf8(raw), name


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_file_exits_2_one_line_per_problem(path: Path, command: str, capsys) -> None:
    expected = expectations(path)
    assert expected, f"{path.name}: no '# expect:' line (or no entry in NOT_TEXT)"
    rel = str(path.relative_to(ROOT))
    try:
        code = main([command, str(path)])
    except BaseException as exc:  # the point: nothing escapes main()
        pytest.fail(f"{command} {rel} raised {type(exc).__name__}: {exc}")
    cap = capsys.readouterr()
    assert code == 2, cap.err
    assert cap.out == ""
    assert "Traceback" not in cap.err
    lines = cap.err.splitlines()
    assert lines, "no error line"
    prefix = f"simdeploy: error: {path}: "
    for line in lines:
        assert line.startswith(prefix), line
        rest = line.removeprefix(prefix)
        assert FIELD.match(rest) or LINE.search(rest) or rest.startswith(WHOLE_FILE), (
            f"names neither a field path nor a line: {line}"
        )
    for want in expected:
        assert any(want in line for line in lines), f"{want!r} not in:\n{cap.err}"
