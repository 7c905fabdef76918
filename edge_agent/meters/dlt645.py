"""DL/T 645-2007 (Chinese electricity meters): frames, addresses, data identifiers, BCD values.

Pure functions over bytes, no I/O. Frame: ``[FE x0-4] 68 A0..A5 68 C L DATA CS 16``; the address is six
BCD bytes sent lowest first; every DATA byte is sent +0x33; the 4-byte data identifier (DI) is
little-endian; CS is the byte sum from the first 68 to the end of DATA. Addresses in this module's API are
always *nameplate* strings (``"000102030425"``), as printed on the meter.
"""

from __future__ import annotations

from dataclasses import dataclass

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

ADDRESS_BYTES = 6
WILDCARD = "AA" * ADDRESS_BYTES
LEN_INDEX = 9
SECOND_START = 7

# Control codes (C): bit 7 reply, bit 6 error reply, bit 5 more frames follow, low 5 bits the function.
FN_TIME_SYNC = 0x08
FN_READ = 0x11
FN_READ_FOLLOW = 0x12
FN_READ_ADDRESS = 0x13
FN_WRITE = 0x14
MORE = 0x20

ERROR_CODES = {
    0x01: "other error",
    0x02: "no such data",
    0x04: "password wrong / not authorised",
    0x08: "baud rate cannot be changed",
    0x10: "annual time zones exceeded",
    0x20: "daily periods exceeded",
    0x40: "tariffs exceeded",
}


@dataclass(frozen=True)
class Field:
    """One value inside a DI's payload: ``n_bytes`` of BCD with ``decimals``, times ``scale``."""

    quantity: str
    n_bytes: int
    decimals: int
    signed: bool = False
    scale: float = 1.0

    @property
    def rollover(self) -> float:
        """First value the field cannot hold (a counter wraps here)."""
        return 10 ** (2 * self.n_bytes - self.decimals - (1 if self.signed else 0)) * self.scale


@dataclass(frozen=True)
class DataId:
    di: int
    name: str
    fields: tuple[Field, ...]
    counter: bool = False
    """True for energy totals: handled as counters (rollover, meter replacement)."""

    @property
    def payload_bytes(self) -> int:
        return sum(f.n_bytes for f in self.fields)


def _e(quantity: str) -> tuple[Field, ...]:
    return (Field(quantity, 4, 2),)


DATA_IDS: dict[int, DataId] = {
    d.di: d
    for d in (
        DataId(0x00000000, "combined active energy, total", _e("energy_kwh"), counter=True),
        DataId(0x00010000, "forward active energy, total", _e("energy_import_kwh"), counter=True),
        DataId(0x00020000, "reverse active energy, total", _e("energy_export_kwh"), counter=True),
        DataId(0x02010100, "phase A voltage", (Field("voltage_v", 2, 1),)),
        DataId(0x02010200, "phase B voltage", (Field("voltage_b_v", 2, 1),)),
        DataId(0x02010300, "phase C voltage", (Field("voltage_c_v", 2, 1),)),
        DataId(
            0x0201FF00,
            "voltage block",
            (Field("voltage_v", 2, 1), Field("voltage_b_v", 2, 1), Field("voltage_c_v", 2, 1)),
        ),
        DataId(0x02020100, "phase A current", (Field("current_a", 3, 3, signed=True),)),
        DataId(0x02030000, "total active power", (Field("power_w", 3, 4, signed=True, scale=1000.0),)),
        DataId(0x02060000, "total power factor", (Field("power_factor", 2, 3, signed=True),)),
        DataId(0x02800002, "grid frequency", (Field("frequency_hz", 2, 2),)),
    )
}
"""Data identifiers this agent can decode (values in the units their quantity names say)."""

DEFAULT_DIS = (0x00000000, 0x02010100, 0x02030000)


@dataclass(frozen=True)
class Dlt645Frame(ControlByte):
    address: str
    """Nameplate order, 12 hex digits (``AAAAAAAAAAAA`` for the wildcard)."""
    control: int
    data: bytes
    """DATA with the +0x33 already removed."""

    @property
    def function(self) -> int:
        return self.control & 0x1F

    @property
    def more_follows(self) -> bool:
        return bool(self.control & MORE)


class ErrorReply(FrameError):
    """The meter answered with an error frame (C with bit 6): e.g. ``02`` no such data."""

    kind = "error-reply"

    def __init__(self, code: int) -> None:
        self.code = code
        names = [t for bit, t in ERROR_CODES.items() if code & bit] or [f"code {code:02X}"]
        super().__init__(f"error reply {code:02X} ({', '.join(names)})")


def parse_address(text: str) -> str:
    """Normalise a nameplate address (12 digits, zero-padded on the left); raises ValueError."""
    return address_from_wire(address_to_wire(text, ADDRESS_BYTES))


