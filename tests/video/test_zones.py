from __future__ import annotations

import datetime as dt

from edge_agent.config.video import ZoneConfig
from edge_agent.video.zones import Zone
from tests.video.helpers import det

SQUARE = [(0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)]


def zone(**kw: object) -> Zone:
    return Zone.from_config(ZoneConfig(id="z", polygon=SQUARE, **kw), grace_s=30, update_s=60)  # type: ignore[arg-type]


def test_bottom_centre_decides_not_overlap() -> None:
    z = zone(classes=["person"])
    # A tall person standing above the zone: the box overlaps it, the feet do not.
    assert not z.accepts(det(600, 100, 700, 380, "person"), 1000, 1000)
    # Feet inside the zone.
    assert z.accepts(det(600, 400, 700, 700, "person"), 1000, 1000)


def test_classes_and_min_box() -> None:
    z = zone(classes=["car"], min_box_frac=0.01)
    assert not z.accepts(det(600, 600, 700, 700, "person"), 1000, 1000)
    assert z.accepts(det(600, 600, 700, 700, "car"), 1000, 1000)  # 1% of the frame
    assert not z.accepts(det(600, 600, 650, 650, "car"), 1000, 1000)  # 0.25%


def test_active_hours_cross_midnight() -> None:
    z = zone(active_hours=["22:00-06:00"])
    utc = dt.timezone.utc

    def at(h: int, m: int = 0) -> float:
        return dt.datetime(2026, 1, 1, h, m, tzinfo=utc).timestamp()

    assert z.active_at(at(23), utc) and z.active_at(at(3), utc)
    assert not z.active_at(at(12), utc) and not z.active_at(at(6), utc)
    assert zone().active_at(at(12), utc)


def test_mask_margin_grows() -> None:
    z = zone()
    assert (z.mask(100, 100) > 0).sum() < (z.mask(100, 100, margin_frac=0.05) > 0).sum()
