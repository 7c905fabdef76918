"""Scoring a recorded or simulated stream of readings in simulated time, with the daemon's own code.

``score-readings`` and ``bench/anomaly_eval.py`` both come through here: the clock is moved to each
reading's time and the scorer is advanced exactly as the daemon's scoring thread would advance it, once
per slot (plus grace), never more often than needed.
"""

from __future__ import annotations

from collections.abc import Iterable

from edge_agent.clock import SimClock
from edge_agent.meters.reading import Reading

from .service import AnomalyScorer


def replay(scorer: AnomalyScorer, clock: SimClock, readings: Iterable[Reading]) -> int:
    """Feed time-ordered readings; returns how many were fed. Out-of-order rows are the caller's bug."""
    slot_s = scorer.cfg.slot_s
    grace_s = scorer.cfg.grace_s
    due: float | None = None
    n = 0
    last_ts: float | None = None
    for r in readings:
        if due is None:
            due = (r.ts // slot_s + 1) * slot_s + grace_s
        while r.ts >= due + slot_s:  # a gap in the data: tick through it as the daemon's thread would
            clock.set(max(clock.now(), due))
            scorer.advance(due)
            due += slot_s
        clock.set(max(clock.now(), r.ts))
        scorer.on_reading(r)  # handed in by the bus before the scoring thread's next turn
        if r.ts >= due:
            scorer.advance(r.ts)
            due = (r.ts // slot_s + 1) * slot_s + grace_s
        last_ts = r.ts
        n += 1
    if last_ts is not None:
        scorer.advance(last_ts)
    return n
