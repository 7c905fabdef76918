"""Electricity activity above a standby learned from nights, with a cycling fridge and a TV left on."""

from __future__ import annotations

import numpy as np

from edge_agent.anomaly.standby import StandbyModel


def fridge_slots(rng: np.random.Generator, n: int, standby_w: float, fridge_w: float) -> list[float]:
    """Mean power of 15-minute slots: standby plus a fridge whose duty cycle varies from slot to slot."""
    duty = rng.uniform(0.0, 1.0, n)
    return list(standby_w + fridge_w * duty + rng.normal(0, 3, n))


def learned(standby_w: float = 120.0, fridge_w: float = 110.0) -> tuple[StandbyModel, np.random.Generator]:
    rng = np.random.default_rng(5)
    m = StandbyModel(900, night_slots=16, margin_w=40, quantum_w=40, default_swing_w=150, window_slots=4)
    for _night in range(5):
        for p in fridge_slots(rng, 16, standby_w, fridge_w):
            assert not m.observe(p, is_night=True) or p > standby_w + fridge_w
        m.relearn()
    return m, rng


def test_band_is_learned_from_night_quantiles() -> None:
    m, _ = learned(120, 110)
    lo, hi = m.band()
    assert 120 <= lo < 150
    assert 200 < hi <= 235


def test_fridge_cycling_is_not_activity_but_a_kettle_is() -> None:
    m, rng = learned()
    quiet = [m.observe(p, is_night=False) for p in fridge_slots(rng, 200, 120, 110)]
    assert sum(quiet) <= 4  # the band's upper tail, not the fridge's every cycle
    assert m.observe(120 + 55 + 2000 * 3 / 15, is_night=False)  # a 3-minute kettle in a slot


def test_a_tv_left_on_stops_counting_after_the_baseline_window() -> None:
    m, rng = learned()
    for p in fridge_slots(rng, 8, 120, 110):
        m.observe(p, is_night=False)
    # (a load smaller than the fridge's swing plus the margin is invisible in a slot: 200 W is not)
    tv = [m.observe(p + 200, is_night=False) for p in fridge_slots(rng, 12, 120, 110)]
    assert tv[0]  # switching it on is a sign of life
    assert not any(tv[5:])  # burning on for hours is not


def test_switching_off_is_a_sign_of_life_and_no_data_is_not() -> None:
    m, rng = learned()
    for p in fridge_slots(rng, 8, 120 + 400, 110):  # a heater on for two hours
        m.observe(p, is_night=False)
    assert m.observe(150, is_night=False)  # switched off
    assert not m.observe(None, is_night=False)


def test_cold_start_uses_the_lowest_power_seen() -> None:
    m = StandbyModel(900, night_slots=16, margin_w=40, quantum_w=40, default_swing_w=150, window_slots=4)
    m.observe(90.0, is_night=False)
    assert m.band() == (90.0, 240.0)
