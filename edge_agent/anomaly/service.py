"""Builds the anomaly scorer from config: households fed by readings, emitting incidents.

``on_reading`` is called from the meter bus threads: it only appends to a list under a lock. The scoring
happens in :meth:`AnomalyScorer.advance`, driven by the injected clock: the daemon's scoring thread calls
it every ``tick_s``; ``score-readings`` and the evaluation call it themselves in simulated time, so all
three run the same code.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.config.anomaly import AnomalyConfig, HouseholdConfig
from edge_agent.events.model import EventSink
from edge_agent.meters.reading import Quality, Reading
from edge_agent.service import Health, Service

from .household import Household
from .localtime import LocalCalendar
from .state import load_state, save_state, state_path

log = logging.getLogger("edge_agent.anomaly")

MAX_PENDING = 200_000
"""Readings buffered between two scoring turns at most; beyond it the oldest are dropped and counted."""


class AnomalyService(Service, Protocol):
    def on_reading(self, reading: Reading) -> None: ...


class AnomalyScorer:
    """The ``anomaly`` service: every configured household, a reading inbox and a scoring thread."""

    name = "anomaly"

    def __init__(
        self,
        cfg: AnomalyConfig,
        households: list[HouseholdConfig],
        emit: EventSink,
        clock: Clock,
        state_dir: Path | None,
        *,
        autosave: bool = True,
    ) -> None:
        """``autosave``: write state every ``save_interval_s`` of clock time (the daemon); offline runs
        turn it off and call :meth:`save` once at the end."""
        self.cfg = cfg
        self.autosave = autosave
        self.clock = clock
        self.state_dir = state_dir
        self.calendar = LocalCalendar(cfg.timezone)
        now = clock.now()
        self.households: dict[str, Household] = {}
        self._by_meter: dict[str, list[Household]] = {}
        for h in households:
            hh = Household(h, cfg, self.calendar, emit, now)
            if state_dir is not None:
                saved = load_state(state_path(state_dir, h.id))
                if saved is not None:
                    try:
                        hh.load(saved)
                    except (KeyError, TypeError, ValueError) as exc:
                        log.error("household %s: ignoring saved state (%s)", h.id, exc)
                        hh = Household(h, cfg, self.calendar, emit, now)
            self.households[h.id] = hh
            for m in (h.water_meter, h.electricity_meter):
                if m:
                    self._by_meter.setdefault(m, []).append(hh)
        self._inbox: list[Reading] = []
        self._inbox_lock = threading.Lock()
        self._score_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_save_mono = clock.monotonic()
        self.dropped_readings = 0
        self.errors = 0
        self.last_error = ""

    # -------------------------------------------------------------------------------- input (any thread)
    def on_reading(self, reading: Reading) -> None:
        """Queue a reading of any meter; readings of meters no household uses are ignored cheaply."""
        if reading.meter_id not in self._by_meter:
            return
        with self._inbox_lock:
            if len(self._inbox) >= MAX_PENDING:
                del self._inbox[: MAX_PENDING // 10]
                self.dropped_readings += MAX_PENDING // 10
            self._inbox.append(reading)

    # -------------------------------------------------------------------------------- scoring
    def advance(self, now: float | None = None) -> None:
        """Score everything queued, then judge every slot complete at ``now`` (default: the clock)."""
        with self._score_lock:
            t = self.clock.now() if now is None else now
            with self._inbox_lock:
                batch, self._inbox = self._inbox, []
            if len(batch) > 1:
                batch.sort(key=_ts)
            for r in batch:
                value = r.value if r.quality is Quality.OK else None
                for hh in self._by_meter.get(r.meter_id, ()):
                    hh.ingest(r.meter_id, r.quantity, r.ts, value)
            for hh in self.households.values():
                hh.advance(t)
            if (
                self.autosave
                and self.state_dir is not None
                and self.clock.monotonic() - self._last_save_mono >= self.cfg.save_interval_s
            ):
                self.save()

    def save(self) -> None:
        """Write every household's learned state (atomic per file)."""
        if self.state_dir is None:
            return
        self._last_save_mono = self.clock.monotonic()
        for hid, hh in self.households.items():
            try:
                save_state(state_path(self.state_dir, hid), hh.to_dict())
            except OSError as exc:
                self.errors += 1
                self.last_error = f"saving {hid}: {exc}"
                log.error("anomaly: cannot save state of %s: %s", hid, exc)

    # -------------------------------------------------------------------------------- away mode
    def set_away(self, household_id: str, from_ts: float, until_ts: float) -> None:
        """Declare an absence at run time (remote command): suppresses inactivity alarms in it.

        Raises KeyError for an unknown household and ValueError for an empty period.
        """
        if until_ts <= from_ts:
            raise ValueError("until must be after from")
        hh = self.households[household_id]
        with self._score_lock:
            hh.set_away(from_ts, until_ts)

    def clear_away(self, household_id: str) -> None:
        """End a run-time absence now (the person came back early)."""
        hh = self.households[household_id]
        with self._score_lock:
            hh.clear_away(self.clock.now())

    def handle_away_command(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Remote ``away`` command: ``{"household": id, "until": T}`` with optional ``"from": T`` (default
        now), T as epoch seconds or ISO 8601 (no offset = anomaly.timezone); or ``{"household": id,
        "clear": true}`` to end a run-time absence now. Raises ValueError with a message for the operator."""
        hid = str(args.get("household", ""))
        if hid not in self.households:
            raise ValueError(f"unknown household {hid!r} (known: {', '.join(sorted(self.households))})")
        if args.get("clear"):
            self.clear_away(hid)
            return {"household": hid, "away": "cleared"}
        if "until" not in args:
            raise ValueError("away needs 'until' (epoch seconds or ISO 8601) or 'clear': true")
        start = self._time_arg(args.get("from"), self.clock.now())
        until = self._time_arg(args["until"], start)
        self.set_away(hid, start, until)
        return {"household": hid, "away": [self.calendar.iso(start), self.calendar.iso(until)]}

    def _time_arg(self, value: object, default: float) -> float:
        if value is None:
            return default
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return self.calendar.to_epoch(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                pass
        raise ValueError(f"bad time {value!r}: epoch seconds or ISO 8601 expected")

    def register_commands(self, registry: Any) -> None:
        """Register the ``away`` handler in the event path's remote-command registry
        (edge_agent.events.commands.CommandRegistry); it refuses bad arguments with a CommandError."""
        from edge_agent.events.commands import CommandError

        def away(args: Mapping[str, Any]) -> dict[str, Any]:
            try:
                return self.handle_away_command(args)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc

        registry.register("away", away)

    # -------------------------------------------------------------------------------- service
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="anomaly", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.cfg.tick_s):
            try:
                self.advance()
            except Exception as exc:
                self.errors += 1
                self.last_error = repr(exc)
                log.exception("anomaly scoring turn failed")

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        try:
            self.advance()  # score what the buses handed in before the last tick, then persist it
        except Exception:
            log.exception("anomaly: final scoring turn failed")
        with self._score_lock:
            self.save()

    def health(self) -> Health:
        alive = self._thread is None or self._thread.is_alive()
        alarms = sum(1 for h in self.households.values() if h.inactivity is not None)
        offline = sum(len(h.offline) for h in self.households.values())
        summary = f"{len(self.households)} households, {alarms} inactive, {offline} meters offline"
        return Health(
            alive,
            summary if alive else "scoring thread died",
            {"dropped_readings": self.dropped_readings, "errors": self.errors, "last_error": self.last_error},
        )

    def summaries(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self._score_lock:
            return [h.summary(now) for h in self.households.values()]


def _ts(r: Reading) -> float:
    return r.ts


def build_anomaly_service(
    cfg: AgentConfig, emit: EventSink, clock: Clock, state_dir: Path
) -> AnomalyScorer | None:
    if not cfg.households:
        return None
    return AnomalyScorer(cfg.anomaly, list(cfg.households), emit, clock, state_dir)
