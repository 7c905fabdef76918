"""Small real ONNX models, built with the ``onnx`` helper API, whose outputs are known exactly.

Each graph outputs a constant table of YOLO rows, except that one cell moves with the mean of the input
tensor: so the test also proves that the frame really went through preprocessing and the session (a white
frame and a black frame give different answers, even inside one batch).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

from edge_agent.inference.manifest import file_sha256

SIZE = 64  # network input, square
LABELS = ["cone", "van", "bag"]

# YOLOv5 rows: cx, cy, w, h (network pixels), objectness, 3 class scores
YOLOV5_ROWS = np.array(
    [
        [16, 24, 8, 8, 0.2, 0.9, 0.1, 0.0],  # row 0: objectness 0.2 + 0.7 * mean(input): white 0.9, black 0.2
        [17, 24, 8, 8, 0.6, 0.9, 0.0, 0.0],  # row 1: cone 0.54, IoU 0.78 with row 0 (NMS keeps the better)
        [40, 40, 20, 10, 0.9, 0.0, 0.2, 0.8],  # row 2: bag 0.72
        [40, 40, 20, 10, 0.9, 0.0, 0.7, 0.0],  # row 3: same box, van 0.63 (other class: not suppressed)
        [50, 10, 6, 6, 0.1, 0.9, 0.0, 0.0],  # row 4: 0.09, under any threshold
    ],
    dtype=np.float32,
)
MOVING = (0, 4)  # (row, column) that grows with the input's mean, per decoder below


def _graph(
    table: np.ndarray, moving: tuple[int, int], batch: str | int, name: str, layout: str = "NCHW"
) -> onnx.ModelProto:
    """output[b] = table + mask * mean(input[b]) with mask 0.7 at ``moving``; input [batch,3,SIZE,SIZE]
    (or [batch,SIZE,SIZE,3] for NHWC: the mean is the same)."""
    mask = np.zeros_like(table)
    mask[moving] = 0.7
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["mean", "shape_b11"], ["mean_b11"]),
        helper.make_node("Mul", ["mean_b11", "mask"], ["moved"]),
        helper.make_node("Add", ["moved", "table"], ["output0"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shape_b11"),
        numpy_helper.from_array(mask[None], "mask"),
        numpy_helper.from_array(table[None], "table"),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [
            helper.make_tensor_value_info(
                "images",
                TensorProto.FLOAT,
                [batch, 3, SIZE, SIZE] if layout == "NCHW" else [batch, SIZE, SIZE, 3],
            )
        ],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [batch, *table.shape])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_model(
    folder: Path,
    kind: str,
    *,
    batch: str | int = "batch",
    resize: str = "letterbox",
    layout: str = "NCHW",
    extra: dict | None = None,
) -> Path:
    """Write ``folder/tiny-KIND.onnx`` and its manifest; returns the manifest path."""
    if kind == "yolov5":
        table, moving = YOLOV5_ROWS, MOVING
    else:  # yolov8: [4+C, N], class score = objectness x class of the v5 table; anchor 0's cone moves
        v8 = np.concatenate([YOLOV5_ROWS[:, :4], YOLOV5_ROWS[:, 5:] * YOLOV5_ROWS[:, 4:5]], axis=1)
        table, moving = np.ascontiguousarray(v8.T), (4, 0)
    onnx_path = folder / f"tiny-{kind}.onnx"
    onnx.save(_graph(table, moving, batch, f"tiny_{kind}", layout), str(onnx_path))
    manifest = {
        "name": f"tiny-{kind}",
        "task": "detect",
        "file": onnx_path.name,
        "sha256": file_sha256(onnx_path),
        "input": {
            "name": "images",
            "width": SIZE,
            "height": SIZE,
            "layout": layout,
            "colour": "rgb",
            "scale": 1 / 255,
            "resize": resize,
        },
        "decoder": {"type": kind},
        "labels": LABELS,
        "score_threshold": 0.25,
        "nms_iou": 0.5,
        "licence": "CC0-1.0",
        "source": "tests/inference/tiny_models.py",
    }
    manifest.update(extra or {})
    path = folder / f"tiny-{kind}.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return path
