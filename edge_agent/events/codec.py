"""Events on the wire: compact JSON (default) or CBOR, with short documented keys.

The wire form of an event is one flat mapping (docs/events.md, docs/event.schema.json)::

    v     schema version (int)            id    UUIDv7 as 26 base32 chars (dedupe on it)
    seq   per-gateway sequence number     gw    gateway id
    src   camera / meter / household id   kind  what happened (road_occupation, leak, ...)
    ph    start | update | end | instant  ts    observation time, epoch milliseconds (int)
    sev   0 debug .. 4 alarm              inc   incident id (start/update/end share it; absent if none)
    late  true when the event waited in the outbox (absent otherwise)
    body  kind-specific mapping (absent when empty)

Pure functions, no I/O. CBOR carries the same mapping; a snapshot's ``jpeg_b64`` travels there as raw
bytes under ``jpeg`` (a third smaller) and is turned back into base64 by :func:`decode_event`.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

import cbor2

from edge_agent.events.model import SCHEMA_VERSION, Event, Phase, Severity

log = logging.getLogger(__name__)

Encoding = Literal["json", "cbor"]
CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CBOR = "application/cbor"
CONTENT_TYPES: dict[str, str] = {"json": CONTENT_TYPE_JSON, "cbor": CONTENT_TYPE_CBOR}

KEY_ORDER = ("v", "id", "seq", "gw", "src", "kind", "ph", "ts", "sev", "inc", "late", "body")
REQUIRED_KEYS = ("v", "id", "seq", "gw", "src", "kind", "ph", "ts", "sev")


class CodecError(ValueError):
    """A payload that is not a valid event (bad JSON/CBOR, missing or mistyped keys)."""


@dataclass(frozen=True)
class WireEvent:
    """An event as the platform receives it: the analyser's event plus what the event path stamped."""

    event: Event
    seq: int
    gateway: str
    late: bool = False
    version: int = SCHEMA_VERSION


def plain(value: Any) -> Any:
    """Turn a body value into plain JSON types so an analyser's numpy float or tuple cannot lose an event.

    NaN and infinities become ``None`` (JSON has none); bytes become base64 text; anything unknown becomes
    its ``str()`` with a warning rather than an exception.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays, without importing numpy
    if callable(tolist):
        return plain(tolist())
    log.warning("event body value of type %s sent as text", type(value).__name__)
    return str(value)


def to_wire(event: Event, seq: int, gateway: str, late: bool = False) -> dict[str, Any]:
    """The short-key mapping of one event (without ``late`` unless it is true)."""
    wire: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "id": event.id,
        "seq": int(seq),
        "gw": gateway,
        "src": event.source,
        "kind": event.kind,
        "ph": Phase(event.phase).value,
        "ts": round(event.ts * 1000),
        "sev": int(event.severity),
    }
    if event.incident is not None and not (Phase(event.phase) is Phase.START and event.incident == event.id):
        wire["inc"] = event.incident  # a start event that names its incident by its own id leaves it out
    if late:
        wire["late"] = True
    if event.body:
        wire["body"] = plain(event.body)
    return wire


def dumps_json(wire: dict[str, Any]) -> bytes:
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def mark_late_json(record: bytes) -> bytes:
    """Add ``"late":true`` to a compact JSON wire record without re-encoding it."""
    if not record.endswith(b"}"):
        raise CodecError("not a JSON object")
    return record[:-1] + b',"late":true}'


def encode_wire(wire: dict[str, Any], encoding: Encoding = "json") -> bytes:
    """Bytes of a wire mapping; CBOR turns a snapshot's base64 JPEG back into raw bytes."""
    if encoding == "json":
        return dumps_json(wire)
    if encoding == "cbor":
        body = wire.get("body")
        if (
            wire.get("kind") == "snapshot"
            and isinstance(body, dict)
            and isinstance(body.get("jpeg_b64"), str)
        ):
            body = dict(body)
            body["jpeg"] = base64.b64decode(body.pop("jpeg_b64"))
            wire = {**wire, "body": body}
        return bytes(cbor2.dumps(wire))
    raise ValueError(f"unknown encoding {encoding!r}")


def encode_event(
    event: Event, seq: int, gateway: str, late: bool = False, encoding: Encoding = "json"
) -> bytes:
    return encode_wire(to_wire(event, seq, gateway, late), encoding)


def decode_wire(payload: bytes, content_type: str | None = None) -> dict[str, Any]:
    """Parse a payload into its wire mapping (JSON unless the content type says CBOR).

    A CBOR snapshot's raw ``jpeg`` bytes come back as ``jpeg_b64`` text so both encodings give one shape.
    """
    try:
        obj = cbor2.loads(payload) if content_type == CONTENT_TYPE_CBOR else json.loads(payload)
    except (ValueError, cbor2.CBORDecodeError, UnicodeDecodeError) as exc:
        raise CodecError(f"not a {content_type or CONTENT_TYPE_JSON} payload: {exc}") from exc
    if not isinstance(obj, dict):
        raise CodecError("an event payload must be a mapping")
    body = obj.get("body")
    if isinstance(body, dict) and isinstance(body.get("jpeg"), bytes):
        body = dict(body)
        body["jpeg_b64"] = base64.b64encode(body.pop("jpeg")).decode("ascii")
        obj["body"] = body
    return obj


def from_wire(wire: dict[str, Any]) -> WireEvent:
    """Check a wire mapping's keys and types and rebuild the event; raise :class:`CodecError` if it is not one."""
    missing = [k for k in REQUIRED_KEYS if k not in wire]
    if missing:
        raise CodecError(f"missing keys: {', '.join(missing)}")
    unknown = set(wire) - set(KEY_ORDER)
    if unknown:
        raise CodecError(f"unknown keys: {', '.join(sorted(unknown))}")
    try:
        ints = {k: wire[k] for k in ("v", "seq", "ts", "sev")}
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints.values()):
            raise CodecError("v, seq, ts and sev must be integers")
        strs = ("id", "gw", "src", "kind")
        if not all(isinstance(wire[k], str) for k in strs):
            raise CodecError("id, gw, src and kind must be strings")
        body = wire.get("body", {})
        if not isinstance(body, dict):
            raise CodecError("body must be a mapping")
        inc = wire.get("inc")
        if inc is not None and not isinstance(inc, str):
            raise CodecError("inc must be a string")
        if inc is None and wire["ph"] == Phase.START.value:
            inc = wire["id"]  # the incident is named by its start event
        event = Event(
            kind=wire["kind"],
            source=wire["src"],
            phase=Phase(wire["ph"]),
            ts=wire["ts"] / 1000.0,
            severity=Severity(wire["sev"]),
            body=body,
            incident=inc,
            id=wire["id"],
        )
    except ValueError as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(str(exc)) from exc
    return WireEvent(event, wire["seq"], wire["gw"], bool(wire.get("late", False)), wire["v"])


def decode_event(payload: bytes, content_type: str | None = None) -> WireEvent:
    return from_wire(decode_wire(payload, content_type))


def event_line(event: Event, gateway: str = "", seq: int | None = None) -> str:
    """One compact JSON line for a terminal or a log (the demo's ``--print-events``): the wire form itself,
    without ``seq`` when the caller does not know it (the outbox stamps it)."""
    wire = to_wire(event, seq or 0, gateway)
    if seq is None:
        del wire["seq"]
    if not gateway:
        del wire["gw"]
    return dumps_json(wire).decode("utf-8")
