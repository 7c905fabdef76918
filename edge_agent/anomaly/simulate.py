"""A household simulator with known incidents, for the evaluation, the tests and demos.

No labelled data set of elderly people's meter data exists, so the scorer is judged on simulated people
whose life is varied the way real ones are: early and late risers, irregular sleepers with night walks and
naps, weekend lie-ins, errands and whole-day outings, visitors, trips of 3-14 days (declared as away periods
for some households and not for others), a standby load of 50-200 W with a cycling fridge, meters of
1 L and 0.01 kWh resolution polled every 15 minutes, lost polls and meter outages. Incidents are injected
at random times of day and night: from the onset the person does nothing at all, though a light or the TV
may stay on. Life is generated per minute with numpy, then read out as cumulative counters.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_PER_DAY = 1440
START = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)  # a Monday, local = UTC in the simulation
"""Epoch of the first simulated midnight (the simulation runs in UTC: local hours are UTC hours)."""


@dataclass(frozen=True)
class Trip:
    start_ts: float
    end_ts: float
    declared: bool
    """Declared trips are listed as away periods in the household's config; undeclared ones are not."""


@dataclass(frozen=True)
class Incident:
    onset_ts: float
    end_ts: float
    left_on_w: float
    """A light or TV left burning through the incident (0 = nothing left on)."""


@dataclass(frozen=True)
class Profile:
    """Who lives there (drawn at random per household)."""

    id: str
    wake_h: float
    sleep_h: float
    weekend_shift_h: float
    jitter_h: float
    irregular: bool
    mobile: bool
    """Mobile people go out more and sometimes for a whole day unannounced; homebound people rarely."""
    events_per_h: float
    nap_prob: float
    outing_prob: float
    long_outing_prob: float
    weekly_outing_day: int
    """Weekday (0 = Monday) of a regular long outing (day centre, church, family), -1 = none."""
    weekly_outing_h: float
    visitor_prob: float
    night_wakes: float
    standby_w: float
    fridge_w: float
    fridge_period_min: float
    fridge_duty: float
    light_w: float
    tv_w: float
    missing_frac: float
    outage_prob: float

    def is_waking_hour(self, hour: float) -> bool:
        """Whether a local hour lies in this person's usual (weekday) waking hours."""
        return (hour - self.wake_h) % 24 < (self.sleep_h - self.wake_h) % 24


@dataclass
class SimHousehold:
    profile: Profile
    ts: np.ndarray
    """Reading times (epoch s), one per poll."""
    water_m3: np.ndarray
    """Cumulative water counter at each poll; NaN = failed poll."""
    energy_kwh: np.ndarray
    """Cumulative energy counter at each poll; NaN = failed poll."""
    trips: list[Trip] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    @property
    def water_meter(self) -> str:
        return f"water-{self.profile.id}"

    @property
    def elec_meter(self) -> str:
        return f"elec-{self.profile.id}"


def draw_profile(rng: np.random.Generator, hid: str) -> Profile:
    kind = rng.choice(["early", "regular", "late"], p=[0.3, 0.45, 0.25])
    wake = {"early": 5.5, "regular": 7.0, "late": 8.75}[kind] + rng.normal(0, 0.4)
    sleep = wake + rng.uniform(14.0, 16.5)
    irregular = bool(rng.random() < 0.2)
    mobile = bool(rng.random() < 0.55)
    return Profile(
        id=hid,
        wake_h=float(wake),
        sleep_h=float(sleep % 24),
        weekend_shift_h=float(rng.choice([0.0, 0.5, 1.0, 1.5], p=[0.4, 0.2, 0.25, 0.15])),
        jitter_h=float(rng.uniform(0.9, 1.6) if irregular else rng.uniform(0.2, 0.6)),
        irregular=irregular,
        mobile=mobile,
        events_per_h=float(rng.uniform(1.2, 3.0)),
        nap_prob=float(rng.uniform(0.1, 0.6)),
        outing_prob=float(rng.uniform(0.5, 0.9) if mobile else rng.uniform(0.1, 0.5)),
        long_outing_prob=float(rng.uniform(0.005, 0.04) if mobile else rng.uniform(0.0, 0.005)),
        weekly_outing_day=int(rng.integers(0, 7)) if rng.random() < (0.5 if mobile else 0.25) else -1,
        weekly_outing_h=float(rng.uniform(9.0, 11.0)),
        visitor_prob=float(rng.uniform(0.02, 0.15)),
        night_wakes=float(rng.uniform(0.3, 2.0) if not irregular else rng.uniform(1.5, 3.5)),
        standby_w=float(rng.uniform(50.0, 200.0)),
        fridge_w=float(rng.uniform(70.0, 150.0)),
        fridge_period_min=float(rng.uniform(30.0, 70.0)),
        fridge_duty=float(rng.uniform(0.25, 0.5)),
        light_w=float(rng.uniform(15.0, 80.0)),
        tv_w=float(rng.uniform(60.0, 150.0)),
        missing_frac=float(rng.uniform(0.0, 0.03)),
        outage_prob=float(rng.uniform(0.0, 0.02)),
    )


