"""A household scored end to end on simulated meters: incidents, no data vs no use, away, leak, spike."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.anomaly.simulate import START, households_config, simulate_household
from edge_agent.events.model import Phase, Severity

from .conftest import add_water_flow, feed, make_scorer, quiet_sim, readings_of, stop_using

DAY = 86400.0
T0 = START.timestamp()


def test_an_incident_raises_an_alarm_that_explains_itself_and_ends_when_life_resumes() -> None:
    sim = simulate_household("hh-1", 3, 40, first_incident_day=25, missing=False, trips=False)
    inc = sim.incidents[0]
    run = make_scorer([sim])
    feed(run, readings_of(sim))
    alarms = [e for e in run.of("inactivity", min_severity=Severity.ALARM) if e.ts >= inc.onset_ts]
    assert alarms, "the incident was missed"
    first = alarms[0]
    assert inc.onset_ts < first.ts < inc.onset_ts + DAY
    body = first.body
    assert {"last_activity", "silent_h", "score", "p_silence", "expected_active_slots", "thresholds"} <= set(
        body
    )
    assert body["score"] >= body["thresholds"]["alarm"]
    assert body["p_silence"] < 1e-3
    same = [e for e in run.of("inactivity") if e.incident == first.incident]
    assert same[0].phase is Phase.START and same[-1].phase is Phase.END
    assert same[-1].body["why"] == "activity resumed"
    assert inc.end_ts <= same[-1].ts < inc.end_ts + DAY


def test_lost_polls_are_no_data_not_inactivity() -> None:
    sim = quiet_sim()
    t0, t1 = T0 + 21 * DAY + 8 * 3600, T0 + 22 * DAY + 8 * 3600  # a whole day of failed polls
    gap = (sim.ts >= t0) & (sim.ts < t1)
    sim.water_m3[gap] = np.nan
    sim.energy_kwh[gap] = np.nan
    run = make_scorer([sim])
    feed(run, readings_of(sim, upto_ts=T0 + 24 * DAY))
    inactive = [e for e in run.of("inactivity", min_severity=Severity.NOTICE) if e.ts >= t0]
    assert inactive == []
    offline = run.of("meter_offline")
    starts = [e for e in offline if e.phase is Phase.START and e.ts >= t0]
    assert {e.body["meter"] for e in starts} == {sim.water_meter, sim.elec_meter}
    assert starts[0].ts == pytest.approx(t0 + 2 * 3600, abs=1800)
    ends = [e for e in offline if e.phase is Phase.END and e.ts >= t1]
    assert {e.incident for e in ends} == {e.incident for e in starts}


def test_the_same_hours_without_any_use_do_raise_an_alarm() -> None:
    sim = quiet_sim()
    t0, t1 = T0 + 21 * DAY + 8 * 3600, T0 + 22 * DAY + 12 * 3600  # 28 h without any use
    stop_using(sim, t0, t1)
    run = make_scorer([sim])
    feed(run, readings_of(sim, upto_ts=T0 + 24 * DAY))
    alarms = [e for e in run.of("inactivity", min_severity=Severity.ALARM) if t0 <= e.ts <= t1]
    assert alarms
    assert any(e.ts > t0 + 5 * 3600 for e in alarms)  # what the run-time away test must suppress
    assert run.of("meter_offline", Phase.START) == []


def test_declared_away_period_suppresses_the_alarm() -> None:
    sim = quiet_sim()
    t0, t1 = T0 + 21 * DAY + 8 * 3600, T0 + 22 * DAY + 12 * 3600  # 28 h without any use
    stop_using(sim, t0, t1)
    hh = households_config([sim])
    hh[0]["away"] = [{"from": "2026-01-26T07:30:00", "until": "2026-01-27T13:00:00"}]
    assert START.day + 21 == 26
    run = make_scorer([sim], households=hh)
    feed(run, readings_of(sim, upto_ts=T0 + 24 * DAY))
    assert [e for e in run.of("inactivity", min_severity=Severity.NOTICE) if t0 <= e.ts <= t1] == []


def test_away_set_at_run_time_suppresses_and_ends_an_open_incident() -> None:
    sim = quiet_sim()
    t0, t1 = T0 + 21 * DAY + 8 * 3600, T0 + 22 * DAY + 12 * 3600  # 28 h without any use
    stop_using(sim, t0, t1)
    run = make_scorer([sim])
    feed(run, readings_of(sim, upto_ts=t0 + 5 * 3600))
    opened = [e for e in run.of("inactivity") if e.ts >= t0]
    run.scorer.handle_away_command({"household": "hh-1", "until": t1 + 3600})
    feed(run, readings_of(sim, start_ts=t0 + 5 * 3600, upto_ts=T0 + 23 * DAY))
    later = [e for e in run.of("inactivity") if e.ts >= t0 + 5 * 3600 and e.ts <= t1]
    assert all(e.phase is Phase.END for e in later)
    if opened:  # a notice was already open: the away period closes it, with the reason
        assert later and later[0].body["why"] == "away period began"
    with pytest.raises(ValueError):
        run.scorer.handle_away_command({"household": "nobody", "until": t1})


def test_a_leak_starts_through_the_night_and_ends_when_fixed() -> None:
    sim = quiet_sim(days=16)
    leak_from, leak_until = T0 + 10 * DAY + 14 * 3600, T0 + 12 * DAY + 10 * 3600
    add_water_flow(sim, leak_from, leak_until, litres_per_h=6.0)
    run = make_scorer([sim])
    feed(run, readings_of(sim))
    leaks = run.of("leak")
    assert leaks and leaks[0].phase is Phase.START and leaks[-1].phase is Phase.END
    start, end = leaks[0], leaks[-1]
    assert leak_from < start.ts <= T0 + 11 * DAY + 5 * 3600  # by the end of the first night
    assert start.body["min_flow_l_h"] >= 5
    assert leak_until <= end.ts <= leak_until + 3 * 3600
    assert all(e.ts >= leak_from for e in leaks)


def test_a_days_use_far_above_the_baseline_is_a_spike() -> None:
    sim = quiet_sim(days=24)
    day = T0 + 20 * DAY
    add_water_flow(sim, day + 10 * 3600, day + 12 * 3600, litres_per_h=900.0)  # 1.8 m3 in two hours
    run = make_scorer([sim])
    feed(run, readings_of(sim))
    spikes = [e for e in run.of("consumption_spike") if e.body["quantity"] == "water_l"]
    assert [e.phase for e in spikes] == [Phase.START, Phase.END]
    assert day + 10 * 3600 < spikes[0].ts <= day + 12.5 * 3600
    assert spikes[1].ts == pytest.approx(day + DAY, abs=1800)
    assert spikes[1].body["day_total"] > 1800 > spikes[1].body["threshold"]


def test_a_leak_does_not_hide_a_person_who_stopped_using_water() -> None:
    sim = quiet_sim()
    add_water_flow(sim, T0 + 18 * DAY, T0 + 25 * DAY, litres_per_h=6.0)
    t0, t1 = T0 + 21 * DAY + 8 * 3600, T0 + 22 * DAY + 12 * 3600  # 28 h without any use
    stop_using(sim, t0, t1)
    add_water_flow(sim, t0, t1, litres_per_h=6.0)  # the leak keeps running through the silence
    run = make_scorer([sim])
    feed(run, readings_of(sim, upto_ts=T0 + 24 * DAY))
    assert run.of("leak", Phase.START)
    assert [e for e in run.of("inactivity", min_severity=Severity.ALARM) if t0 <= e.ts <= t1]


def test_a_clock_set_back_does_not_stop_scoring() -> None:
    sim = quiet_sim(days=6)
    run = make_scorer([sim])
    hh = run.scorer.households["hh-1"]
    back_s = 2 * DAY  # the gateway booted with a clock two days fast, then NTP corrected it
    for t, w, e in zip(sim.ts.tolist(), sim.water_m3.tolist(), sim.energy_kwh.tolist(), strict=True):
        shown = t + back_s if t < T0 + 3 * DAY else t
        hh.ingest(sim.water_meter, "water_m3", shown, w)
        hh.ingest(sim.elec_meter, "energy_kwh", shown, e)
        hh.advance(shown)
    assert hh.stats["clock_went_back"] == 1
    assert hh.stats.get("late_readings", 0) < 10  # the readings after the jump were scored, not dropped
    assert hh.last_closed is not None and hh.last_closed * hh.slot_s > T0 + 5.9 * DAY - 3600
    assert hh.last_activity_ts is not None and hh.last_activity_ts > T0 + 5 * DAY
