"""The whole agent, end to end, on the embedded demo config: a real clip through the shipped detector,
simulated meters on a real pty speaking DL/T 645 and CJ/T 188, the outbox, and a real Mosquitto.

This is what `make demo` runs; here the broker is the test's own and the agent a real subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.conftest import REPO, Broker
from tests.events.helpers import Subscriber


def demo_config_for(broker_port: int, tmp_path: Path) -> Path:
    cfg = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())
    cfg["mqtt"]["port"] = broker_port
    cfg["gateway"]["state_dir"] = str(tmp_path / "state")
    for cam in cfg["cameras"]:
        cam["url"] = str((REPO / "configs" / cam["url"]).resolve())
    out = tmp_path / "demo.yaml"
    out.write_text(yaml.safe_dump(cfg))
    return out


def test_demo_produces_an_incident_and_telemetry_at_the_broker(broker: Broker, tmp_path: Path) -> None:
    sub = Subscriber(broker.port, "edge/#")
    cfg = demo_config_for(broker.port, tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run", "-c", str(cfg), "--print-events"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        sub.wait_for(
            lambda ms: (
                any("/events/road_occupation" in m.topic for m in ms)
                and len({m.topic for m in ms if "/telemetry/" in m.topic}) == 4
            ),
            timeout_s=120,
        )
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        time.sleep(0.3)
        sub.close()
    assert proc.returncode == 0, err
    events = sub.events()  # every one schema-checked
    occ = [e for e in events if e["kind"] == "road_occupation"]
    assert occ[0]["ph"] == "start" and occ[0]["src"] == "demo-street" and occ[0]["body"]["zone"] == "van-bay"
    assert {e["src"] for e in events if e["kind"] == "telemetry"} == {
        "elec-101",
        "elec-102",
        "water-101",
        "water-102",
    }
    status = [json.loads(m.payload) for m in sub.snapshot() if m.topic == "edge/demo-gw/status"]
    assert status[0]["state"] == "online" and status[-1]["state"] == "offline"
    printed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(p["kind"] == "road_occupation" for p in printed)
