"""The value type that leaves the meter side: one quantity of one meter at one time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Quality(str, Enum):
    OK = "ok"
    TIMEOUT = "timeout"
    BAD_FRAME = "bad-frame"
    OUT_OF_RANGE = "out-of-range"
    ERROR_REPLY = "error-reply"
    SKIPPED = "skipped"
    """Not asked this cycle: the meter is backing off after failures, or the cycle's time budget ran out."""


@dataclass(frozen=True)
class Reading:
    ts: float
    """Epoch seconds when the value was read."""
    meter_id: str
    quantity: str
    """``energy_kwh``, ``water_m3``, ``power_w``, ``voltage_v``, ... (the unit is part of the name)."""
    value: float | None
    """None when quality is not OK: a failed read is *no data*, never zero use."""
    unit: str
    quality: Quality = Quality.OK
    delta: float | None = None
    """Counters only: use since the previous good reading of this counter (rollover-corrected); None for
    gauges, for the first reading and after a meter replacement, so a reset is never read as huge use."""


ReadingSink = Callable[[Reading], None]
"""The narrow interface through which readings reach the anomaly scorer (and telemetry)."""
