"""``edge-agent detect IMAGE_OR_CLIP``: run the detector on a picture or a clip and print what it finds.

The first thing a technician tries on a new box: does the model load here, and does it see the van in
this camera's picture? Exit 0 on success, 78 for a model/manifest problem, 66 for an unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from edge_agent.config import EX_CONFIG

EX_NOINPUT = 66
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect", help="run the object detector on an image or a clip and print the detections"
    )
    p.add_argument("input", metavar="IMAGE_OR_CLIP", help="a picture, a video file or a stream URL")
    p.add_argument("--model", help="model name or manifest path (default: the config's, else nanodet-m)")
    p.add_argument(
        "--models-dir", type=Path, help="folder of models and manifests (default: the shipped models/)"
    )
    p.add_argument("-c", "--config", help="take the detector section from this config file")
    p.add_argument(
        "--out", type=Path, help="write the picture with boxes drawn (clips: one PNG per frame, -NNNNNN)"
    )
    p.add_argument("--score", type=float, help="minimum score (default: the manifest's)")
    p.add_argument("--threads", type=int, help="onnxruntime intra-op threads")
    p.add_argument("--every-s", type=float, default=1.0, help="clips: seconds between frames run (default 1)")
    p.add_argument("--max-frames", type=int, default=20, help="clips: at most this many frames (default 20)")
    p.add_argument("--json", action="store_true", help="one JSON object per frame instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edge_agent.config.inference import DetectorConfig
    from edge_agent.inference.detector import load_detector
    from edge_agent.inference.errors import ModelError

    if args.config:
        from edge_agent.cli.common import load_or_exit

        cfg = load_or_exit(args.config).config.detector
    else:
        cfg = DetectorConfig()
    update: dict[str, object] = {}
    if args.model:
        update["model"] = args.model
    if args.score is not None:
        update["score_threshold"] = args.score
    if args.threads is not None:
        update["intra_op_threads"] = args.threads
    try:
        cfg = DetectorConfig.model_validate({**cfg.model_dump(), **update})
    except ValueError as exc:
        print(f"detect: {exc}", file=sys.stderr)
        return EX_CONFIG
    try:
        det = load_detector(cfg, args.models_dir)
    except ModelError as exc:
        print(f"detect: {exc}", file=sys.stderr)
        return EX_CONFIG

    frames = _frames(args)
    if not frames:
        print(f"detect: cannot read any frame from {args.input}", file=sys.stderr)
        return EX_NOINPUT
    for index, frame in frames:
        dets = det.detect(frame)
        if args.json:
            print(
                json.dumps(
                    {
                        "input": args.input,
                        "frame": index,
                        "width": frame.shape[1],
                        "height": frame.shape[0],
                        "detections": [
                            {
                                "label": d.label,
                                "score": round(d.score, 3),
                                "box": [round(v, 1) for v in (d.x1, d.y1, d.x2, d.y2)],
                            }
                            for d in dets
                        ],
                    }
                )
            )
        else:
            where = "" if index is None else f" frame {index}"
            print(
                f"{args.input}{where}: {len(dets)} detection(s) ({frame.shape[1]}x{frame.shape[0]}, model {det.name})"
            )
            for d in dets:
                print(f"  {d.label:<14} {d.score:.2f}  [{d.x1:.0f}, {d.y1:.0f}, {d.x2:.0f}, {d.y2:.0f}]")
        if args.out:
            from edge_agent.inference.draw import draw_detections

            out = (
                args.out
                if index is None
                else args.out.with_name(f"{args.out.stem}-{index:06d}{args.out.suffix or '.png'}")
            )
            out.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(out), draw_detections(frame, dets)):
                print(f"detect: cannot write {out}", file=sys.stderr)
                return 73  # EX_CANTCREAT
    return 0


def _frames(args: argparse.Namespace) -> list[tuple[int | None, np.ndarray]]:
    """(frame index or None for a picture, BGR frame): a picture, or a clip sampled every ``every_s``."""
    src = args.input
    if Path(src).suffix.lower() in IMAGE_SUFFIXES:
        img = cv2.imread(src, cv2.IMREAD_COLOR)
        return [] if img is None else [(None, img)]
    cap = cv2.VideoCapture(src)
    if not cap.isOpened():
        return []
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    step = max(1, round(args.every_s * fps)) if fps > 0 else 1
    out: list[tuple[int | None, np.ndarray]] = []
    index = 0
    try:
        while len(out) < args.max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            if index % step == 0:
                out.append((index, frame))
            index += 1
    finally:
        cap.release()
    return out
