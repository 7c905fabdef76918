"""The detector every camera shares: frames in, :class:`Detection` lists out, in original-frame pixels.

One instance per model (one onnxruntime session), safe to call from several threads at once: each call
works on its own buffers and onnxruntime's ``run`` is thread-safe.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

from edge_agent.config.inference import DetectorConfig
from edge_agent.inference.decoders import Candidates, Decoder, NanoDetDecoder, Yolov5Decoder, Yolov8Decoder
from edge_agent.inference.detection import Detection
from edge_agent.inference.errors import ModelError
from edge_agent.inference.manifest import ModelManifest, find_manifest, load_manifest
from edge_agent.inference.nms import nms
from edge_agent.inference.preprocess import Transform, fit, to_tensor
from edge_agent.inference.session import ModelSession

log = logging.getLogger("edge_agent.inference")

DEFAULT_MODELS_DIR = Path(__file__).resolve().parent.parent.parent / "models"  # a source checkout's models/


def default_models_dir() -> Path:
    """The checkout's models/, else where a system package puts them (the wheel does not carry models)."""
    for d in (
        DEFAULT_MODELS_DIR,
        Path(sys.prefix) / "share" / "edge-agent" / "models",
        Path("/usr/share/edge-agent/models"),
    ):
        if d.is_dir():
            return d
    return DEFAULT_MODELS_DIR


