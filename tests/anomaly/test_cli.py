"""`edge-agent score-readings` on a CSV written by the simulator, and `edge-agent households`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edge_agent.anomaly.simulate import households_config, simulate_household, write_csv
from edge_agent.cli.main import main
from edge_agent.config import ConfigError, load_config


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path, float]:
    sims = [
        simulate_household("hh-101", 31, 21, first_incident_day=15, trips=False),
        simulate_household("hh-102", 32, 21, incident=False),
    ]
    csv_path = tmp_path / "readings.csv"
    write_csv(sims, str(csv_path))
    cfg = {
        "gateway": {"id": "gw", "state_dir": str(tmp_path / "state")},
        "households": households_config(sims),
    }
    cfg_path = tmp_path / "gateway.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    return csv_path, cfg_path, sims[0].incidents[0].onset_ts


def events_of(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_score_readings_prints_the_incident_as_json_lines(small, capsys) -> None:
    csv_path, cfg_path, onset = small
    assert main(["score-readings", str(csv_path), "-c", str(cfg_path)]) == 0
    captured = capsys.readouterr()
    events = events_of(captured.out)
    alarms = [
        e
        for e in events
        if e["kind"] == "inactivity" and e["severity"] == "alarm" and e["source"] == "hh-101"
    ]
    assert alarms
    from datetime import datetime

    first = datetime.fromisoformat(alarms[0]["ts"]).timestamp()
    assert onset < first < onset + 86400
    assert {"phase", "incident", "body"} <= set(alarms[0])
    assert "scored" in captured.err


def test_malformed_rows_are_reported_and_skipped_not_fatal(small, capsys) -> None:
    csv_path, cfg_path, _ = small
    text = csv_path.read_text().splitlines()
    text[5] = "yesterday,water-hh-101,water_m3,1.0"
    text[6] = "2026-01-05T01:00:00+00:00,water-hh-101,water_m3,lots"
    text[7] = "2026-01-05T01:00:00+00:00,water-hh-101,gas_m3,1.0"
    text[8] = "2026-01-05T01:00:00+00:00,water-hh-101"
    csv_path.write_text("\n".join(text) + "\n")
    assert main(["score-readings", str(csv_path), "-c", str(cfg_path)]) == 1
    err = capsys.readouterr().err
    for line in (6, 7, 8, 9):
        assert f"line {line}:" in err
    assert "4 malformed rows skipped" in err


def test_a_file_without_the_header_is_refused(tmp_path: Path, small, capsys) -> None:
    _, cfg_path, _ = small
    bad = tmp_path / "bad.csv"
    bad.write_text("2026-01-05T01:00:00,water-hh-101,water_m3,1.0\n")
    assert main(["score-readings", str(bad), "-c", str(cfg_path)]) == 2
    assert "header" in capsys.readouterr().err


def test_households_prints_what_was_learned(small, tmp_path: Path, capsys) -> None:
    csv_path, cfg_path, _ = small
    state = tmp_path / "learned"
    assert main(["score-readings", str(csv_path), "-c", str(cfg_path), "--state-dir", str(state)]) == 0
    capsys.readouterr()
    assert main(["households", "-c", str(cfg_path), "--state-dir", str(state), "--json"]) == 0
    rows = events_of(capsys.readouterr().out)
    assert [r["household"] for r in rows] == ["hh-101", "hh-102"]
    assert all(r["has_state"] and r["days_learned"] >= 10 for r in rows)
    assert main(["households", "-c", str(cfg_path), "--state-dir", str(state)]) == 0
    text = capsys.readouterr().out
    assert "hh-102: " in text and "activity by hour" in text and "thresholds notice" in text


def test_household_config_errors_point_at_the_line(tmp_path: Path) -> None:
    f = tmp_path / "g.yaml"
    f.write_text(
        "gateway:\n  id: gw\nhouseholds:\n  - id: hh-1\n  - id: hh-2\n    water_meter: w2\n"
        "    away:\n      - from: 2026-02-01\n        until: 2026-01-01\nanomaly:\n  timezone: Mars/Olympus\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    assert sorted(str(p) for p in exc.value.problems) == sorted(
        [
            f"{f}:11: anomaly.timezone: unknown time zone 'Mars/Olympus' (is the tzdata package installed?)",
            f"{f}:4: households[0]: a household needs a water_meter or an electricity_meter (or both)",
            f"{f}:8: households[1].away[0]: until must be after from",
        ]
    )
