"""Camera sources: open RTSP/HTTP-MJPEG/file/V4L2 with OpenCV, and a reader thread per camera.

The reader decodes continuously and keeps only the newest frame in a :class:`LatestSlot` (an RTSP stream
that is not read falls behind and its buffer fills; a slot never does). A stream that fails to open,
stops delivering for ``stall_s`` or ends is released and reopened with exponential backoff; a camera down
longer than ``offline_after_s`` gets a ``camera_offline`` start event and, when frames flow again, its end.
A file plays at its native rate and loops (the demo's camera); replay reads files itself, as fast as it can.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from enum import Enum

import cv2

from edge_agent.clock import Clock
from edge_agent.events.model import EventSink, Phase, Severity, new_event, uuid7
from edge_agent.video.frames import Frame, LatestSlot

log = logging.getLogger("edge_agent.video.sources")


class SourceKind(str, Enum):
    RTSP = "rtsp"
    HTTP = "http"
    FILE = "file"
    DEVICE = "device"


def source_kind(url: str) -> SourceKind:
    low = url.lower()
    if low.startswith(("rtsp://", "rtsps://")):
        return SourceKind.RTSP
    if low.startswith(("http://", "https://")):
        return SourceKind.HTTP
    if low.startswith("/dev/video") or url.isdigit():
        return SourceKind.DEVICE
    return SourceKind.FILE


def open_capture(url: str, timeout_ms: int = 5000) -> cv2.VideoCapture:
    """An opened (or failed: check ``isOpened()``) capture with open/read timeouts where FFmpeg allows."""
    kind = source_kind(url)
    if kind == SourceKind.DEVICE:
        return cv2.VideoCapture(int(url) if url.isdigit() else url, cv2.CAP_V4L2)
    if kind == SourceKind.RTSP:
        # TCP interleaving survives NAT and loss better than UDP on cabinet links.
        os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
    # One decoding thread per camera: cameras already decode in parallel, and FFmpeg's frame threading
    # keeps a frame per thread in flight (measured ~10 MB less peak RSS with 4 cameras, same CPU).
    params = [
        *(cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms),
        *(cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms),
        *(cv2.CAP_PROP_N_THREADS, 1),
    ]
    return cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)


class CameraStatus:
    """Online/offline bookkeeping and its events; offline is announced only after ``offline_after_s``."""

    def __init__(self, camera: str, emit: EventSink, clock: Clock, offline_after_s: float) -> None:
        self.camera = camera
        self.emit = emit
        self.clock = clock
        self.offline_after_s = offline_after_s
        self.online = False
        self.down_since: float | None = clock.monotonic()
        self.incident: str | None = None
        self.reason = "not opened yet"

    def up(self) -> None:
        if self.incident is not None:
            down_s = self.clock.monotonic() - (self.down_since or self.clock.monotonic())
            self.emit(
                new_event(
                    "camera_offline",
                    self.camera,
                    self.clock.now(),
                    phase=Phase.END,
                    severity=Severity.WARNING,
                    body={"down_s": round(down_s, 1)},
                    incident=self.incident,
                )
            )
            log.info("camera %s back online after %.1f s", self.camera, down_s)
        self.online, self.down_since, self.incident = True, None, None

    def down(self, reason: str) -> None:
        if self.online or self.down_since is None:
            self.down_since = self.clock.monotonic()
            log.warning("camera %s down: %s", self.camera, reason)
        self.online = False
        self.reason = reason
        self.check()

    def check(self) -> None:
        """Announce offline once the camera has been down long enough (called while retrying)."""
        if self.online or self.incident is not None or self.down_since is None:
            return
        if self.clock.monotonic() - self.down_since >= self.offline_after_s:
            self.incident = uuid7(self.clock.now())
            self.emit(
                new_event(
                    "camera_offline",
                    self.camera,
                    self.clock.now(),
                    phase=Phase.START,
                    severity=Severity.WARNING,
                    body={"reason": self.reason[:80]},
                    incident=self.incident,
                )
            )


class CameraReader:
    """One thread per camera: decode, keep the latest frame, reconnect with backoff."""

    def __init__(
        self,
        camera: str,
        url: str,
        slot: LatestSlot,
        status: CameraStatus,
        clock: Clock,
        *,
        loop: bool = True,
        reconnect_min_s: float = 1.0,
        reconnect_max_s: float = 30.0,
        stall_s: float = 10.0,
        on_frame: Callable[[], None] | None = None,
    ) -> None:
        self.camera = camera
        self.url = url
        self.slot = slot
        self.status = status
        self.clock = clock
        self.loop = loop
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = min(max(reconnect_min_s, reconnect_max_s), 3600.0)
        self.stall_s = stall_s
        self.on_frame = on_frame
        self.kind = source_kind(url)
        self.frames_read = 0
        self.opens = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fps_t0 = time.monotonic()
        self._fps_n = 0
        self.fps = 0.0
        """Decoded frames per second over the last few seconds."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"cam-{self.camera}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout_s: float = 1.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("camera %s reader still blocked in a read; it exits at its timeout", self.camera)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        backoff = self.reconnect_min_s
        while not self._stop.is_set():
            cap = open_capture(self.url, int(self.stall_s * 1000))
            self.opens += 1
            if not cap.isOpened():
                cap.release()
                self.status.down(f"cannot open {self.kind.value} source")
            else:
                got = self._read_loop(cap)
                cap.release()
                if got:
                    backoff = self.reconnect_min_s
                if self._stop.is_set():
                    break
                if got and self.kind == SourceKind.FILE and not self.loop:
                    log.info("camera %s: file %s ended (loop: false)", self.camera, self.url)
                    self.status.online = False
                    break
                self.status.down("stream ended or stalled")
            self._wait(backoff)
            backoff = min(backoff * 2, self.reconnect_max_s)

    def _wait(self, seconds: float) -> None:
        """Sleep stop-aware, announcing offline when due."""
        end = time.monotonic() + seconds
        while not self._stop.is_set() and time.monotonic() < end:
            self.status.check()
            self._stop.wait(min(0.2, max(0.0, end - time.monotonic())))

    def _read_loop(self, cap: cv2.VideoCapture) -> int:
        """Read until the stream fails or we are stopped; returns how many frames were read.

        Every frame is grabbed (an H.264 decoder needs them all), but only those the analysis may take
        are retrieved (converted to BGR, copied): most of a reader's CPU and memory churn at 2 fps.
        """
        n = 0
        pace = self.kind == SourceKind.FILE
        src_fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        period_s = 1.0 / (src_fps if 0 < src_fps <= 120 else 10.0)
        next_t = time.monotonic()
        while not self._stop.is_set():
            ok = cap.grab()
            if not ok:
                if self.kind == SourceKind.FILE and self.loop and n > 0:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    ok = cap.grab()
                if not ok:
                    return n
            if pace:
                next_t += period_s
                delay = next_t - time.monotonic()
                if delay > 0:
                    if self._stop.wait(delay):
                        return n
                elif delay < -1.0:
                    next_t = time.monotonic()  # fell behind (slow disk, suspended): do not race to catch up
            if n == 0:
                self.status.up()
            n += 1
            self.frames_read += 1
            self._count_fps()
            lead_s = min(1.0, 1.5 / max(self.fps, 1.0))
            if time.monotonic() + lead_s < self.slot.wanted_from:
                continue
            ok, image = cap.retrieve()
            if not ok or image is None:
                continue
            self.slot.put(Frame(image, self.clock.now(), self.clock.monotonic(), self.frames_read))
            if self.on_frame is not None:
                self.on_frame()
        return n

    def _count_fps(self) -> None:
        self._fps_n += 1
        dt = time.monotonic() - self._fps_t0
        if dt >= 2.0:
            self.fps = self._fps_n / dt
            self._fps_t0, self._fps_n = time.monotonic(), 0
