"""Greedy per-class non-maximum suppression in plain numpy (the candidate counts after a score filter are small)."""

from __future__ import annotations

import numpy as np


def iou_one_to_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box against [N,4] xyxy boxes."""
    ix1 = np.maximum(box[0], boxes[:, 0])
    iy1 = np.maximum(box[1], boxes[:, 1])
    ix2 = np.minimum(box[2], boxes[:, 2])
    iy2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(
    boxes_xyxy: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou_threshold: float, max_keep: int
) -> np.ndarray:
    """Indices kept, best score first; a box only suppresses boxes of its own class.

    Classes are separated by shifting each class's boxes far apart (the usual "batched NMS" trick), so one
    greedy pass handles every class.
    """
    if len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    span = float(np.max(boxes_xyxy) - min(0.0, float(np.min(boxes_xyxy)))) + 1.0
    shifted = boxes_xyxy + (class_ids.astype(np.float64) * span)[:, None]
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < max_keep:
        i = int(order[0])
        keep.append(i)
        if order.size == 1:
            break
        rest = order[1:]
        order = rest[iou_one_to_many(shifted[i], shifted[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)
