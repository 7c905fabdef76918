"""Delivery against a real Mosquitto: order, once-only, status topic, routing, outages, late flag."""

from __future__ import annotations

import json
import time
from pathlib import Path

from edge_agent.clock import SystemClock
from edge_agent.events.model import Phase, Severity, new_event
from edge_agent.events.path import build_event_path
from tests.events.helpers import Subscriber, agent_config, wait_until


def test_thousand_events_arrive_once_in_order_and_schema_valid(broker, tmp_path: Path) -> None:
    sub = Subscriber(broker.port)
    cfg = agent_config(tmp_path, broker.port)
    path = build_event_path(cfg, tmp_path / "state", SystemClock(), "c0ffee")
    path.service.start()
    wait_until(lambda: path.service.publisher.state.connected, what="connected")
    try:
        for i in range(1000):
            path.emit(new_event("test_burst", "src-1", time.time(), body={"i": i}))
        wait_until(lambda: path.service.outbox.depth() == 0, what="outbox drained")
        events = sub.wait_events(1000)
    finally:
        path.service.stop()
        sub.close()
    assert [e["body"]["i"] for e in events] == list(range(1000))
    assert len({e["id"] for e in events}) == 1000
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 1000
    assert all(e["_topic"] == "test/gw-test/events/test_burst" for e in events)
    assert not any(e.get("late") for e in events)
    assert path.service.health().details["published"] == 1000


def test_status_birth_and_offline_are_retained(broker, tmp_path: Path) -> None:
    cfg = agent_config(tmp_path, broker.port)
    path = build_event_path(cfg, tmp_path / "state", SystemClock(), "abc123")
    path.service.start()
    wait_until(lambda: path.service.publisher.state.connected, what="connected")
    # a late subscriber still sees the retained birth message
    sub = Subscriber(broker.port, "test/gw-test/status")
    msgs = sub.wait_for(lambda ms: len(ms) >= 1)
    birth = json.loads(msgs[0].payload)
    assert msgs[0].retain
    assert birth["state"] == "online" and birth["cfg"] == "abc123" and birth["session"] == 1
    assert set(birth) >= {"ver", "cameras", "meters", "ts", "enc"}
    path.service.stop()
    msgs = sub.wait_for(lambda ms: len(ms) >= 2)
    assert json.loads(msgs[1].payload) == {"state": "offline", "session": 1}
    sub.close()
    # the retained value is now offline, and the next run's session counter is 2
    sub2 = Subscriber(broker.port, "test/gw-test/status")
    assert json.loads(sub2.wait_for(lambda ms: len(ms) >= 1)[0].payload)["state"] == "offline"
    sub2.close()
    path2 = build_event_path(cfg, tmp_path / "state", SystemClock(), "abc123")
    assert path2.service.outbox.session == 2
    path2.service.outbox.close()


def test_routing_by_kind_and_cbor(broker, tmp_path: Path) -> None:
    sub = Subscriber(broker.port)
    cfg = agent_config(tmp_path, broker.port, "  encoding: cbor\n")
    path = build_event_path(cfg, tmp_path / "state", SystemClock(), "x")
    path.service.start()
    jpeg = bytes(range(256)) * 4
    import base64

    try:
        now = time.time()
        path.emit(
            new_event(
                "telemetry", "meter/7", now, severity=Severity.DEBUG, body={"q": "energy_kwh", "val": 12.5}
            )
        )
        path.emit(
            new_event(
                "road_occupation",
                "cam-1",
                now,
                phase=Phase.START,
                severity=Severity.NOTICE,
                incident="01M85KMF4SEZTRJQ6EEPE1CDVF",
            )
        )
        path.emit(
            new_event(
                "snapshot",
                "cam-1",
                now,
                severity=Severity.DEBUG,
                body={"inc": "01M85KMF4SEZTRJQ6EEPE1CDVF", "jpeg_b64": base64.b64encode(jpeg).decode()},
            )
        )
        events = sub.wait_events(3)
    finally:
        path.service.stop()
        sub.close()
    topics = [e["_topic"] for e in events]
    assert topics == [
        "test/gw-test/telemetry/meter_7",
        "test/gw-test/events/road_occupation",
        "test/gw-test/snapshots/cam-1",
    ]
    msgs = [m for m in sub.snapshot() if "/status" not in m.topic]
    assert all(m.content_type == "application/cbor" for m in msgs)
    assert base64.b64decode(events[2]["body"]["jpeg_b64"]) == jpeg
    # raw bytes in CBOR: the payload is smaller than the base64 text alone
    assert len(msgs[2].payload) < len(base64.b64encode(jpeg))


