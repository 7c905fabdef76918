"""Frame -> network input tensor, and the transform that maps boxes back to the original frame.

Pure functions over arrays (no session, no I/O), so decoders and tests can undo a letterbox exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_agent.inference.manifest import InputSpec


@dataclass(frozen=True)
class Transform:
    """network_xy = frame_xy * scale + pad; boxes are mapped back with :meth:`to_frame`."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    frame_w: int
    frame_h: int

    def to_frame(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """Network-input pixel boxes [N,4] -> original-frame pixel boxes, clipped to the frame."""
        out = np.empty_like(boxes_xyxy, dtype=np.float32)
        xs, ys = out[:, 0::2], out[:, 1::2]  # views (fancy indexing would copy and drop the clipping)
        xs[:] = (boxes_xyxy[:, 0::2] - self.pad_x) / self.scale_x
        ys[:] = (boxes_xyxy[:, 1::2] - self.pad_y) / self.scale_y
        np.clip(xs, 0, self.frame_w, out=xs)
        np.clip(ys, 0, self.frame_h, out=ys)
        return out


def fit(frame_bgr: np.ndarray, spec: InputSpec) -> tuple[np.ndarray, Transform]:
    """Resize (letterbox or stretch) a BGR uint8 frame to the network size; returns HxWx3 uint8."""
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 BGR frame, got {frame_bgr.shape} {frame_bgr.dtype}")
    h, w = frame_bgr.shape[:2]
    if h == 0 or w == 0:
        raise ValueError("empty frame")
    tw, th = spec.width, spec.height
    if spec.resize == "stretch":
        img = (
            frame_bgr
            if (w, h) == (tw, th)
            else cv2.resize(frame_bgr, (tw, th), interpolation=cv2.INTER_LINEAR)
        )
        return img, Transform(tw / w, th / h, 0.0, 0.0, w, h)
    r = min(tw / w, th / h)
    nw, nh = max(1, round(w * r)), max(1, round(h * r))
    px, py = (tw - nw) // 2, (th - nh) // 2
    canvas = np.full((th, tw, 3), spec.pad_value, dtype=np.uint8)
    canvas[py : py + nh, px : px + nw] = cv2.resize(frame_bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return canvas, Transform(nw / w, nh / h, float(px), float(py), w, h)


def normaliser(spec: InputSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mul, add) in the model's colour order so that x = pixel * mul + add.

    Folds scale, mean and std into one multiply-add: the cheapest form for every frame.
    """
    mean = np.asarray(spec.mean, dtype=np.float32)
    std = np.asarray(spec.std, dtype=np.float32)
    mul = np.float32(spec.scale) / std
    add = -mean / std
    return mul.astype(np.float32), add.astype(np.float32)


def to_tensor(images_hwc: list[np.ndarray], spec: InputSpec) -> np.ndarray:
    """Fitted BGR uint8 images -> one float32 batch in the manifest's colour order, layout and normalisation.

    Written channel by channel into one preallocated array (x = pixel * mul + add): about 6x faster than
    converting the whole image to float and transposing, which matters next to a ~20 ms inference.
    """
    mul, add = normaliser(spec)
    n, h, w = len(images_hwc), spec.height, spec.width
    nchw = spec.layout == "NCHW"
    out = np.empty((n, 3, h, w) if nchw else (n, h, w, 3), dtype=np.float32)
    for i, img in enumerate(images_hwc):
        for k in range(3):  # k: the model's channel; BGR source channel k, or 2-k for RGB models
            src = img[:, :, k if spec.colour == "bgr" else 2 - k]
            dst = out[i, k] if nchw else out[i, :, :, k]
            np.multiply(src, mul[k], out=dst, dtype=np.float32)
            dst += add[k]
    return out
