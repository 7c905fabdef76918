"""Builds the video side from config: one reader per camera, the shared detector, zones and rules.

SKELETON: the road-occupation issue fills this in.
"""

from __future__ import annotations

from pathlib import Path

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.events.model import EventSink
from edge_agent.service import Service


def build_video_service(cfg: AgentConfig, emit: EventSink, clock: Clock, state_dir: Path) -> Service | None:
    return None
