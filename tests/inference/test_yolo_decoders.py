"""YOLOv5 and YOLOv8 decoders on real onnxruntime sessions of tiny graphs whose outputs are known.

Network 64x64; the frame is 128x64 (w x h), so letterbox scales by 0.5 and pads 16 rows above and below:
frame_x = net_x / 0.5, frame_y = (net_y - 16) / 0.5. Expected boxes are worked out by hand from the rows
in tiny_models.py. Row 0's cone score moves with the input's mean (white frame: kept; black: too weak,
so row 1's overlapping cone wins NMS instead).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_agent.config.inference import DetectorConfig
from edge_agent.inference.detection import Detection
from edge_agent.inference.detector import load_detector
from tests.inference.tiny_models import write_model

WHITE = np.full((64, 128, 3), 255, np.uint8)
BLACK = np.zeros((64, 128, 3), np.uint8)

# letterbox, 128x64 frame; grey padding (114) is half the tensor, so "white" has mean 0.7235
EXPECT_WHITE = {  # cone from row 0 (net 12,20,20,28), bag and van from rows 2/3 (net 30,35,50,45)
    ("cone", (24.0, 8.0, 40.0, 24.0)),
    ("bag", (60.0, 38.0, 100.0, 58.0)),
    ("van", (60.0, 38.0, 100.0, 58.0)),
}
EXPECT_BLACK = {  # row 0 too weak: row 1's cone (net 13,20,21,28) survives instead
    ("cone", (26.0, 8.0, 42.0, 24.0)),
    ("bag", (60.0, 38.0, 100.0, 58.0)),
    ("van", (60.0, 38.0, 100.0, 58.0)),
}
SCORES = {"bag": 0.72, "van": 0.63}


def _summary(dets: list[Detection]) -> set[tuple[str, tuple[float, ...]]]:
    return {(d.label, tuple(round(v, 3) for v in (d.x1, d.y1, d.x2, d.y2))) for d in dets}


@pytest.mark.parametrize("kind", ["yolov5", "yolov8"])
def test_letterboxed_boxes_scores_and_nms(tmp_path: Path, kind: str) -> None:
    det = load_detector(DetectorConfig(model=str(write_model(tmp_path, kind))), tmp_path)
    assert det.labels == ["cone", "van", "bag"] and det.input_size == (64, 64)
    white = det.detect(WHITE)
    assert _summary(white) == EXPECT_WHITE
    for d in white:
        if d.label in SCORES:
            assert d.score == pytest.approx(SCORES[d.label], abs=1e-5)
    cone = next(d for d in white if d.label == "cone")
    mean = (255 + 114) / 2 / 255  # half image, half padding
    want = 0.9 * (0.2 + 0.7 * mean) if kind == "yolov5" else 0.18 + 0.7 * mean
    assert cone.score == pytest.approx(want, abs=1e-4)
    assert [d.score for d in white] == sorted((d.score for d in white), reverse=True)
    assert _summary(det.detect(BLACK)) == EXPECT_BLACK


@pytest.mark.parametrize("kind", ["yolov5", "yolov8"])
def test_one_batch_keeps_frames_apart(tmp_path: Path, kind: str) -> None:
    det = load_detector(DetectorConfig(model=str(write_model(tmp_path, kind)), max_batch=4), tmp_path)
    assert det.max_batch == 4
    results = det.detect_batch([WHITE, BLACK, BLACK, WHITE, WHITE])  # 2 inferences: 4 + 1
    assert [_summary(r) for r in results] == [
        EXPECT_WHITE,
        EXPECT_BLACK,
        EXPECT_BLACK,
        EXPECT_WHITE,
        EXPECT_WHITE,
    ]


def test_static_batch_of_one_runs_frames_one_by_one(tmp_path: Path) -> None:
    det = load_detector(DetectorConfig(model=str(write_model(tmp_path, "yolov5", batch=1))), tmp_path)
    assert det.max_batch == 1
    assert [_summary(r) for r in det.detect_batch([BLACK, WHITE])] == [EXPECT_BLACK, EXPECT_WHITE]


def test_fixed_batch_of_two_is_padded(tmp_path: Path) -> None:
    det = load_detector(
        DetectorConfig(model=str(write_model(tmp_path, "yolov8", batch=2)), max_batch=4), tmp_path
    )
    assert det.max_batch == 2
    results = det.detect_batch([WHITE, BLACK, WHITE])  # 2 + 1 (padded to 2)
    assert [_summary(r) for r in results] == [EXPECT_WHITE, EXPECT_BLACK, EXPECT_WHITE]
    assert _summary(det.detect(BLACK)) == EXPECT_BLACK


def test_stretch_undoes_each_axis(tmp_path: Path) -> None:
    """Stretch: x scaled by 64/128, y by 64/64; a white frame fills the tensor (mean 1.0)."""
    det = load_detector(
        DetectorConfig(model=str(write_model(tmp_path, "yolov8", resize="stretch"))), tmp_path
    )
    dets = det.detect(WHITE)
    assert _summary(dets) == {
        ("cone", (24.0, 20.0, 40.0, 28.0)),
        ("bag", (60.0, 35.0, 100.0, 45.0)),
        ("van", (60.0, 35.0, 100.0, 45.0)),
    }
    assert next(d for d in dets if d.label == "cone").score == pytest.approx(0.18 + 0.7, abs=1e-4)


def test_config_thresholds_override_the_manifest(tmp_path: Path) -> None:
    path = write_model(tmp_path, "yolov5")
    strict = load_detector(DetectorConfig(model=str(path), score_threshold=0.7), tmp_path)
    assert {d.label for d in strict.detect(BLACK)} == {"bag"}  # 0.72 passes, 0.63 and 0.54 do not
    loose_nms = load_detector(DetectorConfig(model=str(path), nms_iou=0.9), tmp_path)
    cones = [d for d in loose_nms.detect(WHITE) if d.label == "cone"]
    assert len(cones) == 2  # IoU 0.78 no longer suppresses


def test_nhwc_input_and_a_labels_file(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("cone\nvan\n\nbag\n", encoding="utf-8")  # blank lines ignored
    path = write_model(
        tmp_path, "yolov5", layout="NHWC", extra={"labels": None, "labels_file": "classes.txt"}
    )
    det = load_detector(DetectorConfig(model=str(path)), tmp_path)
    assert det.labels == ["cone", "van", "bag"]
    assert _summary(det.detect(WHITE)) == EXPECT_WHITE
    assert _summary(det.detect(BLACK)) == EXPECT_BLACK
