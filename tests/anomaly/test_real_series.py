"""A real, unlabelled series: river's WaterFlow (hourly flow of a pipeline branch, March-May 2022).

tests/data/river_water_flow.csv is derived from it by tools/derive_water_flow_csv.py (a cumulative counter,
litres per second read as litres per hour). It is not a household: water never stops, so the only right
leak answer is one leak, reported once and kept open; and its real day-to-day variability (including the
maintenance dips and the pumping peak its docstring describes) must not raise consumption spikes.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from edge_agent.anomaly.replay import replay
from edge_agent.anomaly.service import AnomalyScorer
from edge_agent.cli.score_readings import CsvProblems, read_csv
from edge_agent.clock import SimClock
from edge_agent.config import parse_config
from edge_agent.events.model import Event, Phase

DATA = Path(__file__).resolve().parent.parent / "data" / "river_water_flow.csv"

CONFIG = """
gateway: {id: gw, state_dir: /nonexistent}
anomaly: {slot_s: 3600, max_interval_s: 7200, offline_after_s: 10800, timezone: Europe/Rome}
households:
  - {id: pipeline, water_meter: water-river}
"""


def test_real_flow_series_gives_one_leak_and_no_false_spikes() -> None:
    cfg = parse_config(CONFIG)
    problems = CsvProblems(open("/dev/null", "w"))  # noqa: SIM115
    with open(DATA, encoding="utf-8") as f:
        readings = read_csv(f, ZoneInfo("Europe/Rome"), problems)
    assert problems.count == 0 and len(readings) == 1268
    events: list[Event] = []
    clock = SimClock(readings[0].ts)
    scorer = AnomalyScorer(cfg.anomaly, list(cfg.households), events.append, clock, None)
    assert replay(scorer, clock, iter(readings)) == 1268
    assert [e for e in events if e.kind == "consumption_spike"] == []
    leaks = [e for e in events if e.kind == "leak"]
    assert [e.phase for e in leaks if e.phase is not Phase.UPDATE] == [Phase.START]
    assert leaks[0].ts - readings[0].ts < 2 * 86400
    assert len(leaks) < 60  # re-reported once a day, not every hour
    hh = scorer.households["pipeline"]
    assert hh.water is not None and hh.water.stats["gap"] == 7  # the real series has holes of 3 h and more
    offline = [e for e in events if e.kind == "meter_offline"]
    starts = [e.incident for e in offline if e.phase is Phase.START]
    assert (
        0 < len(starts) == len([e for e in offline if e.phase is Phase.END])
    )  # each hole reported, and closed
