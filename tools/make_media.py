#!/usr/bin/env python3
"""Derive the short sample clips in media/ from footage that Debian ships (reproducible, no downloads).

Source: /usr/share/doc/opencv-doc/examples/data/vtest.avi (Debian ``opencv-doc``; 768x576, 10 fps, 79 s:
a campus road with pedestrians, a parked white van, cones). Needs the ``ffmpeg`` command (Debian ``ffmpeg``)
for H.264 encoding; the agent itself never needs it.

Clips:
- ``street-parked-van.mp4``: the first 40 s, H.264. A van stays parked top right the whole time; people
  walk along the road. The tests' and demo's street camera.
- ``street-h265.mp4``: the first 12 s in H.265 (HEVC), for the H.265 RTSP camera test.
- ``street-goods.mp4``: 30 s from 40 s on, with a pile of cardboard boxes composited onto the pavement from
  8 s: an object no COCO class names (the static-object finder's test).

Usage: ``python tools/make_media.py [--src vtest.avi] [--out media]``
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import cv2
import numpy as np

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
X264 = ["-c:v", "libx264", "-preset", "slow", "-crf", "30", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]


X265 = ["-c:v", "libx265", "-preset", "fast", "-crf", "32", "-pix_fmt", "yuv420p", "-tag:v", "hvc1"]
X265 += ["-x265-params", "log-level=error", "-movflags", "+faststart"]


def encode_segment(src: Path, dst: Path, start_s: float, dur_s: float, codec: list[str] = X264) -> None:
    cmd = ["ffmpeg", "-loglevel", "error", "-y", "-ss", str(start_s), "-t", str(dur_s), "-i", str(src), "-an"]
    subprocess.run([*cmd, *codec, str(dst)], check=True)


def boxes_sprite(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A small pile of cardboard boxes (BGR image and its mask), drawn, with shading and tape."""
    h, w = 56, 72
    img = np.zeros((h, w, 3), np.uint8)
    mask = np.zeros((h, w), np.uint8)
    for x, y, bw, bh, tone in [(2, 20, 38, 34, 0), (34, 26, 36, 28, 12), (12, 2, 30, 22, -10)]:
        base = np.array([70, 120, 165]) + tone  # cardboard brown (BGR)
        cv2.rectangle(img, (x, y), (x + bw, y + bh), base.tolist(), -1)
        cv2.rectangle(img, (x, y), (x + bw, y + 6), (base * 1.15).clip(0, 255).tolist(), -1)  # lit top
        cv2.rectangle(img, (x, y), (x + bw, y + bh), (40, 60, 80), 1)
        cv2.line(img, (x + bw // 2, y), (x + bw // 2, y + bh), (150, 190, 200), 2)  # tape
        cv2.rectangle(mask, (x, y), (x + bw, y + bh), 255, -1)
    noise = rng.integers(-8, 9, img.shape)
    img = np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)
    return img, mask


def goods_clip(src: Path, dst: Path, start_s: float, dur_s: float, appear_s: float) -> None:
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.set(cv2.CAP_PROP_POS_FRAMES, int(start_s * fps))
    sprite, mask = boxes_sprite(np.random.default_rng(7))
    sx, sy = int(0.10 * w), int(0.33 * h)  # on the road, left of the lamp post
    ff = ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}"]
    proc = subprocess.Popen([*ff, "-r", str(fps), "-i", "-", "-an", *X264, str(dst)], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(int(dur_s * fps)):
        ok, frame = cap.read()
        if not ok:
            break
        if i >= appear_s * fps:
            roi = frame[sy : sy + sprite.shape[0], sx : sx + sprite.shape[1]]
            roi[mask > 0] = sprite[mask > 0]
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("ffmpeg failed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=VTEST, help="vtest.avi (Debian opencv-doc)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "media")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    encode_segment(a.src, a.out / "street-parked-van.mp4", 0.0, 40.0)
    encode_segment(a.src, a.out / "street-h265.mp4", 0.0, 12.0, X265)
    goods_clip(a.src, a.out / "street-goods.mp4", 40.0, 30.0, appear_s=8.0)
    for p in sorted(a.out.glob("*.mp4")):
        print(f"{p}: {p.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
