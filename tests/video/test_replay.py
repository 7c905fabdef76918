"""Replay on the committed street clips with the real detector: incidents, outputs, static objects."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import cv2
import pytest

from edge_agent.cli.main import main
from edge_agent.config import load_config
from edge_agent.video.replay import ReplayResult, replay_clip
from tests.video.conftest import DATA, MEDIA

START = dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.timezone.utc).timestamp()


def incidents(events: list[dict], zone: str) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """incident id -> its phases in order, for one zone's incident events."""
    out: dict[str, list[str]] = {}
    for e in events:
        if e["kind"] in ("road_occupation", "unknown_object") and e["body"]["zone"] == zone:
            out.setdefault(e["incident"], []).append(e["phase"])
    return out


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory, detector) -> tuple[Path, ReplayResult]:  # type: ignore[no-untyped-def]
    cfg = load_config(DATA / "street.yaml").config
    out = tmp_path_factory.mktemp("street")
    clip = MEDIA / "street-parked-van.mp4"
    res = replay_clip(cfg, cfg.cameras[0], clip, out, detector, start_ts=START, progress=None)
    return out, res


def read_events(out: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]


def test_parked_van_gives_exactly_one_incident(street: tuple[Path, ReplayResult]) -> None:
    out, _ = street
    events = read_events(out)
    van = incidents(events, "van-bay")
    assert len(van) == 1, van
    (phases,) = van.values()
    assert phases[0] == "start" and phases[-1] == "end" and set(phases[1:-1]) <= {"update"}
    start = next(e for e in events if e["phase"] == "start" and e["body"]["zone"] == "van-bay")
    assert start["ts"] == pytest.approx(START + 10.0, abs=1.0)  # dwell_s 10 from the first frames
    assert start["body"]["occ"] == "vehicle" and set(start["body"]["classes"]) <= {"car", "truck", "bus"}
    x, y, w, h = start["body"]["boxes"][0]  # normalised x, y, w, h (docs/events.md)
    assert 0.8 < x + w / 2 < 0.95 and y + h < 0.24  # the van, top right
    end = next(e for e in events if e["phase"] == "end")
    assert end["body"]["reason"] == "clip_end"
    assert len(json.dumps(start["body"], separators=(",", ":"))) < 160


def test_zone_pedestrians_walk_through_gives_none(street: tuple[Path, ReplayResult]) -> None:
    out, res = street
    assert incidents(read_events(out), "crossing") == {}
    assert res.analysed == 80  # 40 s at analysis_fps 2: the cap holds in clip time


def test_replay_writes_video_and_contact_sheet_of_frame_size(street: tuple[Path, ReplayResult]) -> None:
    out, res = street
    assert res.size == (768, 576)
    cap = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert cap.isOpened()
    ok, frame = cap.read()
    assert ok and frame.shape == (576, 768, 3)
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == res.frames == 400
    sheet = cv2.imread(str(out / "contact-sheet.png"))
    assert sheet is not None
    assert sheet.shape[1] == 2 * 384  # two tiles (start, end) of 384 px
    assert sheet.shape[0] == 384 * 576 // 768 + 24  # one row: thumbnail + caption


def test_goods_left_on_the_road_are_an_unknown_object(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    cfg = load_config(DATA / "goods.yaml").config
    clip = MEDIA / "street-goods.mp4"
    replay_clip(
        cfg, cfg.cameras[0], clip, tmp_path, detector, start_ts=START, progress=None, write_video=False
    )
    events = read_events(tmp_path)
    pav = incidents(events, "pavement")
    assert len(pav) == 1 and next(iter(pav.values()))[0] == "start", pav
    start = next(e for e in events if e["body"]["zone"] == "pavement")
    assert start["kind"] == "unknown_object"
    assert START + 8 < start["ts"] < START + 25  # the boxes appear at 8 s
    x, y, _w, h = start["body"]["boxes"][0]
    assert abs(x - 0.10) < 0.03 and abs(y + h - 0.43) < 0.03  # where tools/make_media.py put them
    assert incidents(events, "van-bay") == {}  # parked before the clip began: part of the scene


def test_cli_replay_refuses_unknown_camera_and_missing_clip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(DATA / "street.yaml")
    assert (
        main(
            [
                "replay",
                str(MEDIA / "street-parked-van.mp4"),
                "-c",
                cfg,
                "--out",
                str(tmp_path),
                "--camera",
                "nope",
            ]
        )
        == 1
    )
    assert "no camera 'nope'" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "missing.mp4"), "-c", cfg, "--out", str(tmp_path)]) == 2
    assert "no such clip" in capsys.readouterr().err


