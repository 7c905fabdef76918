"""Score a detector against hand-labelled pictures: how many objects found, how many false boxes.

A truth file (YAML, see tests/data/inference/truth.yaml) lists per picture the objects a person sees,
with the labels that count as finding each one. Used by the tests (does the shipped model find what is
there?) and by ``bench/detect.py --quality`` (the numbers in docs/models.md); a vendor can label a few of
their own camera's frames the same way to check a model before deploying it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

from edge_agent.inference.detection import Detection


@dataclass(frozen=True)
class TruthObject:
    labels: tuple[str, ...]
    box: tuple[float, float, float, float]
    near: tuple[str, ...] = ()
    hard: bool = False


@dataclass
class Score:
    found: int = 0  # objects (not hard) matched by a detection with one of their labels
    missed: int = 0  # objects (not hard) not matched
    found_hard: int = 0
    false: int = 0  # detections matching no object with their label
    confused: int = 0  # of the false ones: on an object with its label or a "near" one (duplicate, mix-up)
    absurd: list[Detection] = field(default_factory=list)  # false, and on no object at all or not near
    matched_iou: list[float] = field(default_factory=list)  # IoU of each match (box accuracy)
    matched_score: list[float] = field(default_factory=list)  # score of each match
    ranked: list[tuple[float, bool]] = field(default_factory=list)  # (score, true positive); hard left out

    @property
    def recall(self) -> float:
        total = self.found + self.missed
        return self.found / total if total else 1.0

    @property
    def precision(self) -> float:
        kept = self.found + self.found_hard + self.false
        return (self.found + self.found_hard) / kept if kept else 1.0

    def add(self, other: Score) -> None:
        self.found += other.found
        self.missed += other.missed
        self.found_hard += other.found_hard
        self.false += other.false
        self.confused += other.confused
        self.absurd.extend(other.absurd)
        self.matched_iou.extend(other.matched_iou)
        self.matched_score.extend(other.matched_score)
        self.ranked.extend(other.ranked)

    def average_precision(self) -> float:
        """Area under the precision/recall curve over every kept detection (all-points, as VOC 2010+).

        Threshold-free, so it compares input normalisations fairly even when they shift every score.
        Run the detector with a low score threshold to get the whole curve.
        """
        positives = self.found + self.missed
        if positives == 0:
            return 1.0
        tp = fp = 0
        points: list[tuple[float, float]] = []
        for _, ok in sorted(self.ranked, key=lambda r: -r[0]):
            tp, fp = tp + ok, fp + (not ok)
            points.append((tp / positives, tp / (tp + fp)))
        ap, last_recall = 0.0, 0.0
        for i, (recall, _) in enumerate(points):
            ap += (recall - last_recall) * max(p for _, p in points[i:])
            last_recall = recall
        return ap

    @property
    def mean_iou(self) -> float:
        return sum(self.matched_iou) / len(self.matched_iou) if self.matched_iou else 0.0

    @property
    def mean_score(self) -> float:
        return sum(self.matched_score) / len(self.matched_score) if self.matched_score else 0.0


def load_truth(path: Path) -> dict[str, list[TruthObject]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, list[TruthObject]] = {}
    for key, objects in raw["images"].items():
        out[key] = [
            TruthObject(
                labels=tuple(o["labels"]),
                box=tuple(float(v) for v in o["box"]),  # type: ignore[arg-type]
                near=tuple(o.get("near", ())),
                hard=bool(o.get("hard", False)),
            )
            for o in objects
        ]
    return out


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def score_image(dets: list[Detection], truth: list[TruthObject], min_iou: float = 0.4) -> Score:
    """Greedy one-to-one matching, best detection first (as detection benchmarks do)."""
    s = Score()
    taken = [False] * len(truth)
    for d in sorted(dets, key=lambda d: -d.score):
        box = (d.x1, d.y1, d.x2, d.y2)
        best, best_iou = -1, min_iou
        for i, t in enumerate(truth):
            if taken[i] or d.label not in t.labels:
                continue
            v = iou(box, t.box)
            if v >= best_iou:
                best, best_iou = i, v
        if best >= 0:
            taken[best] = True
            s.matched_iou.append(best_iou)
            s.matched_score.append(d.score)
            if truth[best].hard:
                s.found_hard += 1
            else:
                s.found += 1
                s.ranked.append((d.score, True))
            continue
        s.false += 1
        s.ranked.append((d.score, False))
        on = [t for t in truth if iou(box, t.box) >= min_iou]
        if any(d.label in t.near or d.label in t.labels for t in on):
            s.confused += 1
        else:
            s.absurd.append(d)
    s.missed = sum(1 for i, t in enumerate(truth) if not taken[i] and not t.hard)
    return s


def read_picture(key: str, sources: dict[str, Path]) -> np.ndarray:
    """``"darknet/dog.jpg"`` -> that file in the darknet folder; ``"vtest/250"`` -> frame 250 of that clip."""
    root_name, _, rest = key.partition("/")
    root = sources[root_name]
    if root.is_dir():
        img = cv2.imread(str(root / rest), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(root / rest)
        return img
    cap = cv2.VideoCapture(str(root))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(rest))
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok:
        raise FileNotFoundError(f"{root} frame {rest}")
    return frame
