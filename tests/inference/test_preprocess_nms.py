"""Preprocessing follows the manifest exactly; letterbox maps back; NMS only suppresses within a class."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.inference.manifest import InputSpec
from edge_agent.inference.nms import nms
from edge_agent.inference.preprocess import fit, to_tensor

BGR = (10, 100, 200)  # a solid frame: blue 10, green 100, red 200


def solid(w: int = 8, h: int = 6) -> np.ndarray:
    frame = np.empty((h, w, 3), np.uint8)
    frame[:] = BGR
    return frame


def test_bgr_mean_std_nchw() -> None:
    spec = InputSpec(width=8, height=6, colour="bgr", mean=(1, 2, 3), std=(2, 4, 8), resize="stretch")
    x = to_tensor([fit(solid(), spec)[0]], spec)
    assert x.shape == (1, 3, 6, 8) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 0, 0], [(10 - 1) / 2, (100 - 2) / 4, (200 - 3) / 8], rtol=1e-6)


def test_rgb_scale_nhwc() -> None:
    spec = InputSpec(width=8, height=6, colour="rgb", scale=1 / 255, layout="NHWC", resize="stretch")
    x = to_tensor([fit(solid(), spec)[0]], spec)
    assert x.shape == (1, 6, 8, 3)
    np.testing.assert_allclose(x[0, 3, 4], [200 / 255, 100 / 255, 10 / 255], rtol=1e-6)


def test_letterbox_pads_and_maps_back() -> None:
    spec = InputSpec(width=64, height=64, pad_value=114)
    img, t = fit(solid(w=128, h=32), spec)  # scale 0.5 -> 64x16, 24 rows of padding above and below
    assert (t.scale_x, t.scale_y, t.pad_x, t.pad_y) == (0.5, 0.5, 0.0, 24.0)
    assert (img[:24] == 114).all() and (img[40:] == 114).all() and (img[24:40] == BGR).all()
    back = t.to_frame(np.array([[0, 24, 64, 40], [10, 0, 20, 30], [-5, 30, 70, 64]], np.float32))
    np.testing.assert_allclose(back, [[0, 0, 128, 32], [20, 0, 40, 12], [0, 12, 128, 32]])


def test_malformed_frames_raise_value_error() -> None:
    spec = InputSpec(width=8, height=8)
    for bad in (np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 3), np.float32)):
        with pytest.raises(ValueError, match="HxWx3 uint8"):
            fit(bad, spec)
    with pytest.raises(ValueError, match="empty"):
        fit(np.zeros((0, 4, 3), np.uint8), spec)


def test_nms_per_class_and_cap() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60], [0, 0, 10, 10]], np.float32
    )
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.95], np.float32)
    classes = np.array([0, 0, 1, 0, 2])
    keep = nms(boxes, scores, classes, iou_threshold=0.5, max_keep=10)
    assert list(keep) == [4, 0, 2, 3]  # box 1 (IoU 0.82 with box 0, same class) is the only one dropped
    assert list(nms(boxes, scores, classes, 0.5, max_keep=2)) == [4, 0]
    assert list(nms(boxes, scores, classes, 0.9, max_keep=10)) == [4, 0, 1, 2, 3]
    assert nms(boxes[:0], scores[:0], classes[:0], 0.5, 10).size == 0
