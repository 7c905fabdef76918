from __future__ import annotations

from edge_agent.config.video import TrackerConfig
from edge_agent.video.tracker import Tracker, iou
from tests.video.helpers import det


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 15, 10)) - 1 / 3) < 1e-9


def test_parked_car_keeps_its_id_through_flicker() -> None:
    tr = Tracker(TrackerConfig(max_missing_s=8.0, min_hits=2))
    ids = []
    t = 0.0
    # Detected, then missed for 3 s (6 frames at 2 fps), then detected again with jitter and a label flip.
    for k in range(30):
        t = k * 0.5
        seen = not (10 <= k < 16)
        label = "truck" if k % 7 == 0 else "car"
        dets = [det(100 + (k % 3), 200, 180 + (k % 2), 250, label)] if seen else []
        ids += [x.id for x in tr.update(dets, t)]
    assert set(ids) == {1}
    (track,) = tr.confirmed()
    assert track.label == "car"
    assert track.still_s(t) == t  # jitter is not movement


def test_track_dropped_after_max_missing() -> None:
    tr = Tracker(TrackerConfig(max_missing_s=2.0, min_hits=1))
    tr.update([det(0, 0, 10, 10)], 0.0)
    tr.update([], 1.5)
    assert len(tr.tracks) == 1
    tr.update([], 2.5)
    assert tr.tracks == []
    tr.update([det(0, 0, 10, 10)], 3.0)
    assert tr.tracks[0].id == 2


def test_walker_restarts_still_time_and_two_objects_keep_ids() -> None:
    tr = Tracker(TrackerConfig(min_hits=1))
    for k in range(10):
        tr.update([det(10 + 8 * k, 100, 30 + 8 * k, 150, "person"), det(300, 100, 400, 160, "car")], k * 0.5)
    person = next(x for x in tr.tracks if x.label == "person")
    car = next(x for x in tr.tracks if x.label == "car")
    assert (person.id, car.id) == (1, 2)
    assert person.still_s(4.5) < 2.0 < car.still_s(4.5)


def test_hold_keeps_matched_tracks_alive() -> None:
    tr = Tracker(TrackerConfig(max_missing_s=2.0, min_hits=1))
    tr.update([det(0, 0, 10, 10)], 0.0)
    for k in range(1, 10):
        tr.hold(float(k))  # nothing moved for 9 s: the object is still there
    tr.update([det(0, 0, 10, 10)], 10.0)
    assert [x.id for x in tr.tracks] == [1]


def test_one_frame_ghost_is_not_confirmed() -> None:
    tr = Tracker(TrackerConfig(min_hits=2))
    assert tr.update([det(0, 0, 10, 10)], 0.0) == []
    assert [x.id for x in tr.update([det(1, 0, 11, 10)], 0.5)] == [1]
