"""Class-agnostic static objects (piled goods, a stall no COCO class names) from two background models.

A fast background (time constant ``fast_tau_s``) absorbs anything that stops moving within seconds; a slow one
(``slow_tau_s``, minutes) still remembers the empty street. Where they differ and the current frame agrees
with the fast one, something new has arrived and stays still. A blob must persist ``confirm_s`` before it is
reported, and blobs on a tracked detector object (a parked car) are left to the class-aware rules. The slow
model stops learning under a confirmed object, so goods left for hours are not absorbed and their removal
is seen (the fast model returns to the empty street, matching the slow one again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge_agent.config.video import StaticObjectConfig

NBox = tuple[float, float, float, float]


@dataclass
class StaticBlob:
    key: int
    box: NBox
    first_seen: float
    last_seen: float

    def age_s(self, now: float) -> float:
        return now - self.first_seen


def _overlap(a: NBox, b: NBox) -> float:
    """Share of ``a`` covered by ``b``."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = max(1e-9, (a[2] - a[0]) * (a[3] - a[1]))
    return ix * iy / area


class StaticObjectFinder:
    """One per camera with static-object zones; fed the gate's small grey frame; not thread-safe."""

    def __init__(self, cfg: StaticObjectConfig, watch_mask: np.ndarray | None = None) -> None:
        self.cfg = cfg
        self._mask = watch_mask
        self._fast: np.ndarray | None = None
        self._slow: np.ndarray | None = None
        self._last: float | None = None
        self.blobs: list[StaticBlob] = []
        self._next = 1
        self.static_mask: np.ndarray | None = None

    def reset(self) -> None:
        """A global change (lights): relearn both models from the next frame."""
        self._fast = self._slow = None
        self.blobs = []

    def update(self, grey: np.ndarray, now: float, known: list[NBox]) -> list[StaticBlob]:
        """Feed one analysed frame; returns the blobs persisting at least ``confirm_s``."""
        g = grey.astype(np.float32)
        if self._fast is None or self._slow is None or self._fast.shape != g.shape:
            self._fast, self._slow, self._last = g.copy(), g.copy(), now
            return []
        dt = max(0.0, now - (self._last or now))
        self._last = now
        a_fast = 1.0 - math.exp(-dt / self.cfg.fast_tau_s)
        a_slow = 1.0 - math.exp(-dt / self.cfg.slow_tau_s)
        cv2.accumulateWeighted(g, self._fast, a_fast)
        thr = self.cfg.diff_threshold
        settled = cv2.absdiff(g, self._fast) < thr
        changed = cv2.absdiff(self._fast, self._slow) > thr
        static: np.ndarray = (settled & changed).astype(np.uint8) * 255
        if self._mask is not None and self._mask.shape == static.shape:
            static &= self._mask
        static = cv2.morphologyEx(static, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        static = cv2.dilate(static, np.ones((3, 3), np.uint8))
        self.static_mask = static
        h, w = static.shape
        confirmed = [b for b in self.blobs if b.age_s(now) >= self.cfg.confirm_s]
        learn = np.full(static.shape, 255, np.uint8)
        for b in confirmed:
            x1, y1, x2, y2 = (
                int(b.box[0] * w),
                int(b.box[1] * h),
                int(b.box[2] * w) + 1,
                int(b.box[3] * h) + 1,
            )
            learn[y1:y2, x1:x2] = 0
        cv2.accumulateWeighted(g, self._slow, a_slow, mask=learn)
        n, _, stats, _ = cv2.connectedComponentsWithStats(static, connectivity=8)
        min_px = self.cfg.min_area_frac * w * h
        seen: list[NBox] = []
        for i in range(1, n):
            x, y, bw, bh, area = (int(v) for v in stats[i])
            if area < min_px:
                continue
            box = (x / w, y / h, (x + bw) / w, (y + bh) / h)
            if any(_overlap(box, k) > 0.5 for k in known):
                continue
            seen.append(box)
        self._match(seen, now)
        return [b for b in self.blobs if b.age_s(now) >= self.cfg.confirm_s]

    def _match(self, boxes: list[NBox], now: float) -> None:
        from edge_agent.video.tracker import iou

        kept: list[StaticBlob] = []
        free = list(boxes)
        for b in self.blobs:
            best = max(free, key=lambda x: iou(b.box, x), default=None)
            if best is not None and iou(b.box, best) >= 0.3:
                free.remove(best)
                b.box, b.last_seen = best, now
            if now - b.last_seen <= 2.0 * max(1.0, self.cfg.fast_tau_s / 5):
                kept.append(b)
        for box in free:
            kept.append(StaticBlob(self._next, box, now, now))
            self._next += 1
        self.blobs = kept
