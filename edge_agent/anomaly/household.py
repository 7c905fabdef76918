"""One household: its meters' readings become activity slots, slots feed the routine and the detectors.

Readings are attributed to the slot that holds the middle of the interval they close; a slot is closed
(judged) once its end plus a grace period has passed on the injected clock, so the daemon, ``score-readings``
and the evaluation run exactly this code at any speed. A slot nobody's meter covered is *no data*: it adds
nothing to a silence, and the routine does not learn from it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import astuple, dataclass
from typing import Any

from edge_agent.config.anomaly import AnomalyConfig, HouseholdConfig
from edge_agent.events.model import EventSink, Phase, Severity, new_event

from .counters import CLOCK_JUMP_S, CounterTrack
from .hazard import SilenceHazard, bucket
from .leak import LeakDetector
from .localtime import LocalCalendar
from .presence import PresenceModel
from .routine import P_MAX, P_MIN, Routine
from .signals import Signal
from .spike import SpikeDetector
from .standby import StandbyModel
from .thresholds import ThresholdModel

log = logging.getLogger("edge_agent.anomaly")

WATER_MAX_M3_PER_S = 3.0 / 3600
ENERGY_MAX_KWH_PER_S = 60.0 / 3600
DAY_S = 86400.0
STATE_VERSION = 1
HELD_BUDGET_SHARE = 0.3
"""Share of the false-alarm (and notice) budgets given to the held-load score."""
PRESENCE_MARGIN_W = 10.0
"""A held load must exceed the night level by this (plus a sixth of the meter's per-slot quantum)."""


@dataclass
class SlotAcc:
    water_l: float = 0.0
    water_cov_s: float = 0.0
    energy_kwh: float = 0.0
    energy_cov_s: float = 0.0
    power_sum_w: float = 0.0
    power_n: int = 0


@dataclass
class Inactivity:
    """An open inactivity incident."""

    incident: str
    level: Severity
    started_ts: float
    last_update_ts: float
    peak_score: float = 0.0


class Household:
    def __init__(
        self,
        hcfg: HouseholdConfig,
        acfg: AnomalyConfig,
        calendar: LocalCalendar,
        emit: EventSink,
        now: float,
    ) -> None:
        self.id = hcfg.id
        self.cfg = acfg
        self.cal = calendar
        self.emit = emit
        self.slot_s = acfg.slot_s
        self.water_meter = hcfg.water_meter
        self.elec_meter = hcfg.electricity_meter
        self.water = (
            CounterTrack(acfg.water_resolution_m3, WATER_MAX_M3_PER_S, acfg.max_interval_s)
            if hcfg.water_meter
            else None
        )
        self.energy = (
            CounterTrack(acfg.energy_resolution_kwh, ENERGY_MAX_KWH_PER_S, acfg.max_interval_s)
            if hcfg.electricity_meter
            else None
        )
        self.res_l = acfg.water_resolution_m3 * 1000.0
        self.config_away = [(calendar.to_epoch(a.from_), calendar.to_epoch(a.until)) for a in hcfg.away]
        self.runtime_away: list[tuple[float, float]] = []
        self.routine = Routine(acfg.slot_s, acfg.routine_half_life_days, acfg.prior_weeks)
        self.hazard = SilenceHazard(acfg.routine_half_life_days)
        self.thresholds = ThresholdModel(acfg.calibration_days)
        night_slots = (acfg.night_end_h - acfg.night_start_h) * 3600 // acfg.slot_s
        self.standby = StandbyModel(
            acfg.slot_s,
            night_slots,
            acfg.elec_margin_w,
            acfg.energy_resolution_kwh * 3.6e6 / acfg.slot_s,
            acfg.default_fridge_swing_w,
            int(acfg.baseline_window_s // acfg.slot_s),
        )
        self.presence = PresenceModel(
            acfg.slot_s,
            night_slots,
            PRESENCE_MARGIN_W + acfg.energy_resolution_kwh * 3.6e6 / acfg.slot_s / 6,
            acfg.calibration_days,
        )
        self.waking_p = self._waking_p()
        self.leak = LeakDetector(
            acfg.leak_min_flow_l_h, acfg.leak_hours, acfg.night_start_h, acfg.night_end_h
        )
        self.spikes = {
            "water_l": SpikeDetector(
                "water_l",
                acfg.spike_ratio,
                acfg.spike_mad_k,
                acfg.spike_min_water_l,
                acfg.spike_baseline_days,
            ),
            "energy_kwh": SpikeDetector(
                "energy_kwh",
                acfg.spike_ratio,
                acfg.spike_mad_k,
                acfg.spike_min_energy_kwh,
                acfg.spike_baseline_days,
            ),
        }
        self.slots: dict[int, SlotAcc] = {}
        self.last_closed: int | None = None
        self.pending_activity = False
        # silence
        self.last_activity_ts: float | None = None
        self.score = 0.0
        self.expected_active = 0.0
        self.silent_slots = 0
        self.nodata_slots = 0
        self.inactivity: Inactivity | None = None
        self._set_thresholds()
        # the local day being accumulated
        self.day: int | None = None
        self.day_start_ts = 0.0
        self.day_counts: dict[tuple[str, int], list[float]] = {}
        self.day_hazard: dict[tuple[int, int], list[float]] = {}
        self.day_max = 0.0
        self.day_away = False
        self.day_alarm = False
        self.day_seen_slots = 0
        self.hour_l = 0.0
        self.hour_cov_s = 0.0
        self.hour_wet_slots = 0
        self.hour_seen_slots = 0
        # data presence per meter
        self.last_ok_ts: dict[str, float] = {m: now for m in (self.water_meter, self.elec_meter) if m}
        self.offline: dict[str, str] = {}
        self.stats: dict[str, int] = {}

    # ---------------------------------------------------------------------------------------- input
    def _count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    def ingest(self, meter_id: str, quantity: str, ts: float, value: float | None) -> None:
        """One reading of one of this household's meters (value None = failed poll: no data)."""
        if value is None or not math.isfinite(value):
            self._count("no_data_readings")
            return
        if meter_id in self.last_ok_ts:
            self.last_ok_ts[meter_id] = max(self.last_ok_ts[meter_id], ts)
        if meter_id in self.offline:
            self._back_online(meter_id, ts)
        if quantity == "water_m3" and self.water is not None and meter_id == self.water_meter:
            iv, gap_use = self.water.update(ts, value)
            if gap_use:
                self.pending_activity = True
            if iv is not None:
                acc = self._slot_for(iv.t0, iv.t1, iv.delta >= 0.5 * self.cfg.water_resolution_m3)
                if acc is not None:
                    acc.water_l += iv.delta * 1000.0
                    acc.water_cov_s += iv.t1 - iv.t0
        elif quantity == "energy_kwh" and self.energy is not None and meter_id == self.elec_meter:
            iv, _ = self.energy.update(ts, value)
            if iv is not None:
                acc = self._slot_for(iv.t0, iv.t1, False)
                if acc is not None:
                    acc.energy_kwh += iv.delta
                    acc.energy_cov_s += iv.t1 - iv.t0
        elif quantity == "power_w" and meter_id == self.elec_meter:
            if not 0 <= value < 1e6:
                self._count("implausible_power")
                return
            acc = self._slot_for(ts - 1, ts, False)
            if acc is not None:
                acc.power_sum_w += value
                acc.power_n += 1
        else:
            self._count("ignored_readings")

    def _slot_for(self, t0: float, t1: float, used: bool) -> SlotAcc | None:
        k = int(((t0 + t1) * 0.5) // self.slot_s)
        if self.last_closed is not None and k <= self.last_closed:
            self._count("late_readings")
            if used:
                self.pending_activity = True
            return None
        acc = self.slots.get(k)
        if acc is None:
            acc = self.slots[k] = SlotAcc()
        return acc

    # ---------------------------------------------------------------------------------------- time
    def advance(self, now: float) -> None:
        """Judge every slot whose end plus grace has passed; report meters silent for too long."""
        last = int((now - self.cfg.grace_s) // self.slot_s) - 1
        if self.last_closed is not None and last < self.last_closed - CLOCK_JUMP_S // self.slot_s:
            # the wall clock went back: start judging slots afresh from the new time (the routine,
            # thresholds and the current silence are kept; slots already judged are not judged again)
            log.warning(
                "household %s: clock went back %.1f h",
                self.id,
                (self.last_closed - last) * self.slot_s / 3600,
            )
            self._count("clock_went_back")
            self.slots = {k: v for k, v in self.slots.items() if k > last}
            self.last_closed = last
        if self.last_closed is None:
            if not self.slots:
                self._check_offline(now)
                return
            self.last_closed = min(self.slots) - 1
        while self.last_closed < last:
            self.last_closed += 1
            self._close_slot(self.last_closed)
        self._check_offline(now)

    def away_at(self, ts: float) -> bool:
        return any(a <= ts < b for a, b in self.config_away) or any(a <= ts < b for a, b in self.runtime_away)

    def _close_slot(self, k: int) -> None:
        cfg = self.cfg
        start = k * self.slot_s
        end = start + self.slot_s
        lh = self.cal.at(start + 1)
        if lh.day != self.day:
            if self.day is not None:
                self._close_day(start)
            self.day, self.day_start_ts = lh.day, start
        acc = self.slots.pop(k, None) or SlotAcc()
        half = 0.5 * self.slot_s
        water_seen = self.water is not None and (acc.water_cov_s >= half or acc.water_l >= 0.5 * self.res_l)
        water_act = water_seen and acc.water_l >= self._draw_l()
        power: float | None = None
        if acc.energy_cov_s >= half:
            power = acc.energy_kwh * 3.6e6 / acc.energy_cov_s
        elif acc.power_n:
            power = acc.power_sum_w / acc.power_n
        is_night = cfg.night_start_h <= lh.hour < cfg.night_end_h
        elec_seen = power is not None
        elec_act = self.standby.observe(power, is_night) if self.energy is not None or acc.power_n else False
        held = self.presence.observe(power, is_night) and cfg.held_load_evidence
        active = water_act or elec_act or self.pending_activity
        self.pending_activity = False
        view = (
            "both" if water_seen and elec_seen else "water" if water_seen else "elec" if elec_seen else None
        )
        away = self.away_at(start + half)

        # leak: by local hour, away or not (a leak in an empty flat matters most)
        if self.water is not None:
            self.hour_l += acc.water_l
            self.hour_cov_s += min(acc.water_cov_s, self.slot_s)
            self.hour_seen_slots += water_seen
            self.hour_wet_slots += water_act
            if end % 3600 == 0:
                wet = self.hour_wet_slots / self.hour_seen_slots if self.hour_seen_slots else 0.0
                self._signal(
                    self.leak.observe_hour(end - 3600, lh.hour, self.hour_l, self.hour_cov_s / 3600, wet)
                )
                self.hour_l = self.hour_cov_s = 0.0
                self.hour_wet_slots = self.hour_seen_slots = 0
        self._signal(self.spikes["water_l"].add(acc.water_l, acc.water_cov_s, end, self.day_start_ts))
        self._signal(self.spikes["energy_kwh"].add(acc.energy_kwh, acc.energy_cov_s, end, self.day_start_ts))

        if away:
            self.day_away = True
            if self.inactivity is not None:
                self._end_inactivity(end, "away period began")
            self._reset_silence(end)
            return
        if view is None:
            self.nodata_slots += 1
            if active:  # use seen across a gap in the data: someone was there
                if self.inactivity is not None:
                    self._end_inactivity(end, "activity resumed")
                self._reset_silence(end)
            return
        self.day_seen_slots += 1
        how = lh.hour_of_week
        silent_h = 0.0 if self.last_activity_ts is None else (start - self.last_activity_ts) / 3600
        hz = self.day_hazard.setdefault((lh.hour, bucket(silent_h)), [0.0, 0.0])
        hz[0] += 1.0 if active else 0.0
        hz[1] += 1.0
        self._learn(view, how, active)
        if held:
            self.presence.count(lh.hour, active)
        if view == "both":
            self._learn("water", how, water_act)
            self._learn("elec", how, elec_act)
        if active:
            if self.inactivity is not None:
                self._end_inactivity(end, "activity resumed")
            self._reset_silence(end)
            return
        if self.last_activity_ts is None:
            self.last_activity_ts = start
        # the chance this slot would have ended the silence if the person were fine: the routine's
        # estimate for the hour of week, refined by how silences of this length at this hour end
        p = min(P_MAX, max(P_MIN, self.hazard.p(lh.hour, silent_h, self.routine.p(view, how))))
        if held:  # a light or TV on and nothing else: someone is probably at home, not out
            self.presence.add_silent(lh.hour, self.waking_p)
        self.score -= math.log(1.0 - p)
        self.expected_active += p
        self.silent_slots += 1
        self.day_max = max(self.day_max, self.score)
        self._judge(end)

    def _draw_l(self) -> float:
        """Litres in a slot that count as someone drawing water: any increment, or, while a leak is
        open, clearly more than the leak's own steady flow (a leak must not hide a silent person)."""
        if self.leak.open_id is None:
            return 0.5 * self.res_l
        return 1.5 * self.leak.run_min_l_h * self.slot_s / 3600 + self.res_l

    def _waking_p(self) -> float:
        """Mean activity share over the routine's waking hours: how often someone at home and up acts
        (the prior for how soon a held load with nobody moving should end)."""
        hours = self.routine.waking_hours()
        if not hours:
            return P_MIN
        return sum(self.routine.p("both", h + 24 * d) for h in hours for d in range(7)) / (7 * len(hours))

    def _learn(self, view: str, how: int, active: bool) -> None:
        c = self.day_counts.get((view, how))
        if c is None:
            c = self.day_counts[(view, how)] = [0.0, 0.0]
        c[0] += 1.0 if active else 0.0
        c[1] += 1.0

    def _reset_silence(self, ts: float) -> None:
        self.last_activity_ts = ts
        self.score = 0.0
        self.expected_active = 0.0
        self.silent_slots = 0
        self.nodata_slots = 0
        self.presence.reset()

    def _close_day(self, ts: float) -> None:
        # A day is learned unless it was away, mostly without data, or touched by an alarm that lasted
        # across midnight (a real incident, or a trip nobody declared). An alarm that resolved the same
        # day (a long day out) is learned: that is how a weekly day out stops raising alarms.
        alarm_open = self.inactivity is not None and self.inactivity.level >= Severity.ALARM
        ordinary = (
            not self.day_away
            and not self.day_alarm
            and not alarm_open
            and self.day_seen_slots >= 0.5 * DAY_S / self.slot_s
        )
        if ordinary:
            self.hazard.commit_day(self.day_hazard)
            self.routine.commit_day(self.day_counts)
            self.thresholds.add_day(self.day_max)
        else:
            self.hazard.commit_day(None)
            self.routine.fade_day()
        # a held silence still open in an incident at midnight may be the incident itself: the held
        # model's floor (the longest ordinary held silence) must not learn it
        self.presence.commit_day(ordinary and self.inactivity is None, self.hazard.decay_per_day)
        self.presence.relearn()
        self.standby.relearn()
        self.waking_p = self._waking_p()
        for spike in self.spikes.values():
            self._signal(spike.close_day(ts, ordinary, DAY_S))
        self._set_thresholds()
        self.day_counts = {}
        self.day_hazard = {}
        self.day_max = self.score
        self.day_away = False
        self.day_alarm = self.inactivity is not None and self.inactivity.level >= Severity.ALARM
        self.day_seen_slots = 0

    # ---------------------------------------------------------------------------------------- inactivity
    def _set_thresholds(self) -> None:
        """Both scores' thresholds from the budgets; the held score gets HELD_BUDGET_SHARE of each,
        the plain score the rest, so the two together stay within the configured budget."""
        cfg = self.cfg
        share = HELD_BUDGET_SHARE if cfg.held_load_evidence else 0.0
        self.notice_thr = self.thresholds.threshold(cfg.notice_per_year * (1 - share))
        self.alarm_thr = self.thresholds.threshold(cfg.alarm_per_year * (1 - share))
        self.held_notice_thr = self.held_alarm_thr = math.inf
        if share:
            self.held_notice_thr = self.presence.thresholds.threshold(cfg.notice_per_year * share)
            self.held_alarm_thr = self.presence.alarm_threshold(cfg.alarm_per_year * share)

    def _level(self) -> Severity | None:
        """The higher of the plain silence's level and the held-load silence's level."""
        held = self.presence.score
        if self.score >= self.alarm_thr or held >= self.held_alarm_thr:
            return Severity.ALARM
        if self.score >= self.notice_thr or held >= self.held_notice_thr:
            return Severity.NOTICE
        return None

    def _judge(self, ts: float) -> None:
        level = self._level()
        inc = self.inactivity
        if inc is not None:
            inc.peak_score = max(inc.peak_score, self.score)
        if level is None and inc is None:
            return
        if inc is None:
            assert level is not None and self.last_activity_ts is not None
            inc = self.inactivity = Inactivity(
                f"inactivity-{self.id}-{int(self.last_activity_ts)}", level, ts, ts, self.score
            )
            self._emit_inactivity(Phase.START, ts, level)
        elif level is not None and level > inc.level:
            inc.level = level
            inc.last_update_ts = ts
            self._emit_inactivity(Phase.UPDATE, ts, level)
        elif ts - inc.last_update_ts >= self.cfg.update_interval_s:
            inc.last_update_ts = ts
            self._emit_inactivity(Phase.UPDATE, ts, inc.level)

    def _emit_inactivity(self, phase: Phase, ts: float, level: Severity, **extra: object) -> None:
        assert self.inactivity is not None
        last = self.last_activity_ts if self.last_activity_ts is not None else ts
        body: dict[str, Any] = {
            "level": level.name.lower(),
            "last_activity": self.cal.iso(last),
            "silent_h": round((ts - last) / 3600, 2),
            "score": round(self.score, 2),
            "p_silence": float(f"{math.exp(-self.score):.3g}"),
            "expected_active_slots": round(self.expected_active, 1),
            "thresholds": {"notice": round(self.notice_thr, 2), "alarm": round(self.alarm_thr, 2)},
            "usual_hours": _ranges(self.routine.waking_hours()),
            "nodata_slots": self.nodata_slots,
        }
        if self.cfg.held_load_evidence:  # a light or TV on with nothing else: the second score
            body["held_score"] = round(self.presence.score, 2)
            body["held_thresholds"] = {
                "notice": round(self.held_notice_thr, 2),
                "alarm": round(self.held_alarm_thr, 2),
            }
        body.update(extra)
        self._emit("inactivity", phase, ts, level, body, self.inactivity.incident)

    def _end_inactivity(self, ts: float, why: str) -> None:
        assert self.inactivity is not None
        self._emit_inactivity(
            Phase.END, ts, self.inactivity.level, why=why, peak_score=round(self.inactivity.peak_score, 2)
        )
        self.inactivity = None

    # ---------------------------------------------------------------------------------------- away, offline
    def set_away(self, from_ts: float, until_ts: float) -> None:
        self.runtime_away = [(a, b) for a, b in self.runtime_away if b > from_ts - 7 * DAY_S]
        self.runtime_away.append((from_ts, until_ts))

    def clear_away(self, now: float) -> None:
        """End every runtime away period now (a person came back early)."""
        self.runtime_away = [(a, min(b, now)) for a, b in self.runtime_away if a < now]

    def _check_offline(self, now: float) -> None:
        for meter, last in self.last_ok_ts.items():
            if meter not in self.offline and now - last >= self.cfg.offline_after_s:
                self.offline[meter] = f"meter_offline-{self.id}-{meter}-{int(last)}"
                others = [m for m in self.last_ok_ts if m != meter and m not in self.offline]
                self._emit(
                    "meter_offline",
                    Phase.START,
                    now,
                    Severity.WARNING,
                    {
                        "meter": meter,
                        "last_data": self.cal.iso(last),
                        "inactivity_scoring": "paused" if not others else f"on {others[0]} only",
                    },
                    self.offline[meter],
                )

    def _back_online(self, meter: str, ts: float) -> None:
        incident = self.offline.pop(meter)
        self._emit("meter_offline", Phase.END, ts, Severity.WARNING, {"meter": meter}, incident)

    # ---------------------------------------------------------------------------------------- out
    def _signal(self, sig: Signal | None) -> None:
        if sig is not None:
            self._emit(sig.kind, sig.phase, sig.ts, sig.severity, dict(sig.body), f"{sig.incident}-{self.id}")

    def _emit(
        self, kind: str, phase: Phase, ts: float, severity: Severity, body: dict[str, Any], incident: str
    ) -> None:
        try:
            self.emit(
                new_event(kind, self.id, ts, phase=phase, severity=severity, body=body, incident=incident)
            )
        except Exception:
            self._count("emit_errors")
            log.exception("household %s: emitting %s %s failed", self.id, kind, phase.value)

    # ---------------------------------------------------------------------------------------- state
    def summary(self, now: float) -> dict[str, Any]:
        """What a technician needs: routine by hour, thresholds, the current silence and open incidents."""
        lo, hi = self.standby.band()
        return {
            "household": self.id,
            "days_learned": self.routine.days_learned,
            "usual_hours": _ranges(self.routine.waking_hours()),
            "activity_by_hour": [
                round(sum(self.routine.p("both", h + 24 * d) for d in range(7)) / 7, 2) for h in range(24)
            ],
            "standby_w": [round(lo), round(hi)],
            "thresholds": {"notice": round(self.notice_thr, 2), "alarm": round(self.alarm_thr, 2)},
            "scored_until": None
            if self.last_closed is None
            else self.cal.iso((self.last_closed + 1) * self.slot_s),
            "last_activity": None if self.last_activity_ts is None else self.cal.iso(self.last_activity_ts),
            "silence_score": round(self.score, 2),
            "p_silence": float(f"{math.exp(-self.score):.3g}"),
            "inactivity": None if self.inactivity is None else self.inactivity.level.name.lower(),
            "leak_open": self.leak.open_id is not None,
            "offline_meters": sorted(self.offline),
            "away_now": self.away_at(now),
            "spike_baseline": {q: s.threshold() for q, s in self.spikes.items()},
            "stats": dict(self.stats),
        }

    def to_dict(self) -> dict[str, Any]:
        inc = self.inactivity
        return {
            "version": STATE_VERSION,
            "household": self.id,
            "routine": self.routine.to_dict(),
            "hazard": self.hazard.to_dict(),
            "day_hazard": [[h, b, a, n] for (h, b), (a, n) in self.day_hazard.items()],
            "thresholds": self.thresholds.to_dict(),
            "standby": self.standby.to_dict(),
            "presence": self.presence.to_dict(),
            "leak": self.leak.to_dict(),
            "spikes": {q: s.to_dict() for q, s in self.spikes.items()},
            "water": self.water.to_dict() if self.water else None,
            "energy": self.energy.to_dict() if self.energy else None,
            "last_closed": self.last_closed,
            "last_activity_ts": self.last_activity_ts,
            "score": self.score,
            "expected_active": self.expected_active,
            "silent_slots": self.silent_slots,
            "inactivity": None
            if inc is None
            else {
                "incident": inc.incident,
                "level": int(inc.level),
                "started_ts": inc.started_ts,
                "last_update_ts": inc.last_update_ts,
                "peak_score": inc.peak_score,
            },
            "runtime_away": self.runtime_away,
            "day": self.day,
            "day_start_ts": self.day_start_ts,
            "day_max": self.day_max,
            # what a restart in the middle of a day or a slot must not lose
            "slots": {str(k): list(astuple(v)) for k, v in self.slots.items()},
            "pending_activity": self.pending_activity,
            "nodata_slots": self.nodata_slots,
            "day_counts": [[v, h, a, n] for (v, h), (a, n) in self.day_counts.items()],
            "day_away": self.day_away,
            "day_alarm": self.day_alarm,
            "day_seen_slots": self.day_seen_slots,
            "hour": [self.hour_l, self.hour_cov_s, self.hour_wet_slots, self.hour_seen_slots],
            "offline": self.offline,
        }

    def load(self, d: dict[str, Any]) -> None:
        """Restore learned state (a restart must not forget the routine nor an open incident)."""
        if d.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported state version {d.get('version')!r}")
        self.routine.load(d.get("routine") or {})
        self.hazard.load(d.get("hazard") or {})
        self.day_hazard = {(int(h), int(b)): [float(a), float(n)] for h, b, a, n in d.get("day_hazard") or []}
        self.thresholds.load(d.get("thresholds") or {})
        self.standby.load(d.get("standby") or {})
        self.presence.load(d.get("presence") or {})
        self.waking_p = self._waking_p()
        self.leak.load(d.get("leak") or {})
        for q, s in (d.get("spikes") or {}).items():
            if q in self.spikes:
                self.spikes[q].load(s)
        if self.water and d.get("water"):
            self.water.load(d["water"])
        if self.energy and d.get("energy"):
            self.energy.load(d["energy"])
        self.last_closed = d.get("last_closed")
        self.last_activity_ts = d.get("last_activity_ts")
        self.score = float(d.get("score") or 0.0)
        self.expected_active = float(d.get("expected_active") or 0.0)
        self.silent_slots = int(d.get("silent_slots") or 0)
        inc = d.get("inactivity")
        if inc:
            self.inactivity = Inactivity(
                inc["incident"],
                Severity(inc["level"]),
                inc["started_ts"],
                inc["last_update_ts"],
                inc["peak_score"],
            )
        self.runtime_away = [(float(a), float(b)) for a, b in d.get("runtime_away") or []]
        self.day = d.get("day")
        self.day_start_ts = float(d.get("day_start_ts") or 0.0)
        self.day_max = float(d.get("day_max") or 0.0)
        self.slots = {int(k): SlotAcc(*v) for k, v in (d.get("slots") or {}).items()}
        self.pending_activity = bool(d.get("pending_activity"))
        self.nodata_slots = int(d.get("nodata_slots") or 0)
        self.day_counts = {(str(v), int(h)): [float(a), float(n)] for v, h, a, n in d.get("day_counts") or []}
        self.day_away = bool(d.get("day_away"))
        self.day_alarm = bool(d.get("day_alarm"))
        self.day_seen_slots = int(d.get("day_seen_slots") or 0)
        hour = d.get("hour")
        if isinstance(hour, list) and len(hour) == 4:
            self.hour_l, self.hour_cov_s = float(hour[0]), float(hour[1])
            self.hour_wet_slots, self.hour_seen_slots = int(hour[2]), int(hour[3])
        # a meter offline before the restart stays so (its incident ends when data returns); the others
        # get offline_after_s from the restart before a gateway outage could pass for a meter's
        self.offline = {m: i for m, i in (d.get("offline") or {}).items() if m in self.last_ok_ts}
        self._set_thresholds()


def _ranges(hours: list[int]) -> str:
    """[7, 8, 9, 12, 13] -> "07-10,12-14" (local hours, end exclusive)."""
    out: list[str] = []
    start = prev = None
    for h in [*hours, None]:  # type: ignore[list-item]
        if h is not None and prev is not None and h == prev + 1:
            prev = h
            continue
        if start is not None and prev is not None:
            out.append(f"{start:02d}-{prev + 1:02d}")
        start = prev = h
    return ",".join(out)
