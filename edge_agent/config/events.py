"""Config of the event path: MQTT broker, topics, TLS, remote commands, and the durable outbox.

Files named here (TLS CA, certificate, key) are checked when the config is loaded: a gateway whose
certificate is missing must refuse to start with ``FILE:LINE`` (exit 78), not retry a doomed TLS
handshake forever.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from edge_agent.config.base import Secret, StrictModel, resolve_path


def _readable_file(value: Path, info: ValidationInfo) -> Path:
    path = resolve_path(value, info)
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from exc
    return path


class TlsConfig(StrictModel):
    """TLS to the broker; files are checked at load time (a missing one is a config error, exit 78).
    The broker's certificate must name ``mqtt.host`` (a DNS or IP subject alternative name)."""

    ca_file: Path = Field(description="CA certificate (PEM) that signed the broker's certificate.")
    cert_file: Path | None = Field(None, description="Client certificate (PEM) for mutual TLS.")
    key_file: Path | None = Field(None, description="Client private key (PEM) for mutual TLS.")

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _readable(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        return None if v is None else _readable_file(v, info)

    @model_validator(mode="after")
    def _usable(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("mutual TLS needs both cert_file and key_file")
        try:  # readable is not enough: a wrong file or a key that does not match must stop us here
            ctx = ssl.create_default_context(cafile=str(self.ca_file))
            if self.cert_file is not None and self.key_file is not None:
                ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        except (ssl.SSLError, OSError) as exc:
            raise ValueError(f"TLS files not usable: {exc}") from exc
        return self


class CommandsConfig(StrictModel):
    """Remote commands on PREFIX/GATEWAY/cmd/NAME, signed with HMAC-SHA256 (see docs/events.md)."""

    secret: Secret = Field(description="Shared HMAC key: {file: PATH} or {env: NAME} (or {value: ...}).")
    max_age_s: float = Field(
        300.0, gt=0, le=3600, description="Commands whose ts is further than this from now are refused."
    )


class MqttConfig(StrictModel):
    """The broker events go to (topics and payloads: docs/events.md). An unreachable broker is normal:
    events wait in the outbox."""

    host: str = Field("127.0.0.1", description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 is usual with TLS).")
    protocol: Literal["v5", "v311"] = Field("v5", description="MQTT protocol version.")
    prefix: str = Field(
        "edge",
        min_length=1,
        pattern=r"^[^#+]+$",
        description="Topic prefix: PREFIX/GATEWAY/status, .../events/KIND.",
    )
    client_id: str | None = Field(None, description="MQTT client id; default edge-agent-GATEWAY.")
    username: str | None = Field(None, description="User name for the broker.")
    password: Secret | None = Field(
        None, description="Password: {file: PATH} or {env: NAME} (or {value: ...})."
    )
    tls: TlsConfig | None = Field(None, description="TLS settings; absent means plain TCP.")
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keep-alive interval.")
    connect_timeout_s: float = Field(
        10.0, gt=0, le=120, description="TCP + TLS handshake timeout of one connection attempt."
    )
    reconnect_min_s: float = Field(
        1.0, gt=0, le=600, description="First reconnect delay; doubles per failure, with jitter."
    )
    reconnect_max_s: float = Field(
        60.0, gt=0, le=3600, description="Longest reconnect delay (before jitter)."
    )
    encoding: Literal["json", "cbor"] = Field(
        "json", description="Event payload encoding (CBOR is announced by the MQTT v5 content type)."
    )
    commands: CommandsConfig | None = Field(
        None, description="Authenticated remote commands; absent means none are accepted."
    )

    @model_validator(mode="after")
    def _consistent(self) -> MqttConfig:
        if self.password is not None and self.username is None:
            raise ValueError("password given without username")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        if self.encoding == "cbor" and self.protocol != "v5":
            raise ValueError("cbor encoding needs protocol v5 (the content type announces it)")
        return self


class OutboxConfig(StrictModel):
    """The durable SQLite queue between analysers and the broker; bounded, lowest severity dropped first."""

    path: Path | None = Field(None, description="SQLite file; default STATE_DIR/outbox.sqlite.")
    max_events: int = Field(100_000, ge=100, description="Most events kept while the broker is away.")
    max_mb: float = Field(
        256.0, gt=0, description="Most disk space the stored events may take (snapshots are evicted first)."
    )
    max_age_h: float = Field(
        24 * 14, gt=0, description="Events older than this are dropped (and counted in outbox_overflow)."
    )
    inflight_window: int = Field(
        64, ge=1, le=1000, description="Most events published but not yet acknowledged."
    )
    late_after_s: float = Field(
        10.0,
        ge=0,
        description="An event that waited in the outbox (outage, restart) at least this long is sent with late: true.",
    )
    synchronous: Literal["full", "normal"] = Field(
        "full",
        description="SQLite synchronous mode: full survives power loss; normal survives a process crash "
        "only (the last events before a power cut may be lost) but writes ~10x faster on slow flash.",
    )

    @field_validator("path")
    @classmethod
    def _resolve(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        return None if v is None else resolve_path(v, info)
