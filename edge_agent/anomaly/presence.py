"""Presence evidence: a load held on (a light, the TV) while nothing else happens.

When people go out they usually switch lights and the TV off, so the power falls back to standby. A
silence during which a load stays on above the household's night-time level says someone is probably at
home and not moving: stronger evidence of an incident than plain silence, which may be an outing.

The held level is a trimmed mean of the last ``window`` slot powers (the highest ``trim`` dropped, so a
kettle or cooking just before going out does not look like a light left on; averaging several slots
smooths the fridge's cycle and the meter's 0.01 kWh steps). A load is held when that level exceeds the
same statistic's 90th percentile over recent nights by a margin. How often a held slot ends the silence
is learned per local hour from the household's own ordinary days (evenings spent reading under a lamp
are normal), shrunk towards the same count over all hours, and that towards how often the person is
active in their waking hours.

Held slots of a silence add up to a second score, ``-ln P(a held silence this long | the person is
fine)``, with its own thresholds fitted like the plain score's (peaks over threshold of its daily
maxima): a household whose ordinary evenings hold a lamp on for hours without use gets a high one, a
household that never does gets a low one, and an incident with the TV left on is found in hours, not
the next morning.
"""

from __future__ import annotations

import math
from collections import deque

from .standby import quantile
from .thresholds import ThresholdModel

WINDOW_SLOTS = 8
"""Slots in the held level (2 h at 15 min): long enough to average a fridge cycle."""
TRIM_SLOTS = 2
"""Highest slots dropped from the window (appliance bursts before an outing)."""
NIGHT_Q = 0.9
NIGHTS_KEPT = 14
MIN_NIGHT_LEVELS = 12
PRIOR_WEIGHT = 8.0
"""Held slots an hour needs before its own count outweighs the waking-hours prior."""
THRESHOLD_PRIOR_U = 10.0
"""Prior 80th percentile of the daily maximum held score (nats), as cautious as the plain score's."""
THRESHOLD_PRIOR_BETA = 3.0
"""Prior mean excess over it (nats)."""
P_MAX = 0.9
RECORD_MARGIN = 1.5
"""The held alarm needs a held silence this much above the longest of the ordinary days kept."""


class PresenceModel:
    def __init__(self, slot_s: int, night_slots: int, margin_w: float, days_kept: int) -> None:
        self.margin_w = margin_w
        self.window: deque[float] = deque(maxlen=WINDOW_SLOTS)
        self.night: deque[float] = deque(maxlen=max(MIN_NIGHT_LEVELS, night_slots * NIGHTS_KEPT))
        self.night_ref_w: float | None = None
        self.active = [0.0] * 24
        self.seen = [0.0] * 24
        self.day_counts: dict[int, list[float]] = {}
        self.score = 0.0
        self.day_max = 0.0
        self.thresholds = ThresholdModel(days_kept, THRESHOLD_PRIOR_U, THRESHOLD_PRIOR_BETA)

    def level(self) -> float | None:
        """Trimmed mean power of the window, None until the window is full of data."""
        if len(self.window) < WINDOW_SLOTS:
            return None
        kept = sorted(self.window)[: WINDOW_SLOTS - TRIM_SLOTS]
        return sum(kept) / len(kept)

    def observe(self, power_w: float | None, is_night: bool) -> bool:
        """Add one slot's mean power; True if a load is held (None = no data: not held, window kept)."""
        if power_w is None:
            return False
        self.window.append(power_w)
        lvl = self.level()
        if lvl is None:
            return False
        if is_night:
            self.night.append(lvl)
        return self.night_ref_w is not None and lvl > self.night_ref_w + self.margin_w

    def relearn(self) -> None:
        """Recompute the night reference level (called once a day)."""
        if len(self.night) >= MIN_NIGHT_LEVELS:
            self.night_ref_w = quantile(list(self.night), NIGHT_Q)

    def p(self, hour: int, waking_p: float) -> float:
        """Chance a held slot at this local hour shows activity: the hour's own count, shrunk towards
        all hours' (how soon this person's lamp-lit silences end, whenever they happen), shrunk in turn
        towards ``waking_p``."""
        p_all = (sum(self.active) + PRIOR_WEIGHT * waking_p) / (sum(self.seen) + PRIOR_WEIGHT)
        return (self.active[hour] + PRIOR_WEIGHT * p_all) / (self.seen[hour] + PRIOR_WEIGHT)

    def count(self, hour: int, active: bool) -> None:
        """Count one held slot of the day being accumulated (learned only if the day is ordinary)."""
        c = self.day_counts.setdefault(hour, [0.0, 0.0])
        c[0] += 1.0 if active else 0.0
        c[1] += 1.0

    def alarm_threshold(self, budget_per_year: float) -> float:
        """The held score's alarm threshold: the budget's, and never below the longest held silence of
        the ordinary days kept times RECORD_MARGIN. Lights left on during outings are a mixture the
        exponential tail fit underestimates; a household that once came home to a lamp left on all day
        is alarmed on a held load only after a clearly longer one."""
        return max(self.thresholds.threshold(budget_per_year), RECORD_MARGIN * self.thresholds.highest())

    def add_silent(self, hour: int, waking_p: float) -> None:
        """A held slot without activity: add its evidence to the held score."""
        self.score -= math.log(1.0 - min(P_MAX, self.p(hour, waking_p)))
        self.day_max = max(self.day_max, self.score)

    def reset(self) -> None:
        """Activity: the silence, and its held score, start again."""
        self.score = 0.0

    def commit_day(self, ordinary: bool, decay: float) -> None:
        """Fade old days; learn the closed day's held-slot counts and held-score maximum if ordinary."""
        self.active = [x * decay for x in self.active]
        self.seen = [x * decay for x in self.seen]
        if ordinary:
            for hour, (act, seen) in self.day_counts.items():
                self.active[hour] += act
                self.seen[hour] += seen
            self.thresholds.add_day(self.day_max)
        self.day_counts = {}
        self.day_max = self.score

    def to_dict(self) -> dict[str, object]:
        return {
            "window": [round(v, 1) for v in self.window],
            "night": [round(v, 1) for v in self.night],
            "night_ref_w": self.night_ref_w,
            "active": [round(x, 3) for x in self.active],
            "seen": [round(x, 3) for x in self.seen],
            "day_counts": [[h, a, n] for h, (a, n) in self.day_counts.items()],
            "score": self.score,
            "day_max": self.day_max,
            "thresholds": self.thresholds.to_dict(),
        }

    def load(self, d: dict[str, object]) -> None:
        for name in ("window", "night"):
            vals = d.get(name)
            if isinstance(vals, list):
                getattr(self, name).extend(float(v) for v in vals)
        ref = d.get("night_ref_w")
        self.night_ref_w = float(ref) if isinstance(ref, int | float) else None
        act, seen = d.get("active"), d.get("seen")
        if isinstance(act, list) and isinstance(seen, list) and len(act) == len(seen) == 24:
            self.active = [float(x) for x in act]
            self.seen = [float(x) for x in seen]
        days = d.get("day_counts")
        if isinstance(days, list):
            self.day_counts = {int(h): [float(a), float(n)] for h, a, n in days}
        for name in ("score", "day_max"):
            v = d.get(name)
            setattr(self, name, float(v) if isinstance(v, int | float) else 0.0)
        thr = d.get("thresholds")
        if isinstance(thr, dict):
            self.thresholds.load(thr)
