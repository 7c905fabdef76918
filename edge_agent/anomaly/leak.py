"""Leak: water that never stops. Every hour's flow stays above a small threshold for many hours.

People draw water in bursts and sleep at night, so an hour without any draw comes along within a day; a
dripping tap or a running cistern never gives one. A leak starts when hourly flow has stayed at or above
``min_flow_l_h`` for ``leak_hours`` consecutive hours, or through the whole night window (where ordinary
use is rarest, so the evidence comes soonest), and ends with the first hour below it. At night the flow
must also be steady: three in four of each hour's slots show some flow (a restless sleeper's flush once
an hour fills one slot in four; a leak fills them all). Hours without data neither extend nor break a run.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_agent.events.model import Phase, Severity

from .signals import Signal

UPDATE_EVERY_H = 24
"""An open leak is re-reported once a day (with the litres lost so far), not every hour."""


@dataclass
class LeakDetector:
    min_flow_l_h: float
    leak_hours: int
    night_start_h: int
    night_end_h: int
    run_hours: int = 0
    run_night_hours: int = 0
    run_night_steady: bool = True
    run_start_ts: float | None = None
    run_min_l_h: float = 0.0
    run_litres: float = 0.0
    open_id: str | None = None

    def observe_hour(
        self, hour_start_ts: float, local_hour: int, litres: float, covered_frac: float, wet_frac: float = 1.0
    ) -> Signal | None:
        """One closed hour: its water, the share of it with data, the share of its slots with any flow."""
        if covered_frac < 0.75:
            return None
        flow = litres / covered_frac
        end_ts = hour_start_ts + 3600
        if flow < self.min_flow_l_h:
            sig = None
            if self.open_id is not None and self.run_start_ts is not None:
                sig = Signal(
                    "leak", Phase.END, end_ts, Severity.WARNING, self.open_id,
                    self._evidence() | {"last_hour_l": round(flow, 1)},
                )  # fmt: skip
            self.run_hours = self.run_night_hours = 0
            self.run_night_steady = True
            self.run_start_ts, self.run_litres, self.open_id = None, 0.0, None
            return sig
        if self.run_start_ts is None:
            self.run_start_ts, self.run_min_l_h = hour_start_ts, flow
        self.run_hours += 1
        self.run_litres += litres
        self.run_min_l_h = min(self.run_min_l_h, flow)
        if self.night_start_h <= local_hour < self.night_end_h:
            self.run_night_hours += 1
            self.run_night_steady = self.run_night_steady and wet_frac >= 0.75
        night_len = self.night_end_h - self.night_start_h
        whole_night = (
            local_hour == self.night_end_h - 1 and self.run_night_hours >= night_len and self.run_night_steady
        )
        if self.open_id is None and (self.run_hours >= self.leak_hours or whole_night):
            self.open_id = f"leak-{int(self.run_start_ts)}"
            why = "flow through the whole night" if whole_night else f"flow for {self.run_hours} h"
            return Signal(
                "leak", Phase.START, end_ts, Severity.WARNING, self.open_id, self._evidence() | {"why": why}
            )
        if self.open_id is not None and self.run_hours % UPDATE_EVERY_H == 0:
            return Signal("leak", Phase.UPDATE, end_ts, Severity.WARNING, self.open_id, self._evidence())
        return None

    def _evidence(self) -> dict[str, object]:
        return {
            "since_ts": self.run_start_ts,
            "hours": self.run_hours,
            "min_flow_l_h": round(self.run_min_l_h, 1),
            "litres": round(self.run_litres, 1),
            "threshold_l_h": self.min_flow_l_h,
        }

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in _LEAK_STATE}

    def load(self, d: dict[str, object]) -> None:
        for k in _LEAK_STATE:
            if k in d:
                setattr(self, k, d[k])


_LEAK_STATE = (
    "run_hours",
    "run_night_hours",
    "run_night_steady",
    "run_start_ts",
    "run_min_l_h",
    "run_litres",
    "open_id",
)