class Detector:
    """A model with its manifest, labels, session and decoder; thresholds from the config or the manifest."""

    def __init__(
        self,
        manifest: ModelManifest,
        labels: list[str],
        session: ModelSession,
        *,
        score_threshold: float | None = None,
        nms_iou: float | None = None,
        max_batch: int = 4,
    ) -> None:
        self.manifest = manifest
        self.labels = labels
        self.session = session
        self.score_threshold = score_threshold if score_threshold is not None else manifest.score_threshold
        self.nms_iou = nms_iou if nms_iou is not None else manifest.nms_iou
        # a model exported with a fixed batch of 1 runs frames one by one
        self.max_batch = (
            1 if session.batch_dim == 1 else max(1, min(max_batch, session.batch_dim or max_batch))
        )
        self.decoder = _build_decoder(manifest, len(labels))
        _check_outputs(manifest, session, self.decoder, len(labels))

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the network input."""
        return (self.manifest.input.width, self.manifest.input.height)

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Detections in one BGR uint8 frame, best score first, in the frame's pixel coordinates."""
        return self.detect_batch([frame_bgr])[0]

    def detect_batch(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        """Several frames (any sizes) in as few inferences as the model's batch allows."""
        results: list[list[Detection]] = []
        for start in range(0, len(frames), self.max_batch):
            chunk = frames[start : start + self.max_batch]
            fitted = [fit(f, self.manifest.input) for f in chunk]
            images = [img for img, _ in fitted]
            fixed = self.session.batch_dim
            if fixed is not None and len(images) < fixed:  # a model exported with a fixed batch > 1
                images += [images[-1]] * (fixed - len(images))  # padding rows, their outputs are ignored
            outputs = self.session.run(to_tensor(images, self.manifest.input))
            for i, (_, transform) in enumerate(fitted):
                results.append(self.decode([o[i] for o in outputs], transform))
        return results

    def decode(self, outputs: list[np.ndarray], transform: Transform) -> list[Detection]:
        """One image's raw outputs (batch dim removed) -> detections in its original frame."""
        cand: Candidates = self.decoder(outputs, self.score_threshold)
        keep = nms(cand.boxes_xyxy, cand.scores, cand.class_ids, self.nms_iou, self.manifest.max_detections)
        if keep.size == 0:
            return []
        boxes = transform.to_frame(cand.boxes_xyxy[keep])
        out = []
        for (x1, y1, x2, y2), score, cls in zip(boxes, cand.scores[keep], cand.class_ids[keep], strict=True):
            if x2 <= x1 or y2 <= y1:
                continue  # wholly in the letterbox padding
            c = int(cls)
            out.append(Detection(float(x1), float(y1), float(x2), float(y2), float(score), c, self.labels[c]))
        return out

    def warm_up(self, runs: int = 1) -> None:
        """Run blank frames so the first real frame does not pay for onnxruntime's lazy set-up."""
        w, h = self.input_size
        blank = np.zeros((h, w, 3), dtype=np.uint8)
        for _ in range(runs):
            self.detect(blank)


def _build_decoder(m: ModelManifest, num_classes: int) -> Decoder:
    d = m.decoder
    if d.type == "nanodet":
        return NanoDetDecoder(
            m.input.width, m.input.height, d.strides, d.reg_max, d.center_offset, d.scores_are_logits
        )
    if d.type == "yolov5":
        return Yolov5Decoder(num_classes)
    return Yolov8Decoder(num_classes)


def _check_outputs(m: ModelManifest, session: ModelSession, decoder: Decoder, num_classes: int) -> None:
    """Static output dims must fit the decoder and the label count: a wrong label list is a load error."""
    shapes = session.output_shapes()
    names = session.output_names

    def fixed(dim: object, want: int) -> bool:
        return not isinstance(dim, int) or dim == want

    where = f"model {m.name}"
    if isinstance(decoder, NanoDetDecoder):
        if len(names) != 2:
            raise ModelError(
                f"{where}: the nanodet decoder needs 2 outputs (scores, boxes), the model has {names}"
            )
        s, b = shapes[names[0]], shapes[names[1]]
        if len(s) != 3 or len(b) != 3:
            raise ModelError(f"{where}: nanodet outputs must be [batch, cells, ...], got {s} and {b}")
        if not fixed(s[2], num_classes):
            raise ModelError(
                f"{where}: scores output has {s[2]} classes but the manifest lists {num_classes} labels"
            )
        if not fixed(b[2], 4 * decoder.bins):
            raise ModelError(
                f"{where}: boxes output width {b[2]} is not 4 x (reg_max+1) = {4 * decoder.bins}"
            )
        if not (fixed(s[1], decoder.cells) and fixed(b[1], decoder.cells)):
            raise ModelError(
                f"{where}: outputs have {s[1]} cells, the manifest's input size and strides give {decoder.cells}"
            )
        return
    shape = shapes[names[0]]
    if len(shape) != 3:
        raise ModelError(f"{where}: {m.decoder.type} output must be [batch, ...] with 3 dims, got {shape}")
    if isinstance(decoder, Yolov5Decoder) and not fixed(shape[2], 5 + num_classes):
        raise ModelError(
            f"{where}: yolov5 output rows have {shape[2]} values; {num_classes} labels need 5+{num_classes}"
        )
    if isinstance(decoder, Yolov8Decoder):
        width = 4 + num_classes
        if isinstance(shape[1], int) and isinstance(shape[2], int) and width not in (shape[1], shape[2]):
            raise ModelError(
                f"{where}: yolov8 output {shape} has no dim of 4+{num_classes} for {num_classes} labels"
            )


def check_model(cfg: DetectorConfig, models_dir: Path | None = None) -> Detector:
    """Every load-time check (manifest, sha256, session, input and outputs) without warming up.

    For ``check-config`` and for validating a reloaded config before the running one is stopped.
    Raises ModelError.
    """
    base = models_dir or cfg.models_dir or default_models_dir()
    manifest_path = find_manifest(cfg.model, base)
    manifest, labels, onnx_path = load_manifest(manifest_path)
    session = ModelSession(
        onnx_path, manifest, cfg.providers, cfg.intra_op_threads, cfg.inter_op_threads, cfg.allow_spinning
    )
    return Detector(
        manifest,
        labels,
        session,
        score_threshold=cfg.score_threshold,
        nms_iou=cfg.nms_iou,
        max_batch=cfg.max_batch,
    )


def load_detector(cfg: DetectorConfig, models_dir: Path | None = None) -> Detector:
    """Load, check and warm up the configured model. Raises ModelError on any manifest or model problem."""
    det = check_model(cfg, models_dir)
    manifest, labels, session = det.manifest, det.labels, det.session
    try:
        det.warm_up(cfg.warmup_runs)
    except Exception as exc:  # a model that cannot run a blank frame cannot run a camera's
        raise ModelError(f"model {manifest.name}: warm-up inference failed: {exc}") from None
    log.info(
        "model %s loaded from %s: input %dx%d, %d labels, providers %s, batch up to %d",
        manifest.name,
        session.path,
        *det.input_size,
        len(labels),
        session.providers,
        det.max_batch,
    )
    return det
