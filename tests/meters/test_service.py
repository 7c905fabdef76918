"""The meter service as the daemon builds it: simulated buses started by the agent itself, APScheduler
triggers, telemetry and meter_offline events through ``emit``, readings through ``on_reading``, health."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from edge_agent.clock import SystemClock
from edge_agent.config import AgentConfig
from edge_agent.events.model import Event, Phase
from edge_agent.meters.reading import Quality, Reading
from edge_agent.meters.service import MeterService, build_meter_service


def _config(tmp_path: Path) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "gateway": {"id": "gw", "state_dir": str(tmp_path)},
            "buses": [
                {
                    "id": "rs485",
                    "simulate": True,
                    "simulation": {"time_scale": 3600, "faults": {"water-102": "silent"}},
                    "poll_interval_s": 0.5,
                    "offset_s": 0.1,
                    "timeout_ms": 150,
                    "retries": 0,
                    "offline_after_failures": 2,
                    "telemetry": {"period_s": 0.1, "min_interval_s": 0},
                    "meters": [
                        {"id": "elec-101", "protocol": "dlt645", "address": "000000000101"},
                        {"id": "water-101", "protocol": "cjt188", "address": "00000000000101"},
                        {"id": "water-102", "protocol": "cjt188", "address": "00000000000102"},
                    ],
                },
                {
                    "id": "modbus",
                    "simulate": True,
                    "poll_interval_s": 0.5,
                    "offset_s": 0.2,
                    "meters": [
                        {"id": "elec-201", "protocol": "modbus", "address": "1", "profile": "eastron-sdm120"}
                    ],
                },
            ],
        }
    )


def test_simulated_buses_end_to_end(tmp_path: Path) -> None:
    events: list[Event] = []
    readings: list[Reading] = []
    lock = threading.Lock()

    def emit(e: Event) -> None:
        with lock:
            events.append(e)

    svc = build_meter_service(_config(tmp_path), emit, readings.append, SystemClock(), tmp_path)
    assert isinstance(svc, MeterService) and svc.name == "meters"
    svc.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                done = any(e.kind == "meter_offline" for e in events) and all(
                    b.cycles >= 3 for b in svc.buses
                )
            if done:
                break
            time.sleep(0.1)
        health = svc.health()
    finally:
        svc.stop()
    assert health.ok
    assert health.summary == "3/4 meters answering"
    kinds = {(e.kind, e.source) for e in events}
    assert {("telemetry", "elec-101"), ("telemetry", "water-101"), ("telemetry", "elec-201")} <= kinds
    (offline,) = [e for e in events if e.kind == "meter_offline"]
    assert (
        offline.source == "water-102" and offline.phase is Phase.START and offline.body["reason"] == "timeout"
    )
    water = [r for r in readings if r.meter_id == "water-101" and r.quality is Quality.OK]
    assert len(water) >= 2 and water[-1].value is not None and water[0].value is not None
    assert water[-1].value > water[0].value  # consumption grows (simulated hour per second)
    assert any(r.delta for r in water[1:])
    dead = [r for r in readings if r.meter_id == "water-102"]
    assert dead and all(r.value is None and r.quality is not Quality.OK for r in dead)
    assert svc.scheduler.missed_total == 0


def test_no_buses_no_service(tmp_path: Path) -> None:
    cfg = AgentConfig.model_validate({"gateway": {"id": "gw", "state_dir": str(tmp_path)}})
    assert build_meter_service(cfg, lambda e: None, lambda r: None, SystemClock(), tmp_path) is None


def test_a_waiting_poll_is_coalesced(tmp_path: Path) -> None:
    svc = build_meter_service(_config(tmp_path), lambda e: None, lambda r: None, SystemClock(), tmp_path)
    assert isinstance(svc, MeterService)
    bus = svc.buses[0]  # its thread is not started: requests wait in its queue
    assert bus.request_poll("default") is True
    assert bus.request_poll("default") is False
    assert bus.polls_coalesced == 1
    svc.stop()
