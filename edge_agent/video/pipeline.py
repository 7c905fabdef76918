"""One camera's analysis: gate -> (detections) -> tracker -> zones -> occupation rules (+ static objects).

Shared by the daemon (frames from a reader thread, detections from the shared inference worker) and by
replay (frames from a file, clip time). The caller asks :meth:`CameraAnalysis.gate` first and runs the
detector only when it says DETECT; then hands the frame and the detections (or None) to :meth:`analyse`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from edge_agent.config.video import CameraConfig, VideoConfig
from edge_agent.events.model import Event, EventSink, Phase, Severity, new_event
from edge_agent.inference.detection import Detection
from edge_agent.video.frames import Frame
from edge_agent.video.gating import GateDecision, GateResult, MotionGate, small_grey
from edge_agent.video.occupation import UNKNOWN_OCC, Candidate, Incident, NBox, OccupationRules
from edge_agent.video.snapshot import snapshot_jpeg
from edge_agent.video.static_objects import StaticBlob, StaticObjectFinder
from edge_agent.video.tracker import Track, Tracker, suppress_cross_class
from edge_agent.video.zones import Zone


class BatchDetector(Protocol):
    """What the video side needs of the detector (edge_agent.inference.detector.Detector has it)."""

    labels: list[str]

    def detect_batch(self, frames: list[np.ndarray]) -> list[list[Detection]]: ...


@dataclass
class FrameReport:
    """What one analysed frame gave: for the annotated replay video and for counters."""

    frame: Frame
    decision: GateDecision
    detections: list[Detection] | None
    tracks: list[Track]
    blobs: list[StaticBlob]
    incidents: list[Incident]
    events: list[Event] = field(default_factory=list)


def _norm(box: tuple[float, float, float, float], w: int, h: int) -> NBox:
    return (
        min(1.0, max(0.0, box[0] / w)),
        min(1.0, max(0.0, box[1] / h)),
        min(1.0, max(0.0, box[2] / w)),
        min(1.0, max(0.0, box[3] / h)),
    )


class CameraAnalysis:
    """Owned by whichever single thread analyses this camera."""

    def __init__(self, cam: CameraConfig, vcfg: VideoConfig, emit: EventSink) -> None:
        self.cam = cam
        self.vcfg = vcfg
        self._emit_out = emit
        self.zones = [Zone.from_config(z, vcfg.grace_s, vcfg.update_s) for z in cam.zones]
        self.label_occ = {label: occ for occ, labels in vcfg.occupation_kinds.items() for label in labels}
        self.tracker = Tracker(vcfg.tracker)
        self._watched = {c for z in self.zones for c in z.classes}
        self.rules = OccupationRules(cam.id, self._emit)
        self.gate_: MotionGate | None = None
        self.static: StaticObjectFinder | None = None
        self._size: tuple[int, int] | None = None
        self._frame: Frame | None = None
        self._pending: list[Event] = []

    def occ_of(self, label: str) -> str:
        return self.label_occ.get(label, label)

    def _watch(self, ts: float) -> list[tuple[str, str, float, float, float]]:
        out: list[tuple[str, str, float, float, float]] = []
        for z in self.zones:
            if not z.active_at(ts):
                continue
            occs = sorted({self.occ_of(c) for c in z.classes})
            if z.static_objects:
                occs.append(UNKNOWN_OCC)
            out.extend((z.id, occ, z.dwell_s, z.grace_s, z.update_s) for occ in occs)
        return out

    def _setup(self, frame: Frame) -> None:
        w, h = frame.size
        self._size = (w, h)
        small = small_grey(frame.image, self.vcfg.motion.width_px)
        sh, sw = small.shape
        motion_mask = None
        if self.zones and self.vcfg.motion.zones_only:
            motion_mask = np.zeros((sh, sw), np.uint8)
            for z in self.zones:
                motion_mask |= z.mask(sw, sh, margin_frac=0.05)
        self.gate_ = MotionGate(self.vcfg.motion, motion_mask)
        static_zones = [z for z in self.zones if z.static_objects]
        if static_zones:
            m = np.zeros((sh, sw), np.uint8)
            for z in static_zones:
                m |= z.mask(sw, sh)
            self.static = StaticObjectFinder(self.vcfg.static_objects, m)

    def gate(self, frame: Frame) -> GateResult:
        if self.gate_ is None or self._size != frame.size:
            self._setup(frame)
        assert self.gate_ is not None
        return self.gate_.check(frame.image, frame.mono)

    def analyse(self, frame: Frame, gate: GateResult, dets: list[Detection] | None) -> FrameReport:
        now, ts = frame.mono, frame.ts
        w, h = frame.size
        self._frame = frame
        self._pending = []
        if gate.decision == GateDecision.SKIP:
            if self.static is not None:
                self.static.reset()
            return FrameReport(frame, gate.decision, None, [], [], self.incidents())
        if dets is not None:
            dets = suppress_cross_class([d for d in dets if d.score >= self.vcfg.min_score])
            tracks = self.tracker.update(dets, now)
            if self.gate_ is not None and any(
                t.hits < self.vcfg.tracker.min_hits and t.last_seen >= now and t.label in self._watched
                for t in self.tracker.tracks
            ):
                self.gate_.request_detection()
        else:
            self.tracker.hold(now)
            tracks = self.tracker.visible(now)
        cands: dict[tuple[str, str], list[Candidate]] = {}
        active = [z for z in self.zones if z.active_at(ts)]
        for t in tracks:
            det = t.as_detection()
            for z in active:
                if z.accepts(det, w, h):
                    c = Candidate(t.id, _norm(t.box, w, h), t.label, t.score, t.still_s(now))
                    cands.setdefault((z.id, self.occ_of(t.label)), []).append(c)
        blobs: list[StaticBlob] = []
        if self.static is not None:
            known = [_norm(t.box, w, h) for t in self.tracker.tracks]
            blobs = self.static.update(gate.grey, now, known)
            for b in blobs:
                bx, by = (b.box[0] + b.box[2]) / 2, b.box[3]
                for z in active:
                    if z.static_objects and z.contains(bx, min(by, 1.0)):
                        c = Candidate(-b.key, b.box, "unknown", 1.0, b.age_s(now))
                        cands.setdefault((z.id, UNKNOWN_OCC), []).append(c)
        self.rules.observe(cands, self._watch(ts), now, ts)
        return FrameReport(frame, gate.decision, dets, tracks, blobs, self.incidents(), self._pending)

    def incidents(self) -> list[Incident]:
        return list(self.rules.open.values())

    def finish(self, reason: str) -> list[Event]:
        """End every open incident (end of a replayed clip)."""
        self._pending = []
        if self._frame is not None:
            self.rules.close_all(self._frame.mono, self._frame.ts, reason)
        return self._pending

    # ------------------------------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        self._pending.append(event)
        self._emit_out(event)
        snap = self.vcfg.snapshots
        if snap.enabled and event.phase == Phase.START and self._frame is not None:
            persons = [t.box for t in self.tracker.tracks if t.label == "person"]
            boxes = [(x, y, x + w, y + h) for x, y, w, h in event.body.get("boxes", [])]
            jpeg = snapshot_jpeg(self._frame.image, boxes, persons, snap)
            s = new_event(
                "snapshot",
                self.cam.id,
                event.ts,
                severity=Severity.DEBUG,  # dropped first when the outbox is full
                body={"inc": event.incident, "jpeg_b64": base64.b64encode(jpeg).decode("ascii")},
                incident=event.incident,
            )
            self._pending.append(s)
            self._emit_out(s)
