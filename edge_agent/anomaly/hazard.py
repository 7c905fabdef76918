"""How likely a silence is to end, given how long it has lasted and the hour: the survival view.

The routine says how often a slot at this hour shows activity. But silences cluster: a person who has been
silent for two hours at 11:00 is probably out, and someone out is less likely to be back in the next
quarter of an hour than the hour's average suggests; at 20:00 a two-hour silence is rare, because evenings
are spent at home. Counting, per local hour and per "silent so far" bucket, how often a slot ended the
silence gives the hazard of activity; the score of a silence is then -ln of the chance of it lasting this
long if the person were fine. Buckets with few observations fall back to the routine's estimate.
"""

from __future__ import annotations

import bisect

BUCKET_EDGES_H = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0)
"""Silent-so-far buckets: [0, 0.5) h, [0.5, 1) h, ... [9, inf) h."""
N_BUCKETS = len(BUCKET_EDGES_H) + 1
PRIOR_WEIGHT = 8.0
"""Observations a bucket needs before it counts as much as the routine's estimate."""


def bucket(silent_h: float) -> int:
    return bisect.bisect_right(BUCKET_EDGES_H, silent_h)


class SilenceHazard:
    def __init__(self, half_life_days: float) -> None:
        self.decay_per_day = 0.5 ** (1.0 / half_life_days)
        self.active = [[0.0] * N_BUCKETS for _ in range(24)]
        self.seen = [[0.0] * N_BUCKETS for _ in range(24)]

    def p(self, hour: int, silent_h: float, routine_p: float) -> float:
        """Probability that this slot ends the silence, shrunk towards the routine's ``routine_p``."""
        b = bucket(silent_h)
        return (self.active[hour][b] + PRIOR_WEIGHT * routine_p) / (self.seen[hour][b] + PRIOR_WEIGHT)

    def commit_day(self, day_counts: dict[tuple[int, int], list[float]] | None) -> None:
        """Fade old days by one; add a closed ordinary day's (hour, bucket) -> [active, seen] counts."""
        d = self.decay_per_day
        for h in range(24):
            self.active[h] = [x * d for x in self.active[h]]
            self.seen[h] = [x * d for x in self.seen[h]]
        for (hour, b), (act, seen) in (day_counts or {}).items():
            self.active[hour][b] += act
            self.seen[hour][b] += seen

    def to_dict(self) -> dict[str, object]:
        return {
            "active": [[round(x, 3) for x in row] for row in self.active],
            "seen": [[round(x, 3) for x in row] for row in self.seen],
        }

    def load(self, d: dict[str, object]) -> None:
        act, seen = d.get("active"), d.get("seen")
        if (
            isinstance(act, list)
            and isinstance(seen, list)
            and len(act) == len(seen) == 24
            and all(isinstance(r, list) and len(r) == N_BUCKETS for r in act + seen)
        ):
            self.active = [[float(x) for x in r] for r in act]
            self.seen = [[float(x) for x in r] for r in seen]
