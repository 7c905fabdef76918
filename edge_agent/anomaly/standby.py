"""Electricity activity: power above the household's own standby, learned from its nights.

Fridges cycle and routers hum all night, so "power above zero" says nothing. Night-time slot powers give
the standby band (10th to 90th percentile) and the fridge's full swing (1st to 99th: a compressor cycle
that lines up with a slot moves its mean by the whole fridge, and an empty flat must never look alive).
A slot is active when its mean power rises above the band, and above the last hour's floor by more than
the swing, by a margin; or drops by more than the swing and the margin (a light or the TV switched off
is a sign of life too). The trailing floor means a light or TV left burning stops
counting as activity after ``baseline_window_s``: exactly the case of a person who fell with the TV on.
"""

from __future__ import annotations

from collections import deque

QUANTILE_LO = 0.1
QUANTILE_HI = 0.9
QUANTILE_SWING = 0.01
NIGHTS_KEPT = 14
MIN_NIGHT_SLOTS = 12


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return 0.0
    pos = q * (len(s) - 1)
    i = int(pos)
    j = min(i + 1, len(s) - 1)
    return s[i] + (s[j] - s[i]) * (pos - i)


class StandbyModel:
    def __init__(
        self,
        slot_s: int,
        night_slots: int,
        margin_w: float,
        quantum_w: float,
        default_swing_w: float,
        window_slots: int,
    ) -> None:
        self.margin_w = max(margin_w, 1.5 * quantum_w)
        self.default_swing_w = default_swing_w
        self.night: deque[float] = deque(maxlen=max(MIN_NIGHT_SLOTS, night_slots * NIGHTS_KEPT))
        self.recent: deque[float] = deque(maxlen=max(1, window_slots))
        self.cold: deque[float] = deque(maxlen=max(4, 86400 // slot_s))
        self.lo_w: float | None = None
        self.hi_w: float | None = None
        self.swing_w: float | None = None
        self.prev_w: float | None = None

    def band(self) -> tuple[float, float]:
        if self.lo_w is not None and self.hi_w is not None:
            return self.lo_w, self.hi_w
        lo = min(self.cold) if self.cold else 0.0
        return lo, lo + self.default_swing_w

    def relearn(self) -> None:
        """Recompute the standby band from the kept nights (called once a day)."""
        if len(self.night) >= MIN_NIGHT_SLOTS:
            vals = list(self.night)
            self.lo_w = quantile(vals, QUANTILE_LO)
            self.hi_w = quantile(vals, QUANTILE_HI)
            self.swing_w = quantile(vals, 1 - QUANTILE_SWING) - quantile(vals, QUANTILE_SWING)

    def observe(self, power_w: float | None, is_night: bool) -> bool:
        """Classify one slot's mean power (None = no data: not active, and forgets the step reference)."""
        if power_w is None:
            self.prev_w = None
            return False
        lo, hi = self.band()
        swing = self.swing_w if self.swing_w is not None else max(hi - lo, self.default_swing_w)
        floor = min(self.recent) if self.recent else lo
        active = power_w > max(hi, floor + swing) + self.margin_w
        if not active and self.prev_w is not None:
            active = self.prev_w - power_w > swing + self.margin_w
        self.recent.append(power_w)
        self.cold.append(power_w)
        self.prev_w = power_w
        if is_night:
            self.night.append(power_w)
        return active

    def to_dict(self) -> dict[str, object]:
        return {
            "night": [round(v, 1) for v in self.night],
            "lo_w": self.lo_w,
            "hi_w": self.hi_w,
            "swing_w": self.swing_w,
            "recent": [round(v, 1) for v in self.recent],
            "cold": [round(v, 1) for v in self.cold],
            "prev_w": self.prev_w,
        }

    def load(self, d: dict[str, object]) -> None:
        night = d.get("night")
        if isinstance(night, list):
            self.night.extend(float(v) for v in night)
        lo, hi, sw = d.get("lo_w"), d.get("hi_w"), d.get("swing_w")
        self.lo_w = float(lo) if isinstance(lo, int | float) else None
        self.hi_w = float(hi) if isinstance(hi, int | float) else None
        self.swing_w = float(sw) if isinstance(sw, int | float) else None
        for name in ("recent", "cold"):
            vals = d.get(name)
            if isinstance(vals, list):
                getattr(self, name).extend(float(v) for v in vals)
        prev = d.get("prev_w")
        self.prev_w = float(prev) if isinstance(prev, int | float) else None
