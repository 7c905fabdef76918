from __future__ import annotations

import numpy as np

from edge_agent.config.video import MotionConfig
from edge_agent.video.gating import GateDecision, MotionGate


def scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.full((240, 320, 3), 90, np.uint8)
    base[120:, :] = 140  # a road
    return np.clip(base + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8)


def test_still_scene_holds_until_forced() -> None:
    g = MotionGate(MotionConfig(force_detect_s=5.0))
    decisions = [g.check(scene(k), k * 0.5).decision for k in range(12)]
    assert decisions[0] == GateDecision.DETECT  # first frame: nothing known yet
    assert decisions[1:10] == [GateDecision.HOLD] * 9
    assert decisions[10] == GateDecision.DETECT  # 5 s since the last detection


def test_moving_object_triggers_detection() -> None:
    g = MotionGate(MotionConfig(force_detect_s=100.0))
    g.check(scene(), 0.0)
    img = scene(1)
    img[150:190, 100:130] = 20  # a dark pedestrian
    r = g.check(img, 0.5)
    assert r.decision == GateDecision.DETECT and r.motion_frac > 0.005


def test_motion_outside_watched_mask_is_ignored() -> None:
    mask = np.zeros((120, 160), np.uint8)
    mask[:, 80:] = 255  # watch the right half of the small frame only
    g = MotionGate(MotionConfig(width_px=160, force_detect_s=100.0), mask)
    g.check(scene(), 0.0)
    img = scene(1)
    img[150:190, 20:60] = 20  # left half
    assert g.check(img, 0.5).decision == GateDecision.HOLD
    img[150:190, 220:260] = 20  # right half
    assert g.check(img, 1.0).decision == GateDecision.DETECT


def test_lights_switching_skips_frame_then_settles() -> None:
    g = MotionGate(MotionConfig(force_detect_s=100.0))
    g.check(scene(), 0.0)
    bright = np.clip(scene(1).astype(int) + 80, 0, 255).astype(np.uint8)
    assert g.check(bright, 0.5).decision == GateDecision.SKIP
    assert (
        g.check(np.clip(scene(2).astype(int) + 80, 0, 255).astype(np.uint8), 1.0).decision
        == GateDecision.HOLD
    )


def test_requested_detection_runs_on_the_next_still_frame() -> None:
    g = MotionGate(MotionConfig(force_detect_s=100.0))
    g.check(scene(), 0.0)
    assert g.check(scene(1), 0.5).decision == GateDecision.HOLD
    g.request_detection()
    assert g.check(scene(2), 1.0).decision == GateDecision.DETECT
    assert g.check(scene(3), 1.5).decision == GateDecision.HOLD  # once
