"""The YAML manifest beside each ``.onnx``: what the model expects and how to read its outputs.

Vendors ship YOLOv5/YOLOv8 exports with different sizes, colour orders and label sets; describing them in
data (not code) lets an installer drop in a model with a manifest and no code change. Every problem is a
:class:`ModelError` naming the file, so a bad model is refused at load, not on the first frame.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge_agent.inference.errors import ModelError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Strict):
    name: str | None = Field(None, description="Input tensor name; default: the model's only input.")
    width: int = Field(gt=0, description="Network input width in pixels.")
    height: int = Field(gt=0, description="Network input height in pixels.")
    layout: Literal["NCHW", "NHWC"] = Field("NCHW", description="Tensor layout.")
    colour: Literal["bgr", "rgb"] = Field("rgb", description="Channel order the model was trained on.")
    scale: float = Field(1.0, gt=0, description="Pixels are multiplied by this first (e.g. 1/255).")
    mean: tuple[float, float, float] = Field(
        (0.0, 0.0, 0.0), description="Subtracted after scale, per channel."
    )
    std: tuple[float, float, float] = Field(
        (1.0, 1.0, 1.0), description="Divided by after mean, per channel."
    )
    resize: Literal["letterbox", "stretch"] = Field(
        "letterbox", description="letterbox keeps the aspect ratio and pads; stretch distorts to fit."
    )
    pad_value: int = Field(114, ge=0, le=255, description="Grey level of letterbox padding.")

    @model_validator(mode="after")
    def _std_nonzero(self) -> InputSpec:
        if any(s == 0 for s in self.std):
            raise ValueError("std must not contain 0")
        return self


class DecoderSpec(_Strict):
    type: Literal["nanodet", "yolov5", "yolov8"] = Field(description="How to read the raw outputs.")
    outputs: list[str] = Field(
        default_factory=list,
        description="Output names in the order the decoder wants (nanodet: scores, boxes); default: all, in model order.",
    )
    strides: list[int] = Field(default_factory=lambda: [8, 16, 32], description="nanodet: feature strides.")
    reg_max: int = Field(10, ge=1, description="nanodet: distribution bins per side minus one.")
    center_offset: float = Field(
        0.5, description="nanodet: cell centre offset (0.5 for the original GFL head, 0 for NanoDet-Plus)."
    )
    scores_are_logits: bool = Field(
        False, description="Apply a sigmoid to class scores (if not in the graph)."
    )


class ModelManifest(_Strict):
    """One model: the file, its input, its decoder, its labels, its thresholds and where it came from."""

    name: str = Field(min_length=1, description="Model name (the manifest's file stem by convention).")
    task: Literal["detect"] = Field("detect", description="What the model does; only detection so far.")
    file: str = Field(description="The .onnx file, relative to the manifest.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the .onnx, checked at load.")
    input: InputSpec
    decoder: DecoderSpec
    labels: list[str] | None = Field(None, description="Class names in class-id order.")
    labels_file: str | None = Field(None, description="A text file of class names, one a line.")
    score_threshold: float = Field(0.35, gt=0, lt=1, description="Default minimum score.")
    nms_iou: float = Field(
        0.5, gt=0, le=1, description="Default IoU above which a weaker same-class box is dropped."
    )
    max_detections: int = Field(100, gt=0, description="At most this many detections per frame.")
    licence: str = Field(min_length=1, description="Licence of the weights (SPDX id or text).")
    source: str = Field(min_length=1, description="Where the weights came from and how they were converted.")

    @model_validator(mode="after")
    def _one_label_source(self) -> ModelManifest:
        if (self.labels is None) == (self.labels_file is None):
            raise ValueError("give exactly one of labels, labels_file")
        return self


def find_manifest(model: str, models_dir: Path) -> Path:
    """A model name (``nanodet-m``), a manifest path (``.yaml``) or an ``.onnx`` path -> the manifest path."""
    p = Path(model)
    if p.suffix not in (".yaml", ".yml", ".onnx"):
        return models_dir / f"{model}.yaml"
    located = p if (p.is_absolute() or p.exists()) else models_dir / p
    return located.with_suffix(".yaml") if p.suffix == ".onnx" else located


def load_manifest(path: Path) -> tuple[ModelManifest, list[str], Path]:
    """Read and validate a manifest; returns it, its labels and the .onnx path (sha256 checked).

    Raises ModelError with the file name and every problem found.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: model manifest not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ModelError(f"{path}: cannot read model manifest: {exc}") from None
    if not isinstance(raw, dict):
        raise ModelError(f"{path}: a model manifest must be a mapping")
    try:
        manifest = ModelManifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ModelError(f"{path}: invalid model manifest: {problems}") from None
    labels = _labels(manifest, path)
    onnx_path = path.parent / manifest.file
    if not onnx_path.is_file():
        raise ModelError(f"{path}: model file {onnx_path} not found")
    digest = file_sha256(onnx_path)
    if digest != manifest.sha256:
        raise ModelError(
            f"{path}: sha256 of {onnx_path.name} is {digest}, the manifest says {manifest.sha256}: "
            "the file is corrupt or not the model this manifest describes"
        )
    return manifest, labels, onnx_path


def _labels(manifest: ModelManifest, path: Path) -> list[str]:
    if manifest.labels is not None:
        labels = list(manifest.labels)
    else:
        lf = path.parent / (manifest.labels_file or "")
        try:
            labels = [line.strip() for line in lf.read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError as exc:
            raise ModelError(f"{path}: cannot read labels file {lf}: {exc.strerror}") from None
    if not labels:
        raise ModelError(f"{path}: the model has no labels")
    if any(not label for label in labels):
        raise ModelError(f"{path}: empty label in labels")
    return labels


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
