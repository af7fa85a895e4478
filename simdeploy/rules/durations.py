"""Durations as users write them: ``250ms``, ``30s``, ``5m``, ``1h``, ``1m30s`` or seconds.

Pure; no SimPy. Simulated time is float seconds everywhere in simdeploy.
"""

from __future__ import annotations

import math
import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds; raise ``ValueError`` naming the accepted forms.

    ``"1m30s"`` → 90.0, ``"250ms"`` → 0.25, ``12`` → 12.0. Negative, NaN, infinite
    (``inf``, ``.inf``, ``1e400``, ``10**400``) and booleans are rejected: a duration is a
    finite, non-negative number of seconds. How long a run may be is not decided here but
    by :mod:`simdeploy.spec.budget` (the work it would take).
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {_shown(value)}: use seconds or 250ms / 30s / 5m / 1h")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an int beyond float range (10**400): not finite either
            seconds = math.inf
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"invalid duration {_shown(value)}: use seconds or 250ms / 30s / 5m / 1h"
                ) from None
            seconds = sum(float(n) * _UNIT_S[u] for n, u in parts)
    else:
        raise ValueError(f"invalid duration {_shown(value)}: use seconds or 250ms / 30s / 5m / 1h")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {_shown(value)}: must be a finite number >= 0")
    return seconds + 0.0  # -0.0 → 0.0


def _shown(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters so a 400-digit number stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def format_duration(seconds: float) -> str:
    """Short human form: 0.25 → ``250ms``, 90 → ``1m30s``, 3600 → ``1h``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return out + (f"{secs}s" if secs else "")
