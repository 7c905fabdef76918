"""CJ/T 188-2004 (Chinese water, heat and gas meters): frames, addresses, DIs, BCD totals with units.

Pure functions over bytes, no I/O. Frame: ``[FE...] 68 T A0..A6 C L DATA CS 16``; no +0x33; the address is
seven bytes sent lowest first (the top two are the manufacturer code); DATA is DI (2 bytes) + SER (1 byte)
+ payload. Vendors disagree on the DI byte order (``1F 90`` per the standard, ``90 1F`` in the field):
replies are accepted in either order and requests are built in the order the meter's profile says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge_agent.meters.bcd import address_from_wire, address_to_wire, decode_bcd_le, encode_bcd_le
from edge_agent.meters.framing import (
    ERROR,
    REPLY,
    START,
    ControlByte,
    Extracted,
    FrameError,
    TruncatedFrame,
    UnexpectedReply,
    checksum,
    extract_frame,
)

ADDRESS_BYTES = 7
WILDCARD = "AA" * ADDRESS_BYTES
LEN_INDEX = 10

# Meter types (T).
TYPE_COLD_WATER = 0x10
TYPE_HOT_WATER = 0x11
TYPE_DRINKING_WATER = 0x12
TYPE_RECLAIMED_WATER = 0x13
TYPE_HEAT = 0x20
TYPE_COOLING = 0x21
TYPE_GAS = 0x30
TYPE_ELECTRICITY = 0x40
TYPE_WILDCARD = 0xAA

# Control codes.
C_READ = 0x01
C_READ_ADDRESS = 0x03
C_WRITE = 0x04

DI_METER_DATA = 0x901F
DI_READ_ADDRESS = 0x810A
DI_VALVE = 0xA017

# Unit codes for totals: code -> (unit, factor to the base unit of the quantity).
UNITS: dict[int, tuple[str, float]] = {
    0x2C: ("m3", 1.0),
    0x29: ("m3", 0.001),  # litres, reported in m3
    0x02: ("kWh", 0.001),  # Wh
    0x05: ("kWh", 1.0),
    0x08: ("kWh", 1000.0),  # MWh
    0x0A: ("kWh", 100000.0),  # MWh x 100
    0x01: ("GJ", 1e-9),  # J
    0x0B: ("GJ", 1e-6),  # kJ
    0x0E: ("GJ", 1e-3),  # MJ
    0x11: ("GJ", 1.0),
    0x13: ("GJ", 100.0),
}
UNIT_CODE_M3 = 0x2C

DiOrder = Literal["standard", "swapped"]
"""``standard`` sends DI 901F as ``1F 90`` (low byte first); ``swapped`` sends ``90 1F``."""

TOTAL_ROLLOVER = 1_000_000.0
"""A 4-byte BCD total with two decimals wraps at 999999.99 + 0.01."""


@dataclass(frozen=True)
class Cjt188Frame(ControlByte):
    meter_type: int
    address: str
    """Nameplate order, 14 hex digits."""
    control: int
    data: bytes

    @property
    def function(self) -> int:
        return self.control & 0x3F


@dataclass(frozen=True)
class MeterData:
    """The payload of DI 901F for water and gas meters."""

    total: float
    """Current accumulated volume, in ``unit``."""
    unit: str
    settlement_total: float
    """Total at the last settlement date, in ``unit``."""
    meter_time: str | None
    """The meter's clock as ``YYYY-MM-DDTHH:MM:SS`` (None when it is not valid BCD)."""
    status: int
    """Status bytes ST (little-endian): bits 0-1 valve (00 open, 01 closed, 11 fault), bit 2 battery low."""


class ErrorReply(FrameError):
    kind = "error-reply"

    def __init__(self, status: int) -> None:
        self.code = status
        super().__init__(f"error reply, status {status:04X}")


def parse_address(text: str) -> str:
    """Normalise a nameplate address (14 digits, zero-padded on the left); raises ValueError."""
    return address_from_wire(address_to_wire(text, ADDRESS_BYTES))


def di_bytes(di: int, order: DiOrder = "standard") -> bytes:
    return di.to_bytes(2, "little" if order == "standard" else "big")


def read_di(data: bytes, expected: int) -> DiOrder | None:
    """Which byte order ``data[:2]`` carries ``expected`` in, or None when it is another DI."""
    if len(data) < 2:
        return None
    if data[:2] == di_bytes(expected, "standard"):
        return "standard"
    if data[:2] == di_bytes(expected, "swapped"):
        return "swapped"
    return None


def encode_frame(
    meter_type: int, address: str, control: int, data: bytes = b"", *, preamble: int = 4
) -> bytes:
    if len(data) > 200:
        raise ValueError("DATA longer than 200 bytes")
    body = bytes([START, meter_type]) + address_to_wire(address, ADDRESS_BYTES) + bytes([control, len(data)])
    body += data
    return b"\xfe" * preamble + body + bytes([checksum(body), 0x16])


def extract(buf: bytes) -> Extracted:
    """Cut the first CJ/T 188 frame out of a received byte stream."""
    return extract_frame(buf, len_index=LEN_INDEX)


def decode_frame(raw: bytes) -> Cjt188Frame:
    """Parse exactly one frame (preamble allowed); raises a :class:`FrameError` subclass."""
    found = extract(raw)
    if found.error is not None:
        raise found.error
    if found.frame is None:
        raise TruncatedFrame(f"no complete frame in {raw.hex(' ')}")
    f = found.frame
    return Cjt188Frame(meter_type=f[1], address=address_from_wire(f[2:9]), control=f[9], data=f[11:-2])


