"""Road-occupation incidents: one per zone and kind of occupation, from start to end.

An incident starts when one object of the kind has stayed still in the zone past ``dwell_s``; it then stays
open while any object of the kind is present, sends an update every ``update_s``, and ends only after an
absence of ``grace_s``. Presence while open is generous on purpose: a member track, anything that already
qualifies, or a new track on the spot of the last known boxes (a parked car whose detection flickered long
enough for the tracker to give it a new id) all keep the same incident. A pedestrian who stops briefly
never reaches the dwell; one who stays inside an open incident's zone does not open a second one.

Pure state machine over (candidates, time): no I/O, no clock; the caller passes frame times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from edge_agent.events.model import EventSink, Phase, Severity, new_event, uuid7
from edge_agent.video.tracker import iou

NBox = tuple[float, float, float, float]
"""A box in normalised [0,1] image coordinates (x1, y1, x2, y2)."""

MAX_BOXES = 3
"""Boxes carried in an event body: keeps a start event small (the uplink aims at <= 256 bytes).
In the body a box is ``[x, y, w, h]`` normalised (docs/events.md); inside, ``(x1, y1, x2, y2)``."""

WORSE_UPDATE_MIN_S = 10.0
"""An incident that gets worse (more objects) is updated early, but not more often than this."""

EVENT_ROAD = "road_occupation"
EVENT_UNKNOWN = "unknown_object"
UNKNOWN_OCC = "unknown"


@dataclass(frozen=True)
class Candidate:
    """One object in a zone this frame: a track of a watched class, or a static blob."""

    key: int
    box: NBox
    label: str
    score: float
    still_s: float
    """How long it has stayed put."""


@dataclass
class Incident:
    id: str
    camera: str
    zone: str
    occ: str
    dwell_start: float
    """Monotonic time the first member started staying still: duration counts from here."""
    started_ts: float
    last_present: float
    last_update: float
    members: set[int] = field(default_factory=set)
    boxes: list[NBox] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    count: int = 0
    conf: float = 0.0
    reported_count: int = 0
    """Count in the last event sent: more objects than that is worth an early update."""

    @property
    def kind(self) -> str:
        return EVENT_UNKNOWN if self.occ == UNKNOWN_OCC else EVENT_ROAD


def _r(v: float) -> float:
    return round(float(v), 3)


class OccupationRules:
    """Owned by one camera's analysis thread."""

    def __init__(self, camera: str, emit: EventSink) -> None:
        self.camera = camera
        self.emit = emit
        self.open: dict[tuple[str, str], Incident] = {}

    def observe(
        self,
        candidates: dict[tuple[str, str], list[Candidate]],
        watched: Iterable[tuple[str, str, float, float, float]],
        now: float,
        ts: float,
    ) -> None:
        """One analysed frame.

        ``candidates``: per (zone, occupation kind), the objects in it now. ``watched``: every (zone, kind,
        dwell_s, grace_s, update_s) active at this time; open incidents of keys no longer watched (outside
        active hours) end.
        """
        watched = list(watched)
        keys = {(z, k) for z, k, *_ in watched}
        for key in [k for k in self.open if k not in keys]:
            self._end(self.open.pop(key), now, ts, "inactive")
        for zone, occ, dwell_s, grace_s, update_s in watched:
            cands = candidates.get((zone, occ), [])
            inc = self.open.get((zone, occ))
            if inc is None:
                ready = [c for c in cands if c.still_s >= dwell_s]
                if ready:
                    self._start(zone, occ, ready, now, ts)
                continue
            present = [
                c
                for c in cands
                if c.key in inc.members
                or c.still_s >= dwell_s
                or any(iou(c.box, b) >= 0.3 for b in inc.boxes)
            ]
            if present:
                inc.members.update(c.key for c in present)
                inc.last_present = now
                self._describe(inc, present)
            if now - inc.last_present > grace_s:
                del self.open[(zone, occ)]
                # The end is when it was last seen, not when the grace ran out.
                self._end(inc, inc.last_present, ts - (now - inc.last_present), "absent")
            elif present and (
                now - inc.last_update >= update_s
                or (inc.count > inc.reported_count and now - inc.last_update >= WORSE_UPDATE_MIN_S)
            ):
                inc.last_update = now
                self._send(inc, Phase.UPDATE, now, ts)

    def save(self, now: float, ts: float) -> list[dict[str, Any]]:
        """Open incidents as JSON-able dicts in wall time (to survive a restart or a config reload)."""
        return [
            {
                "zone": i.zone,
                "occ": i.occ,
                "id": i.id,
                "started_ts": i.started_ts,
                "dwell_start_ts": ts - (now - i.dwell_start),
                "last_present_ts": ts - (now - i.last_present),
                "boxes": [list(b) for b in i.boxes],
                "classes": sorted(i.classes),
                "count": i.count,
                "conf": i.conf,
            }
            for i in self.open.values()
        ]

    def restore(self, saved: list[dict[str, Any]], now: float, ts: float) -> int:
        """Reopen saved incidents: the same id continues if the object is still there, else it ends after
        the grace period as usual (no new start for a van that was parked before the restart)."""
        n = 0
        for d in saved:
            try:
                inc = Incident(
                    id=str(d["id"]),
                    camera=self.camera,
                    zone=str(d["zone"]),
                    occ=str(d["occ"]),
                    dwell_start=now - (ts - float(d["dwell_start_ts"])),
                    started_ts=float(d["started_ts"]),
                    last_present=now - max(0.0, ts - float(d["last_present_ts"])),
                    last_update=now,
                    boxes=[(float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in d["boxes"]],
                    classes=set(d["classes"]),
                    count=int(d["count"]),
                    conf=float(d["conf"]),
                    reported_count=int(d["count"]),
                )
            except (KeyError, TypeError, ValueError, IndexError):
                continue  # a damaged entry: that incident will start again if still there
            self.open.setdefault((inc.zone, inc.occ), inc)
            n += 1
        return n

    def close_all(self, now: float, ts: float, reason: str) -> None:
        """End every open incident (the clip ended, the zone config went away)."""
        for key in list(self.open):
            self._end(self.open.pop(key), now, ts, reason)

    # ------------------------------------------------------------------------------------------------
    def _start(self, zone: str, occ: str, ready: list[Candidate], now: float, ts: float) -> None:
        dwell_start = now - max(c.still_s for c in ready)
        inc = Incident(
            id=uuid7(ts),
            camera=self.camera,
            zone=zone,
            occ=occ,
            dwell_start=dwell_start,
            started_ts=ts,
            last_present=now,
            last_update=now,
            members={c.key for c in ready},
        )
        self._describe(inc, ready)
        self.open[(zone, occ)] = inc
        self._send(inc, Phase.START, now, ts)

    @staticmethod
    def _describe(inc: Incident, cands: list[Candidate]) -> None:
        best = sorted(cands, key=lambda c: c.score, reverse=True)
        inc.boxes = [c.box for c in best[:MAX_BOXES]]
        inc.classes = {c.label for c in cands}
        inc.count = len(cands)
        inc.conf = best[0].score

    def _end(self, inc: Incident, now: float, ts: float, reason: str) -> None:
        self._send(inc, Phase.END, now, ts, reason=reason)

    def _send(self, inc: Incident, phase: Phase, now: float, ts: float, reason: str | None = None) -> None:
        body: dict[str, object] = {
            "zone": inc.zone,
            "occ": inc.occ,
            "classes": sorted(inc.classes),
            "count": inc.count,
            "boxes": [[_r(b[0]), _r(b[1]), _r(b[2] - b[0]), _r(b[3] - b[1])] for b in inc.boxes],
            "conf": round(inc.conf, 2),
            "duration_s": round(max(0.0, now - inc.dwell_start), 1),
        }
        if reason is not None:
            body["reason"] = reason
        inc.reported_count = inc.count
        self.emit(
            new_event(
                inc.kind,
                self.camera,
                ts,
                phase=phase,
                severity=Severity.NOTICE,
                body=body,
                incident=inc.id,
            )
        )
