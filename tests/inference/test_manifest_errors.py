"""A model that does not match its manifest is refused at load with a message that says what is wrong."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge_agent.config.inference import DetectorConfig
from edge_agent.inference.detector import check_model, load_detector
from edge_agent.inference.errors import ModelError
from edge_agent.inference.manifest import file_sha256
from tests.inference.conftest import SHIPPED_MANIFEST, SHIPPED_ONNX
from tests.inference.tiny_models import write_model

DELETE = object()


def shipped(tmp_path: Path, **changes: Any) -> Path:
    """A copy of the shipped manifest in tmp_path pointing at the shipped .onnx, with ``changes`` applied."""
    m = yaml.safe_load(SHIPPED_MANIFEST.read_text(encoding="utf-8"))
    m["file"] = str(SHIPPED_ONNX)
    for key, value in changes.items():
        parts = key.split("__")
        target = m
        for p in parts[:-1]:
            target = target[p]
        if value is DELETE:
            del target[parts[-1]]
        else:
            target[parts[-1]] = value
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(m), encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(ModelError) as exc:
        load_detector(DetectorConfig(model=str(path)), path.parent)
    return str(exc.value)


def test_the_shipped_manifest_loads_with_the_configured_threads(tmp_path: Path) -> None:
    det = load_detector(DetectorConfig(model=str(shipped(tmp_path)), intra_op_threads=1))
    assert det.input_size == (416, 416) and len(det.labels) == 80
    opts = det.session.session.get_session_options()
    assert opts.intra_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"  # the default: no spinning


def test_wrong_input_size(tmp_path: Path) -> None:
    msg = refused(shipped(tmp_path, input__width=320, input__height=320))
    assert "['batch', 3, 416, 416]" in msg and "320x320" in msg


def test_wrong_layout(tmp_path: Path) -> None:
    assert "the manifest says NHWC 416x416" in refused(shipped(tmp_path, input__layout="NHWC"))


def test_wrong_input_name(tmp_path: Path) -> None:
    msg = refused(shipped(tmp_path, input__name="images"))
    assert "no input named 'images'" in msg and "input" in msg


def test_missing_labels(tmp_path: Path) -> None:
    msg = refused(shipped(tmp_path, labels=DELETE))
    assert "model.yaml" in msg and "labels" in msg


def test_label_count_must_match_the_outputs(tmp_path: Path) -> None:
    m = yaml.safe_load(SHIPPED_MANIFEST.read_text(encoding="utf-8"))
    msg = refused(shipped(tmp_path, labels=m["labels"][:79]))
    assert "80 classes" in msg and "79 labels" in msg


def test_missing_labels_file(tmp_path: Path) -> None:
    msg = refused(shipped(tmp_path, labels=DELETE, labels_file="coco.names"))
    assert "labels file" in msg and "coco.names" in msg


def test_bad_sha256(tmp_path: Path) -> None:
    msg = refused(shipped(tmp_path, sha256="0" * 64))
    assert "sha256" in msg and file_sha256(SHIPPED_ONNX) in msg and "corrupt" in msg


def test_swapped_file_is_refused_by_its_sha256(tmp_path: Path) -> None:
    tiny = write_model(tmp_path, "yolov5")
    shutil.copy(tmp_path / "tiny-yolov5.onnx", tmp_path / "nanodet-m.onnx")
    m = yaml.safe_load(SHIPPED_MANIFEST.read_text(encoding="utf-8"))
    (tmp_path / "nanodet-m.yaml").write_text(yaml.safe_dump(m), encoding="utf-8")
    with pytest.raises(ModelError, match=r"sha256 of nanodet-m\.onnx"):
        load_detector(DetectorConfig(), tmp_path)
    assert tiny.exists()


def test_truncated_model_with_matching_sha256(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(SHIPPED_ONNX.read_bytes()[:100_000])
    msg = refused(shipped(tmp_path, file=str(broken), sha256=file_sha256(broken)))
    assert "cannot load" in msg


def test_unknown_key_and_bad_values(tmp_path: Path) -> None:
    msg = refused(shipped(tmp_path, colour_order="bgr", nms_iou=2))
    assert "colour_order" in msg and "nms_iou" in msg


def test_missing_manifest_and_missing_model(tmp_path: Path) -> None:
    assert "manifest not found" in refused(tmp_path / "nothing.yaml")
    msg = refused(shipped(tmp_path, file="gone.onnx"))
    assert "gone.onnx" in msg and "not found" in msg


def test_decoder_that_does_not_fit_the_outputs(tmp_path: Path) -> None:
    msg = refused(shipped(tmp_path, decoder={"type": "yolov5"}))
    assert "yolov5" in msg


def test_wrong_reg_max_is_caught_by_the_box_width(tmp_path: Path) -> None:
    assert "reg_max" in refused(shipped(tmp_path, decoder__reg_max=7))


def test_unavailable_provider_falls_back_to_cpu_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="edge_agent.inference"):
        det = load_detector(
            DetectorConfig(model=str(write_model(tmp_path, "yolov8")), providers=["NoSuchExecutionProvider"]),
            tmp_path,
        )
    assert det.session.providers == ["CPUExecutionProvider"]
    assert any("NoSuchExecutionProvider" in r.getMessage() for r in caplog.records)


def test_check_model_refuses_like_load_and_passes_the_shipped_one(tmp_path: Path) -> None:
    """What check-config or a reload can call before stopping anything: same checks, no warm-up."""
    assert check_model(DetectorConfig()).labels[0] == "person"
    with pytest.raises(ModelError, match="sha256"):
        check_model(DetectorConfig(model=str(shipped(tmp_path, sha256="1" * 64))))