def encode_frame(address: str, control: int, data: bytes = b"", *, preamble: int = 4) -> bytes:
    """Build a frame: adds the preamble, converts the address to wire order, adds 0x33 to DATA."""
    if len(data) > 200:
        raise ValueError("DATA longer than 200 bytes")
    body = bytes([START]) + address_to_wire(address, ADDRESS_BYTES) + bytes([START, control, len(data)])
    body += bytes((b + 0x33) & 0xFF for b in data)
    return b"\xfe" * preamble + body + bytes([checksum(body), 0x16])


def decode_frame(raw: bytes) -> Dlt645Frame:
    """Parse exactly one frame (preamble allowed); raises a :class:`FrameError` subclass."""
    found = extract(raw)
    if found.error is not None:
        raise found.error
    if found.frame is None:
        raise TruncatedFrame(f"no complete frame in {raw.hex(' ')}")
    f = found.frame
    return Dlt645Frame(
        address=address_from_wire(f[1:7]),
        control=f[8],
        data=bytes((b - 0x33) & 0xFF for b in f[10:-2]),
    )


def extract(buf: bytes) -> Extracted:
    """Cut the first DL/T 645 frame out of a received byte stream (see :func:`framing.extract_frame`)."""
    return extract_frame(buf, len_index=LEN_INDEX, second_start=SECOND_START)


def di_bytes(di: int) -> bytes:
    return di.to_bytes(4, "little")


def build_read(address: str, di: int, *, preamble: int = 4) -> bytes:
    """Request: read data identifier ``di`` (function 11)."""
    return encode_frame(address, FN_READ, di_bytes(di), preamble=preamble)


def build_read_address(*, preamble: int = 3) -> bytes:
    """Request: who is on the line? (function 13, wildcard address; only one meter may be connected)."""
    return encode_frame(WILDCARD, FN_READ_ADDRESS, b"", preamble=preamble)


def encode_values(di: int, values: dict[str, float]) -> bytes:
    """Payload of DI ``di`` from quantity values (used by simulators and tests)."""
    spec = DATA_IDS[di]
    out = b""
    for f in spec.fields:
        out += encode_bcd_le(round(values[f.quantity] / f.scale * 10**f.decimals), f.n_bytes, signed=f.signed)
    return out


def build_read_reply(address: str, di: int, payload: bytes, *, preamble: int = 0) -> bytes:
    """Reply to a read: C=91, DATA = DI + payload."""
    return encode_frame(address, REPLY | FN_READ, di_bytes(di) + payload, preamble=preamble)


def build_error_reply(address: str, code: int, function: int = FN_READ, *, preamble: int = 0) -> bytes:
    return encode_frame(address, REPLY | ERROR | function, bytes([code]), preamble=preamble)


def build_address_reply(address: str, *, preamble: int = 0) -> bytes:
    """Reply to read-address: C=93, DATA = the address in wire order."""
    return encode_frame(address, REPLY | FN_READ_ADDRESS, address_to_wire(address, 6), preamble=preamble)


def parse_read_reply(frame: Dlt645Frame, di: int) -> dict[str, float]:
    """Values of a read reply for ``di``; raises :class:`ErrorReply`, UnexpectedReply or BcdError."""
    if frame.is_error:
        raise ErrorReply(frame.data[0] if frame.data else 0)
    if not frame.is_reply or frame.function != FN_READ:
        raise UnexpectedReply(f"control {frame.control:02X} is not a read reply")
    if len(frame.data) < 4 or int.from_bytes(frame.data[:4], "little") != di:
        raise UnexpectedReply(f"reply for DI {frame.data[:4][::-1].hex().upper()}, asked {di:08X}")
    return decode_payload(di, frame.data[4:])


def decode_payload(di: int, payload: bytes) -> dict[str, float]:
    spec = DATA_IDS.get(di)
    if spec is None:
        raise KeyError(f"DI {di:08X} is not in the table of decodable data identifiers")
    if len(payload) < spec.payload_bytes:
        raise TruncatedFrame(f"DI {di:08X} needs {spec.payload_bytes} data bytes, got {len(payload)}")
    out: dict[str, float] = {}
    pos = 0
    for f in spec.fields:
        raw = decode_bcd_le(payload[pos : pos + f.n_bytes], signed=f.signed)
        out[f.quantity] = round(raw / 10**f.decimals * f.scale, 6)
        pos += f.n_bytes
    return out


def parse_address_reply(frame: Dlt645Frame) -> str:
    """Nameplate address from a read-address reply (C=93)."""
    if frame.is_error:
        raise ErrorReply(frame.data[0] if frame.data else 0)
    if frame.control != REPLY | FN_READ_ADDRESS:
        raise UnexpectedReply(f"control {frame.control:02X} is not a read-address reply")
    if len(frame.data) >= ADDRESS_BYTES:
        return address_from_wire(frame.data[:ADDRESS_BYTES])
    return frame.address


def parse_di(text: str | int) -> int:
    """A DI from config: ``"00010000"`` (as the standard prints it) or an int."""
    if isinstance(text, int):
        return text
    value = int(text.replace(" ", ""), 16)
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"DI {text!r} is not 4 bytes")
    return value
