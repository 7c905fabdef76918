"""A household's routine: how likely activity is in a slot of each hour of the week.

Counts of active and observed slots per hour of week, kept separately for what the meters could see
(both meters, water only, electricity only: a water-meter outage must not make an active person look
idle). Estimates shrink hour-of-week towards hour-of-day (pooled over the week) and that towards a generic
prior, so the routine is sensible on day one and sharpens as weeks accumulate. Old weeks fade with a
half-life. A day is committed only when it closes and only if it was an ordinary day (no alarm, no away),
so one odd day moves an estimate by at most one observation in many.
"""

from __future__ import annotations

import math

HOURS_PER_WEEK = 168
VIEWS = ("both", "water", "elec")
"""Which meters covered a slot; activity probabilities differ (water alone misses the kettle)."""

# Generic share of active 15-minute slots by local hour for a person living alone (both meters seen):
# quiet nights, a morning peak, a lull after lunch, an evening peak. Only the cold-start prior.
PRIOR_15MIN = (
    0.04, 0.03, 0.03, 0.03, 0.04, 0.08, 0.20, 0.40, 0.50, 0.45, 0.42, 0.45,
    0.50, 0.40, 0.35, 0.35, 0.40, 0.50, 0.50, 0.45, 0.40, 0.30, 0.15, 0.06,
)  # fmt: skip
VIEW_PRIOR_FACTOR = {"both": 1.0, "water": 0.75, "elec": 0.7}
P_MIN = 0.002
P_MAX = 0.9
"""Clamp: a silent slot is never impossible (p=1), nor free evidence-wise (p=0)."""


class Routine:
    def __init__(self, slot_s: int, half_life_days: float, prior_weeks: float) -> None:
        self.slots_per_hour = 3600 // slot_s
        self.decay_per_day = 0.5 ** (1.0 / half_life_days)
        self.w_hod = prior_weeks * 7 * self.slots_per_hour
        self.w_how = prior_weeks * self.slots_per_hour
        scale = slot_s / 900.0
        self.prior = {
            v: [1 - (1 - min(0.95, p * f)) ** scale for p in PRIOR_15MIN]
            for v, f in VIEW_PRIOR_FACTOR.items()
        }
        self.active = {v: [0.0] * HOURS_PER_WEEK for v in VIEWS}
        self.seen = {v: [0.0] * HOURS_PER_WEEK for v in VIEWS}
        self._hod_active = {v: [0.0] * 24 for v in VIEWS}
        self._hod_seen = {v: [0.0] * 24 for v in VIEWS}
        self._cache: dict[tuple[str, int], float] = {}
        self.days_learned = 0

    def p(self, view: str, how: int) -> float:
        """Probability that a slot in hour-of-week ``how`` shows activity, as seen through ``view``."""
        key = (view, how)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        hod = how % 24
        p_hod = (self._hod_active[view][hod] + self.w_hod * self.prior[view][hod]) / (
            self._hod_seen[view][hod] + self.w_hod
        )
        p_how = (self.active[view][how] + self.w_how * p_hod) / (self.seen[view][how] + self.w_how)
        p_how = min(P_MAX, max(P_MIN, p_how))
        self._cache[key] = p_how
        return p_how

    def silence_nats(self, view: str, how: int) -> float:
        """Evidence (-ln P) that one silent slot adds to a silence."""
        return -math.log(1.0 - self.p(view, how))

    def commit_day(self, day_counts: dict[tuple[str, int], list[float]]) -> None:
        """Fade old weeks by a day, then add one closed ordinary day's observations."""
        d = self.decay_per_day
        for v in VIEWS:
            self.active[v] = [x * d for x in self.active[v]]
            self.seen[v] = [x * d for x in self.seen[v]]
        for (view, how), (act, seen) in day_counts.items():
            self.active[view][how] += act
            self.seen[view][how] += seen
        self._rebuild()
        self.days_learned += 1

    def fade_day(self) -> None:
        """A day that is not learned (away, alarm) still ages the older ones."""
        d = self.decay_per_day
        for v in VIEWS:
            self.active[v] = [x * d for x in self.active[v]]
            self.seen[v] = [x * d for x in self.seen[v]]
        self._rebuild()

    def _rebuild(self) -> None:
        for v in VIEWS:
            for h in range(24):
                self._hod_active[v][h] = sum(self.active[v][h + 24 * d] for d in range(7))
                self._hod_seen[v][h] = sum(self.seen[v][h + 24 * d] for d in range(7))
        self._cache.clear()

    def waking_hours(self, view: str = "both", min_p: float | None = None) -> list[int]:
        """Local hours of day whose activity share is at least half the busiest hour's (for reports)."""
        by_hod = [sum(self.p(view, h + 24 * d) for d in range(7)) / 7 for h in range(24)]
        cut = min_p if min_p is not None else 0.5 * max(by_hod)
        return [h for h, p in enumerate(by_hod) if p >= cut]

    def to_dict(self) -> dict[str, object]:
        return {
            "days_learned": self.days_learned,
            "active": {v: [round(x, 4) for x in self.active[v]] for v in VIEWS},
            "seen": {v: [round(x, 4) for x in self.seen[v]] for v in VIEWS},
        }

    def load(self, d: dict[str, object]) -> None:
        act, seen = d.get("active"), d.get("seen")
        if not isinstance(act, dict) or not isinstance(seen, dict):
            return
        for v in VIEWS:
            a, s = act.get(v), seen.get(v)
            if isinstance(a, list) and isinstance(s, list) and len(a) == len(s) == HOURS_PER_WEEK:
                self.active[v] = [float(x) for x in a]
                self.seen[v] = [float(x) for x in s]
        days = d.get("days_learned")
        self.days_learned = int(days) if isinstance(days, int) else 0
        self._rebuild()