def test_broker_outage_every_event_arrives_late_ones_flagged(broker_factory, tmp_path: Path) -> None:
    b = broker_factory(
        ["persistence true", f"persistence_location {tmp_path}/", "max_queued_messages 100000"]
    )
    sub = Subscriber(b.port, persistent=True, client_id="outage-sub")
    cfg = agent_config(tmp_path, b.port, "outbox:\n  late_after_s: 0\n")  # any wait counts, for the test
    path = build_event_path(cfg, tmp_path / "state", SystemClock(), "x")
    path.service.start()
    wait_until(lambda: path.service.publisher.state.connected, what="connected")
    try:
        for i in range(100):
            path.emit(new_event("test_burst", "s", time.time(), body={"i": i}))
        sub.wait_events(100)
        wait_until(lambda: path.service.outbox.depth() == 0, what="first 100 acknowledged")
        b.stop()
        wait_until(lambda: not path.service.publisher.state.connected, what="disconnect noticed")
        for i in range(100, 300):
            path.emit(new_event("test_burst", "s", time.time(), body={"i": i}))
        health = path.service.health()
        assert health.ok, health.summary  # an absent broker is expected: keep feeding the watchdog
        assert "unreachable" in health.summary and health.details["outbox_depth"] == 200
        b.start()
        wait_until(lambda: path.service.outbox.depth() == 0, 30, "outbox drained after the outage")
        for i in range(300, 310):
            path.emit(new_event("test_burst", "s", time.time(), body={"i": i}))
        events = sub.wait_events(310, 30)
    finally:
        path.service.stop()
        sub.close()
    by_i: dict[int, dict] = {}
    for e in events:
        prev = by_i.setdefault(e["body"]["i"], e)
        assert prev["id"] == e["id"]  # a duplicate is the same event
    assert sorted(by_i) == list(range(310))
    assert all(by_i[i].get("late") for i in range(100, 300))
    assert not any(by_i[i].get("late") for i in range(300, 310))
    assert path.service.health().details["reconnects"] >= 1
    firsts = []
    seen = set()
    for e in events:
        if e["id"] not in seen:
            seen.add(e["id"])
            firsts.append(e["seq"])
    assert firsts == sorted(firsts)  # in order across the outage


def test_full_outbox_while_broker_down_keeps_alarms_and_reports_overflow(
    broker_factory, tmp_path: Path
) -> None:
    broker = broker_factory(
        ["persistence true", f"persistence_location {tmp_path}/", "max_queued_messages 100000"]
    )
    sub = Subscriber(broker.port, persistent=True, client_id="overflow-sub")  # its queue survives the restart
    broker.stop()  # the agent starts with no broker: events wait
    cfg = agent_config(tmp_path, broker.port, "outbox:\n  max_events: 100\n")
    path = build_event_path(cfg, tmp_path / "state", SystemClock(), "x")
    path.service.start()
    try:
        for i in range(50):
            path.emit(new_event("leak", "m1", time.time(), severity=Severity.ALARM, body={"i": i}))
        for i in range(50, 200):
            path.emit(new_event("telemetry", "m1", time.time(), severity=Severity.DEBUG, body={"i": i}))
        assert path.service.outbox.depth() == 100
        broker.start()
        wait_until(lambda: path.service.outbox.depth() == 0, 30, "drained")
        events = sub.wait_events(100, 30)
    finally:
        path.service.stop()
        sub.close()
    got = [e["body"]["i"] for e in events if e["kind"] != "outbox_overflow"]
    assert got[:50] == list(range(50))  # every alarm kept, in order
    assert got[50:] == list(range(200 - 49, 200))  # the newest low-severity ones
    (overflow,) = [e for e in events if e["kind"] == "outbox_overflow"]
    assert overflow["body"]["dropped"] == 101 and overflow["body"]["by_sev"][0] == 101
    assert overflow["_topic"] == "test/gw-test/events/outbox_overflow"
    # the platform sees the gap in seq that the overflow event explains
    seqs = sorted(e["seq"] for e in events)
    assert seqs[-1] - seqs[0] + 1 - len(seqs) == 101


def test_mqtt_v311_fallback_and_prometheus_metrics(broker, tmp_path: Path) -> None:
    from prometheus_client import REGISTRY

    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    published0 = sample("edge_agent_events_published_total")
    sub = Subscriber(broker.port)
    cfg = agent_config(tmp_path, broker.port, "  protocol: v311\n")
    path = build_event_path(cfg, tmp_path / "state", SystemClock(), "x")
    path.service.start()
    try:
        wait_until(lambda: path.service.publisher.state.connected, what="connected")
        for i in range(20):
            path.emit(new_event("test_burst", "s", time.time(), body={"i": i}))
        events = sub.wait_events(20)
        wait_until(lambda: sample("edge_agent_events_published_total") - published0 == 20, what="counted")
        wait_until(lambda: sample("edge_agent_outbox_depth") == 0, what="depth gauge")
        assert sample("edge_agent_mqtt_connected") == 1
    finally:
        path.service.stop()
        sub.close()
    assert [e["body"]["i"] for e in events] == list(range(20))
    assert all(m.content_type is None for m in sub.snapshot())  # v3.1.1 has no content type: JSON only
