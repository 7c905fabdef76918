"""Zones: normalised polygons tested on a box's bottom-centre (where the object touches the ground).

The bottom-centre test is what camera NVRs converged on: a tall box of a person standing *behind* a zone
overlaps it in the image, but their feet are not in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import cv2
import numpy as np

from edge_agent.config.video import ZoneConfig
from edge_agent.inference.detection import Detection


def _parse_hours(windows: list[str]) -> list[tuple[int, int]]:
    out = []
    for w in windows:
        a, b = w.split("-")
        ha, ma = (int(x) for x in a.split(":"))
        hb, mb = (int(x) for x in b.split(":"))
        out.append((ha * 60 + ma, hb * 60 + mb))
    return out


@dataclass(frozen=True)
class Zone:
    id: str
    polygon: tuple[tuple[float, float], ...]
    classes: frozenset[str]
    dwell_s: float
    grace_s: float
    update_s: float
    min_box_frac: float
    hours_min: tuple[tuple[int, int], ...] = ()
    """Active windows in minutes of the local day, (start, end); end < start crosses midnight."""
    static_objects: bool = False

    @classmethod
    def from_config(cls, z: ZoneConfig, grace_s: float, update_s: float) -> Zone:
        return cls(
            id=z.id,
            polygon=tuple((float(x), float(y)) for x, y in z.polygon),
            classes=frozenset(z.classes),
            dwell_s=z.dwell_s,
            grace_s=z.grace_s if z.grace_s is not None else grace_s,
            update_s=z.update_s if z.update_s is not None else update_s,
            min_box_frac=z.min_box_frac,
            hours_min=tuple(_parse_hours(z.active_hours)),
            static_objects=z.static_objects,
        )

    def contains(self, x: float, y: float) -> bool:
        """Point in polygon (normalised coordinates); points on the edge count as inside."""
        pts = np.asarray(self.polygon, dtype=np.float32).reshape(-1, 1, 2)
        return bool(cv2.pointPolygonTest(pts, (float(x), float(y)), False) >= 0)

    def accepts(self, det: Detection, width: int, height: int) -> bool:
        """Is this detection an object this zone watches: its class, big enough, feet inside?"""
        if det.label not in self.classes:
            return False
        if det.area < self.min_box_frac * width * height:
            return False
        bx, by = det.bottom_centre
        return self.contains(bx / width, by / height)

    def active_at(self, epoch_s: float, tz: dt.tzinfo | None = None) -> bool:
        """Is the zone watched at this time (local time of the gateway unless ``tz`` is given)?"""
        if not self.hours_min:
            return True
        t = dt.datetime.fromtimestamp(epoch_s, tz)
        m = t.hour * 60 + t.minute
        return any(a <= m < b if a <= b else m >= a or m < b for a, b in self.hours_min)

    def mask(self, width: int, height: int, margin_frac: float = 0.0) -> np.ndarray:
        """A uint8 mask (255 inside) at this size; ``margin_frac`` grows it (motion near the edge counts)."""
        m: np.ndarray = np.zeros((height, width), np.uint8)
        pts = np.round(np.asarray(self.polygon) * [width - 1, height - 1]).astype(np.int32)
        cv2.fillPoly(m, [pts], 255)
        grow = round(margin_frac * max(width, height))
        if grow > 0:
            m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
        return m
