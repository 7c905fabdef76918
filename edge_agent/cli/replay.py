"""``edge-agent replay CLIP -c CONFIG --out DIR [--camera NAME]``: tune zones on a recorded clip."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

from edge_agent.cli.common import add_config_arg, load_or_exit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="run the video analysis on a recorded clip; write events, annotated video, contact sheet",
        description="Runs one camera's zones and rules on CLIP as fast as the machine allows, in the clip's "
        "own time, and writes DIR/events.jsonl, DIR/annotated.mp4 and DIR/contact-sheet.png.",
    )
    p.add_argument("clip", type=Path, help="video file (mp4, avi, mkv...)")
    add_config_arg(p)
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--camera", help="camera whose zones to use (needed when the config has several)")
    p.add_argument(
        "--start",
        help="wall time of the clip's first frame, ISO 8601 (active hours depend on it; "
        "default: file time minus duration)",
    )
    p.add_argument("--no-video", action="store_true", help="skip annotated.mp4 (faster)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edge_agent.inference.detector import load_detector
    from edge_agent.inference.errors import ModelError
    from edge_agent.video.replay import ReplayError, pick_camera, replay_clip

    loaded = load_or_exit(args.config, preflight=True)
    if not args.clip.is_file():
        print(f"replay: no such clip: {args.clip}", file=sys.stderr)
        return 2
    start_ts = None
    if args.start:
        try:
            t = dt.datetime.fromisoformat(args.start)
        except ValueError:
            print(f"replay: --start {args.start!r} is not ISO 8601", file=sys.stderr)
            return 2
        start_ts = (t if t.tzinfo else t.astimezone()).timestamp()
    try:
        camera = pick_camera(loaded.config, args.camera)
        detector = load_detector(loaded.config.detector)
        res = replay_clip(
            loaded.config,
            camera,
            args.clip,
            args.out,
            detector,
            start_ts=start_ts,
            progress=None if args.quiet else sys.stderr,
            write_video=not args.no_video,
        )
    except (ReplayError, ModelError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 1
    kinds = Counter(f"{e.kind}/{e.phase.value}" for e in res.events)
    print(
        f"{res.frames} frames ({res.clip_s:.1f} s of clip) in {res.wall_s:.1f} s "
        f"({res.clip_s / max(res.wall_s, 1e-6):.1f}x real time); analysed {res.analysed}, "
        f"detector ran on {res.detected}"
    )
    print("events: " + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"))
    for name in ("events.jsonl", "annotated.mp4", "contact-sheet.png"):
        if (args.out / name).exists():
            print(f"  {args.out / name}")
    return 0
