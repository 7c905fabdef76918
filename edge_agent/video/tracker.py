"""A small IoU tracker with a centroid fallback: stable ids across missed detections and brief occlusions.

Why our own: the kept libraries (ByteTrack, norfair...) bring heavy or unmaintained dependencies, and what
road occupation needs is modest: an object that stays put keeps its id while the detector flickers. A track
survives ``max_missing_s`` without detections; its label is the majority vote of its detections (a small
model flips car/truck); its *still time* restarts only when its bottom-centre really moves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from edge_agent.config.video import TrackerConfig
from edge_agent.inference.detection import Detection

Box = tuple[float, float, float, float]


def suppress_cross_class(dets: list[Detection], iou_max: float = 0.7) -> list[Detection]:
    """Drop a box that nearly coincides with a better one of another label (the van as truck *and* bus)."""
    kept: list[Detection] = []
    for d in sorted(dets, key=lambda d: d.score, reverse=True):
        box = (d.x1, d.y1, d.x2, d.y2)
        if all(iou(box, (k.x1, k.y1, k.x2, k.y2)) <= iou_max for k in kept):
            kept.append(d)
    return kept


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    if inter <= 0:
        return 0.0
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


@dataclass
class Track:
    id: int
    box: Box
    score: float
    first_seen: float
    last_seen: float
    still_since: float
    anchor: tuple[float, float]
    hits: int = 1
    matched_last: bool = True
    """Matched in the latest detection round (a gated, motionless frame keeps such tracks alive)."""
    votes: Counter[str] = field(default_factory=Counter)

    @property
    def label(self) -> str:
        return self.votes.most_common(1)[0][0]

    @property
    def bottom_centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2.0, self.box[3])

    def as_detection(self) -> Detection:
        """The track's current box as a Detection (for zone tests, drawing)."""
        return Detection(*self.box, score=self.score, class_id=-1, label=self.label)

    def still_s(self, now: float) -> float:
        """How long it has been *seen* staying put (time while missing does not count)."""
        return max(0.0, min(now, self.last_seen) - self.still_since)


class Tracker:
    """Owned by one camera's analysis; not thread-safe."""

    def __init__(self, cfg: TrackerConfig) -> None:
        self.cfg = cfg
        self.tracks: list[Track] = []
        self._next_id = 1

    def confirmed(self) -> list[Track]:
        return [t for t in self.tracks if t.hits >= self.cfg.min_hits]

    def visible(self, now: float) -> list[Track]:
        """Confirmed tracks seen (or held by the motion gate) at ``now``: what is in the picture."""
        return [t for t in self.tracks if t.hits >= self.cfg.min_hits and t.last_seen >= now]

    def update(self, dets: list[Detection], now: float) -> list[Track]:
        """Match a detection round to the tracks; returns the visible confirmed tracks."""
        pairs: list[tuple[float, int, int]] = []
        for ti, t in enumerate(self.tracks):
            for di, d in enumerate(dets):
                box = (d.x1, d.y1, d.x2, d.y2)
                o = iou(t.box, box)
                if o >= self.cfg.iou_match:
                    pairs.append((o, ti, di))
                elif o == 0.0 and d.label in t.votes:
                    # Low frame rates move small objects off their old box: accept a near centroid.
                    h = max(1.0, t.box[3] - t.box[1])
                    cx, cy = (d.x1 + d.x2) / 2, (d.y1 + d.y2) / 2
                    tx, ty = (t.box[0] + t.box[2]) / 2, (t.box[1] + t.box[3]) / 2
                    dist = ((cx - tx) ** 2 + (cy - ty) ** 2) ** 0.5
                    if dist < 0.75 * h:
                        pairs.append((0.01 * (1 - dist / (0.75 * h)), ti, di))
        pairs.sort(reverse=True)
        used_t: set[int] = set()
        used_d: set[int] = set()
        for _, ti, di in pairs:
            if ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            self._continue(self.tracks[ti], dets[di], now)
        for ti, t in enumerate(self.tracks):
            if ti not in used_t:
                t.matched_last = False
        for di, d in enumerate(dets):
            if di not in used_d:
                self._start(d, now)
        self.tracks = [t for t in self.tracks if now - t.last_seen <= self.cfg.max_missing_s]
        return self.visible(now)

    def hold(self, now: float) -> None:
        """Nothing moved (motion gate): the objects seen last round are still where they were."""
        for t in self.tracks:
            if t.matched_last:
                t.last_seen = now

    def _start(self, d: Detection, now: float) -> None:
        t = Track(
            id=self._next_id,
            box=(d.x1, d.y1, d.x2, d.y2),
            score=d.score,
            first_seen=now,
            last_seen=now,
            still_since=now,
            anchor=d.bottom_centre,
        )
        t.votes[d.label] += 1
        self._next_id += 1
        self.tracks.append(t)

    def _continue(self, t: Track, d: Detection, now: float) -> None:
        t.box = (d.x1, d.y1, d.x2, d.y2)
        t.score = 0.7 * t.score + 0.3 * d.score
        t.votes[d.label] += 1
        t.hits += 1
        t.last_seen = now
        t.matched_last = True
        bx, by = d.bottom_centre
        h = max(1.0, d.y2 - d.y1)
        if ((bx - t.anchor[0]) ** 2 + (by - t.anchor[1]) ** 2) ** 0.5 > self.cfg.still_move_frac * h:
            t.anchor = (bx, by)
            t.still_since = now
