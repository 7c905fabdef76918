"""Presence evidence: a light or the TV held on while nothing else happens means someone is at home."""

from __future__ import annotations

import numpy as np

from edge_agent.anomaly.presence import WINDOW_SLOTS, PresenceModel
from edge_agent.anomaly.simulate import START
from edge_agent.events.model import Severity

from .conftest import feed, make_scorer, quiet_sim, readings_of, stop_using

DAY = 86400.0
T0 = START.timestamp()


def fridge_slots(
    rng: np.random.Generator, n: int, standby_w: float = 120.0, fridge_w: float = 110.0
) -> list[float]:
    """15-minute mean powers of standby plus a fridge whose share of each slot varies, quantised to the
    0.01 kWh meter (40 W per slot)."""
    raw = standby_w + fridge_w * rng.uniform(0.0, 0.6, n)
    return list(np.floor(raw / 40.0) * 40.0)


def learned() -> tuple[PresenceModel, np.random.Generator]:
    rng = np.random.default_rng(3)
    m = PresenceModel(900, night_slots=16, margin_w=17, days_kept=60)
    for _night in range(5):
        for p in fridge_slots(rng, 16):
            m.observe(p, is_night=True)
        m.relearn()
    return m, rng


def test_standby_and_fridge_are_not_a_held_load() -> None:
    m, rng = learned()
    assert not any(m.observe(p, is_night=False) for p in fridge_slots(rng, 40))


def test_a_light_left_on_is_held_once_the_window_is_full() -> None:
    m, rng = learned()
    held = [m.observe(p + 60.0, is_night=False) for p in fridge_slots(rng, 2 * WINDOW_SLOTS)]
    assert all(held[WINDOW_SLOTS:])


def test_cooking_just_before_going_out_is_not_a_held_load() -> None:
    m, rng = learned()
    for p in fridge_slots(rng, WINDOW_SLOTS):
        m.observe(p, is_night=False)
    assert not m.observe(1600.0, is_night=False)  # the hob, then out of the door
    assert not m.observe(900.0, is_night=False)
    assert not any(m.observe(p, is_night=False) for p in fridge_slots(rng, WINDOW_SLOTS))


def test_no_data_is_not_a_held_load_and_keeps_the_window() -> None:
    m, rng = learned()
    for p in fridge_slots(rng, WINDOW_SLOTS):
        m.observe(p + 60.0, is_night=False)
    assert not m.observe(None, is_night=False)
    assert m.observe(fridge_slots(rng, 1)[0] + 60.0, is_night=False)


def test_held_score_learns_from_ordinary_days_and_survives_a_restart() -> None:
    m, _ = learned()
    for _ in range(8):
        m.count(20, active=False)  # quiet evenings under a lamp are ordinary here
    m.add_silent(20, waking_p=0.4)
    m.commit_day(ordinary=True, decay=1.0)
    assert m.p(20, waking_p=0.4) < m.p(10, waking_p=0.4) < 0.4  # the hour, then all hours, learn
    again = PresenceModel(900, night_slots=16, margin_w=17, days_kept=60)
    again.load(m.to_dict())
    assert again.to_dict() == m.to_dict()


def _first_alarm_after(left_on_w: float, t0: float, held_load_evidence: bool = True) -> float:
    sim = quiet_sim()
    stop_using(sim, t0, t0 + DAY, left_on_w=left_on_w)
    run = make_scorer([sim], anomaly={"held_load_evidence": held_load_evidence})
    feed(run, readings_of(sim, upto_ts=t0 + DAY))
    alarms = [e.ts for e in run.of("inactivity", min_severity=Severity.ALARM) if e.ts >= t0]
    assert alarms, "the incident was missed"
    return alarms[0] - t0


def test_a_tv_left_on_with_nothing_else_happening_raises_the_alarm_sooner() -> None:
    t0 = T0 + 21 * DAY + 17 * 3600  # an evening onset: plain silence waits for the next morning
    plain_s = _first_alarm_after(0.0, t0)
    tv_s = _first_alarm_after(120.0, t0)
    assert tv_s < plain_s - 3 * 3600
    assert _first_alarm_after(120.0, t0, held_load_evidence=False) > tv_s + 3 * 3600  # can be turned off
