"""The contract between the daemon and each long-running part (event path, meter buses, cameras, scorer).

The daemon only knows this protocol: it starts parts in order, asks each for its health every main-loop
turn (the systemd watchdog is fed only while every part is healthy) and stops them in reverse order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Health:
    ok: bool
    summary: str = ""
    """One short phrase for systemd's STATUS= line, e.g. ``"2/2 cameras, 11/12 meters"``."""
    details: dict[str, object] = field(default_factory=dict)


class Service(Protocol):
    name: str

    def start(self) -> None:
        """Start threads; return quickly."""
        ...

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask threads to stop and join them within ``timeout_s``; never leave files half-written."""
        ...

    def health(self) -> Health: ...
