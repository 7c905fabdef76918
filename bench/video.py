#!/usr/bin/env python3
"""Video benchmark: detector throughput through the pipeline vs raw onnxruntime, gating share, CPU, RSS,
dwell-to-outbox latency. Prints a table (or ``--json`` with the keys below). All limits are measured in
the same run; on a busy machine raw and pipeline windows are interleaved so both see the same load.

Keys: raw_infer_per_s, pipeline_infer_per_s, pipeline_vs_raw (goal >= 0.9), gated_frame_share,
cpu_s_per_camera_s, peak_rss_mb_4cams (goal <= 250), dwell_to_outbox_s (goal < 1).

Usage: .venv/bin/python bench/video.py [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent
CLIP = REPO / "media" / "street-parked-van.mp4"
VAN_ZONE = "[[0.80, 0.10], [0.95, 0.10], [0.95, 0.24], [0.80, 0.24]]"


def make_config(
    state: Path, cams: int, *, analysis_fps: float = 2.0, gate: bool = True, dwell_s: float = 3.0
):  # type: ignore[no-untyped-def]
    from edge_agent.config import parse_config

    cam_yaml = "".join(
        f"""
  - id: cam{i}
    url: {CLIP}
    analysis_fps: {analysis_fps}
    zones:
      - id: van-bay
        polygon: {VAN_ZONE}
        dwell_s: {dwell_s}"""
        for i in range(cams)
    )
    motion = "" if gate else "\n  motion: {min_area_frac: 0.0}"
    return parse_config(
        f"gateway: {{id: bench, state_dir: {state}}}\ncameras:{cam_yaml}\nvideo:{motion or ' {}'}\n"
    )


def load(max_batch: int | None = None):  # type: ignore[no-untyped-def]
    from edge_agent.config.inference import DetectorConfig
    from edge_agent.inference.detector import load_detector

    cfg = DetectorConfig() if max_batch is None else DetectorConfig(max_batch=max_batch)
    return load_detector(cfg)


def raw_rate(det, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """session.run alone on one preprocessed frame, batch 1: the model's limit on this machine now."""
    from edge_agent.inference.preprocess import fit, to_tensor

    _ok, img = cv2.VideoCapture(str(CLIP)).read()
    tensor = to_tensor([fit(img, det.manifest.input)[0]], det.manifest.input)
    det.session.run(tensor)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        det.session.run(tensor)
        n += 1
    return n / (time.perf_counter() - t0)


def detect_rate(det, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """Detector.detect alone (letterbox, session.run, output decoding, NMS) on one frame: no video pipeline."""
    _ok, img = cv2.VideoCapture(str(CLIP)).read()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        det.detect(img)
        n += 1
    return n / (time.perf_counter() - t0)


class MemoryReader:
    """A camera source that hands out pre-decoded frames as fast as the analysis takes them.

    Used for the throughput comparison so that the pipeline windows measure the analysis around the
    detector (gating, batching, pre/post-processing, tracking, rules) and not the decoding of the
    bench's files; decoding is counted in the CPU-per-camera figure. ``paused`` stops it for raw windows.
    """

    kind = None
    opens = 1
    fps = 0.0

    def __init__(self, frames: list, slot, clock) -> None:  # type: ignore[no-untyped-def,type-arg]
        self.frames, self.slot, self.clock = frames, slot, clock
        self.on_frame = None
        self.paused = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from edge_agent.video.frames import Frame

        k = 0
        while not self._stop.is_set():
            if self.paused.is_set() or self.slot.waiting():
                time.sleep(0.001)
                continue
            img = self.frames[k % len(self.frames)]
            k += 1
            self.slot.put(Frame(img, self.clock.now(), self.clock.monotonic(), k))
            if self.on_frame is not None:
                self.on_frame()

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout_s: float = 1.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)


