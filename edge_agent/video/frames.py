"""A frame as it crosses from a reader thread to the analysis, and the latest-value slot between them.

A reader decodes as fast as the stream delivers; the analysis takes frames at its own rate. The slot keeps
only the newest frame, so a slow analysis skips frames instead of building a backlog (and latency).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    """BGR, HxWx3, uint8; owned by whoever holds the Frame (readers never write into it again)."""
    ts: float
    """Wall-clock time of capture (epoch s): event timestamps."""
    mono: float
    """Monotonic time of capture (s): durations."""
    seq: int
    """Frame number since the source opened (counts decoded frames, analysed or not)."""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


class LatestSlot:
    """Holds the newest frame; ``take`` returns it once. Written by one reader, read by the analysis."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._fresh = False
        self._lock = threading.Lock()
        self.overwritten = 0
        """Frames replaced before anyone took them (skipped by the analysis)."""
        self.wanted_from = 0.0
        """Monotonic time from which the analysis wants a new frame (set by the analysis, read by the
        reader): before it, the reader only grabs (decodes) frames and skips the colour conversion and copy."""

    def put(self, frame: Frame) -> None:
        with self._lock:
            if self._fresh:
                self.overwritten += 1
            self._frame = frame
            self._fresh = True

    def take(self) -> Frame | None:
        """The newest frame not taken yet, or None."""
        with self._lock:
            if not self._fresh:
                return None
            self._fresh = False
            return self._frame

    def waiting(self) -> bool:
        """Is there a frame nobody took yet?"""
        with self._lock:
            return self._fresh

    def peek(self) -> Frame | None:
        """The newest frame, taken or not (snapshots, health)."""
        with self._lock:
            return self._frame
