"""Config of meter buses (serial RS-485 or TCP) and the meters on them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edge_agent.config.base import StrictModel


class MeterConfig(StrictModel):
    id: str = Field(min_length=1, description="Meter id used in events and households.")
    protocol: Literal["modbus", "dlt645", "cjt188"] = Field(description="Wire protocol.")
    address: str = Field(description="Modbus unit id, or the nameplate address for DL/T 645 / CJ/T 188.")


class BusConfig(StrictModel):
    id: str = Field(min_length=1, description="Bus name.")
    port: str | None = Field(None, description="Serial device, e.g. /dev/ttyUSB0.")
    baud: int = Field(2400, description="Baud rate.")
    parity: Literal["N", "E", "O"] = Field("E", description="Parity.")
    poll_interval_s: float = Field(60.0, gt=0, description="How often each meter is read.")
    meters: list[MeterConfig] = Field(default_factory=list, description="Meters on this bus.")
