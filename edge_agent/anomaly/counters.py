"""Turning cumulative meter counters into intervals of use, without mistaking glitches for use.

A counter reading alone says nothing; two consecutive good readings say how much was used between them.
Failed polls leave the previous value in place, so the next good reading spans the gap (and is dropped as
a gap when too long); a counter that goes backwards (meter swapped, reset, wrapped) or jumps faster than
any household can use is counted and re-based, never scored as use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CLOCK_JUMP_S = 3600.0
"""A reading this much older than the last one means the clock was reset, not a late delivery."""


@dataclass(frozen=True)
class Interval:
    t0: float
    t1: float
    delta: float
    """Counter increase over (t0, t1], in the counter's unit."""


@dataclass
class CounterTrack:
    """One cumulative counter (``water_m3`` or ``energy_kwh``) of one meter."""

    resolution: float
    max_rate_per_s: float
    """Faster increase than this is a glitch (e.g. 3 m3/h of water, 60 kW of power)."""
    max_interval_s: float
    last_ts: float | None = None
    last_value: float | None = None
    stats: dict[str, int] = field(default_factory=dict)

    def _count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    def update(self, ts: float, value: float) -> tuple[Interval | None, bool]:
        """Feed a good reading. Returns (interval to attribute or None, use seen across a gap)."""
        if self.last_ts is None or self.last_value is None:
            self.last_ts, self.last_value = ts, value
            return None, False
        if ts < self.last_ts - CLOCK_JUMP_S:  # the wall clock went back (NTP after a wrong boot time)
            self._count("clock_went_back")
            self.last_ts, self.last_value = ts, value
            return None, False
        if ts <= self.last_ts:
            self._count("out_of_order")
            return None, False
        dt_s = ts - self.last_ts
        delta = value - self.last_value
        t0 = self.last_ts
        if delta < -0.5 * self.resolution:
            self._count("counter_backwards")
            self.last_ts, self.last_value = ts, value
            return None, False
        if delta > self.max_rate_per_s * dt_s + self.resolution:
            self._count("implausible_jump")
            self.last_ts, self.last_value = ts, value
            return None, False
        self.last_ts, self.last_value = ts, value
        delta = max(0.0, delta)
        if dt_s > self.max_interval_s:
            self._count("gap")
            return None, delta >= 0.5 * self.resolution
        return Interval(t0, ts, delta), False

    def to_dict(self) -> dict[str, object]:
        return {"last_ts": self.last_ts, "last_value": self.last_value}

    def load(self, d: dict[str, object]) -> None:
        ts, v = d.get("last_ts"), d.get("last_value")
        self.last_ts = float(ts) if isinstance(ts, int | float) else None
        self.last_value = float(v) if isinstance(v, int | float) else None
