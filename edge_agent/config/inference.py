"""Config of the ONNX models the cameras share."""

from __future__ import annotations

from pydantic import Field

from edge_agent.config.base import StrictModel


class DetectorConfig(StrictModel):
    model: str = Field(
        "nanodet-m", description="Model name: models/NAME.onnx with models/NAME.yaml beside it."
    )
    providers: list[str] = Field(
        default_factory=lambda: ["CPUExecutionProvider"],
        description="onnxruntime execution providers in order of preference; CPU is the logged fallback.",
    )
    intra_op_threads: int = Field(
        0, ge=0, description="onnxruntime intra-op threads (0 = onnxruntime's choice)."
    )
