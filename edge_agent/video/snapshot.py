"""Incident snapshots: a JPEG of the frame with the incident boxes outlined and every person blurred.

Off by default (privacy); when on, persons are blurred *before* encoding, so no face leaves the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from edge_agent.config.video import SnapshotConfig


def blur_boxes(image: np.ndarray, boxes_px: Sequence[Sequence[float]]) -> np.ndarray:
    """A copy of ``image`` with each pixel box heavily blurred (kernel scaled to the box)."""
    out = image.copy()
    h, w = out.shape[:2]
    for b in boxes_px:
        x1, y1 = max(0, int(b[0])), max(0, int(b[1]))
        x2, y2 = min(w, int(np.ceil(b[2]))), min(h, int(np.ceil(b[3])))
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        k = max(3, (min(x2 - x1, y2 - y1) // 3) | 1)
        roi = out[y1:y2, x1:x2]
        small = cv2.resize(
            roi, (max(1, (x2 - x1) // 8), max(1, (y2 - y1) // 8)), interpolation=cv2.INTER_AREA
        )
        out[y1:y2, x1:x2] = cv2.GaussianBlur(
            cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR), (k, k), 0
        )
    return out


def snapshot_jpeg(
    image: np.ndarray,
    boxes_norm: Sequence[Sequence[float]],
    persons_px: Sequence[Sequence[float]],
    cfg: SnapshotConfig,
) -> bytes:
    img = blur_boxes(image, persons_px) if cfg.blur_persons else image.copy()
    h, w = img.shape[:2]
    for b in boxes_norm:
        cv2.rectangle(img, (int(b[0] * w), int(b[1] * h)), (int(b[2] * w), int(b[3] * h)), (0, 0, 255), 2)
    if w > cfg.width_px:
        img = cv2.resize(img, (cfg.width_px, round(h * cfg.width_px / w)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(buf)
