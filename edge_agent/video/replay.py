"""Replay a recorded clip through one camera's analysis, as fast as the machine allows, in the clip's time.

What a technician runs to tune zones and thresholds: the same gate, detector, tracker and rules as the
daemon (the camera's zones and the video section of the config), with a :class:`SimClock` following the
clip's own timestamps. Outputs: ``events.jsonl`` (one event per line), ``annotated.mp4`` (every frame, with
the latest analysis drawn) and ``contact-sheet.png`` (the frames where incidents started and ended).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import cv2
import numpy as np

from edge_agent.clock import SimClock
from edge_agent.config import AgentConfig
from edge_agent.config.video import CameraConfig
from edge_agent.events.model import Event, Phase
from edge_agent.video.annotate import contact_sheet, draw
from edge_agent.video.frames import Frame
from edge_agent.video.gating import GateDecision
from edge_agent.video.pipeline import BatchDetector, CameraAnalysis, FrameReport

INCIDENT_KINDS = ("road_occupation", "unknown_object")


class ReplayError(Exception):
    """A clip or camera that cannot be replayed (message says why)."""


@dataclass
class ReplayResult:
    frames: int = 0
    analysed: int = 0
    detected: int = 0
    events: list[Event] = field(default_factory=list)
    wall_s: float = 0.0
    clip_s: float = 0.0
    size: tuple[int, int] = (0, 0)


def event_json(e: Event) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "source": e.source,
        "phase": e.phase.value,
        "ts": round(e.ts, 3),
        "severity": e.severity.name.lower(),
        "incident": e.incident,
        "body": e.body,
    }


def pick_camera(cfg: AgentConfig, name: str | None) -> CameraConfig:
    if name is None:
        if len(cfg.cameras) == 1:
            return cfg.cameras[0]
        ids = [c.id for c in cfg.cameras]
        raise ReplayError(
            f"the config has {len(ids)} cameras {ids}: say which with --camera"
            if ids
            else "the config has no cameras: add one with zones (see docs/video.md)"
        )
    for c in cfg.cameras:
        if c.id == name:
            return c
    raise ReplayError(f"no camera {name!r} in the config (have {[c.id for c in cfg.cameras]})")


class _Progress:
    def __init__(self, total: int, out: TextIO | None) -> None:
        self.total, self.out = total, out
        self.t0 = time.monotonic()
        self.last = 0.0

    def show(self, n: int, final: bool = False) -> None:
        if self.out is None:
            return
        now = time.monotonic()
        if not final and now - self.last < 0.25:
            return
        self.last = now
        frac = min(1.0, n / self.total) if self.total > 0 else 0.0
        bar = "#" * int(frac * 30)
        fps = n / max(1e-6, now - self.t0)
        total = self.total if self.total > 0 else "?"
        self.out.write(f"\rreplay [{bar:<30}] {n}/{total} frames {fps:5.1f} fps")
        if final:
            self.out.write("\n")
        self.out.flush()


def replay_clip(
    cfg: AgentConfig,
    camera: CameraConfig,
    clip: Path,
    out_dir: Path,
    detector: BatchDetector,
    *,
    start_ts: float | None = None,
    progress: TextIO | None = sys.stderr,
    write_video: bool = True,
) -> ReplayResult:
    cap = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise ReplayError(f"cannot open clip {clip} (not a video OpenCV's FFmpeg can read?)")
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    if not 0 < fps <= 240:
        fps = 10.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    if start_ts is None:
        start_ts = clip.stat().st_mtime - total / fps
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = SimClock(start_ts)
    res = ReplayResult()
    events_path = out_dir / "events.jsonl"
    tmp_events = events_path.with_suffix(".jsonl.part")
    sheet: list[tuple[np.ndarray, str]] = []
    writer: cv2.VideoWriter | None = None
    with open(tmp_events, "w", encoding="utf-8") as ev_file:

        def emit(e: Event) -> None:
            res.events.append(e)
            ev_file.write(json.dumps(event_json(e), separators=(",", ":")) + "\n")

        analysis = CameraAnalysis(camera, cfg.video, emit)
        bar = _Progress(total, progress)
        report: FrameReport | None = None
        next_due = 0.0
        period = 1.0 / camera.analysis_fps
        t_wall = time.monotonic()
        image: np.ndarray | None = None
        while True:
            ok, image_ = cap.read()
            if not ok or image_ is None:
                break
            image = image_
            t_clip = res.frames / fps  # frame index, not CAP_PROP_POS_MSEC: robust to odd timestamps
            clock.set(start_ts + t_clip)
            res.frames += 1
            res.size = (image.shape[1], image.shape[0])
            if t_clip + 1e-9 >= next_due:
                next_due = max(next_due + period, t_clip)
                frame = Frame(image, clock.now(), clock.monotonic(), res.frames)
                gate = analysis.gate(frame)
                dets = None
                if gate.decision == GateDecision.DETECT:
                    dets = detector.detect_batch([image])[0]
                    res.detected += 1
                report = analysis.analyse(frame, gate, dets)
                res.analysed += 1
                new = [e for e in report.events if e.kind in INCIDENT_KINDS and e.phase != Phase.UPDATE]
            else:
                new = []
            if write_video or new:
                annotated = draw(image, report, analysis.zones, clock.now())
                if write_video:
                    if writer is None:
                        writer = _open_writer(out_dir / "annotated.mp4", fps, res.size)
                    writer.write(annotated)
                for e in new:
                    sheet.append((annotated, _caption(e, t_clip)))
            bar.show(res.frames)
        for e in analysis.finish("clip_end"):
            if e.kind in INCIDENT_KINDS and image is not None:
                annotated = draw(image, report, analysis.zones, clock.now())
                sheet.append((annotated, _caption(e, res.frames / fps)))
        bar.show(res.frames, final=True)
    cap.release()
    if writer is not None:
        writer.release()
    tmp_events.replace(events_path)
    cv2.imwrite(str(out_dir / "contact-sheet.png"), contact_sheet(sheet))
    res.wall_s = time.monotonic() - t_wall
    res.clip_s = res.frames / fps
    return res


def _caption(e: Event, t_clip: float) -> str:
    b = e.body
    return f"{t_clip:5.1f}s {e.phase.value} {e.kind} {b.get('zone')} {b.get('occ')} {b.get('duration_s')}s"


def _open_writer(path: Path, fps: float, size: tuple[int, int]) -> cv2.VideoWriter:
    """H.264 when this OpenCV build has an encoder for it, else MPEG-4 part 2 (plays everywhere but browsers)."""
    for fourcc in ("avc1", "mp4v"):
        w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, size)
        if w.isOpened():
            return w
        w.release()
    raise ReplayError(f"cannot write {path}: no MP4 encoder in this OpenCV build")
