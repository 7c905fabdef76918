"""The event path as the daemon sees it: an ``emit`` for analysers and a service to start and stop.

SKELETON: the events issue replaces this with the durable outbox and the MQTT publisher.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.events.model import Event, EventSink
from edge_agent.service import Health


@dataclass
class EventPath:
    emit: EventSink
    service: object


class _MemoryPath:
    name = "events"

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def start(self) -> None:
        pass

    def stop(self, timeout_s: float = 2.0) -> None:
        pass

    def health(self) -> Health:
        return Health(True, f"{len(self.events)} events")


def build_event_path(cfg: AgentConfig, state_dir: Path, clock: Clock, config_sha256: str) -> EventPath:
    mem = _MemoryPath()
    return EventPath(emit=mem.emit, service=mem)
