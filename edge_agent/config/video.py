"""Config of cameras, their zones and the road-occupation rules.

Per-camera things (where the stream is, its zones) live on the camera; how the pipeline judges frames
(motion gating, tracking, incident timing, static objects, snapshots) is shared in the ``video`` section,
and a zone may override the timings that installers tune most (dwell, grace, update period).
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator, model_validator

from edge_agent.config.base import StrictModel, resolve_path

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")

DEFAULT_OCCUPATION_KINDS: dict[str, list[str]] = {
    "vehicle": ["car", "truck", "bus", "motorcycle", "bicycle"],
    "person": ["person"],
    "goods": ["suitcase", "chair", "bench", "umbrella", "potted plant", "dining table", "backpack"],
}


class ZoneConfig(StrictModel):
    id: str = Field(min_length=1, description="Zone name used in events.")
    polygon: list[tuple[float, float]] = Field(description="Polygon in normalised [0,1] image coordinates.")
    classes: list[str] = Field(
        default_factory=lambda: ["car", "truck", "bus"],
        description="COCO labels watched in this zone (tested on the box's bottom-centre).",
    )
    dwell_s: float = Field(60.0, gt=0, description="How long an object must stay before an incident starts.")
    grace_s: float | None = Field(
        None, gt=0, description="Absence that ends an incident; default: video.grace_s."
    )
    update_s: float | None = Field(
        None, gt=0, description="Period of update events while an incident lasts; default: video.update_s."
    )
    min_box_frac: float = Field(
        0.0005,
        ge=0,
        le=1,
        description="Smallest box counted, as a share of the frame area (ignores far-away specks).",
    )
    active_hours: list[str] = Field(
        default_factory=list,
        description="Local-time windows 'HH:MM-HH:MM' when the zone is watched (may cross midnight); "
        "empty = always.",
    )
    static_objects: bool = Field(
        False,
        description="Also report class-agnostic static objects (piled goods) as unknown_object.",
    )

    @field_validator("polygon")
    @classmethod
    def _polygon(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len(v) < 3:
            raise ValueError("needs at least 3 points")
        for x, y in v:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"point ({x}, {y}) is outside [0, 1]")
        return v

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, v: list[str]) -> list[str]:
        for w in v:
            if not _HOURS.match(w):
                raise ValueError(f"{w!r} is not 'HH:MM-HH:MM'")
        return v


class CameraConfig(StrictModel):
    id: str = Field(min_length=1, description="Camera name used in events.")
    url: str = Field(
        description="rtsp://..., http://... (MJPEG), a file path (relative to the config file), "
        "or /dev/videoN (V4L2)."
    )
    analysis_fps: float = Field(2.0, gt=0, le=30, description="Most frames analysed per second.")
    loop: bool = Field(True, description="Files only: start again at the end (the demo's endless camera).")
    zones: list[ZoneConfig] = Field(default_factory=list, description="No-occupation zones.")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str, info: ValidationInfo) -> str:
        if "://" in v or v.startswith("/dev/") or v.isdigit():
            return v
        # A missing file is not refused here (it may be mounted later); the camera reports it offline.
        return str(resolve_path(Path(v), info))

    @model_validator(mode="after")
    def _unique_zones(self) -> CameraConfig:
        ids = [z.id for z in self.zones]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate zone id(s) {sorted(dup)}")
        return self


class MotionConfig(StrictModel):
    width_px: int = Field(
        160, ge=32, le=640, description="Width of the small grey frame motion is judged on."
    )
    pixel_threshold: int = Field(
        25, ge=1, le=255, description="Grey-level change that makes a pixel count as moving."
    )
    min_area_frac: float = Field(
        0.002, ge=0, le=1, description="Share of the watched area that must move to run the detector."
    )
    global_change_frac: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of the whole frame changing at once that means lights/IR switch: frame skipped.",
    )
    zones_only: bool = Field(
        True, description="Judge motion only inside the zones (plus a margin) when the camera has zones."
    )
    force_detect_s: float = Field(
        5.0, gt=0, description="Run the detector at least this often even without motion."
    )


class TrackerConfig(StrictModel):
    iou_match: float = Field(0.2, gt=0, lt=1, description="Least IoU for a detection to continue a track.")
    max_missing_s: float = Field(
        8.0, gt=0, description="How long a track survives without detections (flicker, brief occlusion)."
    )
    min_hits: int = Field(2, ge=1, description="Detections before a track counts (drops one-frame ghosts).")
    still_move_frac: float = Field(
        0.5,
        gt=0,
        description="Bottom-centre movement, in box heights, that restarts a track's dwell (it moved on).",
    )


class StaticObjectConfig(StrictModel):
    fast_tau_s: float = Field(10.0, gt=0, description="Time constant of the fast background model.")
    slow_tau_s: float = Field(600.0, gt=0, description="Time constant of the slow background model.")
    diff_threshold: int = Field(30, ge=1, le=255, description="Grey-level difference between the two models.")
    min_area_frac: float = Field(
        0.001, gt=0, le=1, description="Smallest static blob, as a share of the frame area."
    )
    confirm_s: float = Field(30.0, gt=0, description="How long a blob must persist to be an object.")


class SnapshotConfig(StrictModel):
    enabled: bool = Field(False, description="Send a JPEG of each incident start (privacy: off by default).")
    width_px: int = Field(640, ge=64, le=1920, description="Width the snapshot is scaled to.")
    jpeg_quality: int = Field(70, ge=10, le=95, description="JPEG quality.")
    blur_persons: bool = Field(True, description="Blur every detected person before encoding.")


class VideoConfig(StrictModel):
    """Video settings shared by every camera."""

    grace_s: float = Field(
        30.0, gt=0, description="Absence (no object of the kind in the zone) that ends an incident."
    )
    update_s: float = Field(60.0, gt=0, description="Period of update events while an incident lasts.")
    min_score: float = Field(0.3, ge=0, le=1, description="Least detector score used at all.")
    occupation_kinds: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_OCCUPATION_KINDS.items()},
        description="Kinds of occupation and their COCO labels: one incident per zone and kind.",
    )
    reconnect_min_s: float = Field(1.0, gt=0, description="First wait before reopening a failed stream.")
    reconnect_max_s: float = Field(30.0, gt=0, description="Longest wait between reopen attempts (backoff).")
    stall_s: float = Field(
        10.0, gt=0, description="No frame for this long means the stream stalled: reopen, camera offline."
    )
    offline_after_s: float = Field(
        15.0, ge=0, description="A camera down this long gets a camera_offline event (brief drops do not)."
    )
    malloc_arena_max: int = Field(
        2,
        ge=0,
        le=64,
        description="Cap on glibc malloc arenas set when cameras start (peak memory under load); 0 = leave.",
    )
    motion: MotionConfig = Field(default_factory=MotionConfig)  # type: ignore[arg-type]
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)  # type: ignore[arg-type]
    static_objects: StaticObjectConfig = Field(default_factory=StaticObjectConfig)  # type: ignore[arg-type]
    snapshots: SnapshotConfig = Field(default_factory=SnapshotConfig)  # type: ignore[arg-type]
