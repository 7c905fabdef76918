"""The wire codec: short keys, JSON and CBOR round trips, the late flag, malformed payloads."""

from __future__ import annotations

import base64
import json

import cbor2
import pytest

from edge_agent.events.codec import (
    CONTENT_TYPE_CBOR,
    CodecError,
    decode_event,
    encode_event,
    encode_wire,
    event_line,
    mark_late_json,
    to_wire,
)
from edge_agent.events.model import Phase, Severity, id_to_uuid, new_event, uuid7
from tests.events.schema import assert_valid_emitted, assert_valid_event

TS = 1_750_000_123.456


def _occupation():
    return new_event(
        "road_occupation",
        "cam-north",
        TS,
        phase=Phase.START,
        severity=Severity.NOTICE,
        incident=uuid7(TS),
        body={
            "zone": "lane-1",
            "classes": ["car"],
            "count": 1,
            "boxes": [[0.41, 0.53, 0.12, 0.1]],
            "conf": 0.71,
        },
    )


def test_short_keys_and_json_round_trip() -> None:
    ev = _occupation()
    payload = encode_event(ev, 42, "gw-1")
    wire = json.loads(payload)
    assert list(wire) == ["v", "id", "seq", "gw", "src", "kind", "ph", "ts", "sev", "body"]
    assert wire["id"] == ev.incident, "a start event is named by its incident id, so inc is left out"
    assert wire["ts"] == 1_750_000_123_456 and wire["sev"] == 2 and wire["ph"] == "start"
    assert b" " not in payload.replace(b"lane-1", b"")  # compact separators
    back = decode_event(payload)
    assert back.event == ev and back.seq == 42 and back.gateway == "gw-1" and not back.late
    assert_valid_event(payload)


def test_cbor_round_trip_is_smaller() -> None:
    ev = _occupation()
    cb = encode_event(ev, 42, "gw-1", encoding="cbor")
    assert decode_event(cb, CONTENT_TYPE_CBOR).event == ev
    assert len(cb) < len(encode_event(ev, 42, "gw-1"))
    assert_valid_event(cb, CONTENT_TYPE_CBOR)


def test_late_flag() -> None:
    ev = _occupation()
    rec = encode_event(ev, 1, "gw")
    late = mark_late_json(rec)
    assert decode_event(late).late and decode_event(late).event == ev
    assert json.loads(late) == {**json.loads(rec), "late": True}
    assert_valid_event(late)


def test_snapshot_travels_as_raw_bytes_in_cbor() -> None:
    jpeg = b"\xff\xd8\xff" + bytes(500)
    ev = new_event("snapshot", "cam-1", TS, body={"inc": "X", "jpeg_b64": base64.b64encode(jpeg).decode()})
    cb = encode_event(ev, 3, "gw", encoding="cbor")
    assert cbor2.loads(cb)["body"]["jpeg"] == jpeg
    assert decode_event(cb, CONTENT_TYPE_CBOR).event.body["jpeg_b64"] == base64.b64encode(jpeg).decode()


def test_ids_are_sortable_and_convert_to_uuid() -> None:
    ids = [uuid7(TS + i / 1000) for i in range(50)]
    assert ids == sorted(ids) and len(set(ids)) == 50
    assert all(len(i) == 26 for i in ids)
    u = id_to_uuid(ids[0])
    assert u.version == 7 and int(u.hex[:12], 16) == round(TS * 1000)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"not json", "not a application/json"),
        (b"[1,2]", "mapping"),
        (b'{"v":1}', "missing keys"),
        (
            b'{"v":1,"id":"a","seq":"1","gw":"g","src":"s","kind":"k","ph":"instant","ts":1,"sev":1}',
            "integers",
        ),
        (b'{"v":1,"id":"a","seq":1,"gw":"g","src":"s","kind":"k","ph":"later","ts":1,"sev":1}', "later"),
        (b'{"v":1,"id":"a","seq":1,"gw":"g","src":"s","kind":"k","ph":"instant","ts":1,"sev":9}', "9"),
        (
            b'{"v":1,"id":"a","seq":1,"gw":"g","src":"s","kind":"k","ph":"instant","ts":1,"sev":1,"x":1}',
            "unknown",
        ),
    ],
)
def test_malformed_payloads_raise_codec_error(payload: bytes, why: str) -> None:
    with pytest.raises(CodecError, match=why):
        decode_event(payload)


def test_schema_rejects_what_it_should() -> None:
    wire = to_wire(_occupation(), 1, "gw")
    assert_valid_event(wire)
    update = to_wire(new_event("road_occupation", "cam", TS, phase=Phase.UPDATE, incident=uuid7(TS)), 2, "gw")
    assert_valid_event(update)
    for broken in (
        {**wire, "sev": 7},
        {**wire, "id": "not-an-id"},
        {k: v for k, v in update.items() if k != "inc"},
    ):
        with pytest.raises(AssertionError, match="does not match"):
            assert_valid_event(broken)


def test_event_line_for_terminals_and_helper_for_other_tests() -> None:
    ev = new_event("inactivity", "hh-7", TS, phase=Phase.START, severity=Severity.ALARM, incident=uuid7(TS))
    line = event_line(ev, "gw-1")
    assert json.loads(line)["kind"] == "inactivity" and "\n" not in line and "seq" not in json.loads(line)
    assert json.loads(event_line(ev, "gw-1", 5))["seq"] == 5
    assert assert_valid_emitted(ev)["src"] == "hh-7"
    assert encode_wire({"a": 1}, "json") == b'{"a":1}'


def test_the_examples_in_the_docs_are_valid() -> None:
    """docs/events.md shows real payloads: they must pass the schema, and asyncapi.yaml must point at it."""
    import re

    import yaml

    from tests.conftest import REPO

    text = (REPO / "docs" / "events.md").read_text()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S)]
    events = [b for b in blocks if "kind" in b]
    assert events, "no example event in docs/events.md"
    for wire in events:
        assert_valid_event(wire)
    api = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text())
    assert api["components"]["messages"]["event"]["payload"]["$ref"] == "event.schema.json"


def test_update_and_end_carry_their_incident() -> None:
    start = _occupation()
    for phase in (Phase.UPDATE, Phase.END):
        ev = new_event("road_occupation", "cam", start.ts + 5, phase=phase, incident=start.incident)
        wire = json.loads(encode_event(ev, 43, "gw-1"))
        assert wire["inc"] == start.id and wire["id"] != start.id
        assert decode_event(encode_event(ev, 43, "gw-1")).event.incident == start.incident


def test_an_incident_named_otherwise_keeps_inc_on_start() -> None:
    ev = new_event("inactivity", "hh-1", 1.0, phase=Phase.START, incident="inactivity-hh-1-1")
    wire = json.loads(encode_event(ev, 1, "gw"))
    assert wire["inc"] == "inactivity-hh-1-1" and wire["id"] != wire["inc"]
