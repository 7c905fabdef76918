"""The event path inside the real daemon: a signed remote ``reload`` rebuilds the parts (new session)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_agent.config.loader import load_config
from edge_agent.daemon import Daemon
from edge_agent.events.commands import make_command
from edge_agent.sdnotify import Notifier
from tests.events.helpers import Subscriber


def test_remote_reload_through_the_daemon(broker, tmp_path: Path) -> None:
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(
        f"gateway: {{id: gw-d, state_dir: {tmp_path / 'state'}}}\n"
        f"mqtt:\n  host: 127.0.0.1\n  port: {broker.port}\n  prefix: test\n  reconnect_min_s: 0.1\n"
        "  commands: {secret: {value: k}}\n"
        "watchdog: {main_loop_interval_s: 0.2}\n"
    )
    daemon = Daemon(load_config(cfg), notifier=Notifier(address=""))
    runner = threading.Thread(target=daemon.run, daemon=True)
    status = Subscriber(broker.port, "test/gw-d/#")
    runner.start()
    platform = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="platform", protocol=MQTTProtocolVersion.MQTTv5
    )
    platform.connect("127.0.0.1", broker.port)
    platform.loop_start()
    try:

        def births() -> list[dict]:
            docs = [json.loads(m.payload) for m in status.snapshot() if m.topic.endswith("/status")]
            return [d for d in docs if d["state"] == "online"]

        status.wait_for(lambda ms: len(births()) >= 1, 15)
        deadline = time.monotonic() + 15
        # resend (with a fresh nonce) until the agent's command subscription is in place
        n = 0
        while not any(m.topic.endswith("cmd_result") for m in status.snapshot()):
            assert time.monotonic() < deadline, "no reply to reload"
            n += 1
            platform.publish(
                "test/gw-d/cmd/reload", make_command(b"k", "reload", {}, time.time(), f"r{n}"), qos=1
            )
            time.sleep(0.3)
        status.wait_for(lambda ms: len(births()) >= 2, 15)
    finally:
        daemon.request_stop()
        runner.join(10)
        platform.loop_stop()
        platform.disconnect()
        status.close()
    reply = json.loads(next(m.payload for m in status.snapshot() if m.topic.endswith("cmd_result")))
    assert reply["ok"] and reply["result"] == {"reloading": True}
    sessions = [b["session"] for b in births()]
    assert sessions[:2] == [1, 2]  # the reload rebuilt the event path: a new session was announced
    last = json.loads([m.payload for m in status.snapshot() if m.topic.endswith("/status")][-1])
    assert last["state"] == "offline"  # and the clean stop said so