class MissesVehicles:
    """The real detector, except that it misses every vehicle for some calls: a flickering parked van.

    Fault injection on real detections (the model happens to be steady on this van; smaller models and
    night scenes are not), not a mock: every other box is the model's.
    """

    def __init__(self, inner, miss: range) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.miss, self.calls = inner, miss, 0
        self.labels = inner.labels

    def detect_batch(self, frames):  # type: ignore[no-untyped-def]
        out = self.inner.detect_batch(frames)
        self.calls += 1
        if self.calls in self.miss:
            out = [[d for d in dets if d.label not in ("car", "truck", "bus")] for dets in out]
        return out


def test_van_missed_for_9_s_stays_one_incident(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    cfg = load_config(DATA / "street.yaml").config
    flaky = MissesVehicles(detector, range(30, 48))  # analysed frames 30..47: 15 s to 24 s of the clip
    clip = MEDIA / "street-parked-van.mp4"
    res = replay_clip(
        cfg, cfg.cameras[0], clip, tmp_path, flaky, start_ts=START, progress=None, write_video=False
    )
    assert res.detected >= 48  # the misses really happened (pedestrians keep the detector busy)
    van = incidents(read_events(tmp_path), "van-bay")
    assert len(van) == 1, van
    phases = next(iter(van.values()))
    assert phases[0] == "start" and phases[-1] == "end" and phases.count("start") == 1


def test_snapshots_blur_persons_and_follow_the_start(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    import base64

    import numpy as np

    from edge_agent.config.video import SnapshotConfig

    cfg = load_config(DATA / "street.yaml").config
    cfg = cfg.model_copy(
        update={"video": cfg.video.model_copy(update={"snapshots": SnapshotConfig(enabled=True)})}
    )
    clip = MEDIA / "street-parked-van.mp4"
    replay_clip(
        cfg, cfg.cameras[0], clip, tmp_path, detector, start_ts=START, progress=None, write_video=False
    )
    events = read_events(tmp_path)
    snaps = [e for e in events if e["kind"] == "snapshot"]
    starts = [e for e in events if e["phase"] == "start"]
    assert len(snaps) == len(starts) == 1
    assert snaps[0]["body"]["inc"] == starts[0]["incident"]
    jpg = base64.b64decode(snaps[0]["body"]["jpeg_b64"])
    img = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (480, 640, 3)


def test_blur_boxes_hides_detail_only_inside() -> None:
    import numpy as np

    from edge_agent.video.snapshot import blur_boxes

    cap = cv2.VideoCapture(str(MEDIA / "street-parked-van.mp4"))
    ok, img = cap.read()
    assert ok
    person = (499, 158, 531, 233)  # a pedestrian in the first frame (the detector's box)
    out = blur_boxes(img, [person])

    def detail(a: np.ndarray, box: tuple[int, int, int, int]) -> float:
        x1, y1, x2, y2 = box
        return float(cv2.Laplacian(cv2.cvtColor(a[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

    assert detail(out, person) < 0.2 * detail(img, person)
    assert np.array_equal(out[:150], img[:150])  # the rest untouched


def test_start_event_on_the_wire_is_compact(street: tuple[Path, ReplayResult]) -> None:
    """The body is small and survives the event path's own codec unchanged."""
    from edge_agent.events.codec import encode_event

    _, res = street
    start = next(e for e in res.events if e.kind == "road_occupation" and e.phase.value == "start")
    body = json.dumps(start.body, separators=(",", ":"))
    assert len(body) <= 150, body  # one object, a 7-character zone id: about 130 bytes
    wire = json.loads(encode_event(start, seq=123456, gateway="gw-0042"))
    assert wire["body"] == start.body and wire["kind"] == "road_occupation"
    assert wire["id"] == start.incident and "inc" not in wire  # the start event names its incident


def test_cli_replay_writes_outputs_and_refuses_a_non_video(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(DATA / "goods.yaml")
    out = tmp_path / "out"
    clip = str(MEDIA / "street-goods.mp4")
    assert (
        main(
            [
                "replay",
                clip,
                "-c",
                cfg,
                "--out",
                str(out),
                "--no-video",
                "-q",
                "--start",
                "2026-01-01T10:00:00+00:00",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "300 frames" in printed and "unknown_object/start 1" in printed
    assert (out / "events.jsonl").exists() and (out / "contact-sheet.png").exists()
    assert not (out / "annotated.mp4").exists()
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video\n")
    assert main(["replay", str(junk), "-c", cfg, "--out", str(out), "-q"]) == 1
    assert "cannot open clip" in capsys.readouterr().err
