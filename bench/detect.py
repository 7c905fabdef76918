"""Detector speed against its limit (raw ``session.run``), and its quality on hand-labelled pictures.

The limit is the shipped model's bare onnxruntime inference on this machine, measured in the same run.
The detector's full rate (resize, normalise, infer, decode, NMS, map back) should reach 0.9 of it. Raw
and full runs alternate frame by frame over the same real street frames and the median of the rounds
counts, so a noisy neighbour hurts both sides alike. Also: 1 and 2 intra-op threads, 4 frames per batch,
and onnxruntime's default of spinning idle threads (the agent turns it off: detector.allow_spinning).

    .venv/bin/python bench/detect.py                 # speed table
    .venv/bin/python bench/detect.py --json          # raw_infer_per_s, detector_per_s, detector_vs_raw, ...
    .venv/bin/python bench/detect.py --quality       # + recall/precision on tests/data/inference/truth.yaml,
                                                     #   and the input-normalisation comparison (docs/models.md)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from edge_agent.config.inference import DetectorConfig
from edge_agent.inference.detection import Detection
from edge_agent.inference.detector import Detector, load_detector
from edge_agent.inference.evaluate import Score, load_truth, read_picture, score_image
from edge_agent.inference.preprocess import fit, to_tensor

REPO = Path(__file__).resolve().parent.parent
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
DARKNET = Path("/usr/share/darknet/data")
TRUTH = REPO / "tests" / "data" / "inference" / "truth.yaml"
GOAL = 0.9
AP_FLOOR = 0.1  # detections kept for the precision/recall curve


def street_frames(n: int) -> list[np.ndarray]:
    """``n`` frames spread over the whole vtest.avi clip (a street with pedestrians and a parked van)."""
    if not VTEST.exists():
        sys.exit(f"{VTEST} is missing: apt-get install opencv-doc")
    cap = cv2.VideoCapture(str(VTEST))
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or 795
    step = max(1, total // n)
    frames, index = [], 0
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        if index % step == 0:
            frames.append(frame)
        index += 1
    cap.release()
    return frames


def measure(det: Detector, frames: list[np.ndarray], rounds: int) -> dict[str, float]:
    """Raw and full runs alternate frame by frame, so load from other processes hits both alike."""
    spec = det.manifest.input
    tensors = [to_tensor([fit(f, spec)[0]], spec) for f in frames]
    groups = [frames[i : i + 4] for i in range(0, len(frames) - 3, 4)]
    tensors4 = [to_tensor([fit(f, spec)[0] for f in g], spec) for g in groups]
    clock = time.perf_counter
    raw, full, raw4, full4 = [], [], [], []
    for _ in range(rounds):
        t_raw = t_full = 0.0
        for frame, tensor in zip(frames, tensors, strict=True):
            t0 = clock()
            det.session.run(tensor)
            t1 = clock()
            det.detect(frame)
            t2 = clock()
            t_raw, t_full = t_raw + (t1 - t0), t_full + (t2 - t1)
        raw.append(len(frames) / t_raw)
        full.append(len(frames) / t_full)
        t_raw = t_full = 0.0
        for group, tensor in zip(groups, tensors4, strict=True):
            t0 = clock()
            det.session.run(tensor)
            t1 = clock()
            det.detect_batch(group)
            t2 = clock()
            t_raw, t_full = t_raw + (t1 - t0), t_full + (t2 - t1)
        raw4.append(t_raw / (4 * len(groups)) * 1000)
        full4.append(t_full / (4 * len(groups)) * 1000)
    r, d = statistics.median(raw), statistics.median(full)
    ratio = statistics.median(f / rr for f, rr in zip(full, raw, strict=True))
    return {
        "raw_infer_per_s": round(r, 2),
        "detector_per_s": round(d, 2),
        "detector_vs_raw": round(ratio, 3),
        "raw_ms": round(1000 / r, 2),
        "detector_ms": round(1000 / d, 2),
        "raw_batched4_per_frame_ms": round(statistics.median(raw4), 2),
        "batched4_per_frame_ms": round(statistics.median(full4), 2),
        "batched4_vs_single": round(statistics.median(full4) / (1000 / d), 3),
    }


def speed(args: argparse.Namespace) -> dict[str, object]:
    frames = street_frames(args.frames)
    by_threads: dict[str, dict[str, float]] = {}
    for n in args.threads:
        det = load_detector(DetectorConfig(intra_op_threads=n, warmup_runs=3))
        by_threads[str(n)] = measure(det, frames, args.rounds)
    main_n = max(args.threads)
    if not args.no_spin_row:  # what onnxruntime does by default: idle threads spin between runs
        det = load_detector(DetectorConfig(intra_op_threads=main_n, warmup_runs=3, allow_spinning=True))
        by_threads[f"{main_n}+spin"] = measure(det, frames, args.rounds)
    out: dict[str, object] = dict(by_threads[str(main_n)])
    out.update(
        {
            "threads": main_n,
            "load_average_1m": round(os.getloadavg()[0], 2),
            "by_threads": by_threads,
            "goal_detector_vs_raw": GOAL,
            "frames": len(frames),
            "frame_size": f"{frames[0].shape[1]}x{frames[0].shape[0]}",
            "rounds": args.rounds,
            "cpu_count": os.cpu_count(),
        }
    )
    if not args.json:
        print(
            f"model nanodet-m, {len(frames)} real frames {out['frame_size']}, median of {args.rounds} rounds, "
            f"load average {out['load_average_1m']} on {os.cpu_count()} cores"
        )
        head = (
            f"{'threads':>7} {'raw inf/s':>10} {'detector/s':>11} {'det/raw':>8} {'goal':>5} "
            f"{'raw ms':>7} {'det ms':>7} {'raw b4 ms/f':>12} {'det b4 ms/f':>12} {'b4/single':>10}"
        )
        print(head)
        print("-" * len(head))
        for n, m in by_threads.items():
            ok = "ok" if m["detector_vs_raw"] >= GOAL else "MISS"
            print(
                f"{n:>7} {m['raw_infer_per_s']:>10.1f} {m['detector_per_s']:>11.1f} {m['detector_vs_raw']:>8.3f} "
                f"{ok:>5} {m['raw_ms']:>7.2f} {m['detector_ms']:>7.2f} {m['raw_batched4_per_frame_ms']:>12.2f} "
                f"{m['batched4_per_frame_ms']:>12.2f} {m['batched4_vs_single']:>10.3f}"
            )
    return out


VARIANTS: list[tuple[str, dict[str, object], dict[str, object]]] = [
    ("shipped: BGR, NanoDet mean/std, stretch", {}, {}),
    (
        "RGB, same mean/std",
        {"colour": "rgb", "mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)},
        {},
    ),
    (
        "RGB / 255 (human.js code)",
        {"colour": "rgb", "scale": 1 / 255, "mean": (0, 0, 0), "std": (1, 1, 1)},
        {},
    ),
    ("BGR / 255", {"colour": "bgr", "scale": 1 / 255, "mean": (0, 0, 0), "std": (1, 1, 1)}, {}),
    ("shipped, letterbox", {"resize": "letterbox"}, {}),
    ("shipped, cell centre offset 0", {}, {"center_offset": 0.0}),
]


def quality(args: argparse.Namespace) -> dict[str, object]:
    """Each variant runs once per picture at score 0.1 (for AP); higher thresholds filter that run.

    Filtering after NMS equals NMS at the higher threshold: a box below it never suppresses one above.
    """
    truth = load_truth(TRUTH)
    sources = {"darknet": DARKNET, "vtest": VTEST}
    pictures = {k: read_picture(k, sources) for k in truth}
    base = load_detector(DetectorConfig())
    m = base.manifest

    def run(det: Detector) -> dict[str, list[Detection]]:
        return {k: det.detect(pictures[k]) for k in truth}

    def score(dets: dict[str, list[Detection]], thr: float, prefix: str = "") -> Score:
        total = Score()
        for k, objects in truth.items():
            if k.startswith(prefix):
                total.add(score_image([d for d in dets[k] if d.score >= thr], objects))
        return total

    def row(dets: dict[str, list[Detection]], thr: float, prefix: str = "") -> dict[str, float]:
        s = score(dets, thr, prefix)
        return {
            "found": s.found,
            "missed": s.missed,
            "found_hard": s.found_hard,
            "false": s.false,
            "confused": s.confused,
            "absurd": len(s.absurd),
            "recall": round(s.recall, 3),
            "precision": round(s.precision, 3),
            "mean_score": round(s.mean_score, 3),
            "mean_iou": round(s.mean_iou, 3),
            "AP": round(score(dets, AP_FLOOR, prefix).average_precision(), 3),
        }

    def street(dets: dict[str, list[Detection]]) -> dict[str, float]:
        """Street frames only (the use case): ranking, and the margin between real and false boxes."""
        s = score(dets, AP_FLOOR, "vtest/")
        false = [sc for sc, ok in s.ranked if not ok]
        return {
            "street_AP": round(s.average_precision(), 3),
            "street_mean_score": round(s.mean_score, 3),
            "street_max_false": round(max(false, default=0.0), 3),
        }

    shipped = run(Detector(m, base.labels, base.session, score_threshold=AP_FLOOR))
    thresholds = {str(t): row(shipped, t) for t in (0.3, 0.35, 0.4, 0.45, 0.5)}
    street_thresholds = {str(t): row(shipped, t, "vtest/") for t in (0.3, 0.35, 0.4, 0.45, 0.5)}
    variants = {}
    for name, inp, dec in VARIANTS:
        vm = m.model_copy(
            update={"input": m.input.model_copy(update=inp), "decoder": m.decoder.model_copy(update=dec)}
        )
        dets = run(Detector(vm, base.labels, base.session, score_threshold=AP_FLOOR))
        variants[name] = {**row(dets, m.score_threshold), **street(dets)}
    objects = sum(len(v) for v in truth.values())
    if not args.json:
        cols = list(next(iter(thresholds.values())))
        head = f"{'':<42}" + "".join(f"{c:>11}" for c in cols)
        print(
            f"\nquality on {len(truth)} hand-labelled pictures, {objects} objects (tests/data/inference/truth.yaml)"
        )
        print(head)
        print("-" * len(head))
        for thr, r in thresholds.items():
            print(f"{'shipped, score >= ' + thr:<42}" + "".join(f"{r[c]:>11}" for c in cols))
        for thr, r in street_thresholds.items():
            print(f"{'street frames only, score >= ' + thr:<42}" + "".join(f"{r[c]:>11}" for c in cols))
        print(
            f"\ninput normalisation / decoding variants at score >= {m.score_threshold} (AP: threshold-free)"
        )
        print("st_*: street frames only: AP, mean score of real objects, highest score of a false box")
        vcols = list(next(iter(variants.values())))
        alias = {"street_AP": "st_AP", "street_mean_score": "st_score", "street_max_false": "st_false"}
        vhead = f"{'':<42}" + "".join(f"{alias.get(c, c):>11}" for c in vcols)
        print(vhead)
        print("-" * len(vhead))
        for name, r in variants.items():
            print(f"{name:<42}" + "".join(f"{r[c]:>11}" for c in vcols))
    return {
        "pictures": len(truth),
        "objects": objects,
        "by_threshold": thresholds,
        "street_by_threshold": street_thresholds,
        "variants": variants,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--frames", type=int, default=40, help="real frames per pass (default 40)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating raw/full rounds; the median counts")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="intra-op thread counts")
    ap.add_argument(
        "--no-spin-row", action="store_true", help="skip the row with spinning onnxruntime threads"
    )
    ap.add_argument(
        "--quality", action="store_true", help="also measure recall/precision on labelled pictures"
    )
    ap.add_argument("--quality-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = speed(args) if not args.quality_only else {}
    if args.quality or args.quality_only:
        out["quality"] = quality(args)
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
