"""Finished runs on disk, by scenario content and seed, so an interrupted sweep resumes.

A run's key is the SHA-256 of the scenario as JSON (every field, sorted keys; its ``sweep:``
block left out), the seed and the simdeploy version: the same scenario and seed give the
same run, a changed field or a new release another key. Each entry is the run's summary
record as JSON, written to a temporary file and renamed, so a run cut short leaves nothing
half-written behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from simdeploy.spec.scenario import Scenario

try:  # the installed release: a new one changes every key
    VERSION = metadata.version("simdeploy")
except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
    VERSION = "unknown"


class RunCache:
    """Summary records in ``folder``, one JSON file per (scenario, seed)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def key(self, scenario: Scenario, seed: int) -> str:
        data = scenario.model_dump(mode="json", by_alias=True, exclude={"sweep"})
        text = json.dumps(data, sort_keys=True) + f"|seed={seed}|simdeploy={VERSION}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, scenario: Scenario, seed: int) -> Path:
        return self.folder / f"{self.key(scenario, seed)}.json"

    def get(self, scenario: Scenario, seed: int) -> dict[str, Any] | None:
        """The record of a finished run, or None (not run, or unreadable)."""
        try:
            record = json.loads(self._path(scenario, seed).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def put(self, scenario: Scenario, seed: int, record: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(scenario, seed)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, path)
