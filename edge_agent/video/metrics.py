"""Prometheus metrics of the video side (served by edge_agent.metrics when enabled)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CAMERA_FPS = Gauge("edge_video_camera_fps", "Frames decoded per second", ["camera"])
CAMERA_UP = Gauge("edge_video_camera_up", "1 while the camera delivers frames", ["camera"])
FRAMES = Counter(
    "edge_video_frames_total",
    "Frames by what became of them: detected, held (no motion), skipped (global change), dropped (rate cap "
    "or analysis busy)",
    ["camera", "outcome"],
)
DETECT_FPS = Gauge("edge_video_detection_fps", "Frames through the detector per second, all cameras")
INFERENCE_MS = Histogram(
    "edge_video_inference_ms",
    "Detector time per batch (ms)",
    buckets=(5, 10, 20, 40, 80, 160, 320, 640, 1280),
)
BATCH_SIZE = Histogram("edge_video_batch_frames", "Frames per detector batch", buckets=(1, 2, 3, 4, 6, 8))
ANALYSIS_ERRORS = Counter(
    "edge_video_analysis_errors_total",
    "Analysis turns that failed (logged with a traceback; analysis goes on)",
)
