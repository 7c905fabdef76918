"""From poll results to what leaves the meter side: readings, telemetry events, meter_offline events.

Runs in the bus owner's thread. Readings go to ``on_reading`` (the anomaly scorer's narrow interface),
failed reads included with value None and their quality, so the scorer knows it has *no data*, not zero
use. Telemetry is one compact event per meter, on change (beyond a deadband, at most every
``min_interval_s``) and at least every ``period_s``. ``meter_offline`` starts after N failed polls in a row
and ends (same incident id) at the first good poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from edge_agent.clock import Clock
from edge_agent.config.meters import BusConfig
from edge_agent.events.model import EventSink, Phase, Severity, new_event, uuid7
from edge_agent.meters.bus import PollResult
from edge_agent.meters.counters import CounterTracker
from edge_agent.meters.profile import resolve_profile
from edge_agent.meters.reading import Quality, Reading, ReadingSink

log = logging.getLogger("edge_agent.meters.reporting")


@dataclass
class _MeterReport:
    failures: int = 0
    offline_incident: str | None = None
    offline_since: float = 0.0
    last_fault: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    use: dict[str, float] = field(default_factory=dict)
    bad: dict[str, str] = field(default_factory=dict)
    polls: int = 0
    reported: dict[str, float] = field(default_factory=dict)
    last_report_ts: float | None = None


class MeterReporter:
    def __init__(self, bus: BusConfig, emit: EventSink, on_reading: ReadingSink, clock: Clock) -> None:
        self.bus = bus
        self.emit = emit
        self.on_reading = on_reading
        self.clock = clock
        self.counters = CounterTracker()
        self.rates = {m.id: resolve_profile(m, bus).max_rate_per_h for m in bus.meters}
        self.state: dict[str, _MeterReport] = {m.id: _MeterReport() for m in bus.meters}
        self.counter_resets = 0
        self.rollovers = 0

    def handle(self, result: PollResult) -> None:
        st = self.state[result.meter_id]
        for v in result.values:
            quality, value, delta = v.quality, v.value, None
            if quality is Quality.OK and value is not None and v.spec.counter:
                up = self.counters.update(
                    result.meter_id,
                    v.spec.quantity,
                    value,
                    result.ts,
                    rollover=v.spec.rollover,
                    max_rate_per_h=self.rates[result.meter_id].get(v.spec.quantity),
                )
                quality, delta = up.quality, up.delta
                if quality is not Quality.OK:
                    value = None
                if up.event == "reset":
                    self.counter_resets += 1
                    self._emit_reset(result, v.spec.quantity, up.previous, v.value)
                elif up.event == "rollover":
                    self.rollovers += 1
                    log.info(
                        "meter %s: %s rolled over (%s -> %s)",
                        result.meter_id,
                        v.spec.quantity,
                        up.previous,
                        value,
                    )
            reading = Reading(result.ts, result.meter_id, v.spec.quantity, value, v.spec.unit, quality, delta)
            try:
                self.on_reading(reading)
            except Exception:
                log.exception("on_reading failed for %s", result.meter_id)
            if quality is Quality.OK and value is not None:
                st.values[v.spec.quantity] = value
                st.bad.pop(v.spec.quantity, None)
                if delta:
                    st.use[v.spec.quantity] = round(st.use.get(v.spec.quantity, 0.0) + delta, 9)
            elif quality is not Quality.SKIPPED:
                st.bad[v.spec.quantity] = quality.value
        self._track_online(result, st)
        if result.attempted:
            st.polls += 1
            self._maybe_report(result, st)

    # -- meter_offline -------------------------------------------------------------------------------
    def _track_online(self, result: PollResult, st: _MeterReport) -> None:
        if result.answered:
            if st.offline_incident is not None:
                self.emit(
                    new_event(
                        "meter_offline",
                        result.meter_id,
                        result.ts,
                        phase=Phase.END,
                        severity=Severity.INFO,
                        body={"bus": self.bus.id, "offline_s": round(result.ts - st.offline_since, 1)},
                        incident=st.offline_incident,
                    )
                )
                log.info("meter %s answers again", result.meter_id)
                st.offline_incident = None
            st.failures = 0
            return
        counted = result.attempted or any(v.fault == "port-down" for v in result.values)
        if not counted:
            return
        st.failures += 1
        st.last_fault = next((v.fault for v in result.values if v.fault), None)
        if st.failures >= self.bus.offline_after_failures and st.offline_incident is None:
            st.offline_incident = uuid7(result.ts)
            st.offline_since = result.ts
            log.warning(
                "meter %s offline after %d failed polls (%s)", result.meter_id, st.failures, st.last_fault
            )
            self.emit(
                new_event(
                    "meter_offline",
                    result.meter_id,
                    result.ts,
                    phase=Phase.START,
                    severity=Severity.WARNING,
                    body={"bus": self.bus.id, "reason": st.last_fault, "failed_polls": st.failures},
                    incident=st.offline_incident,
                )
            )

    def _emit_reset(
        self, result: PollResult, quantity: str, previous: float | None, value: float | None
    ) -> None:
        log.warning(
            "meter %s: %s went from %s to %s: counter reset or meter replaced",
            result.meter_id,
            quantity,
            previous,
            value,
        )
        self.emit(
            new_event(
                "meter_counter_reset",
                result.meter_id,
                result.ts,
                severity=Severity.NOTICE,
                body={"bus": self.bus.id, "quantity": quantity, "previous": previous, "value": value},
            )
        )

    # -- telemetry -----------------------------------------------------------------------------------
    def _maybe_report(self, result: PollResult, st: _MeterReport) -> None:
        tcfg = self.bus.telemetry
        if not tcfg.enabled:
            return
        ts = result.ts
        due = st.last_report_ts is None or ts - st.last_report_ts >= tcfg.period_s
        if not due and tcfg.on_change and ts - (st.last_report_ts or 0.0) >= tcfg.min_interval_s:
            for q, v in st.values.items():
                old = st.reported.get(q)
                if old is None or abs(v - old) > tcfg.deadband.get(q, 0.0):
                    due = True
                    break
        if not due:
            return
        body: dict[str, object] = {"bus": self.bus.id, "n": st.polls, "v": dict(st.values)}
        if st.use:
            body["use"] = dict(st.use)
        if st.bad:
            body["bad"] = dict(st.bad)
        self.emit(new_event("telemetry", result.meter_id, ts, severity=Severity.DEBUG, body=body))
        st.reported = dict(st.values)
        st.last_report_ts = ts
        st.use.clear()
        st.polls = 0
