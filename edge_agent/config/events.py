"""Config of the event path: MQTT broker, topics, TLS, and the durable outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from edge_agent.config.base import Secret, StrictModel


class TlsConfig(StrictModel):
    ca_file: Path = Field(description="CA certificate (PEM) that signed the broker's certificate.")
    cert_file: Path | None = Field(None, description="Client certificate (PEM) for mutual TLS.")
    key_file: Path | None = Field(None, description="Client private key (PEM) for mutual TLS.")


class MqttConfig(StrictModel):
    host: str = Field("127.0.0.1", description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 is usual with TLS).")
    protocol: Literal["v5", "v311"] = Field("v5", description="MQTT protocol version.")
    prefix: str = Field(
        "edge", min_length=1, description="Topic prefix: PREFIX/GATEWAY/status, .../events/KIND."
    )
    username: str | None = Field(None, description="User name for the broker.")
    password: Secret | None = Field(
        None, description="Password: {file: PATH} or {env: NAME} (or {value: ...})."
    )
    tls: TlsConfig | None = Field(None, description="TLS settings; absent means plain TCP.")
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keep-alive interval.")
    encoding: Literal["json", "cbor"] = Field("json", description="Event payload encoding.")


class OutboxConfig(StrictModel):
    path: Path | None = Field(None, description="SQLite file; default STATE_DIR/outbox.sqlite.")
    max_events: int = Field(100_000, ge=100, description="Most events kept while the broker is away.")
    max_age_h: float = Field(
        24 * 14, gt=0, description="Events older than this are dropped, low severity first."
    )
    inflight_window: int = Field(
        64, ge=1, le=1000, description="Most events published but not yet acknowledged."
    )
