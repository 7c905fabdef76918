"""The incident state machine in simulated time (frame times at 2 fps)."""

from __future__ import annotations

from edge_agent.events.model import Phase
from edge_agent.video.occupation import Candidate, OccupationRules
from tests.video.helpers import Collect

WATCH = [("lane", "vehicle", 10.0, 5.0, 20.0)]  # zone, kind, dwell_s, grace_s, update_s
CAR = (0.5, 0.5, 0.6, 0.6)


def run(frames: list[list[Candidate]], watch: list = WATCH) -> Collect:  # type: ignore[type-arg]
    out = Collect()
    rules = OccupationRules("cam", out)
    for k, cands in enumerate(frames):
        t = k * 0.5
        rules.observe({("lane", "vehicle"): cands}, watch, t, 1_700_000_000 + t)
    return out


def car(k: int, key: int = 1, t0: int = 0, box: tuple = CAR) -> Candidate:  # type: ignore[type-arg]
    return Candidate(key, box, "car", 0.6, (k - t0) * 0.5)


def test_start_after_dwell_update_and_end_after_grace() -> None:
    frames = [[car(k)] for k in range(100)] + [[] for _ in range(20)]
    out = run(frames)
    assert [e.phase for e in out.events] == [Phase.START, Phase.UPDATE, Phase.END]  # update at 30 s
    start, *_, end = out.events
    assert start.ts == 1_700_000_010.0  # dwell reached at 10 s
    assert (
        start.body["zone"] == "lane"
        and start.body["count"] == 1
        and start.body["boxes"] == [[0.5, 0.5, 0.1, 0.1]]
    )  # x, y, w, h
    assert start.body["duration_s"] == 10.0
    assert end.body["duration_s"] == 49.5 and end.body["reason"] == "absent"
    assert end.ts == 1_700_000_049.5  # last seen, not when the grace ran out
    assert len({e.incident for e in out.events}) == 1


def test_flicker_and_new_track_id_on_the_same_spot_keep_one_incident() -> None:
    frames: list[list[Candidate]] = [[car(k)] for k in range(40)]
    frames += [[] for _ in range(8)]  # 4 s missing (< grace 5 s)
    frames += [[car(k, key=7, t0=48)] for k in range(48, 80)]  # the tracker lost it: new id, still 0 s
    frames += [[] for _ in range(12)]
    out = run(frames)
    assert [e.phase for e in out.events] == [Phase.START, Phase.UPDATE, Phase.END]
    assert len({e.incident for e in out.events}) == 1


def test_short_stop_never_starts() -> None:
    # A pedestrian-like object stops for 9 s (< dwell 10 s), walks on, another one stops for 9 s.
    frames = [[car(k, key=1)] for k in range(18)] + [[car(k, key=2, t0=18)] for k in range(18, 36)]
    assert run(frames).events == []


def test_passers_by_in_sequence_do_not_add_up() -> None:
    frames = [[Candidate(k, CAR, "car", 0.6, 0.5)] for k in range(200)]  # always someone, never the same
    assert run(frames).events == []


def test_zone_leaving_active_hours_ends_incident() -> None:
    out = Collect()
    rules = OccupationRules("cam", out)
    for k in range(30):
        rules.observe({("lane", "vehicle"): [car(k)]}, WATCH, k * 0.5, k * 0.5)
    rules.observe({}, [], 15.0, 15.0)
    assert [(e.phase, e.body.get("reason")) for e in out.events] == [
        (Phase.START, None),
        (Phase.END, "inactive"),
    ]


def test_close_all_ends_with_reason() -> None:
    out = Collect()
    rules = OccupationRules("cam", out)
    for k in range(30):
        rules.observe({("lane", "vehicle"): [car(k)]}, WATCH, k * 0.5, k * 0.5)
    rules.close_all(14.5, 14.5, "clip_end")
    assert out.events[-1].phase == Phase.END and out.events[-1].body["reason"] == "clip_end"
    assert rules.open == {}


def test_start_event_body_is_small() -> None:
    import json

    cands = [Candidate(i, (0.1 * i, 0.5, 0.1 * i + 0.05, 0.6), "truck", 0.61, 20.0) for i in range(5)]
    out = run([cands])
    body = json.dumps(out.events[0].body, separators=(",", ":"))
    assert len(out.events[0].body["boxes"]) == 3 and out.events[0].body["count"] == 5
    assert len(body) < 200, body


def test_saved_incident_continues_after_restart_and_ends_if_gone() -> None:
    out = Collect()
    rules = OccupationRules("cam", out)
    for k in range(30):  # started at 10 s
        rules.observe({("lane", "vehicle"): [car(k)]}, WATCH, k * 0.5, 1000 + k * 0.5)
    saved = rules.save(14.5, 1014.5)
    (inc_id,) = {e.incident for e in out.events}

    # Restarted 3 s later (a reload): the van is still there with a new track id and no dwell yet.
    again = Collect()
    r2 = OccupationRules("cam", again)
    assert r2.restore(saved, 0.0, 1017.5) == 1
    for k in range(60):
        r2.observe({("lane", "vehicle"): [car(k, key=1)]}, WATCH, k * 0.5, 1017.5 + k * 0.5)
    assert [e.phase for e in again.events] == [Phase.UPDATE]  # no new start
    assert again.events[0].incident == inc_id
    assert (
        again.events[0].body["duration_s"] == 37.5
    )  # at 1037.5, still since 1000: the restart is not a new dwell

    # Restarted 100 s later and the van is gone: the same incident ends, back-dated to when last seen.
    gone = Collect()
    r3 = OccupationRules("cam", gone)
    r3.restore(saved, 0.0, 1114.5)
    r3.observe({}, WATCH, 0.0, 1114.5)
    assert [(e.phase, e.incident, e.ts) for e in gone.events] == [(Phase.END, inc_id, 1014.5)]


def test_damaged_saved_entries_are_skipped() -> None:
    rules = OccupationRules("cam", Collect())
    assert rules.restore([{"zone": "lane"}, {"id": 1, "boxes": "x"}], 0.0, 0.0) == 0


def test_more_objects_send_an_early_update() -> None:
    second = (0.7, 0.5, 0.8, 0.6)
    frames = [[car(k)] for k in range(30)]  # start at 10 s
    frames += [[car(k), car(k, key=2, t0=30, box=second)] for k in range(30, 56)]  # a second car at 15 s
    out = run(frames)
    assert [(e.phase, e.body["count"]) for e in out.events] == [(Phase.START, 1), (Phase.UPDATE, 2)]
    assert out.events[1].ts == 1_700_000_025.0  # once it too has stayed dwell_s; not at the 30 s period
