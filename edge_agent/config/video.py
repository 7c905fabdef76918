"""Config of cameras, their zones and the road-occupation rules."""

from __future__ import annotations

from pydantic import Field, field_validator

from edge_agent.config.base import StrictModel


class ZoneConfig(StrictModel):
    id: str = Field(min_length=1, description="Zone name used in events.")
    polygon: list[tuple[float, float]] = Field(description="Polygon in normalised [0,1] image coordinates.")
    classes: list[str] = Field(
        default_factory=lambda: ["car", "truck", "bus"], description="COCO labels watched."
    )
    dwell_s: float = Field(60.0, gt=0, description="How long objects must stay before an incident starts.")

    @field_validator("polygon")
    @classmethod
    def _polygon(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len(v) < 3:
            raise ValueError("needs at least 3 points")
        for x, y in v:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"point ({x}, {y}) is outside [0, 1]")
        return v


class CameraConfig(StrictModel):
    id: str = Field(min_length=1, description="Camera name used in events.")
    url: str = Field(description="rtsp://..., http://... (MJPEG), a file path, or /dev/videoN.")
    analysis_fps: float = Field(2.0, gt=0, le=30, description="Most frames analysed per second.")
    zones: list[ZoneConfig] = Field(default_factory=list, description="No-occupation zones.")


class VideoConfig(StrictModel):
    """Video settings shared by every camera."""
