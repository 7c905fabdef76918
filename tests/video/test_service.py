"""The video service on real streams: an RTSP server on loopback killed and restarted; a looping file."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge_agent.clock import SystemClock
from edge_agent.config import parse_config
from edge_agent.events.model import Phase
from edge_agent.video.service import VideoService, build_video_service
from tests.conftest import free_port, require_tool, wait_port
from tests.video.conftest import MEDIA
from tests.video.helpers import Collect

SERVER = Path(__file__).resolve().parent / "rtsp_server.py"


def wait_for(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll a condition (a generous bound, not a speed goal: a stuck stream fails the test, a slow one not)."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def config(url: str, tmp: Path) -> str:
    return f"""
gateway: {{id: gw, state_dir: {tmp}}}
cameras:
  - id: cam1
    url: {url}
    analysis_fps: 2
    zones:
      - id: van-bay
        polygon: [[0.80, 0.10], [0.95, 0.10], [0.95, 0.24], [0.80, 0.24]]
        dwell_s: 3
video:
  offline_after_s: 1
  reconnect_min_s: 0.5
  reconnect_max_s: 1
  stall_s: 3
"""


class RtspServer:
    def __init__(self, clip: Path, codec: str = "h264") -> None:
        self.codec = codec
        # The SYSTEM python3: Debian's python3-gi and the GstRtspServer typelib are not in the venv.
        self.python = "/usr/bin/python3"
        self.clip = clip
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/street"

    def start(self) -> None:
        require_tool("gst-launch-1.0")
        if not Path(self.python).exists():
            require_tool("/usr/bin/python3")
        probe = subprocess.run(
            [self.python, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"], capture_output=True
        )
        if probe.returncode != 0:
            require_tool("gst-rtsp-server under /usr/bin/python3 (python3-gi, gir1.2-gst-rtsp-server-1.0)")
        self.proc = subprocess.Popen([self.python, str(SERVER), str(self.port), str(self.clip), self.codec])
        wait_port(self.port)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture
def rtsp() -> Iterator[RtspServer]:
    s = RtspServer(MEDIA / "street-parked-van.mp4")
    s.start()
    yield s
    s.kill()


def analysed(svc: VideoService) -> int:
    return svc.cams[0].analysed


def test_rtsp_server_killed_and_restarted(rtsp: RtspServer, tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    cfg = parse_config(config(rtsp.url, tmp_path))
    out = Collect()
    svc = build_video_service(cfg, out, SystemClock(), tmp_path, detector=detector)
    assert svc is not None
    svc.start()
    try:
        wait_for(lambda: analysed(svc) >= 4, 30, "analysis of the RTSP stream")
        assert svc.health().summary.startswith("1/1 cameras live")
        rtsp.kill()
        wait_for(lambda: ("camera_offline", "start") in out.kinds(), 20, "camera_offline")
        assert svc.health().summary.startswith("0/1 cameras live")
        assert svc.health().ok  # a camera down is an event, not a reason to restart the daemon
        before = analysed(svc)
        rtsp.start()
        wait_for(lambda: ("camera_offline", "end") in out.kinds(), 30, "camera back online")
        wait_for(lambda: analysed(svc) >= before + 4, 30, "analysis to resume")
    finally:
        svc.stop(5.0)
    off = [e for e in out.events if e.kind == "camera_offline"]
    assert [e.phase for e in off] == [Phase.START, Phase.END]
    assert off[0].incident == off[1].incident and off[1].body["down_s"] > 0
    assert not svc._worker.is_alive()  # type: ignore[union-attr]


def test_h265_rtsp_camera(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    server = RtspServer(MEDIA / "street-h265.mp4", codec="h265")
    server.start()
    cfg = parse_config(config(server.url, tmp_path))
    svc = build_video_service(cfg, Collect(), SystemClock(), tmp_path, detector=detector)
    assert svc is not None
    svc.start()
    try:
        wait_for(lambda: analysed(svc) >= 4, 30, "analysis of the H.265 stream")
        frame = svc.cams[0].slot.peek()
        assert frame is not None and frame.size == (768, 576)
    finally:
        svc.stop(5.0)
        server.kill()


def test_looping_file_camera_reports_the_van(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    cfg = parse_config(config(str(MEDIA / "street-parked-van.mp4"), tmp_path))
    out = Collect()
    svc = build_video_service(cfg, out, SystemClock(), tmp_path, detector=detector)
    assert svc is not None
    svc.start()
    try:
        wait_for(lambda: ("road_occupation", "start") in out.kinds(), 30, "the van's incident")
    finally:
        svc.stop(5.0)
    start = next(e for e in out.events if e.kind == "road_occupation")
    assert start.source == "cam1" and start.body["zone"] == "van-bay"
    from prometheus_client import REGISTRY

    detected = REGISTRY.get_sample_value("edge_video_frames_total", {"camera": "cam1", "outcome": "detect"})
    assert detected is not None and detected >= 2
    assert (REGISTRY.get_sample_value("edge_video_camera_fps", {"camera": "cam1"}) or 0) > 0
    assert svc.cams[0].reader.kind.value == "file"
    assert not any(t.is_alive() for t in (svc._worker, svc.cams[0].reader._thread))  # type: ignore[union-attr]


def test_no_cameras_no_service(tmp_path: Path) -> None:
    cfg = parse_config(f"gateway: {{id: gw, state_dir: {tmp_path}}}\n")
    assert build_video_service(cfg, Collect(), SystemClock(), tmp_path) is None


def test_unreachable_camera_goes_offline_without_stopping_the_rest(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    cfg = parse_config(config(f"rtsp://127.0.0.1:{free_port()}/nothing", tmp_path))
    out = Collect()
    svc = build_video_service(cfg, out, SystemClock(), tmp_path, detector=detector)
    assert svc is not None
    svc.start()
    try:
        wait_for(lambda: ("camera_offline", "start") in out.kinds(), 20, "camera_offline")
        assert svc.cams[0].reader.opens >= 2  # it keeps retrying
    finally:
        svc.stop(5.0)
    assert out.events[0].body["reason"].startswith("cannot open")


def test_http_mjpeg_camera(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    from tests.video.mjpeg_server import MjpegServer

    server = MjpegServer(MEDIA / "street-parked-van.mp4")
    server.start()
    cfg = parse_config(config(server.url, tmp_path))
    out = Collect()
    svc = build_video_service(cfg, out, SystemClock(), tmp_path, detector=detector)
    assert svc is not None
    svc.start()
    try:
        wait_for(lambda: ("road_occupation", "start") in out.kinds(), 30, "the van's incident over MJPEG")
        assert svc.cams[0].reader.kind.value == "http"
        assert svc.cams[0].status.online
    finally:
        svc.stop(5.0)
        server.stop()


def test_open_incidents_survive_a_service_rebuild(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    """What a config reload or restart does: stop (save), build anew, start (restore once)."""
    cfg = parse_config(config(str(MEDIA / "street-parked-van.mp4"), tmp_path))
    svc = build_video_service(cfg, Collect(), SystemClock(), tmp_path, detector=detector)
    assert svc is not None
    rules = svc.cams[0].analysis.rules
    rules.restore(
        [
            {
                "zone": "van-bay",
                "occ": "vehicle",
                "id": "inc-1",
                "started_ts": time.time() - 60,
                "dwell_start_ts": time.time() - 70,
                "last_present_ts": time.time(),
                "boxes": [[0.85, 0.08, 0.94, 0.17]],
                "classes": ["truck"],
                "count": 1,
                "conf": 0.5,
            }
        ],
        SystemClock().monotonic(),
        time.time(),
    )
    svc.save_incidents()
    again = build_video_service(cfg, Collect(), SystemClock(), tmp_path, detector=detector)
    assert again is not None
    again.restore_incidents()
    assert [i.id for i in again.cams[0].analysis.rules.open.values()] == ["inc-1"]
    assert not (tmp_path / "video-incidents.json").exists()  # used once


class FailsOnce:
    """The real detector, failing once (say, onnxruntime out of memory): fault injection, not a mock."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.calls, self.labels = inner, 0, inner.labels

    def detect_batch(self, frames):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("injected inference failure")
        return self.inner.detect_batch(frames)


