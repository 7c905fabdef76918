"""Cumulative counters become intervals of use; glitches are counted, never scored as use."""

from __future__ import annotations

import pytest

from edge_agent.anomaly.counters import CounterTrack


def track() -> CounterTrack:
    return CounterTrack(resolution=0.001, max_rate_per_s=3.0 / 3600, max_interval_s=3600)


def test_consecutive_readings_give_the_use_between_them() -> None:
    c = track()
    assert c.update(0, 100.000) == (None, False)
    iv, gap = c.update(900, 100.006)
    assert iv is not None and not gap
    assert (iv.t0, iv.t1) == (0, 900)
    assert iv.delta == pytest.approx(0.006)


def test_counter_going_backwards_is_a_reset_not_negative_use() -> None:
    c = track()
    c.update(0, 100.0)
    assert c.update(900, 3.0) == (None, False)
    assert c.stats == {"counter_backwards": 1}
    iv, _ = c.update(1800, 3.002)  # counting resumes from the new base
    assert iv is not None and iv.delta == pytest.approx(0.002)


def test_implausible_jump_is_a_glitch() -> None:
    c = track()
    c.update(0, 100.0)
    assert c.update(900, 150.0) == (None, False)  # 50 m3 in 15 minutes
    assert c.stats == {"implausible_jump": 1}


def test_long_gap_is_no_data_but_reveals_use_inside_it() -> None:
    c = track()
    c.update(0, 100.0)
    assert c.update(4 * 3600, 100.050) == (None, True)
    assert c.update(8 * 3600, 100.050) == (None, False)
    assert c.stats == {"gap": 2}


def test_out_of_order_and_repeated_readings_are_ignored() -> None:
    c = track()
    c.update(900, 100.0)
    assert c.update(900, 100.0) == (None, False)
    assert c.update(100, 99.0) == (None, False)
    assert c.stats == {"out_of_order": 2}


def test_state_survives_a_restart() -> None:
    c = track()
    c.update(0, 42.5)
    d = track()
    d.load(c.to_dict())
    iv, _ = d.update(900, 42.501)
    assert iv is not None and iv.delta == pytest.approx(0.001)


def test_a_clock_set_back_rebases_instead_of_ignoring_every_later_reading() -> None:
    c = track()
    c.update(10 * 3600, 100.0)
    assert c.update(2 * 3600, 100.0) == (None, False)  # NTP pulled the clock back 8 hours
    iv, _ = c.update(2 * 3600 + 900, 100.003)
    assert iv is not None and iv.delta == pytest.approx(0.003)
    assert c.stats == {"clock_went_back": 1}
