"""The batcher runs waiting frames together and hands each camera its own answer."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from edge_agent.config.inference import DetectorConfig
from edge_agent.inference.batcher import BatcherStopped, DetectionBatcher
from edge_agent.inference.detection import Detection
from edge_agent.inference.detector import Detector, load_detector
from tests.inference.tiny_models import write_model

WHITE = np.full((64, 128, 3), 255, np.uint8)
BLACK = np.zeros((64, 128, 3), np.uint8)


@pytest.fixture
def tiny(tmp_path: Path) -> Detector:
    return load_detector(DetectorConfig(model=str(write_model(tmp_path, "yolov5")), max_batch=4), tmp_path)


def _cone_x1(dets: list[Detection]) -> float:
    return next(d.x1 for d in dets if d.label == "cone")


def test_frames_waiting_at_start_run_in_batches_of_four(tiny: Detector) -> None:
    b = DetectionBatcher(tiny)
    frames = [WHITE, BLACK] * 5  # 10 frames queued before the worker starts: batches of 4, 4, 2
    futures = [b.submit(f) for f in frames]
    b.start()
    try:
        results = [f.result(30) for f in futures]
    finally:
        b.stop()
    assert [_cone_x1(r) for r in results] == [24.0, 26.0] * 5  # white: row 0's cone; black: row 1's
    assert (b.stats.batches, b.stats.frames, b.stats.failures) == (3, 10, 0)


def test_camera_threads_get_their_own_answers(detector: Detector, pictures: dict[str, np.ndarray]) -> None:
    """Real model, real frames: four camera threads through one batcher equal direct calls."""
    frames = [pictures[k] for k in ("vtest/50", "vtest/250", "darknet/dog.jpg", "darknet/kite.jpg")]
    b = DetectionBatcher(detector)
    b.start()
    got: dict[int, list[list[Detection]]] = {i: [] for i in range(4)}
    try:

        def camera(i: int) -> None:
            for _ in range(3):
                got[i].append(b.detect(frames[i], timeout_s=60))

        threads = [threading.Thread(target=camera, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        b.stop()
    for i in range(4):
        want = detector.detect(frames[i])
        assert len(got[i]) == 3
        assert want
        for dets in got[i]:
            assert [(d.label, round(d.score, 4)) for d in dets] == [
                (d.label, round(d.score, 4)) for d in want
            ]
    assert b.stats.frames == 12


def test_malformed_frame_refused_at_submit(tiny: Detector) -> None:
    b = DetectionBatcher(tiny)
    b.start()
    try:
        with pytest.raises(ValueError, match="HxWx3 uint8"):
            b.submit(np.zeros((10, 10), np.uint8))
        assert b.detect(WHITE, timeout_s=30)  # the worker is unharmed
    finally:
        b.stop()


def test_stop_fails_waiting_frames_and_refuses_new_ones(tiny: Detector) -> None:
    b = DetectionBatcher(tiny)
    waiting = b.submit(WHITE)  # never started: still waiting when stopped
    b.stop()
    with pytest.raises(BatcherStopped):
        waiting.result(5)
    with pytest.raises(BatcherStopped):
        b.submit(WHITE)
