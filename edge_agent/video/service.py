"""Builds the video side from config: one reader per camera, one inference worker, zones and rules.

Threads: each camera's reader decodes into its latest-value slot; one analysis worker takes, at most at each
camera's ``analysis_fps``, the newest frame of every camera, gates it, runs the frames that need it through
the shared detector in one batch, then tracks and applies the rules (which emit events). The worker is the
only thread that touches a camera's analysis state.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.config.video import CameraConfig
from edge_agent.events.model import EventSink
from edge_agent.service import Health
from edge_agent.video import metrics as m
from edge_agent.video.frames import Frame, LatestSlot
from edge_agent.video.gating import GateDecision, GateResult
from edge_agent.video.pipeline import BatchDetector, CameraAnalysis
from edge_agent.video.sources import CameraReader, CameraStatus

log = logging.getLogger("edge_agent.video")


@dataclass
class CameraRuntime:
    cfg: CameraConfig
    slot: LatestSlot
    status: CameraStatus
    reader: CameraReader
    analysis: CameraAnalysis
    next_due: float = 0.0
    analysed: int = 0
    detected: int = 0
    held: int = 0
    skipped: int = 0
    dropped_seen: int = 0
    times: list[float] = field(default_factory=list)
    """When frames were analysed over the last 10 s: written by the worker only, read by health()."""

    def note_analysed(self, now: float) -> None:
        self.analysed += 1
        self.times = [t for t in self.times if now - t <= 10.0] + [now]

    def analysis_fps(self, now: float) -> float:
        recent = [t for t in self.times if now - t <= 10.0]  # self.times is replaced, never mutated
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])


class VideoService:
    name = "video"

    def __init__(
        self, cams: list[CameraRuntime], detector: BatchDetector, clock: Clock, state_path: Path | None = None
    ) -> None:
        self.cams = cams
        self.state_path = state_path
        self.detector = detector
        self.clock = clock
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None
        self.detect_times: list[float] = []
        self.inferences = 0
        self.last_error: str | None = None
        self.errors = 0
        for c in cams:
            c.reader.on_frame = self._wake.set

    def start(self) -> None:
        self._stop.clear()
        self.restore_incidents()
        for c in self.cams:
            c.reader.start()
        self._worker = threading.Thread(target=self._run, name="video-analysis", daemon=True)
        self._worker.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask every thread at once, then wait for them (normally well under a second: one inference and
        one frame read). Uses the whole ``timeout_s`` if needed: a thread still inside onnxruntime or
        FFmpeg when the interpreter exits aborts the process."""
        self._stop.set()
        self._wake.set()
        for c in self.cams:
            c.reader.request_stop()
        deadline = time.monotonic() + timeout_s
        for c in self.cams:
            c.reader.stop(max(0.05, deadline - time.monotonic()))
        if self._worker is not None:
            self._worker.join(max(0.05, deadline - time.monotonic()))
            if self._worker.is_alive():
                log.warning("video analysis still busy at stop; open incidents not saved")
                return
        self.save_incidents()

    def save_incidents(self) -> None:
        """Write open incidents so a restart or reload continues them instead of starting new ones."""
        if self.state_path is None:
            return
        now, ts = self.clock.monotonic(), self.clock.now()
        state = {"saved_ts": ts, "cameras": {c.cfg.id: c.analysis.rules.save(now, ts) for c in self.cams}}
        tmp = self.state_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(state), encoding="utf-8")
            os.replace(tmp, self.state_path)
        except OSError as exc:
            log.warning("cannot save open incidents to %s: %s", self.state_path, exc)

    def restore_incidents(self) -> None:
        if self.state_path is None or not self.state_path.exists():
            return
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            saved = dict(state["cameras"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.state_path, exc)
            return
        # Used once: after a crash (no save) an old file must not revive incidents already ended.
        self.state_path.unlink(missing_ok=True)
        now, ts = self.clock.monotonic(), self.clock.now()
        for c in self.cams:
            items = saved.get(c.cfg.id)
            if isinstance(items, list) and items:
                n = c.analysis.rules.restore(items, now, ts)
                log.info("camera %s: continuing %d open incident(s)", c.cfg.id, n)

    def health(self) -> Health:
        now = time.monotonic()
        live = sum(1 for c in self.cams if c.status.online)
        fps = sum(c.analysis_fps(now) for c in self.cams)
        worker_ok = self._worker is not None and self._worker.is_alive()
        details: dict[str, object] = {
            c.cfg.id: {
                "online": c.status.online,
                "decode_fps": round(c.reader.fps, 1),
                "analysed": c.analysed,
                "detected": c.detected,
                "held": c.held,
                "skipped": c.skipped,
                "dropped": c.slot.overwritten,
                "open_incidents": len(c.analysis.rules.open),
            }
            for c in self.cams
        }
        if self.last_error:
            details["last_error"] = self.last_error
            details["errors"] = self.errors
        summary = f"{live}/{len(self.cams)} cameras live, {fps:.1f} fps"
        # A camera being down is reported by events, not by withholding the watchdog: restarting the
        # daemon would not bring a camera back. A dead analysis worker would: that is unhealthy.
        return Health(worker_ok, summary if worker_ok else f"analysis stopped; {summary}", details)

    # the analysis worker -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the turn: a frame arriving during it wakes the next wait at once
            try:
                busy = self._turn()
            except Exception as exc:  # one bad frame must not end the analysis of every camera
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.errors += 1
                m.ANALYSIS_ERRORS.inc()
                log.exception("video analysis turn failed")
                busy = False
            if not busy:
                self._wake.wait(0.05)

    def _turn(self) -> bool:
        """Take due frames from every camera, gate them, detect in one batch, analyse. True if any work."""
        now = time.monotonic()
        todo: list[tuple[CameraRuntime, Frame, GateResult]] = []
        worked = False
        for c in self.cams:
            m.CAMERA_FPS.labels(c.cfg.id).set(c.reader.fps)
            m.CAMERA_UP.labels(c.cfg.id).set(1 if c.status.online else 0)
            if now < c.next_due:
                continue
            frame = c.slot.take()
            if frame is None:
                continue
            worked = True
            c.next_due = max(c.next_due + 1.0 / c.cfg.analysis_fps, now)
            c.slot.wanted_from = c.next_due
            c.note_analysed(now)
            dropped = c.slot.overwritten - c.dropped_seen
            if dropped:
                m.FRAMES.labels(c.cfg.id, "dropped").inc(dropped)
                c.dropped_seen = c.slot.overwritten
            gate = c.analysis.gate(frame)
            if gate.decision == GateDecision.DETECT:
                todo.append((c, frame, gate))
                continue
            if gate.decision == GateDecision.HOLD:
                c.held += 1
            else:
                c.skipped += 1
            m.FRAMES.labels(c.cfg.id, gate.decision.value).inc()
            c.analysis.analyse(frame, gate, None)
        if todo:
            t0 = time.perf_counter()
            results = self.detector.detect_batch([f.image for _, f, _ in todo])
            ms = (time.perf_counter() - t0) * 1000
            m.INFERENCE_MS.observe(ms)
            m.BATCH_SIZE.observe(len(todo))
            self.inferences += len(todo)
            t = time.monotonic()
            self.detect_times = [x for x in self.detect_times if t - x <= 10.0] + [t] * len(todo)
            span = t - self.detect_times[0]
            m.DETECT_FPS.set(len(self.detect_times) / span if span > 0 else 0.0)
            for (c, frame, gate), dets in zip(todo, results, strict=True):
                c.detected += 1
                m.FRAMES.labels(c.cfg.id, "detect").inc()
                c.analysis.analyse(frame, gate, dets)
        return worked


def unknown_zone_classes(cfg: AgentConfig, labels: list[str]) -> list[str]:
    """Zone classes the model has no label for (a typo such as ``cars`` would silently never match).

    One message per problem, ``cameras[i].zones[j].classes: ...``; for the daemon's preflight to refuse.
    """
    known = set(labels)
    out = []
    for i, cam in enumerate(cfg.cameras):
        for j, z in enumerate(cam.zones):
            bad = sorted(set(z.classes) - known)
            if bad:
                out.append(f"cameras[{i}].zones[{j}].classes: {bad} not among the detector's labels")
    return out


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas (like ``MALLOC_ARENA_MAX``) before the camera threads start.

    glibc gives threads that contend for the allocator arenas of their own (up to 8 per core); with readers
    allocating frame buffers and onnxruntime allocating tensors, peak RSS then grows with the machine's
    load (measured: ~250 MB quiet, ~450 MB busy with 4 cameras). Returns False where this is not glibc.
    """
    if arenas <= 0:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-8, arenas))  # M_ARENA_MAX
    except (OSError, AttributeError):
        return False


def build_video_service(
    cfg: AgentConfig,
    emit: EventSink,
    clock: Clock,
    state_dir: Path,
    detector: BatchDetector | None = None,
) -> VideoService | None:
    """The video service for the config's cameras (None without cameras); loads the shared detector."""
    if not cfg.cameras:
        return None
    if detector is None:
        from edge_agent.inference.detector import load_detector

        detector = load_detector(cfg.detector)
    for problem in unknown_zone_classes(cfg, list(detector.labels)):
        log.warning("%s: the zone will never see them", problem)
    v = cfg.video
    limit_malloc_arenas(v.malloc_arena_max)
    cams = []
    for cam in cfg.cameras:
        slot = LatestSlot()
        status = CameraStatus(cam.id, emit, clock, v.offline_after_s)
        reader = CameraReader(
            cam.id,
            cam.url,
            slot,
            status,
            clock,
            loop=cam.loop,
            reconnect_min_s=v.reconnect_min_s,
            reconnect_max_s=v.reconnect_max_s,
            stall_s=v.stall_s,
        )
        cams.append(CameraRuntime(cam, slot, status, reader, CameraAnalysis(cam, v, emit)))
    return VideoService(cams, detector, clock, state_dir / "video-incidents.json")
