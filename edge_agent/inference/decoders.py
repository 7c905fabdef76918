"""Raw model outputs of one image -> candidate boxes in network-input pixels (before NMS).

Pure functions over arrays: no session, no clock, no globals. Each decoder takes the outputs of ONE image
(batch dimension removed) and a score threshold, and returns :class:`Candidates`. The detector then runs
NMS and maps boxes back to the original frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Candidates:
    boxes_xyxy: np.ndarray  # [K,4] float32, network-input pixels
    scores: np.ndarray  # [K] float32
    class_ids: np.ndarray  # [K] int64

    @staticmethod
    def empty() -> Candidates:
        return Candidates(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _above(scores: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(row, class) pairs whose score passes: rows with any pass first, then pairs inside them.

    Scanning a [N, C] bool mask for nonzeros is the slow part on a big grid; doing it only on the few rows
    that have a hit makes it ~3x faster.
    """
    hit = scores > threshold
    rows = np.flatnonzero(hit.any(axis=1))
    r, c = np.nonzero(hit[rows])
    return rows[r], c


def _xywh_to_xyxy(b: np.ndarray) -> np.ndarray:
    half_w, half_h = b[:, 2] / 2.0, b[:, 3] / 2.0
    return np.stack([b[:, 0] - half_w, b[:, 1] - half_h, b[:, 0] + half_w, b[:, 1] + half_h], axis=1)


class NanoDetDecoder:
    """NanoDet (GFL head): per cell, class scores and 4 side distances as distributions over reg_max+1 bins.

    Cells run stride by stride (8, 16, 32), row-major inside each grid. A side's distance is the softmax
    expectation of its bins times the stride; the box is the cell centre minus/plus those distances.
    """

    def __init__(
        self,
        input_w: int,
        input_h: int,
        strides: list[int],
        reg_max: int,
        center_offset: float,
        scores_are_logits: bool = False,
    ) -> None:
        centres, cell_strides = [], []
        for s in strides:
            gw, gh = -(-input_w // s), -(-input_h // s)  # ceil, as the network pads odd sizes
            ys, xs = np.mgrid[0:gh, 0:gw]
            centres.append(np.stack([(xs.ravel() + center_offset) * s, (ys.ravel() + center_offset) * s], 1))
            cell_strides.append(np.full(gw * gh, s, dtype=np.float32))
        self.centres = np.concatenate(centres).astype(np.float32)
        self.cell_strides = np.concatenate(cell_strides)
        self.bins = reg_max + 1
        self.project = np.arange(self.bins, dtype=np.float32)
        self.scores_are_logits = scores_are_logits

    @property
    def cells(self) -> int:
        return len(self.centres)

    def __call__(self, outputs: list[np.ndarray], score_threshold: float) -> Candidates:
        scores, dists = outputs[0], outputs[1]
        if scores.shape[0] != self.cells or dists.shape != (self.cells, 4 * self.bins):
            raise ValueError(
                f"nanodet outputs {scores.shape}, {dists.shape} do not fit {self.cells} cells x {self.bins} bins"
            )
        if self.scores_are_logits:
            scores = _sigmoid(scores)
        cell_idx, class_ids = _above(scores, score_threshold)
        if cell_idx.size == 0:
            return Candidates.empty()
        cells = np.unique(cell_idx)
        logits = dists[cells].reshape(len(cells), 4, self.bins).astype(np.float32)
        logits = logits - logits.max(axis=2, keepdims=True)
        p = np.exp(logits)
        side = (p @ self.project) / p.sum(axis=2)  # [cells,4] in strides
        side *= self.cell_strides[cells, None]
        c = self.centres[cells]
        boxes = np.concatenate([c - side[:, :2], c + side[:, 2:]], axis=1)
        where = np.searchsorted(cells, cell_idx)
        return Candidates(
            boxes[where].astype(np.float32),
            scores[cell_idx, class_ids].astype(np.float32),
            class_ids.astype(np.int64),
        )


class Yolov5Decoder:
    """YOLOv5 export: [N, 5+C] rows of cx, cy, w, h (network pixels), objectness, C class scores.

    A candidate's score is objectness x class score, as in YOLOv5's own NMS.
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes

    def __call__(self, outputs: list[np.ndarray], score_threshold: float) -> Candidates:
        out = outputs[0]
        if out.ndim != 2 or out.shape[1] != 5 + self.num_classes:
            raise ValueError(f"yolov5 output {out.shape} is not [N, 5+{self.num_classes}]")
        rows = out[out[:, 4] > score_threshold]  # obj x cls <= obj: rows under the threshold cannot pass
        if rows.size == 0:
            return Candidates.empty()
        conf = rows[:, 5:] * rows[:, 4:5]
        r, class_ids = _above(conf, score_threshold)
        boxes = _xywh_to_xyxy(rows[r, :4])
        return Candidates(
            boxes.astype(np.float32), conf[r, class_ids].astype(np.float32), class_ids.astype(np.int64)
        )


class Yolov8Decoder:
    """YOLOv8 export: [4+C, N] columns of cx, cy, w, h (network pixels) and C class scores, no objectness.

    Also accepts the transposed [N, 4+C] some exporters write, when the shape makes it unambiguous.
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes

    def __call__(self, outputs: list[np.ndarray], score_threshold: float) -> Candidates:
        out = outputs[0]
        width = 4 + self.num_classes
        if out.ndim != 2 or width not in out.shape:
            raise ValueError(f"yolov8 output {out.shape} is not [4+{self.num_classes}, N]")
        rows = out.T if out.shape[0] == width else out
        cls = rows[:, 4:]
        r, class_ids = _above(cls, score_threshold)
        if r.size == 0:
            return Candidates.empty()
        boxes = _xywh_to_xyxy(rows[r, :4])
        return Candidates(
            boxes.astype(np.float32), cls[r, class_ids].astype(np.float32), class_ids.astype(np.int64)
        )


Decoder = NanoDetDecoder | Yolov5Decoder | Yolov8Decoder
