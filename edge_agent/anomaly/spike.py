"""Spike: a day's use far above the household's own robust baseline (median and MAD of ordinary days).

Median and MAD ignore the odd heavy day (visitors, laundry day) that a mean would follow. A spike starts as
soon as the running day total crosses the threshold (no need to wait for midnight) and ends when the day
closes, with the day's total as evidence; the next day is judged afresh.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from edge_agent.events.model import Phase, Severity

from .signals import Signal

MIN_BASELINE_DAYS = 7


@dataclass
class SpikeDetector:
    quantity: str
    """``water_l`` or ``energy_kwh``: the unit is in the name, and in the evidence."""
    ratio: float
    mad_k: float
    min_excess: float
    baseline_days: int
    day_total: float = 0.0
    day_cov_s: float = 0.0
    open_id: str | None = None
    baseline: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.baseline = deque(self.baseline, maxlen=self.baseline_days)

    def threshold(self) -> float | None:
        if len(self.baseline) < MIN_BASELINE_DAYS:
            return None
        vals = sorted(self.baseline)
        med = (
            vals[len(vals) // 2] if len(vals) % 2 else 0.5 * (vals[len(vals) // 2 - 1] + vals[len(vals) // 2])
        )
        devs = sorted(abs(v - med) for v in vals)
        mad = devs[len(devs) // 2]
        return max(med * self.ratio, med + self.mad_k * 1.4826 * mad, med + self.min_excess)

    def add(self, amount: float, cov_s: float, ts: float, day_start_ts: float) -> Signal | None:
        self.day_total += amount
        self.day_cov_s += cov_s
        if self.open_id is not None:
            return None
        thr = self.threshold()
        if thr is None or self.day_total <= thr:
            return None
        self.open_id = f"spike-{self.quantity}-{int(day_start_ts)}"
        return Signal(
            "consumption_spike", Phase.START, ts, Severity.WARNING, self.open_id, self._evidence(thr)
        )

    def close_day(self, ts: float, learn: bool, day_s: float) -> Signal | None:
        sig = None
        thr = self.threshold()
        if self.open_id is not None:
            sig = Signal(
                "consumption_spike", Phase.END, ts, Severity.WARNING, self.open_id, self._evidence(thr)
            )
        elif learn and self.day_cov_s >= 0.8 * day_s:
            self.baseline.append(self.day_total * day_s / self.day_cov_s)
        self.day_total, self.day_cov_s, self.open_id = 0.0, 0.0, None
        return sig

    def _evidence(self, thr: float | None) -> dict[str, object]:
        vals = sorted(self.baseline)
        return {
            "quantity": self.quantity,
            "day_total": round(self.day_total, 3),
            "threshold": None if thr is None else round(thr, 3),
            "baseline_median": round(vals[len(vals) // 2], 3) if vals else None,
            "baseline_days": len(vals),
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "day_total": self.day_total,
            "day_cov_s": self.day_cov_s,
            "open_id": self.open_id,
            "baseline": [round(v, 4) for v in self.baseline],
        }

    def load(self, d: dict[str, object]) -> None:
        b = d.get("baseline")
        if isinstance(b, list):
            self.baseline.extend(float(v) for v in b)
        for k in ("day_total", "day_cov_s"):
            v = d.get(k)
            if isinstance(v, int | float):
                setattr(self, k, float(v))
        oid = d.get("open_id")
        self.open_id = oid if isinstance(oid, str) else None
