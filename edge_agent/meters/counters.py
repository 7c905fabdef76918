"""Counters handled as counters: use between readings, with rollover and meter replacement detected.

A meter total only grows. When it goes down it either wrapped (it was near the top of its register and
is now near zero: the use is the wrap-corrected difference) or was replaced/reset (the difference means
nothing: start a new baseline and say so). A jump faster than the profile's largest plausible rate is
out-of-range; if the next reading confirms the new level, it was a replacement by a meter with a higher
reading. Either way a reset is never reported as huge consumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge_agent.meters.reading import Quality

CounterEvent = Literal["rollover", "reset"]


@dataclass
class _State:
    value: float
    ts: float
    jump_value: float | None = None
    jump_ts: float = 0.0


@dataclass(frozen=True)
class CounterUpdate:
    delta: float | None
    quality: Quality
    event: CounterEvent | None = None
    previous: float | None = None


class CounterTracker:
    def __init__(self, tolerance: float = 1e-6, min_window_h: float = 1 / 60) -> None:
        self.tolerance = tolerance
        self.min_window_h = min_window_h
        """Rates are checked over at least this long, so two quick polls cannot make a tiny step look fast."""
        self._state: dict[tuple[str, str], _State] = {}

    def update(
        self,
        meter_id: str,
        quantity: str,
        value: float,
        ts: float,
        *,
        rollover: float | None = None,
        max_rate_per_h: float | None = None,
    ) -> CounterUpdate:
        key = (meter_id, quantity)
        st = self._state.get(key)
        if st is None:
            self._state[key] = _State(value, ts)
            return CounterUpdate(None, Quality.OK)
        prev = st.value
        d = value - prev
        event: CounterEvent | None = None
        if d < -self.tolerance:
            if rollover and prev >= 0.9 * rollover and value <= 0.1 * rollover:
                d = value + rollover - prev
                event = "rollover"
            else:
                self._state[key] = _State(value, ts)
                return CounterUpdate(None, Quality.OK, "reset", prev)
        d = max(d, 0.0)
        if max_rate_per_h is not None:
            window_h = max((ts - st.ts) / 3600.0, self.min_window_h)
            if d > max_rate_per_h * window_h + self.tolerance:
                if st.jump_value is not None and value >= st.jump_value - self.tolerance:
                    since_h = max((ts - st.jump_ts) / 3600.0, self.min_window_h)
                    if value - st.jump_value <= max_rate_per_h * since_h + self.tolerance:
                        self._state[key] = _State(value, ts)
                        return CounterUpdate(None, Quality.OK, "reset", prev)
                st.jump_value, st.jump_ts = value, ts
                return CounterUpdate(None, Quality.OUT_OF_RANGE, None, prev)
        self._state[key] = _State(value, ts)
        return CounterUpdate(round(d, 9), Quality.OK, event, prev)