def build_read(
    meter_type: int,
    address: str,
    di: int = DI_METER_DATA,
    *,
    ser: int = 0,
    order: DiOrder = "standard",
    preamble: int = 4,
) -> bytes:
    """Request: read DI (C=01, DATA = DI + SER)."""
    return encode_frame(meter_type, address, C_READ, di_bytes(di, order) + bytes([ser]), preamble=preamble)


def build_read_address(*, order: DiOrder = "standard", preamble: int = 3) -> bytes:
    """Request: read address with the wildcard type and address (only one meter may be on the line)."""
    return encode_frame(
        TYPE_WILDCARD, WILDCARD, C_READ_ADDRESS, di_bytes(DI_READ_ADDRESS, order) + b"\x00", preamble=preamble
    )


def encode_meter_data(data: MeterData, unit_code: int = UNIT_CODE_M3) -> bytes:
    """The 901F payload (used by simulators and tests); ``meter_time`` as ``YYYY-MM-DDTHH:MM:SS``."""
    unit_name, factor = UNITS[unit_code]
    if unit_name != data.unit:
        raise ValueError(f"unit code {unit_code:02X} is {unit_name}, data is in {data.unit}")
    out = encode_bcd_le(round(data.total / factor * 100), 4) + bytes([unit_code])
    out += encode_bcd_le(round(data.settlement_total / factor * 100), 4) + bytes([unit_code])
    t = data.meter_time or "2000-01-01T00:00:00"
    yyyy, mo, dd, hh, mi, ss = (
        int(t[0:4]),
        int(t[5:7]),
        int(t[8:10]),
        int(t[11:13]),
        int(t[14:16]),
        int(t[17:19]),
    )
    out += b"".join(encode_bcd_le(v, 1) for v in (ss, mi, hh, dd, mo)) + encode_bcd_le(yyyy, 2)
    return out + data.status.to_bytes(2, "little")


def build_read_reply(
    meter_type: int,
    address: str,
    payload: bytes,
    di: int = DI_METER_DATA,
    *,
    ser: int = 0,
    order: DiOrder = "standard",
    preamble: int = 0,
) -> bytes:
    return encode_frame(
        meter_type, address, REPLY | C_READ, di_bytes(di, order) + bytes([ser]) + payload, preamble=preamble
    )


def build_error_reply(meter_type: int, address: str, status: int = 0, *, preamble: int = 0) -> bytes:
    return encode_frame(
        meter_type,
        address,
        REPLY | ERROR | C_READ,
        bytes([0]) + status.to_bytes(2, "little"),
        preamble=preamble,
    )


def build_address_reply(
    meter_type: int, address: str, *, ser: int = 0, order: DiOrder = "swapped", preamble: int = 0
) -> bytes:
    return encode_frame(
        meter_type,
        address,
        REPLY | C_READ_ADDRESS,
        di_bytes(DI_READ_ADDRESS, order) + bytes([ser]),
        preamble=preamble,
    )


def decode_total(field: bytes) -> tuple[float, str]:
    """4 BCD bytes (XXXXXX.XX) + unit code -> (value in the unit's base, base unit)."""
    if len(field) < 5:
        raise TruncatedFrame("total needs 5 bytes")
    unit = UNITS.get(field[4])
    if unit is None:
        raise UnexpectedReply(f"unknown unit code {field[4]:02X}")
    return round(decode_bcd_le(field[:4]) / 100 * unit[1], 6), unit[0]


def decode_meter_data(payload: bytes) -> MeterData:
    """Decode a 901F payload (current total, settlement total, meter time, status)."""
    if len(payload) < 19:
        raise TruncatedFrame(f"901F payload needs 19 bytes, got {len(payload)}")
    total, unit = decode_total(payload[0:5])
    settle, _ = decode_total(payload[5:10])
    t = payload[10:17]
    try:
        ss, mi, hh, dd, mo = (decode_bcd_le(t[i : i + 1]) for i in range(5))
        yyyy = decode_bcd_le(t[5:7])
        meter_time: str | None = f"{yyyy:04d}-{mo:02d}-{dd:02d}T{hh:02d}:{mi:02d}:{ss:02d}"
    except ValueError:
        meter_time = None
    status = int.from_bytes(payload[17:19], "little")
    return MeterData(total, unit, settle, meter_time, status)


def parse_read_reply(frame: Cjt188Frame, di: int = DI_METER_DATA) -> MeterData:
    """Meter data from a 901F read reply; raises ErrorReply, UnexpectedReply, TruncatedFrame, BcdError."""
    if frame.is_error:
        raise ErrorReply(int.from_bytes(frame.data[1:3], "little") if len(frame.data) >= 3 else 0)
    if frame.control != REPLY | C_READ:
        raise UnexpectedReply(f"control {frame.control:02X} is not a read reply")
    if read_di(frame.data, di) is None:
        raise UnexpectedReply(f"reply for DI {frame.data[:2].hex().upper()}, asked {di:04X}")
    return decode_meter_data(frame.data[3:])


def parse_address_reply(frame: Cjt188Frame) -> tuple[int, str]:
    """(meter type, nameplate address) from a read-address reply (C=83, DI 810A in either order)."""
    if frame.is_error:
        raise ErrorReply(0)
    if frame.control != REPLY | C_READ_ADDRESS or read_di(frame.data, DI_READ_ADDRESS) is None:
        raise UnexpectedReply(
            f"control {frame.control:02X} / data {frame.data.hex()} is not an address reply"
        )
    return frame.meter_type, frame.address
