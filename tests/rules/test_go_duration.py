"""Table tests for simdeploy.rules.go_duration (Go's time.ParseDuration).

Rows are Go's own table, ``src/time/time_test.go`` (parseDurationTests and
parseDurationErrorTests), in nanoseconds; a few are omitted where they only repeat a case.
The error texts are Go's, except that Go escapes non-printable bytes in the quoted input and
Python strings are text, so those inputs are compared as they are.
"""

import pytest

from simdeploy.rules.go_duration import parse_go_duration

_S = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # simple
        ("0", 0),
        ("5s", 5 * _S),
        ("30s", 30 * _S),
        ("1478s", 1478 * _S),
        # sign
        ("-5s", -5 * _S),
        ("+5s", 5 * _S),
        ("-0", 0),
        ("+0", 0),
        # decimal
        ("5.0s", 5 * _S),
        ("5.6s", 5 * _S + 600_000_000),
        ("5.s", 5 * _S),
        (".5s", 500_000_000),
        ("1.0s", _S),
        ("1.00s", _S),
        ("1.004s", _S + 4_000_000),
        ("1.0040s", _S + 4_000_000),
        ("100.00100s", 100 * _S + 1_000_000),
        # different units
        ("10ns", 10),
        ("11us", 11_000),
        ("12\u00b5s", 12_000),  # U+00B5
        ("12\u03bcs", 12_000),  # U+03BC
        ("13ms", 13_000_000),
        ("14s", 14 * _S),
        ("15m", 15 * 60 * _S),
        ("16h", 16 * 3600 * _S),
        # composite durations
        ("3h30m", (3 * 3600 + 30 * 60) * _S),
        ("10.5s4m", 4 * 60 * _S + 10 * _S + 500_000_000),
        ("-2m3.4s", -(2 * 60 * _S + 3 * _S + 400_000_000)),
        ("1h2m3s4ms5us6ns", 3600 * _S + 2 * 60 * _S + 3 * _S + 4_000_000 + 5_000 + 6),
        ("39h9m14.425s", 39 * 3600 * _S + 9 * 60 * _S + 14 * _S + 425_000_000),
        # large value
        ("52763797000ns", 52_763_797_000),
        # more than 9 digits after decimal point, see https://golang.org/issue/6617
        ("0.3333333333333333333h", 20 * 60 * _S),
        # 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64
        ("9007199254740993ns", (1 << 53) + 1),
        # largest duration that can be represented by int64 in nanoseconds
        ("9223372036854775807ns", (1 << 63) - 1),
        ("9223372036854775.807us", (1 << 63) - 1),
        ("9223372036s854ms775us807ns", (1 << 63) - 1),
        ("-9223372036854775808ns", -(1 << 63)),
        ("-9223372036854775.808us", -(1 << 63)),
        ("-9223372036s854ms775us808ns", -(1 << 63)),
        # largest negative value
        ("-9223372036854775808ns", -(1 << 63)),
        # huge string; issue 15011.
        ("0.100000000000000000000h", 6 * 60 * _S),
        # This value tests the first overflow check in leadingFraction.
        ("0.830103483285477580700h", 49 * 60 * _S + 48 * _S + 372_539_827),
    ],
)
def test_parse_go_duration(text: str, expected: int) -> None:
    assert parse_go_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("3", 'time: missing unit in duration "3"'),
        ("-", 'time: invalid duration "-"'),
        ("s", 'time: invalid duration "s"'),
        (".", 'time: invalid duration "."'),
        ("-.", 'time: invalid duration "-."'),
        (".s", 'time: invalid duration ".s"'),
        ("+.s", 'time: invalid duration "+.s"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("\x85\x85", 'time: invalid duration "\x85\x85"'),
        ("\xffff", 'time: invalid duration "\xffff"'),
        ("hello \xffff world", 'time: invalid duration "hello \xffff world"'),
        ("9223372036854775810ns", 'time: invalid duration "9223372036854775810ns"'),
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
        ("-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'),
        ("9223372036854776us", 'time: invalid duration "9223372036854776us"'),
        ("3000000h", 'time: invalid duration "3000000h"'),
        ("9223372036854775.808us", 'time: invalid duration "9223372036854775.808us"'),
        ("9223372036854ms775us808ns", 'time: invalid duration "9223372036854ms775us808ns"'),
    ],
)
def test_parse_go_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_go_duration(text)
    assert str(excinfo.value) == message
