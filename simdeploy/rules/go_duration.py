"""Go's ``time.ParseDuration``, which Argo Rollouts and Flagger apply to duration strings.

A Go duration is a signed sequence of decimal numbers, each with an optional fraction and a
unit: ``"300ms"``, ``"-1.5h"``, ``"2h45m"``. Units are ``ns``, ``us`` (or ``µs``, ``μs``),
``ms``, ``s``, ``m``, ``h``; there is no ``d``. ``"0"`` is the only number allowed without a
unit. The result is an integer number of nanoseconds within int64.

Ported from the Go standard library, ``src/time/format.go``: ParseDuration, leadingInt,
leadingFraction (the same integer and float64 steps, so fractions round as Go's do).

Pure: stdlib only.
"""

from typing import Final

__all__ = ["parse_go_duration"]

_UNIT_NS: Final = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # U+00B5 micro sign
    "\u03bcs": 1_000,  # U+03BC Greek small letter mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_MAX = 1 << 63


def _invalid(orig: str) -> ValueError:
    return ValueError(f'time: invalid duration "{orig}"')


def _leading_int(s: str, orig: str) -> tuple[int, str]:
    """Consume leading ASCII digits (leadingInt): (value, rest); overflow is an error."""
    i = 0
    x = 0
    while i < len(s) and "0" <= s[i] <= "9":
        if x > _MAX // 10:
            raise _invalid(orig)
        x = x * 10 + int(s[i])
        if x > _MAX:
            raise _invalid(orig)
        i += 1
    return x, s[i:]


def _leading_fraction(s: str) -> tuple[int, float, str]:
    """Consume the digits after a period (leadingFraction): (digits, scale, rest); digits that
    would overflow are skipped, as their precision is lost anyway."""
    i = 0
    x = 0
    scale = 1.0
    overflow = False
    while i < len(s) and "0" <= s[i] <= "9":
        if not overflow:
            if x > (_MAX - 1) // 10:
                overflow = True
            else:
                y = x * 10 + int(s[i])
                if y > _MAX:
                    overflow = True
                else:
                    x = y
                    scale *= 10
        i += 1
    return x, scale, s[i:]


def parse_go_duration(text: str) -> int:
    """Nanoseconds in the Go duration ``text``; ValueError with Go's message when invalid.

    Example: "1h30m" → 5_400_000_000_000; "1.5s" → 1_500_000_000; "1ms" → 1_000_000;
    "-2s" → -2_000_000_000; "0" → 0; "10" → ValueError (missing unit); "1d" → ValueError
    (unknown unit).
    """
    orig = text
    s = text
    neg = False
    if s and s[0] in "-+":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise _invalid(orig)
    d = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise _invalid(orig)
        before = len(s)
        v, s = _leading_int(s, orig)
        pre = before != len(s)
        post = False
        f, scale = 0, 1.0
        if s and s[0] == ".":
            s = s[1:]
            before = len(s)
            f, scale, s = _leading_fraction(s)
            post = before != len(s)
        if not pre and not post:
            raise _invalid(orig)  # no digits, e.g. ".s"
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise ValueError(f'time: missing unit in duration "{orig}"')
        unit_text, s = s[:i], s[i:]
        unit = _UNIT_NS.get(unit_text)
        if unit is None:
            raise ValueError(f'time: unknown unit "{unit_text}" in duration "{orig}"')
        if v > _MAX // unit:
            raise _invalid(orig)
        v *= unit
        if f > 0:
            # float64 keeps fractions of hours nanosecond-accurate, as in Go.
            v += int(float(f) * (float(unit) / scale))
            if v > _MAX:
                raise _invalid(orig)
        d += v
        if d > _MAX:
            raise _invalid(orig)
    if neg:
        return -d
    if d > _MAX - 1:
        raise _invalid(orig)
    return d
