"""Validation errors of the scenario file as one line per problem: ``field.path: message``.

Unknown keys keep their "did you mean" hint, Kubernetes' own validation messages keep their
wording (one line each), and the root model's cross-reference errors pass through as
written. Used by :meth:`simdeploy.spec.scenario.Scenario.parse`.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

_SUBPATH = re.compile(
    r"^(?:spec\.strategy\.)?([A-Za-z]\w*(?:(?:\.[A-Za-z]\w*)|(?:\[\d+\]))*): (.+)$"
)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "constrained-")):
            continue
        else:
            out += ("." if out else "") + part
    return out


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per error: ``field.path: message``, unknown keys with their hint."""
    lines = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "unknown_field":
            loc = (*loc, ctx["key"])
        if err["type"] in (
            "unknown_version",
            "after_end",
            "unknown_metric",
            "unknown_template",
            "unknown_ref",
            "no_database",
        ):
            lines.append(msg)
            continue
        if err["type"] == "missing":
            msg = "required field is missing"
        messages = list(ctx["errors"]) if err["type"] == "k8s_invalid" else [msg]
        lines.extend(_line(_loc(loc), m.removeprefix("Value error, ")) for m in messages)
    return lines


def _line(path: str, msg: str) -> str:
    # Model validators name the sub-field they reject as "sub.field: message";
    # Kubernetes' own messages say "spec.strategy.rollingUpdate.maxSurge: ...".
    m = _SUBPATH.match(msg)
    if m:
        path = f"{path}.{m.group(1)}" if path else m.group(1)
        msg = m.group(2)
        path = path.replace(".[", "[")
    return f"{path}: {msg}" if path else msg