def _trips(rng: np.random.Generator, days: int, t0: float) -> list[Trip]:
    n = int(rng.choice([0, 1, 2], p=[0.45, 0.4, 0.15]))
    declared = bool(rng.random() < 0.5)
    out: list[Trip] = []
    for _ in range(n):
        for _attempt in range(20):
            length = rng.uniform(3, 14)
            if days - length - 1 <= 7:
                continue
            start_day = rng.uniform(7, days - length - 1)
            s = t0 + start_day * 86400 + rng.uniform(7, 11) * 3600 - start_day % 1 * 86400
            e = s + length * 86400
            if all(e + 3 * 86400 < o.start_ts or s > o.end_ts + 3 * 86400 for o in out):
                out.append(Trip(s, e, declared))
                break
    return out


def _busy(intervals: list[tuple[float, float]], s: float, e: float, margin_s: float) -> bool:
    return any(s < b + margin_s and e > a - margin_s for a, b in intervals)


def simulate_household(
    hid: str,
    seed: int,
    days: int = 180,
    *,
    poll_s: int = 900,
    incident: bool = True,
    incident_h: float = 72.0,
    first_incident_day: float = 3.0,
    missing: bool = True,
    trips: bool = True,
    left_on_outing_prob: float = 0.0,
) -> SimHousehold:
    """One household's meter readings over ``days`` days, with its trips and (optionally) one incident.

    ``left_on_outing_prob``: the chance that the person leaves a light on when going out (errands, days
    out). Drawn from a generator of its own, so the same households live the same days whatever it is.
    """
    rng = np.random.default_rng(seed)
    rng_left_on = np.random.default_rng([seed, 1])
    p = draw_profile(rng, hid)
    t0 = START.timestamp()
    n_min = days * MIN_PER_DAY
    trip_list = _trips(rng, days, t0)
    if not trips:
        trip_list = []
    incidents: list[Incident] = []
    if incident:
        if days - incident_h / 24 - 0.5 <= first_incident_day:
            raise ValueError(
                f"{days} days leave no room for an incident of {incident_h} h after day {first_incident_day}"
            )
        for _attempt in range(100):
            onset = t0 + rng.uniform(first_incident_day, days - incident_h / 24 - 0.5) * 86400
            end = onset + incident_h * 3600
            if not _busy([(t.start_ts, t.end_ts) for t in trip_list], onset, end, 86400):
                left_on = float(rng.choice([0.0, p.light_w, p.tv_w], p=[0.5, 0.25, 0.25]))
                incidents.append(Incident(float(onset), float(end), left_on))
                break

    water_l = np.zeros(n_min)
    power_w = np.full(n_min, p.standby_w) + rng.normal(0, 3, n_min)
    # fridge: a square wave whose period drifts slowly
    period = p.fridge_period_min * (1 + 0.1 * np.sin(np.arange(n_min) / (MIN_PER_DAY * 3.3)))
    phase = np.cumsum(1.0 / period) + rng.random()
    power_w += p.fridge_w * ((phase % 1.0) < p.fridge_duty)

    away = np.zeros(n_min, dtype=bool)
    for t in trip_list:
        away[int((t.start_ts - t0) // 60) : int((t.end_ts - t0) // 60)] = True
    stopped = np.zeros(n_min, dtype=bool)
    for inc in incidents:
        stopped[int((inc.onset_ts - t0) // 60) : int((inc.end_ts - t0) // 60)] = True
    silent = away | stopped

    def use(m0: int, dur_min: int, watts: float = 0.0, litres: float = 0.0) -> None:
        m0 = max(0, m0)
        m1 = min(n_min, m0 + max(1, dur_min))
        if m0 >= n_min:
            return
        ok = ~silent[m0:m1]
        if watts:
            power_w[m0:m1] += watts * ok
        if litres:
            water_l[m0:m1] += litres / (m1 - m0) * ok

    meal_h = np.array([0.5, 5.5, 11.0])  # hours after waking: breakfast, lunch, dinner
    for d in range(days):
        base = d * MIN_PER_DAY
        weekend = (START + dt.timedelta(days=d)).weekday() >= 5
        shift = p.weekend_shift_h if weekend else 0.0
        wake = p.wake_h + shift + rng.normal(0, p.jitter_h)
        awake_h = (p.sleep_h - p.wake_h) % 24 + rng.normal(0, p.jitter_h * 0.7)
        w0 = base + int(wake * 60)
        w1 = w0 + int(awake_h * 60)
        # out of the flat: errands, sometimes a whole day with family
        out: list[tuple[int, int]] = []
        errand_max_min = 180.0 if p.mobile else 120.0
        if rng.random() < p.outing_prob:
            s = int(rng.integers(w0 + 60, max(w0 + 61, w1 - 180)))
            out.append((s, s + int(rng.uniform(30, errand_max_min))))
        if rng.random() < p.outing_prob * 0.3:
            s = int(rng.integers(w0 + 60, max(w0 + 61, w1 - 120)))
            out.append((s, s + int(rng.uniform(30, errand_max_min))))
        if rng.random() < p.long_outing_prob:  # a whole day out, unannounced
            s = w0 + int(rng.uniform(1.5, 4) * 60)
            out.append((s, s + int(rng.uniform(5, 9) * 60)))
        if (START + dt.timedelta(days=d)).weekday() == p.weekly_outing_day and rng.random() < 0.85:
            s = base + int((p.weekly_outing_h + rng.normal(0, 0.4)) * 60)
            out.append((s, s + int(rng.uniform(5, 7) * 60)))
        for a, b in out:
            if left_on_outing_prob and rng_left_on.random() < left_on_outing_prob:
                use(a, b - a, watts=p.light_w)  # a light left on while out
        if rng.random() < p.nap_prob:
            s = base + int(rng.uniform(13, 15) * 60)
            out.append((s, s + int(rng.uniform(40, 110))))  # a nap: at home, but no use
        home = np.ones(w1 - w0, dtype=bool)
        for a, b in out:
            home[max(0, a - w0) : max(0, min(w1, b) - w0)] = False
        visitors = rng.random() < p.visitor_prob
        rate = p.events_per_h * (1.8 if visitors else 1.0)
        # activity events: a Poisson process, busier around meals
        n_ev = rng.poisson(rate * (w1 - w0) / 60)
        if n_ev:
            cand = np.sort(rng.integers(w0, w1, n_ev))
            for mh in meal_h:
                extra = rng.integers(0, 4)
                c = w0 + int((mh + rng.normal(0, 0.4)) * 60)
                cand = np.append(cand, c + rng.integers(0, 60, extra))
            for m in cand:
                if m >= w1 or not home[min(len(home) - 1, max(0, m - w0))]:
                    continue
                r = rng.random()
                if r < 0.35:
                    use(int(m), 1, litres=float(rng.uniform(0.5, 4)))  # tap
                elif r < 0.55:
                    use(int(m), 2, litres=6.0)  # toilet
                elif r < 0.7:
                    use(int(m), 3, watts=2000.0)  # kettle
                elif r < 0.8:
                    use(int(m), int(rng.integers(2, 6)), watts=1000.0)  # microwave
                elif r < 0.85:
                    use(int(m), int(rng.integers(15, 45)), watts=1500.0, litres=3.0)  # cooking
                elif r < 0.9:
                    use(int(m), int(rng.integers(30, 90)), watts=500.0, litres=50.0)  # washing machine
                else:
                    use(int(m), 1, watts=0.0, litres=float(rng.uniform(0.2, 1.5)))  # hand wash
        if rng.random() < 0.75:
            m = w0 + int(rng.uniform(0.2, 2.0) * 60)
            if home[min(len(home) - 1, m - w0)]:
                use(m, 8, litres=float(rng.uniform(30, 60)), watts=float(rng.choice([0.0, 2000.0])))
        # lights after dusk while at home and awake; the TV for a few hours in the evening
        dusk = base + int(rng.uniform(17, 19) * 60)
        lit = np.arange(max(w0, dusk), w1)
        if lit.size:
            on = home[lit - w0]
            use_idx = lit[on]
            use_idx = use_idx[(use_idx < n_min) & ~silent[np.minimum(use_idx, n_min - 1)]]
            power_w[use_idx] += p.light_w
        if rng.random() < 0.7:
            tv0 = max(w0, base + int(rng.uniform(18, 20) * 60))
            tv1 = min(w1, tv0 + int(rng.uniform(60, 200)))
            idx = np.arange(tv0, tv1)
            idx = idx[(idx < n_min)]
            idx = idx[home[np.minimum(idx - w0, len(home) - 1)] & ~silent[idx]]
            power_w[idx] += p.tv_w
        # night: toilet visits with a light
        for _ in range(rng.poisson(p.night_wakes)):
            m = w1 + int(rng.uniform(0.5, max(1.0, (24 - awake_h) - 0.5)) * 60)
            use(m, 2, litres=6.0)
            use(m, 4, watts=p.light_w)
            if p.irregular and rng.random() < 0.3:
                use(m + 5, int(rng.integers(20, 90)), watts=p.tv_w)  # cannot sleep: TV at night
    for inc in incidents:
        if inc.left_on_w:
            power_w[int((inc.onset_ts - t0) // 60) : int((inc.end_ts - t0) // 60)] += inc.left_on_w

    # meters: counters at each poll, quantised to the meters' resolution
    water_cum_l = np.concatenate([[0.0], np.cumsum(water_l)]) + rng.uniform(10_000, 500_000)
    energy_cum = np.concatenate([[0.0], np.cumsum(power_w) / 60_000.0]) + rng.uniform(1_000, 50_000)
    step_min = poll_s // 60
    idx = np.arange(step_min, n_min + 1, step_min)
    jitter_s = rng.uniform(0, 20, idx.size)
    ts = t0 + idx * 60.0 + jitter_s
    water = np.floor(water_cum_l[idx]) / 1000.0
    energy = np.floor(energy_cum[idx] * 100.0) / 100.0
    for arr in (water, energy) if missing else ():
        arr[rng.random(idx.size) < p.missing_frac] = np.nan
        for od in np.nonzero(rng.random(days) < p.outage_prob)[0]:
            o = int(od * MIN_PER_DAY // step_min) + int(rng.integers(0, MIN_PER_DAY // step_min))
            arr[o : o + int(rng.uniform(2, 12) * 60 / step_min)] = np.nan
    return SimHousehold(p, ts, water, energy, trip_list, incidents)


def households_config(sims: list[SimHousehold]) -> list[dict[str, Any]]:
    """The ``households:`` section for simulated households (declared trips become away periods)."""
    out = []
    for s in sims:
        away = [
            {
                "from": dt.datetime.fromtimestamp(t.start_ts, dt.timezone.utc).isoformat(),
                "until": dt.datetime.fromtimestamp(t.end_ts, dt.timezone.utc).isoformat(),
            }
            for t in s.trips
            if t.declared
        ]
        out.append(
            {
                "id": s.profile.id,
                "water_meter": s.water_meter,
                "electricity_meter": s.elec_meter,
                "away": away,
            }
        )
    return out


def write_csv(sims: list[SimHousehold], path: str) -> int:
    """Readings as ``ts,meter_id,quantity,value`` rows (ISO 8601 times; failed polls left out: gaps)."""
    rows: list[tuple[float, str, str, float]] = []
    for s in sims:
        for t, w, e in zip(s.ts, s.water_m3, s.energy_kwh, strict=True):
            if not math.isnan(w):
                rows.append((float(t), s.water_meter, "water_m3", float(w)))
            if not math.isnan(e):
                rows.append((float(t), s.elec_meter, "energy_kwh", float(e)))
    rows.sort()
    with open(path, "w", encoding="utf-8") as f:
        f.write("ts,meter_id,quantity,value\n")
        for t, m, q, v in rows:
            iso = dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")
            f.write(f"{iso},{m},{q},{v:.3f}\n")
    return len(rows)
