"""Injected time.

Every analyser takes a :class:`Clock` instead of calling ``time.time()`` so that replay, offline scoring and
tests run the same code in simulated time, and so that durations use a monotonic source that a wall-clock
jump (NTP sync after hours offline) cannot break.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock time, seconds since the epoch (UTC): for timestamps that leave the gateway."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards: for durations and timeouts."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class SimClock:
    """A clock that only moves when told to (replay, score-readings, tests). Thread-safe."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._t = start
        self._origin = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def monotonic(self) -> float:
        with self._lock:
            return self._t - self._origin

    def set(self, t: float) -> None:
        """Move to epoch time ``t``; refuses to go backwards so durations stay sane."""
        with self._lock:
            if t < self._t:
                raise ValueError(f"SimClock cannot go backwards ({t} < {self._t})")
            self._t = t

    def advance(self, dt_s: float) -> None:
        with self._lock:
            self._t += max(0.0, dt_s)