def test_a_failing_inference_is_counted_and_analysis_goes_on(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    cfg = parse_config(config(str(MEDIA / "street-parked-van.mp4"), tmp_path))
    out = Collect()
    flaky = FailsOnce(detector)
    svc = build_video_service(cfg, out, SystemClock(), tmp_path, detector=flaky)
    assert svc is not None
    svc.start()
    try:
        wait_for(lambda: flaky.calls >= 5, 30, "analysis to go on after the failure")
        h = svc.health()
    finally:
        svc.stop(5.0)
    assert h.ok and h.details["errors"] == 1 and "injected" in str(h.details["last_error"])


def test_corrupted_clip_replays_without_crashing(tmp_path: Path, detector) -> None:  # type: ignore[no-untyped-def]
    from edge_agent.video.replay import replay_clip

    data = bytearray((MEDIA / "street-parked-van.mp4").read_bytes())
    rng = __import__("random").Random(3)
    for _ in range(40):  # garbage over 40 spots of the H.264 payload
        at = rng.randrange(len(data) // 4, len(data) - 1000)
        data[at : at + 200] = bytes(rng.randrange(256) for _ in range(200))
    clip = tmp_path / "broken.mp4"
    clip.write_bytes(bytes(data))
    cfg = parse_config(config(str(clip), tmp_path))
    res = replay_clip(cfg, cfg.cameras[0], clip, tmp_path / "out", detector, progress=None, write_video=False)
    assert res.frames > 100 and (tmp_path / "out" / "events.jsonl").exists()


def short_clip(tmp_path: Path, frames: int) -> Path:
    """The first ``frames`` frames of the street clip, written as a 10 fps MP4."""
    import cv2

    src = cv2.VideoCapture(str(MEDIA / "street-parked-van.mp4"))
    clip = tmp_path / "short.mp4"
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (768, 576))
    for _ in range(frames):
        w.write(src.read()[1])
    w.release()
    return clip


def test_file_camera_loops_without_going_offline(tmp_path: Path) -> None:
    """A 2-second clip (written here from the street clip) keeps delivering frames past its end."""
    from edge_agent.video.frames import LatestSlot
    from edge_agent.video.sources import CameraReader, CameraStatus

    clip = short_clip(tmp_path, 20)
    out = Collect()
    status = CameraStatus("loop", out, SystemClock(), offline_after_s=0.5)
    reader = CameraReader("loop", str(clip), LatestSlot(), status, SystemClock(), loop=True)
    reader.start()
    try:
        wait_for(lambda: reader.frames_read >= 45, 30, "the clip to play more than twice")
    finally:
        reader.stop(5.0)
    assert reader.opens == 1 and status.online and out.events == []


def test_file_camera_without_loop_plays_once(tmp_path: Path) -> None:
    from edge_agent.video.frames import LatestSlot
    from edge_agent.video.sources import CameraReader, CameraStatus

    clip = short_clip(tmp_path, 10)
    out = Collect()
    status = CameraStatus("once", out, SystemClock(), offline_after_s=0.1)
    reader = CameraReader("once", str(clip), LatestSlot(), status, SystemClock(), loop=False)
    reader.start()
    wait_for(lambda: not reader.alive(), 30, "the reader to finish the file")
    assert reader.frames_read == 10 and reader.opens == 1 and out.events == []
