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
    and booleans are rejected: a duration is a finite, non-negative number of seconds.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: use seconds or 250ms / 30s / 5m / 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"invalid duration {value!r}: use seconds or 250ms / 30s / 5m / 1h"
                ) from None
            seconds = sum(float(n) * _UNIT_S[u] for n, u in parts)
    else:
        raise ValueError(f"invalid duration {value!r}: use seconds or 250ms / 30s / 5m / 1h")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {value!r}: must be a finite number >= 0")
    return seconds


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
