"""Config of the ONNX models the cameras share (one session per model, whatever the number of cameras)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from edge_agent.config.base import StrictModel, resolve_path


class DetectorConfig(StrictModel):
    model: str = Field(
        "nanodet-m",
        min_length=1,
        description="Model name (models_dir/NAME.yaml, the manifest beside NAME.onnx) or a path to a manifest.",
    )
    models_dir: Path | None = Field(
        None,
        description="Folder holding models and their manifests; relative to the config file. "
        "Default: the models/ folder shipped with the agent.",
    )
    providers: list[str] = Field(
        default_factory=lambda: ["CPUExecutionProvider"],
        description="onnxruntime execution providers in order of preference; CPU is the logged fallback.",
    )
    intra_op_threads: int = Field(
        0, ge=0, description="onnxruntime intra-op threads (0 = onnxruntime's choice: one per core)."
    )
    inter_op_threads: int = Field(
        0, ge=0, description="onnxruntime inter-op threads (0 = onnxruntime's choice)."
    )
    allow_spinning: bool = Field(
        False,
        description="Let onnxruntime's idle threads spin between inferences: slightly faster on an idle box, "
        "but they steal CPU from camera decoding and meters on a busy 2-4 core gateway (bench/detect.py).",
    )
    score_threshold: float | None = Field(
        None, gt=0, lt=1, description="Minimum detection score; default: the model manifest's."
    )
    nms_iou: float | None = Field(
        None, gt=0, le=1, description="NMS IoU threshold; default: the model manifest's."
    )
    max_batch: int = Field(
        2,
        ge=1,
        le=64,
        description="Most frames run in one inference when several cameras' frames wait. Measured with 4 "
        "cameras on 2 cores (bench/video.py): 1 gave 0.86 of bare onnxruntime and 215 MB peak RSS, 2 gave "
        "0.93 and 247 MB, 4 gave 0.94 and 306 MB (onnxruntime keeps memory for the largest batch). Raise "
        "it for an NPU or iGPU execution provider.",
    )
    warmup_runs: int = Field(
        1,
        ge=0,
        le=20,
        description="Inferences on a blank frame at load, so the first real frame is not slow.",
    )

    @field_validator("models_dir")
    @classmethod
    def _resolve_models_dir(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        return None if v is None else resolve_path(v, info)
