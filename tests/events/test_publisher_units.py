"""Pure parts of the publisher and the service's health, without a broker."""

from __future__ import annotations

import time
from pathlib import Path

from edge_agent.clock import SystemClock
from edge_agent.events.model import new_event
from edge_agent.events.mqtt import backoff_s, event_topic, topic_part
from edge_agent.events.path import build_event_path
from tests.conftest import free_port
from tests.events.helpers import agent_config, wait_until


def test_topics() -> None:
    assert event_topic("edge", "gw1", "leak", "hh/7") == "edge/gw1/events/leak"
    assert event_topic("edge", "gw1", "telemetry", "meter 7/a") == "edge/gw1/telemetry/meter_7_a"
    assert event_topic("edge", "gw1", "snapshot", "cam#1") == "edge/gw1/snapshots/cam_1"
    assert topic_part("") == "_"


def test_backoff_doubles_with_jitter_and_caps() -> None:
    lo = [backoff_s(n, 1.0, 60.0, rand=lambda: 0.0) for n in range(1, 10)]
    hi = [backoff_s(n, 1.0, 60.0, rand=lambda: 1.0) for n in range(1, 10)]
    assert lo == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert hi == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_no_broker_is_healthy_but_said(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    path = build_event_path(agent_config(tmp_path, port), tmp_path / "state", SystemClock(), "x")
    path.service.start()
    try:
        path.emit(new_event("test_burst", "s", time.time()))
        wait_until(lambda: "unreachable" in path.service.health().summary, what="unreachable reported")
        h = path.service.health()
        assert h.ok and h.details["connected"] is False and h.details["outbox_depth"] == 1
        assert "Connection refused" in h.details["last_error"]
    finally:
        path.service.stop()


def test_store_failure_is_logged_counted_and_unhealthy(tmp_path: Path, caplog) -> None:
    path = build_event_path(agent_config(tmp_path, free_port()), tmp_path / "state", SystemClock(), "x")
    path.service.outbox.close()  # stands in for a disk that refuses writes
    path.emit(new_event("test_burst", "s", time.time()))  # must not raise into the analyser
    h = path.service.health()
    assert not h.ok and "cannot store events" in h.summary
    assert any("not stored" in r.getMessage() for r in caplog.records)
