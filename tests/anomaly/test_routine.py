"""The routine: a sensible prior from day one, learned per hour of week, robust to one odd day, persisted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_agent.anomaly.routine import VIEWS, Routine
from edge_agent.anomaly.simulate import simulate_household
from edge_agent.anomaly.state import load_state, save_state, state_path

from .conftest import feed, make_scorer, readings_of


def day_counts(active_hours: set[int], weekday: int, slots: int = 4) -> dict[tuple[str, int], list[float]]:
    return {
        ("both", weekday * 24 + h): [float(slots if h in active_hours else 0), float(slots)]
        for h in range(24)
    }


def test_prior_is_quiet_at_night_and_busy_in_the_morning() -> None:
    r = Routine(900, half_life_days=42, prior_weeks=2)
    for view in VIEWS:
        assert r.p(view, 3) < 0.1 < 0.3 < r.p(view, 8)
    assert r.days_learned == 0


def test_a_night_owl_is_learned_and_one_odd_day_barely_moves_it() -> None:
    r = Routine(900, half_life_days=42, prior_weeks=2)
    owl = {1, 2, 3, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}
    for day in range(42):
        r.commit_day(day_counts(owl, day % 7))
    assert r.p("both", 2) > 0.6  # 02:00 Monday: this person is up
    assert r.p("both", 7) < 0.15  # 07:00 Monday: and asleep
    before = r.p("both", 2)
    r.commit_day(day_counts(set(), 0))  # one odd silent Monday
    assert before - r.p("both", 2) < 0.15


def test_weekday_differs_from_weekend_after_a_few_weeks() -> None:
    r = Routine(900, half_life_days=42, prior_weeks=2)
    for day in range(35):
        wd = day % 7
        r.commit_day(day_counts(set(range(7, 22)) if wd < 5 else set(range(10, 22)), wd))
    assert r.p("both", 0 * 24 + 8) > 0.6  # Monday 08:00
    assert r.p("both", 6 * 24 + 8) < 0.3  # Sunday 08:00


def test_routine_round_trips_through_json() -> None:
    r = Routine(900, half_life_days=42, prior_weeks=2)
    for day in range(10):
        r.commit_day(day_counts({6, 7, 8, 19}, day % 7))
    again = Routine(900, half_life_days=42, prior_weeks=2)
    again.load(json.loads(json.dumps(r.to_dict())))
    assert [again.p("both", h) for h in range(168)] == pytest.approx(
        [r.p("both", h) for h in range(168)], abs=1e-3
    )
    assert again.days_learned == 10


def test_restart_from_the_state_dir_continues_exactly_where_it_left_off(tmp_path: Path) -> None:
    sim = simulate_household("hh-7", 21, 30, first_incident_day=24)
    cut = float(sim.ts[0]) + 20 * 86400 + 3 * 3600 + 100

    straight = make_scorer([sim])
    feed(straight, readings_of(sim))

    first = make_scorer([sim], state_dir=tmp_path)
    feed(first, readings_of(sim, upto_ts=cut))
    first.scorer.stop()  # saves
    assert state_path(tmp_path, "hh-7").exists()
    assert not list(tmp_path.rglob("*.tmp"))
    second = make_scorer([sim], state_dir=tmp_path, start_ts=cut)
    assert second.scorer.summaries()[0]["days_learned"] == first.scorer.summaries()[0]["days_learned"] > 15
    feed(second, readings_of(sim, start_ts=cut))

    def key(events: list) -> list[tuple]:
        return [(e.kind, e.phase, e.ts, e.incident, e.severity) for e in events if e.ts >= cut]

    assert key(second.events) == key(straight.events)
    assert any(e.kind == "inactivity" for e in second.events)


def test_a_corrupt_state_file_is_set_aside_and_the_prior_used(tmp_path: Path) -> None:
    sim = simulate_household("hh-8", 2, 3, incident=False)
    p = state_path(tmp_path, "hh-8")
    p.parent.mkdir(parents=True)
    p.write_text('{"version": 1, "routine": ')
    run = make_scorer([sim], state_dir=tmp_path)
    assert run.scorer.summaries()[0]["days_learned"] == 0
    assert p.with_name(p.name + ".bad").exists() and not p.exists()


def test_state_writes_are_atomic(tmp_path: Path) -> None:
    p = tmp_path / "anomaly" / "x.json"
    save_state(p, {"a": 1})
    save_state(p, {"a": 2})
    assert load_state(p) == {"a": 2}
    assert sorted(f.name for f in p.parent.iterdir()) == ["x.json"]


def test_silence_hazard_learns_that_long_silences_at_noon_are_outings() -> None:
    from edge_agent.anomaly.hazard import SilenceHazard, bucket

    hz = SilenceHazard(half_life_days=42)
    for _day in range(30):
        counts: dict[tuple[int, int], list[float]] = {}
        # out from 10:00 to 14:00 every day: at noon, two hours into a silence, nothing happens
        counts[(12, bucket(2.0))] = [0.0, 4.0]
        # at 20:00, short silences end quickly
        counts[(20, bucket(0.25))] = [3.0, 4.0]
        hz.commit_day(counts)
    routine_p = 0.5
    assert hz.p(12, 2.0, routine_p) < 0.1  # this household's noon silences last: little evidence each
    assert hz.p(20, 0.25, routine_p) > 0.7
    assert hz.p(20, 2.0, routine_p) == routine_p  # never seen: the routine's estimate
    again = SilenceHazard(half_life_days=42)
    again.load(json.loads(json.dumps(hz.to_dict())))
    assert again.p(12, 2.0, routine_p) == pytest.approx(hz.p(12, 2.0, routine_p), abs=1e-3)