def throughput(det, rounds: int, win_s: float, cams: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Alternate short raw and pipeline windows (paired, same background load); rates per window."""
    from edge_agent.clock import SystemClock
    from edge_agent.video.service import build_video_service

    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    for _ in range(40):
        ok, img = cap.read()
        if ok:
            frames.append(img)
    raws, pipes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = make_config(Path(tmp), cams, analysis_fps=30, gate=False)
        clock = SystemClock()
        svc = build_video_service(cfg, lambda e: None, clock, Path(tmp), detector=det)
        assert svc is not None
        feeders = []
        for c in svc.cams:
            c.reader = MemoryReader(frames, c.slot, clock)  # type: ignore[assignment]
            c.reader.on_frame = svc._wake.set
            c.status.up()
            feeders.append(c.reader)
        svc.start()
        try:
            for _ in range(rounds):
                for f in feeders:
                    f.paused.set()
                time.sleep(0.2)  # the worker finishes what it holds
                raws.append(raw_rate(det, win_s))
                for f in feeders:
                    f.paused.clear()
                time.sleep(0.2)
                n0, t0 = svc.inferences, time.monotonic()
                time.sleep(win_s)
                pipes.append((svc.inferences - n0) / (time.monotonic() - t0))
        finally:
            svc.stop(5.0)
    return raws, pipes


def gated_share(det) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    """Replay the street clip with the demo's one-zone camera: share of analysed frames sent to the detector."""
    from edge_agent.video.replay import replay_clip

    with tempfile.TemporaryDirectory() as tmp:
        cfg = make_config(Path(tmp), 1, analysis_fps=2, gate=True, dwell_s=15)
        res = replay_clip(
            cfg, cfg.cameras[0], CLIP, Path(tmp), det, start_ts=1.7e9, progress=None, write_video=False
        )
    return res.detected / max(1, res.analysed), res.detected, res.analysed


def dwell_to_outbox(det, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from the dwell being reached (frame time) to the start event committed in the SQLite outbox."""
    from edge_agent.clock import SystemClock
    from edge_agent.events.path import build_event_path
    from edge_agent.video.service import build_video_service

    out: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = make_config(Path(tmp), 1, analysis_fps=2, gate=True, dwell_s=3.0)
            path = build_event_path(cfg, Path(tmp), SystemClock(), "bench")
            done = threading.Event()
            lat: list[float] = []

            def emit(e, _emit=path.emit, _lat=lat, _done=done) -> None:  # type: ignore[no-untyped-def]
                _emit(e)  # returns once the row is committed
                if e.kind == "road_occupation" and e.phase.value == "start":
                    reached = e.ts - (e.body["duration_s"] - 3.0)
                    _lat.append(time.time() - reached)
                    _done.set()

            svc = build_video_service(cfg, emit, SystemClock(), Path(tmp), detector=det)
            assert svc is not None
            svc.start()
            done.wait(30)
            svc.stop(5.0)
            path.service.stop(1.0)
            out.extend(lat)
    return out


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage's ru_maxrss: Linux carries it across exec, so a child
    of a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(cams: int, seconds: float, max_batch: int | None) -> None:
    """Run ``cams`` file cameras at 2 fps with gating for ``seconds``; print CPU and peak RSS as JSON."""
    from edge_agent.clock import SystemClock
    from edge_agent.video.service import build_video_service

    det = load(max_batch)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = make_config(Path(tmp), cams, analysis_fps=2, gate=True, dwell_s=15)
        svc = build_video_service(cfg, lambda e: None, SystemClock(), Path(tmp), detector=det)
        assert svc is not None
        svc.start()
        time.sleep(3.0)  # opening, warm-up
        c0, t0 = time.process_time(), time.monotonic()
        time.sleep(seconds)
        cpu, wall = time.process_time() - c0, time.monotonic() - t0
        live = sum(c.status.online for c in svc.cams)
        analysed = sum(c.analysed for c in svc.cams)
        svc.stop(5.0)
    rss_mb = peak_rss_mb()
    print(
        json.dumps(
            {
                "cpu_s": cpu,
                "wall_s": wall,
                "cams": cams,
                "live": live,
                "analysed": analysed,
                "peak_rss_mb": rss_mb,
            }
        )
    )


def run_child(cams: int, seconds: float, max_batch: int | None = None) -> dict:  # type: ignore[type-arg]
    extra = [] if max_batch is None else ["--max-batch", str(max_batch)]
    p = subprocess.run(
        [sys.executable, __file__, "--child", str(cams), "--seconds", str(seconds), *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print the named keys as JSON")
    ap.add_argument("--quick", action="store_true", help="shorter windows (noisier)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=20.0, help=argparse.SUPPRESS)
    ap.add_argument("--max-batch", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.seconds, a.max_batch)
        return
    win = 1.5 if a.quick else 2.0
    det = load()
    det4 = load(max_batch=4)
    rounds = 4 if a.quick else 10
    raws, pipes = throughput(det, rounds, win, cams=4)
    raws4, pipes4 = throughput(det4, rounds, win, cams=4)
    dets = [detect_rate(det, win) for _ in range(3)]
    raw, pipe, one = statistics.median(raws), statistics.median(pipes), statistics.median(dets)
    pipe4 = statistics.median(pipes4)
    ratio = statistics.median(p / r for p, r in zip(pipes, raws, strict=True))
    ratio4 = statistics.median(p / r for p, r in zip(pipes4, raws4, strict=True))
    share, detected, analysed = gated_share(det)
    one_cam = run_child(1, 10.0 if a.quick else 20.0)
    four = run_child(4, 8.0 if a.quick else 15.0)
    four_b4 = run_child(4, 8.0 if a.quick else 15.0, max_batch=4)
    lat = dwell_to_outbox(det, 2 if a.quick else 3)
    res = {
        "raw_infer_per_s": round(raw, 1),
        "pipeline_infer_per_s": round(pipe, 1),
        "pipeline_vs_raw": round(ratio, 3),
        "gated_frame_share": round(share, 3),
        "cpu_s_per_camera_s": round(one_cam["cpu_s"] / one_cam["wall_s"], 3),
        "peak_rss_mb_4cams": round(four["peak_rss_mb"], 1),
        "dwell_to_outbox_s": round(max(lat), 3) if lat else None,
        "peak_rss_mb_4cams_batch4": round(four_b4["peak_rss_mb"], 1),
        "detect_call_per_s": round(one, 1),
        "pipeline_infer_per_s_batch4": round(pipe4, 1),
    }
    if a.json:
        print(json.dumps(res))
        return
    rows = [
        (
            "raw onnxruntime, batch 1 (limit)",
            f"{raw:.1f} inf/s",
            "",
            "windows " + ", ".join(f"{r:.0f}" for r in raws),
        ),
        (
            "pipeline, every frame detected, 4 cams",  # default detector.max_batch (2)
            f"{pipe:.1f} inf/s",
            f"{ratio:.2f} of raw (goal >= 0.9), paired",
            "windows " + ", ".join(f"{p:.0f}" for p in pipes),
        ),
        (
            "pipeline as above, detector.max_batch 4",
            f"{pipe4:.1f} inf/s",
            f"{ratio4:.2f} of raw, paired",
            "windows " + ", ".join(f"{p:.0f}" for p in pipes4),
        ),
        (
            "Detector.detect alone, 1 frame (pre+post)",
            f"{one:.1f} inf/s",
            f"{one / raw:.2f} of raw; pipeline {pipe / one:.2f} of it",
            "windows " + ", ".join(f"{d:.0f}" for d in dets),
        ),
        (
            "frames reaching the detector (gated)",
            f"{share:.1%}",
            f"{detected}/{analysed} analysed",
            "street clip, van zone, 2 fps",
        ),
        (
            "CPU per camera-second at 2 fps",
            f"{res['cpu_s_per_camera_s']:.3f} s",
            f"{res['cpu_s_per_camera_s']:.1%} of one core",
            "decode 10 fps + analysis",
        ),
        (
            "CPU per camera-second, 4 cams",
            f"{four['cpu_s'] / four['wall_s'] / 4:.3f} s",
            f"{four['live']}/4 live",
            "",
        ),
        (
            "peak RSS, 4 cameras",
            f"{four['peak_rss_mb']:.0f} MB",
            f"{four['peak_rss_mb'] / 250:.2f} of 250 MB",
            "subprocess, detector.max_batch default (2)",
        ),
        (
            "peak RSS, 4 cameras, max_batch 4",
            f"{four_b4['peak_rss_mb']:.0f} MB",
            f"{four_b4['peak_rss_mb'] / 250:.2f} of 250 MB",
            "subprocess, detector.max_batch: 4",
        ),
        (
            "dwell reached -> in outbox (max)",
            f"{max(lat):.3f} s" if lat else "n/a",
            f"{max(lat):.2f} of 1 s" if lat else "",
            "runs " + ", ".join(f"{x:.2f}" for x in lat),
        ),
    ]
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"{'measure':<{w[0]}} | {'value':>{w[1]}} | {'vs limit':<{w[2]}} | note")
    print("-" * (sum(w) + 9))
    for r in rows:
        print(f"{r[0]:<{w[0]}} | {r[1]:>{w[1]}} | {r[2]:<{w[2]}} | {r[3]}")
    print(
        f"(cpu count {len(__import__('os').sched_getaffinity(0))}; load {__import__('os').getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
