"""The root of the config file: one YAML document, one pydantic model per section."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from edge_agent.config.anomaly import AnomalyConfig, HouseholdConfig
from edge_agent.config.base import StrictModel
from edge_agent.config.events import MqttConfig, OutboxConfig
from edge_agent.config.inference import DetectorConfig
from edge_agent.config.meters import BusConfig
from edge_agent.config.video import CameraConfig, VideoConfig


class GatewaySection(StrictModel):
    """Who this gateway is and where it keeps its state."""

    id: str = Field(
        min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Gateway id, used in MQTT topics."
    )
    state_dir: Path = Field(Path("/var/lib/edge-agent"), description="Outbox, learned routines, counters.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log verbosity.")


class MetricsConfig(StrictModel):
    """Prometheus metrics over HTTP (off by default; bind to loopback unless you mean it)."""

    enabled: bool = Field(False, description="Serve Prometheus metrics over HTTP.")
    bind: str = Field("127.0.0.1", description="Address the metrics endpoint listens on.")
    port: int = Field(9108, ge=1, le=65535, description="Port of the metrics endpoint.")


class WatchdogConfig(StrictModel):
    """Main-loop supervision: health checks and the systemd watchdog."""

    main_loop_interval_s: float = Field(1.0, gt=0, le=10, description="Main-loop period (health checks).")


class AgentConfig(StrictModel):
    """The whole config file."""

    gateway: GatewaySection = Field(description="Who this gateway is and where it keeps its state.")
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="The broker events go to.")
    outbox: OutboxConfig = Field(default_factory=OutboxConfig, description="Durable on-disk queue of events.")
    metrics: MetricsConfig = Field(default_factory=MetricsConfig, description="Prometheus endpoint.")
    watchdog: WatchdogConfig = Field(default_factory=WatchdogConfig, description="Main-loop supervision.")
    detector: DetectorConfig = Field(
        default_factory=DetectorConfig, description="The ONNX detector cameras share."
    )
    video: VideoConfig = Field(default_factory=VideoConfig, description="Settings shared by every camera.")
    anomaly: AnomalyConfig = Field(
        default_factory=AnomalyConfig, description="Scorer settings for households."
    )
    cameras: list[CameraConfig] = Field(default_factory=list, description="Cameras watched by this gateway.")
    buses: list[BusConfig] = Field(default_factory=list, description="Meter buses (serial or TCP).")
    households: list[HouseholdConfig] = Field(
        default_factory=list, description="Households scored for anomalies."
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> AgentConfig:
        seen: dict[str, str] = {}
        items = [("camera", c.id) for c in self.cameras] + [("bus", b.id) for b in self.buses]
        items += [("meter", m.id) for b in self.buses for m in b.meters]
        items += [("household", h.id) for h in self.households]
        for what, ident in items:
            key = f"{what}:{ident}"
            if key in seen:
                raise ValueError(f"duplicate {what} id {ident!r}")
            seen[key] = what
        return self
