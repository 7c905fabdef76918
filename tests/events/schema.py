"""A helper any test can call: check an event payload against docs/event.schema.json.

from tests.events.schema import assert_valid_event
wire = assert_valid_event(msg.payload, content_type)    # returns the decoded mapping
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from edge_agent.events.codec import decode_wire, from_wire
from edge_agent.events.model import Event

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "event.schema.json"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def assert_valid_event(payload: bytes | dict[str, Any], content_type: str | None = None) -> dict[str, Any]:
    """Decode (JSON, or CBOR when the content type says so), validate against the schema, return the mapping.

    Raises AssertionError naming the first schema violation; also checks that the codec can rebuild the event.
    """
    wire = dict(payload) if isinstance(payload, dict) else decode_wire(payload, content_type)
    errors = sorted(_validator().iter_errors(_jsonable(wire)), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        raise AssertionError(
            f"event does not match {SCHEMA_PATH.name} at {list(e.path)}: {e.message}\n{wire}"
        )
    from_wire(wire)
    return wire


def assert_valid_emitted(event: Event, gateway: str = "gw-test", seq: int = 1) -> dict[str, Any]:
    """Validate an Event an analyser emitted, as the wire form it will take (for the video/anomaly tests)."""
    from edge_agent.events.codec import to_wire

    return assert_valid_event(to_wire(event, seq, gateway))
