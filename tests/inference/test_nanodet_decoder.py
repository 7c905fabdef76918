"""The NanoDet decoder agrees with a straightforward, independent decoding of the same raw outputs.

The reference below is written from NanoDet's description (GFL head: cell centres at (i + 0.5) * stride,
each side a softmax expectation over 11 bins times the stride, sigmoid scores already in the graph) with
plain Python loops, no shared code with edge_agent.inference.decoders.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent.inference.detector import Detector
from edge_agent.inference.preprocess import fit, to_tensor


def reference_decode(
    scores: np.ndarray, dists: np.ndarray, threshold: float, size: int = 416
) -> list[tuple[float, int, tuple[float, float, float, float]]]:
    found = []
    row = 0
    for stride in (8, 16, 32):
        grid = size // stride
        for gy in range(grid):
            for gx in range(grid):
                cx, cy = (gx + 0.5) * stride, (gy + 0.5) * stride
                sides = []
                for side in range(4):
                    logits = [float(v) for v in dists[row, side * 11 : side * 11 + 11]]
                    top = max(logits)
                    e = [math.exp(v - top) for v in logits]
                    sides.append(sum(i * p for i, p in enumerate(e)) / sum(e) * stride)
                box = (cx - sides[0], cy - sides[1], cx + sides[2], cy + sides[3])
                for cls in range(scores.shape[1]):
                    if scores[row, cls] > threshold:
                        found.append((float(scores[row, cls]), cls, box))
                row += 1
    assert row == scores.shape[0]
    return found


def reference_nms(cands: list, iou_thr: float) -> list:
    def iou(a: tuple, b: tuple) -> float:
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = iw * ih
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

    kept: list = []
    for c in sorted(cands, key=lambda c: -c[0]):
        if all(k[1] != c[1] or iou(k[2], c[2]) <= iou_thr for k in kept):
            kept.append(c)
    return kept


@pytest.mark.parametrize("key", ["darknet/dog.jpg", "vtest/250"])
def test_decoder_matches_reference(detector: Detector, pictures: dict[str, np.ndarray], key: str) -> None:
    frame = pictures[key]
    img, transform = fit(frame, detector.manifest.input)
    scores, dists = (o[0] for o in detector.session.run(to_tensor([img], detector.manifest.input)))
    thr = detector.score_threshold

    ref = reference_decode(scores, dists, thr)
    got = detector.decoder([scores, dists], thr)
    assert len(ref) == len(got.scores) > 3
    ref_sorted = sorted(ref, key=lambda c: (c[1], -c[0]))
    order = sorted(range(len(got.scores)), key=lambda i: (got.class_ids[i], -got.scores[i]))
    for (score, cls, box), i in zip(ref_sorted, order, strict=True):
        assert cls == got.class_ids[i]
        assert score == pytest.approx(float(got.scores[i]), abs=1e-6)
        np.testing.assert_allclose(box, got.boxes_xyxy[i], atol=1e-3)

    # after NMS and undoing the stretch (416/w, 416/h), the detector's final answer is the reference's
    kept = reference_nms(ref, detector.nms_iou)
    h, w = frame.shape[:2]
    dets = detector.detect(frame)
    assert len(dets) == len(kept)
    for d, (score, cls, box) in zip(dets, kept, strict=True):
        assert d.class_id == cls and d.score == pytest.approx(score, abs=1e-5)
        want = [
            min(max(box[0] * w / 416, 0), w),
            min(max(box[1] * h / 416, 0), h),
            min(max(box[2] * w / 416, 0), w),
            min(max(box[3] * h / 416, 0), h),
        ]
        np.testing.assert_allclose([d.x1, d.y1, d.x2, d.y2], want, atol=1e-2)
    assert transform.scale_x == pytest.approx(416 / w)
