"""Local calendar of a slot: routines are learned in the households' local hours, not in UTC.

Looking a time zone up for every 15-minute slot of every household would dominate the scorer's cost, so the
answer is cached per UTC hour (offsets change on hour boundaries in every zone that matters here).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from zoneinfo import ZoneInfo

UTC_NAMES = ("UTC", "Etc/UTC")
"""Served without the time-zone database (a minimal gateway image may lack it)."""


class LocalHour(NamedTuple):
    day: int
    """Local calendar day as a proleptic ordinal (changes at local midnight)."""
    hour_of_week: int
    """0 = Monday 00:00-01:00 local ... 167 = Sunday 23:00-24:00."""
    hour: int
    """Local hour of day, 0..23."""


class LocalCalendar:
    def __init__(self, timezone: str) -> None:
        self.tz: dt.tzinfo = dt.timezone.utc if timezone in UTC_NAMES else ZoneInfo(timezone)
        self._cache: dict[int, LocalHour] = {}

    def at(self, ts: float) -> LocalHour:
        key = int(ts // 3600)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 20_000:
                self._cache.clear()
            d = dt.datetime.fromtimestamp(key * 3600 + 1800, self.tz)
            hit = LocalHour(d.toordinal(), d.weekday() * 24 + d.hour, d.hour)
            self._cache[key] = hit
        return hit

    def to_epoch(self, value: dt.datetime) -> float:
        """A config time (naive = this zone) as epoch seconds."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return value.timestamp()

    def iso(self, ts: float) -> str:
        return dt.datetime.fromtimestamp(ts, self.tz).isoformat(timespec="minutes")
