"""Config of meter buses (serial RS-485 or TCP), the meters on them, their profiles and poll schedules.

A *profile* says what a meter model is (Modbus register map, DL/T 645 data identifiers, CJ/T 188 DI
order), EdgeX/Telegraf style: in data, not in code. Profiles ship in ``edge_agent/meters/profiles/*.yaml``
(referenced by name) or are given inline per meter or per bus (``profiles:``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from edge_agent.config.base import StrictModel

Protocol = Literal["modbus", "dlt645", "cjt188"]
RegisterType = Literal["u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64"]
WordOrder = Literal["ABCD", "CDAB", "BADC", "DCBA"]

QUANTITY_PATTERN = r"^[a-z][a-z0-9_]*$"

SHIPPED_PROFILES_DIR = Path(__file__).resolve().parent.parent / "meters" / "profiles"
"""Profiles shipped in the package (data files: config reads them by name, imports no meter code)."""


def shipped_profile_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED_PROFILES_DIR.glob("*.yaml"))


class RegisterConfig(StrictModel):
    """One value in a Modbus register map."""

    quantity: str = Field(
        pattern=QUANTITY_PATTERN,
        description="Name with its unit: energy_kwh, water_m3, power_w, voltage_v...",
    )
    address: int = Field(ge=0, le=65535, description="0-based register address (as on the wire).")
    table: Literal["holding", "input"] = Field("holding", description="Register table (function 03 or 04).")
    type: RegisterType = Field("u16", description="Value type; 32/64-bit types span 2/4 registers.")
    order: WordOrder = Field(
        "ABCD", description="Byte order of the value: ABCD big-endian, CDAB word-swapped, BADC, DCBA."
    )
    scale: float = Field(1.0, description="value = raw * scale + offset.")
    offset: float = Field(0.0, description="Added after scaling.")
    counter: bool = Field(False, description="A running total (rollover and meter replacement are detected).")
    unit: str | None = Field(None, description="Unit shown in readings; default from the quantity suffix.")


class ProfileConfig(StrictModel):
    """What one meter model is: how to read it and what its values mean."""

    protocol: Protocol = Field(description="Protocol the profile is for.")
    description: str = Field("", description="Free text: maker, model, notes.")
    registers: list[RegisterConfig] = Field(default_factory=list, description="Modbus register map.")
    max_gap_registers: int = Field(
        8, ge=0, le=120, description="Modbus: merge registers into one request across gaps up to this size."
    )
    max_block_registers: int = Field(60, ge=1, le=125, description="Modbus: largest merged request.")
    dis: list[str] = Field(
        default_factory=list,
        description="DL/T 645: data identifiers to read, as printed in the standard (e.g. 00000000).",
    )
    meter_type: int = Field(0x10, ge=0, le=0xFF, description="CJ/T 188: meter type T (0x10 cold water).")
    di_order: Literal["standard", "swapped"] = Field(
        "standard", description="CJ/T 188: DI 901F sent as 1F 90 (standard) or 90 1F (swapped)."
    )
    quantity: str = Field(
        "water_m3", pattern=QUANTITY_PATTERN, description="CJ/T 188: quantity of the current total."
    )
    limits: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Plausible [min, max] per quantity; outside is out-of-range."
    )
    max_rate_per_h: dict[str, float] = Field(
        default_factory=dict,
        description="Counters: largest plausible increase per hour (e.g. energy_kwh: 30); more is out-of-range.",
    )

    @model_validator(mode="after")
    def _fits_protocol(self) -> ProfileConfig:
        if self.protocol == "modbus" and not self.registers:
            raise ValueError("a modbus profile needs registers")
        if self.protocol != "modbus" and self.registers:
            raise ValueError(f"registers are for modbus profiles, not {self.protocol}")
        for text in self.dis:
            if not re.fullmatch(r"[0-9A-Fa-f]{8}", text.replace(" ", "")):
                raise ValueError(f"DI {text!r} must be 8 hex digits as printed in DL/T 645 (e.g. 00010000)")
        return self


class GroupConfig(StrictModel):
    """Meters polled on one schedule."""

    id: str = Field(min_length=1, description="Group name, referenced by meters' `group`.")
    interval_s: float | None = Field(None, gt=0, description="Poll period; give this or `cron`.")
    cron: str | None = Field(None, description="Crontab expression (5 fields, gateway local time).")
    offset_s: float | None = Field(
        None, ge=0, description="Start offset within the period; default staggers buses and groups."
    )

    @model_validator(mode="after")
    def _one_schedule(self) -> GroupConfig:
        if (self.interval_s is None) == (self.cron is None):
            raise ValueError("give exactly one of interval_s, cron")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError("cron needs 5 fields: minute hour day month day_of_week")
        return self


class MeterConfig(StrictModel):
    id: str = Field(min_length=1, description="Meter id used in events and households (e.g. elec-101).")
    protocol: Protocol = Field(description="Wire protocol.")
    address: str = Field(
        description="Modbus unit id (1-247), or the nameplate address for DL/T 645 / CJ/T 188 (as printed)."
    )
    profile: str | ProfileConfig | None = Field(
        None,
        description="Name of a shipped or bus-level profile, or an inline profile; default per protocol.",
    )
    group: str = Field("default", description="Schedule group (see the bus's `groups`).")
    timeout_ms: int | None = Field(None, gt=0, description="Reply timeout; default the bus's.")
    retries: int | None = Field(None, ge=0, le=5, description="Retries per request; default the bus's.")

    @model_validator(mode="after")
    def _valid_address(self) -> MeterConfig:
        if self.protocol == "modbus":
            if not self.address.isdigit() or not 1 <= int(self.address) <= 247:
                raise ValueError(f"modbus address {self.address!r} must be a unit id 1-247")
        else:
            n = 12 if self.protocol == "dlt645" else 14
            if not re.fullmatch(rf"[0-9A-Fa-f]{{1,{n}}}", self.address):
                raise ValueError(f"{self.protocol} address {self.address!r} must be up to {n} digits")
        if isinstance(self.profile, ProfileConfig) and self.profile.protocol != self.protocol:
            raise ValueError(f"profile is for {self.profile.protocol}, meter speaks {self.protocol}")
        return self


class TelemetryConfig(StrictModel):
    """How readings leave as ``telemetry`` events."""

    enabled: bool = Field(True, description="Emit telemetry events at all.")
    period_s: float = Field(900.0, gt=0, description="Report every meter at least this often.")
    on_change: bool = Field(True, description="Also report as soon as a value changes beyond its deadband.")
    min_interval_s: float = Field(60.0, ge=0, description="Never report one meter more often than this.")
    deadband: dict[str, float] = Field(
        default_factory=lambda: {"energy_kwh": 0.1, "water_m3": 0.01, "power_w": 50.0, "voltage_v": 5.0},
        description="Smallest change per quantity that counts as a change (default 0: any).",
    )


class SimulationConfig(StrictModel):
    """The built-in simulator behind a ``simulate: true`` bus (demo, tests)."""

    time_scale: float = Field(60.0, gt=0, description="Simulated seconds per real second (consumption).")
    faults: dict[str, Literal["silent", "bad-checksum", "garbage", "truncated", "slow", "wrong-address"]] = (
        Field(default_factory=dict, description="Fault injected per meter id.")
    )


class BusConfig(StrictModel):
    id: str = Field(min_length=1, description="Bus name.")
    port: str | None = Field(None, description="Serial device, e.g. /dev/ttyUSB0 (or give `host`).")
    host: str | None = Field(None, description="TCP endpoint HOST:PORT (Modbus TCP or a serial server).")
    simulate: bool = Field(False, description="Back this bus with a built-in simulator on a pty (demo).")
    simulation: SimulationConfig = Field(
        default_factory=SimulationConfig,  # type: ignore[arg-type]
        description="Simulator settings when `simulate` is true.",
    )
    baud: int | None = Field(None, gt=0, description="Baud rate; default 2400 (DL/T 645, CJ/T 188) or 9600.")
    parity: Literal["N", "E", "O"] | None = Field(
        None, description="Parity; default E (DL/T 645, CJ/T 188) or N."
    )
    bytesize: Literal[7, 8] = Field(8, description="Data bits.")
    stopbits: Literal[1, 2] = Field(1, description="Stop bits.")
    timeout_ms: int = Field(1000, gt=0, le=30000, description="Reply timeout per request.")
    retries: int = Field(1, ge=0, le=5, description="Retries per request before a read counts as failed.")
    inter_frame_ms: float | None = Field(
        None,
        ge=0,
        description="Silence kept between one transaction and the next request (default 3.5 characters).",
    )
    poll_interval_s: float = Field(60.0, gt=0, description="Period of the default group.")
    cron: str | None = Field(None, description="Crontab for the default group instead of poll_interval_s.")
    offset_s: float | None = Field(None, ge=0, description="Start offset of the default group.")
    cycle_budget_s: float | None = Field(
        None, gt=0, description="Longest a poll cycle may take (default 80% of its period)."
    )
    offline_after_failures: int = Field(3, ge=1, description="Failed polls in a row before meter_offline.")
    backoff_max_s: float = Field(600.0, gt=0, description="Longest pause between polls of a dead meter.")
    reopen_backoff_max_s: float = Field(30.0, gt=0, description="Longest pause between reopen attempts.")
    groups: list[GroupConfig] = Field(default_factory=list, description="Extra schedule groups.")
    profiles: dict[str, ProfileConfig] = Field(
        default_factory=dict, description="Profiles defined for this bus, by name."
    )
    telemetry: TelemetryConfig = Field(
        default_factory=TelemetryConfig,  # type: ignore[arg-type]
        description="How readings are reported.",
    )
    meters: list[MeterConfig] = Field(default_factory=list, description="Meters on this bus.")

    @field_validator("host")
    @classmethod
    def _host_port(cls, v: str | None) -> str | None:
        if v is not None:
            host, sep, port = v.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"host {v!r} must be HOST:PORT")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> BusConfig:
        if not self.simulate and (self.port is None) == (self.host is None):
            raise ValueError("give exactly one of port, host (or simulate: true)")
        protocols = {m.protocol for m in self.meters}
        if "modbus" in protocols and len(protocols) > 1:
            raise ValueError("modbus meters cannot share a bus with dlt645/cjt188 meters")
        groups = {"default"} | {g.id for g in self.groups}
        for m in self.meters:
            if m.group not in groups:
                raise ValueError(f"meter {m.id}: unknown group {m.group!r} (known: {sorted(groups)})")
            shipped = shipped_profile_names()
            if isinstance(m.profile, str) and m.profile not in self.profiles and m.profile not in shipped:
                known = sorted(set(self.profiles) | set(shipped))
                raise ValueError(f"meter {m.id}: unknown profile {m.profile!r} (known: {known})")
            if m.protocol == "modbus" and m.profile is None:
                raise ValueError(f"meter {m.id}: a modbus meter needs a profile (register map)")
        for name, p in self.profiles.items():
            if any(m.profile == name and m.protocol != p.protocol for m in self.meters):
                raise ValueError(f"profile {name} is for {p.protocol}")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError("cron needs 5 fields: minute hour day month day_of_week")
        return self

    @property
    def protocol_family(self) -> Literal["modbus", "china"]:
        """``modbus`` or ``china`` (DL/T 645 and CJ/T 188 share the line and its settings)."""
        return "modbus" if any(m.protocol == "modbus" for m in self.meters) else "china"

    @property
    def effective_baud(self) -> int:
        return self.baud or (9600 if self.protocol_family == "modbus" else 2400)

    @property
    def effective_parity(self) -> Literal["N", "E", "O"]:
        return self.parity or ("N" if self.protocol_family == "modbus" else "E")
