"""Drawing for technicians: zones, boxes with track ids and dwell timers, incident banners, contact sheets."""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np

from edge_agent.video.pipeline import FrameReport
from edge_agent.video.zones import Zone

RED = (40, 40, 230)
GREEN = (60, 200, 60)
YELLOW = (0, 220, 255)
MAGENTA = (220, 60, 220)
WHITE = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _label(
    img: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int], scale: float = 0.45
) -> None:
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    y = max(th + 2, y)
    cv2.rectangle(img, (x, y - th - 3), (x + tw + 4, y + base - 1), colour, -1)
    cv2.putText(img, text, (x + 2, y - 2), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)


def draw(image: np.ndarray, report: FrameReport | None, zones: list[Zone], now: float) -> np.ndarray:
    """A copy of ``image`` with the analysis of the latest analysed frame drawn on it."""
    img = image.copy()
    h, w = img.shape[:2]
    busy = {i.zone for i in report.incidents} if report else set()
    overlay = img.copy()
    for z in zones:
        pts = np.round(np.asarray(z.polygon) * [w - 1, h - 1]).astype(np.int32)
        colour = RED if z.id in busy else YELLOW
        if z.id in busy:
            cv2.fillPoly(overlay, [pts], RED)
        cv2.polylines(img, [pts], True, colour, 2, cv2.LINE_AA)
        _label(img, z.id, int(pts[:, 0].min()), int(pts[:, 1].min()) - 2, colour)
    img = cv2.addWeighted(overlay, 0.25, img, 0.75, 0)
    if report is not None:
        for t in report.tracks:
            x1, y1, x2, y2 = (int(v) for v in t.box)
            colour = GREEN if t.label != "person" else (255, 180, 60)
            cv2.rectangle(img, (x1, y1), (x2, y2), colour, 2)
            _label(img, f"#{t.id} {t.label} {t.still_s(report.frame.mono):.0f}s", x1, y1 - 2, colour, 0.4)
        for b in report.blobs:
            x1, y1, x2, y2 = int(b.box[0] * w), int(b.box[1] * h), int(b.box[2] * w), int(b.box[3] * h)
            cv2.rectangle(img, (x1, y1), (x2, y2), MAGENTA, 2)
            _label(img, f"static {b.age_s(report.frame.mono):.0f}s", x1, y2 + 14, MAGENTA, 0.4)
        y = 22
        for inc in report.incidents:
            dur = max(0.0, report.frame.mono - inc.dwell_start)
            text = f"{inc.kind.upper()} zone {inc.zone}: {inc.occ} x{inc.count} {dur:.0f}s"
            _label(img, text, 6, y, RED, 0.6)
            y += 24
        gate = report.decision.value
    else:
        gate = "-"
    stamp = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-5]
    _label(img, f"{stamp} UTC  gate:{gate}", 6, h - 6, WHITE, 0.45)
    return img


def contact_sheet(tiles: list[tuple[np.ndarray, str]], cols: int = 3, tile_w: int = 384) -> np.ndarray:
    """Thumbnails with captions in a grid (a single grey tile saying so when there is nothing)."""
    if not tiles:
        blank = np.full((216, tile_w, 3), 60, np.uint8)
        _label(blank, "no incidents in this clip", 10, 110, WHITE, 0.6)
        tiles = [(blank, "")]
    thumbs = []
    for img, caption in tiles:
        th = round(img.shape[0] * tile_w / img.shape[1])
        t = cv2.resize(img, (tile_w, th), interpolation=cv2.INTER_AREA)
        cap = np.full((24, tile_w, 3), 30, np.uint8)
        cv2.putText(cap, caption[:60], (4, 17), FONT, 0.45, WHITE, 1, cv2.LINE_AA)
        thumbs.append(np.vstack([t, cap]))
    th_max = max(t.shape[0] for t in thumbs)
    thumbs = [np.vstack([t, np.zeros((th_max - t.shape[0], tile_w, 3), np.uint8)]) for t in thumbs]
    cols = min(cols, len(thumbs))
    while len(thumbs) % cols:
        thumbs.append(np.zeros_like(thumbs[0]))
    rows = [np.hstack(thumbs[i : i + cols]) for i in range(0, len(thumbs), cols)]
    return np.vstack(rows)
