"""The event every analyser emits, and the sink it emits into.

Analysers build events with :func:`new_event` and hand them to the ``emit`` callable the daemon gives them;
they never know about the outbox or MQTT. The gateway id and the per-gateway sequence number are stamped
later, by the event path, when the event is made durable.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SCHEMA_VERSION = 1


class Phase(str, Enum):
    START = "start"
    UPDATE = "update"
    END = "end"
    INSTANT = "instant"


class Severity(int, Enum):
    """Ordered: the outbox drops the oldest low-severity events first when it is full."""

    DEBUG = 0
    INFO = 1
    NOTICE = 2
    WARNING = 3
    ALARM = 4


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def uuid7(ts: float | None = None) -> str:
    """A time-ordered id: the 128 bits of a UUIDv7 (RFC 9562) written as 26 Crockford base32 characters.

    That text form is also a valid ULID: sortable by creation time as plain strings, unique without
    coordination, and 10 characters shorter than the dashed UUID on every event and incident reference.
    """
    ms = int((time.time() if ts is None else ts) * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def id_to_uuid(event_id: str) -> uuid.UUID:
    """The UUID behind an event id (for platforms that store ids as UUID columns)."""
    value = 0
    for ch in event_id.upper():
        value = value * 32 + _CROCKFORD.index(ch)
    return uuid.UUID(int=value)


new_id = uuid7


@dataclass(frozen=True)
class Event:
    kind: str
    """What happened: ``road_occupation``, ``inactivity``, ``meter_offline``, ... (see docs/events.md)."""
    source: str
    """The camera, meter or household id it is about (or the gateway itself)."""
    phase: Phase
    ts: float
    """Time of the observation (epoch seconds), not of sending."""
    severity: Severity = Severity.INFO
    body: dict[str, Any] = field(default_factory=dict)
    """Small, kind-specific payload; JSON-serialisable values only."""
    incident: str | None = None
    """Stable id shared by the start/update/end events of one incident."""
    id: str = ""
    """UUIDv7, unique and sortable; filled by :func:`new_event`."""


EventSink = Callable[[Event], None]
"""What the daemon hands every analyser: call it with an event; it returns once the event is durable."""


def new_event(
    kind: str,
    source: str,
    ts: float,
    *,
    phase: Phase = Phase.INSTANT,
    severity: Severity = Severity.INFO,
    body: dict[str, Any] | None = None,
    incident: str | None = None,
) -> Event:
    """Build an event with a fresh id.

    A ``start`` event whose incident id is itself an event id (made with :func:`uuid7`) takes that id as
    its own: the incident is then named by its start event, and the wire form leaves ``inc`` out of the
    start event (26 characters of a payload that aims at 256 bytes).
    """
    starts_incident = phase is Phase.START and incident is not None and is_event_id(incident)
    return Event(
        kind=kind,
        source=source,
        phase=phase,
        ts=ts,
        severity=severity,
        body=dict(body or {}),
        incident=incident,
        id=incident if starts_incident and incident is not None else uuid7(),
    )


def is_event_id(text: str) -> bool:
    """True for the 26-character Crockford base32 form that :func:`uuid7` makes."""
    return len(text) == 26 and all(ch in _CROCKFORD for ch in text)
