"""The anomaly service as the daemon runs it: built from config, fed from bus threads, `away` by command."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from edge_agent.anomaly.service import build_anomaly_service
from edge_agent.anomaly.state import load_state, state_path
from edge_agent.clock import SimClock
from edge_agent.config import parse_config
from edge_agent.config.loader import LoadedConfig
from edge_agent.daemon import build_parts
from edge_agent.events.commands import CommandError
from edge_agent.meters.reading import Reading

CONFIG = """
gateway: {{id: gw, state_dir: {state}}}
anomaly: {{tick_s: 0.05, timezone: Asia/Shanghai}}
households:
  - {{id: hh-101, water_meter: water-101, electricity_meter: elec-101}}
  - id: hh-102
    electricity_meter: elec-102
    away: [{{from: "2026-03-01 08:00", until: "2026-03-09 20:00"}}]
"""


def config(tmp_path: Path):
    return parse_config(CONFIG.format(state=tmp_path / "state"))


def test_no_households_no_service(tmp_path: Path) -> None:
    cfg = parse_config(f"gateway: {{id: gw, state_dir: {tmp_path}}}")
    assert build_anomaly_service(cfg, lambda e: None, SimClock(), tmp_path) is None


def test_readings_from_many_threads_are_scored_and_state_saved_on_stop(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    clock = SimClock(1_772_000_000.0)
    svc = build_anomaly_service(cfg, lambda e: None, clock, tmp_path)
    assert svc is not None and svc.name == "anomaly"
    svc.start()

    def bus(meter: str, quantity: str) -> None:
        for i in range(200):
            svc.on_reading(Reading(1_772_000_000.0 + 60 * i, meter, quantity, 100.0 + 0.01 * i, "x"))

    threads = [
        threading.Thread(target=bus, args=("water-101", "water_m3")),
        threading.Thread(target=bus, args=("elec-101", "energy_kwh")),
        threading.Thread(target=bus, args=("not-ours", "energy_kwh")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    clock.set(1_772_000_000.0 + 60 * 200)
    assert svc.health().ok
    svc.stop()
    saved = load_state(state_path(tmp_path, "hh-101"))
    assert saved is not None and saved["last_closed"] is not None  # slots were judged
    assert saved["water"]["last_value"] == pytest.approx(101.99)


def test_daemon_registers_a_signed_away_command(tmp_path: Path) -> None:
    loaded = LoadedConfig(config(tmp_path), tmp_path / "x.yaml", "0" * 64)
    parts = build_parts(loaded, SimClock(1_772_400_000.0))
    assert "anomaly" in [s.name for s in parts.services]
    away = parts.commands.get("away")
    assert away is not None
    done = away({"household": "hh-101", "until": "2026-03-05T18:00"})
    assert done == {"household": "hh-101", "away": ["2026-03-02T05:20+08:00", "2026-03-05T18:00+08:00"]}
    with pytest.raises(CommandError, match="unknown household"):
        away({"household": "hh-999", "until": 1})
    with pytest.raises(CommandError, match="needs 'until'"):
        away({"household": "hh-101"})
    with pytest.raises(CommandError, match="bad time"):
        away({"household": "hh-101", "until": "soon"})
    assert away({"household": "hh-101", "clear": True}) == {"household": "hh-101", "away": "cleared"}
    scorer = next(s for s in parts.services if s.name == "anomaly")
    hh = scorer.households["hh-102"]  # type: ignore[attr-defined]
    assert hh.away_at(1_772_400_000.0)  # 2026-03-02 05:20 local: inside the configured period
