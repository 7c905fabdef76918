"""Builds the anomaly scorer from config: households fed by readings, emitting incidents.

SKELETON: the anomaly issue fills this in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.events.model import EventSink
from edge_agent.meters.reading import Reading
from edge_agent.service import Service


class AnomalyService(Service, Protocol):
    def on_reading(self, reading: Reading) -> None: ...


def build_anomaly_service(
    cfg: AgentConfig, emit: EventSink, clock: Clock, state_dir: Path
) -> AnomalyService | None:
    return None
