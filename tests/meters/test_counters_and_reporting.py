"""Counters as counters (rollover, replacement, implausible jumps) and what leaves the meter side:
readings (failed ones as no data), telemetry on change and period, meter_offline start/end."""

from __future__ import annotations

from edge_agent.clock import SimClock
from edge_agent.config.meters import BusConfig
from edge_agent.events.model import Event, Phase, Severity
from edge_agent.meters.bus import PollResult, ValueOutcome
from edge_agent.meters.counters import CounterTracker
from edge_agent.meters.readers import QuantitySpec
from edge_agent.meters.reading import Quality, Reading
from edge_agent.meters.reporting import MeterReporter

ENERGY = QuantitySpec("energy_kwh", "kWh", True, 1_000_000.0)
VOLTAGE = QuantitySpec("voltage_v", "V")


def test_counter_delta_rollover_and_reset() -> None:
    c = CounterTracker()
    assert c.update("m", "energy_kwh", 999_999.5, 0.0, rollover=1e6).delta is None  # first: a baseline
    up = c.update("m", "energy_kwh", 0.25, 3600.0, rollover=1e6)
    assert up.event == "rollover" and up.delta == 0.75 and up.quality is Quality.OK
    up = c.update("m", "energy_kwh", 12.0, 7200.0, rollover=1e6)
    assert up.delta == 11.75
    up = c.update("m", "energy_kwh", 3.0, 10800.0, rollover=1e6)  # went down, not near the top: replaced
    assert up.event == "reset" and up.delta is None and up.previous == 12.0
    assert c.update("m", "energy_kwh", 3.5, 14400.0, rollover=1e6).delta == 0.5


def test_implausible_jump_is_out_of_range_until_confirmed_as_replacement() -> None:
    c = CounterTracker()
    c.update("m", "water_m3", 100.0, 0.0, max_rate_per_h=5)
    up = c.update("m", "water_m3", 900.0, 3600.0, max_rate_per_h=5)  # 800 m3 in an hour: no
    assert up.quality is Quality.OUT_OF_RANGE and up.delta is None
    up = c.update("m", "water_m3", 101.0, 7200.0, max_rate_per_h=5)  # back to normal: it was a glitch
    assert up.quality is Quality.OK and up.delta == 1.0
    c.update("m", "water_m3", 5000.0, 10800.0, max_rate_per_h=5)
    up = c.update("m", "water_m3", 5000.5, 14400.0, max_rate_per_h=5)  # the new level holds: new meter
    assert up.event == "reset" and up.delta is None


def _reporter(**bus_kw: object) -> tuple[MeterReporter, list[Event], list[Reading]]:
    cfg = BusConfig.model_validate(
        {
            "id": "b",
            "port": "/dev/null",
            "offline_after_failures": 3,
            "telemetry": {"period_s": 6000, "min_interval_s": 600, "deadband": {"energy_kwh": 0.5}},
            "meters": [{"id": "elec-101", "protocol": "dlt645", "address": "101"}],
            **bus_kw,
        }
    )
    events: list[Event] = []
    readings: list[Reading] = []
    return MeterReporter(cfg, events.append, readings.append, SimClock()), events, readings


def _ok(ts: float, kwh: float, v: float = 230.0) -> PollResult:
    return PollResult(
        "elec-101", ts, (ValueOutcome(ENERGY, kwh, Quality.OK), ValueOutcome(VOLTAGE, v, Quality.OK))
    )


def _failed(ts: float, kind: str = "timeout") -> PollResult:
    q = Quality.TIMEOUT if kind == "timeout" else Quality.BAD_FRAME
    return PollResult(
        "elec-101", ts, (ValueOutcome(ENERGY, None, q, kind), ValueOutcome(VOLTAGE, None, q, kind))
    )


def test_failed_reads_reach_the_scorer_as_no_data() -> None:
    rep, _, readings = _reporter()
    rep.handle(_ok(0.0, 100.0))
    rep.handle(_failed(60.0))
    rep.handle(_ok(120.0, 100.4))
    energy = [r for r in readings if r.quantity == "energy_kwh"]
    assert [(r.value, r.quality, r.delta) for r in energy] == [
        (100.0, Quality.OK, None),
        (None, Quality.TIMEOUT, None),
        (100.4, Quality.OK, 0.4),
    ]
    assert energy[0].unit == "kWh"


def test_meter_replacement_is_never_huge_consumption() -> None:
    rep, events, readings = _reporter()
    rep.handle(_ok(0.0, 5000.0))
    rep.handle(_ok(3600.0, 0.5))  # new meter starts near zero
    assert readings[-2].delta is None and readings[-2].value == 0.5
    (reset,) = [e for e in events if e.kind == "meter_counter_reset"]
    assert reset.body["previous"] == 5000.0 and reset.body["value"] == 0.5


def test_offline_after_n_failed_polls_and_end_on_first_good_one() -> None:
    rep, events, _ = _reporter()
    rep.handle(_ok(0.0, 10.0))
    for i in range(1, 4):
        rep.handle(_failed(60.0 * i, "bad-checksum"))
    offline = [e for e in events if e.kind == "meter_offline"]
    assert len(offline) == 1
    start = offline[0]
    assert start.phase is Phase.START and start.severity is Severity.WARNING and start.ts == 180.0
    assert start.body == {"bus": "b", "reason": "bad-checksum", "failed_polls": 3}
    rep.handle(_failed(240.0))  # still offline: no second start
    rep.handle(_ok(300.0, 10.1))
    offline = [e for e in events if e.kind == "meter_offline"]
    assert [e.phase for e in offline] == [Phase.START, Phase.END]
    assert offline[1].incident == start.incident and offline[1].body["offline_s"] == 120.0


def test_telemetry_on_change_and_period_compact_and_batched() -> None:
    rep, events, _ = _reporter()
    rep.handle(_ok(0.0, 10.0))  # first: reported
    rep.handle(_ok(300.0, 10.9))  # changed, but within min_interval_s
    rep.handle(_ok(900.0, 11.0))  # changed beyond deadband and 900 s since: reported
    rep.handle(_ok(2000.0, 11.1))  # below deadband: not reported
    rep.handle(_ok(7000.0, 11.2))  # period: reported
    tele = [e for e in events if e.kind == "telemetry"]
    assert [e.ts for e in tele] == [0.0, 900.0, 7000.0]
    assert all(e.severity is Severity.DEBUG and e.source == "elec-101" for e in tele)
    assert tele[1].body == {
        "bus": "b",
        "n": 2,
        "v": {"energy_kwh": 11.0, "voltage_v": 230.0},
        "use": {"energy_kwh": 1.0},
    }
    assert tele[2].body["n"] == 2 and tele[2].body["use"]["energy_kwh"] == 0.2
