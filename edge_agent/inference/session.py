"""One onnxruntime session per model, shared by every camera (``InferenceSession.run`` is thread-safe).

Execution providers are configurable (gateways may have OpenVINO, ACL, XNNPACK...); a provider that is not
available, or fails to build the session, falls back to CPU with a warning in the log, never silently. The
model's input is checked against its manifest here, so a mismatch is a load-time :class:`ModelError`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge_agent.inference.errors import ModelError
from edge_agent.inference.manifest import ModelManifest

log = logging.getLogger("edge_agent.inference")

CPU = "CPUExecutionProvider"


def choose_providers(requested: list[str], available: list[str]) -> list[str]:
    """Requested providers that this onnxruntime build has, in order, always ending with CPU."""
    chosen = [p for p in requested if p in available]
    missing = [p for p in requested if p not in available]
    if missing:
        log.warning(
            "execution providers %s are not available in this onnxruntime (has %s); using %s",
            missing,
            available,
            [*chosen, CPU] if CPU not in chosen else chosen,
        )
    if CPU not in chosen:
        chosen.append(CPU)
    return chosen


class ModelSession:
    """An onnxruntime session plus the facts the detector needs: input name, batch dim, output names."""

    def __init__(
        self,
        onnx_path: Path,
        manifest: ModelManifest,
        providers: list[str],
        intra_op_threads: int = 0,
        inter_op_threads: int = 0,
        allow_spinning: bool = False,
    ) -> None:
        self.path = onnx_path
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = intra_op_threads
        opts.inter_op_num_threads = inter_op_threads
        spin = "1" if allow_spinning else "0"  # spinning idle threads starve camera decoding on small boxes
        opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
        opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # onnxruntime's own warnings are noise on a gateway's log
        wanted = choose_providers(providers, ort.get_available_providers())
        try:
            self.session = ort.InferenceSession(str(onnx_path), sess_options=opts, providers=wanted)
        except Exception as exc:
            if wanted == [CPU]:
                raise ModelError(f"{onnx_path}: onnxruntime cannot load the model: {exc}") from None
            log.warning("session with %s failed (%s); falling back to CPU", wanted, exc)
            try:
                self.session = ort.InferenceSession(str(onnx_path), sess_options=opts, providers=[CPU])
            except Exception as exc2:
                raise ModelError(f"{onnx_path}: onnxruntime cannot load the model: {exc2}") from None
        self.providers: list[str] = list(self.session.get_providers())
        if wanted[0] != CPU and self.providers[0] != wanted[0]:
            log.warning("model %s runs on %s, not %s", manifest.name, self.providers[0], wanted[0])
        self.input_name, self.batch_dim = self._check_input(onnx_path, manifest)
        self.output_names: list[str] = self._output_names(onnx_path, manifest)

    def _check_input(self, onnx_path: Path, m: ModelManifest) -> tuple[str, int | None]:
        inputs = self.session.get_inputs()
        spec = m.input
        if spec.name is None:
            if len(inputs) != 1:
                raise ModelError(
                    f"{onnx_path}: the model has {len(inputs)} inputs {[i.name for i in inputs]}; "
                    "name one in the manifest (input.name)"
                )
            node = inputs[0]
        else:
            found = [i for i in inputs if i.name == spec.name]
            if not found:
                raise ModelError(
                    f"{onnx_path}: no input named {spec.name!r} (the model has {[i.name for i in inputs]})"
                )
            node = found[0]
        if node.type != "tensor(float)":
            raise ModelError(
                f"{onnx_path}: input {node.name!r} is {node.type}, only float32 inputs are supported"
            )
        shape = list(node.shape)
        if len(shape) != 4:
            raise ModelError(f"{onnx_path}: input {node.name!r} has shape {shape}, expected 4 dims")
        want = [3, spec.height, spec.width] if spec.layout == "NCHW" else [spec.height, spec.width, 3]
        for got, exp, what in zip(shape[1:], want, ("dim 1", "dim 2", "dim 3"), strict=True):
            if isinstance(got, int) and got != exp:
                raise ModelError(
                    f"{onnx_path}: input {node.name!r} is {shape} but the manifest says {spec.layout} "
                    f"{spec.width}x{spec.height} ({what}: model {got}, manifest {exp})"
                )
        batch = shape[0] if isinstance(shape[0], int) else None
        return node.name, batch

    def _output_names(self, onnx_path: Path, m: ModelManifest) -> list[str]:
        have = [o.name for o in self.session.get_outputs()]
        if not m.decoder.outputs:
            return have
        missing = [n for n in m.decoder.outputs if n not in have]
        if missing:
            raise ModelError(
                f"{onnx_path}: outputs {missing} named in the manifest are not in the model ({have})"
            )
        return list(m.decoder.outputs)

    def output_shapes(self) -> dict[str, list[int | str | None]]:
        return {o.name: list(o.shape) for o in self.session.get_outputs()}

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        """One inference; thread-safe (onnxruntime serialises nothing it need not)."""
        return list(self.session.run(self.output_names, {self.input_name: tensor}))  # type: ignore[arg-type]
