"""Learned state on disk: one JSON file per household, written atomically (tmp, fsync, rename).

A power cut while writing leaves either the old file or the new one, never half of one. A file that cannot
be read (corrupt, from a newer version) is moved aside and reported, and the household starts from its
prior: losing a routine is bad, refusing to watch the household would be worse.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("edge_agent.anomaly")

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def state_path(state_dir: Path, household_id: str) -> Path:
    return state_dir / "anomaly" / f"{_SAFE.sub('_', household_id)}.json"


def save_state(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def load_state(path: Path) -> dict[str, Any] | None:
    """The saved state, or None if there is none; a broken file is renamed ``*.bad`` and logged."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data
    except (OSError, ValueError) as exc:
        bad = path.with_name(path.name + ".bad")
        log.error("cannot read anomaly state %s (%s); moved to %s, starting from the prior", path, exc, bad)
        with contextlib.suppress(OSError):
            os.replace(path, bad)
        return None
