"""Builds the meter side from config: one bus owner per port, the poll schedule, reporting.

SKELETON: the meters issue fills this in.
"""

from __future__ import annotations

from pathlib import Path

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.events.model import EventSink
from edge_agent.meters.reading import ReadingSink
from edge_agent.service import Service


def build_meter_service(
    cfg: AgentConfig, emit: EventSink, on_reading: ReadingSink, clock: Clock, state_dir: Path
) -> Service | None:
    return None
