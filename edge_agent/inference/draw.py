"""Draw detections on a frame (for `edge-agent detect --out` and incident snapshots)."""

from __future__ import annotations

import cv2
import numpy as np

from edge_agent.inference.detection import Detection


def colour_for(class_id: int) -> tuple[int, int, int]:
    """A stable, well-spread BGR colour per class (golden-ratio hue steps)."""
    hue = int((class_id * 0.618033988749895 % 1.0) * 179)
    hsv = np.array([[[hue, 200, 255]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def draw_detections(frame_bgr: np.ndarray, detections: list[Detection]) -> np.ndarray:
    """A copy of the frame with each box, its label and its score."""
    out = frame_bgr.copy()
    thick = max(1, round(min(out.shape[:2]) / 300))
    scale = max(0.4, min(out.shape[:2]) / 900)
    for d in detections:
        c = colour_for(d.class_id)
        p1, p2 = (round(d.x1), round(d.y1)), (round(d.x2), round(d.y2))
        cv2.rectangle(out, p1, p2, c, thick)
        text = f"{d.label} {d.score:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        y = p1[1] - 2 if p1[1] - th - base - 2 >= 0 else p1[1] + th + base + 2
        x = max(0, min(p1[0], out.shape[1] - tw - 2))  # keep the label inside the picture
        cv2.rectangle(out, (x, y - th - base), (x + tw + 2, y + 1), c, -1)
        cv2.putText(
            out, text, (x + 1, y - base + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA
        )
    return out
