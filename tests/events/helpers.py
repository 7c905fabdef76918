"""Test helpers for the event path: a config pointing at a test broker, and a real MQTT subscriber."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_agent.config import AgentConfig
from edge_agent.config.loader import parse_config
from tests.events.schema import assert_valid_event


def agent_config(tmp_path: Path, port: int, extra_yaml: str = "", gateway: str = "gw-test") -> AgentConfig:
    """A minimal config: gateway, broker on 127.0.0.1:port, fast reconnects (tests, not production)."""
    text = f"""
gateway:
  id: {gateway}
  state_dir: {tmp_path / "state"}
mqtt:
  host: 127.0.0.1
  port: {port}
  prefix: test
  reconnect_min_s: 0.1
  reconnect_max_s: 0.5
  connect_timeout_s: 5
{extra_yaml}
"""
    return parse_config(text, "test.yaml", tmp_path)


@dataclass
class Message:
    topic: str
    payload: bytes
    content_type: str | None
    retain: bool


class Subscriber:
    """An independent MQTT v5 client that records every message under ``topic``.

    ``persistent=True`` keeps a broker-side session (clean_start off, long expiry) so that QoS 1 messages
    published while this subscriber is disconnected (broker restart with persistence) are queued for it.
    """

    def __init__(
        self, port: int, topic: str = "test/#", *, persistent: bool = False, client_id: str = ""
    ) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.subscribed = threading.Event()
        self.topic = topic
        self.persistent = persistent
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-sub-{time.monotonic_ns()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.max_inflight_messages = 0
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.reconnect_delay_set(0.05, 0.3)
        props = None
        if persistent:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, keepalive=30, clean_start=not persistent, properties=props)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise TimeoutError("subscriber did not subscribe")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if not rc.is_failure:
            client.subscribe(self.topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        ctype = getattr(msg.properties, "ContentType", None) if msg.properties else None
        with self._lock:
            self.messages.append(Message(msg.topic, bytes(msg.payload), ctype, bool(msg.retain)))

    def snapshot(self) -> list[Message]:
        with self._lock:
            return list(self.messages)

    def events(self) -> list[dict[str, Any]]:
        """Every event message so far, decoded and schema-checked (status and command replies left out)."""
        out = []
        for m in self.snapshot():
            if "/events/" in m.topic or "/telemetry/" in m.topic or "/snapshots/" in m.topic:
                wire = assert_valid_event(m.payload, m.content_type)
                wire["_topic"] = m.topic
                out.append(wire)
        return out

    def wait_for(self, pred: Callable[[list[Message]], bool], timeout_s: float = 20.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            snap = self.snapshot()
            if pred(snap):
                return snap
            time.sleep(0.02)
        raise TimeoutError(f"condition not met in {timeout_s}s; {len(self.snapshot())} messages")

    def wait_events(self, n: int, timeout_s: float = 20.0) -> list[dict[str, Any]]:
        self.wait_for(
            lambda ms: sum(1 for m in ms if "/status" not in m.topic and "cmd" not in m.topic) >= n, timeout_s
        )
        return self.events()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_until(pred: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise TimeoutError(f"{what} not reached in {timeout_s}s")
