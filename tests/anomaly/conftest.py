"""Helpers for the anomaly tests: a scorer on simulated households, fed in simulated time."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.anomaly.replay import replay
from edge_agent.anomaly.service import AnomalyScorer
from edge_agent.anomaly.simulate import SimHousehold, households_config, simulate_household
from edge_agent.clock import SimClock
from edge_agent.config import AgentConfig
from edge_agent.events.model import Event, Phase, Severity
from edge_agent.meters.reading import Quality, Reading


def readings_of(
    sim: SimHousehold, upto_ts: float | None = None, start_ts: float | None = None
) -> Iterator[Reading]:
    for t, w, e in zip(sim.ts.tolist(), sim.water_m3.tolist(), sim.energy_kwh.tolist(), strict=True):
        if upto_ts is not None and t >= upto_ts:
            return
        if start_ts is not None and t < start_ts:
            continue
        yield (
            Reading(t, sim.water_meter, "water_m3", None, "m3", Quality.TIMEOUT)
            if math.isnan(w)
            else Reading(t, sim.water_meter, "water_m3", w, "m3")
        )
        yield (
            Reading(t, sim.elec_meter, "energy_kwh", None, "kWh", Quality.TIMEOUT)
            if math.isnan(e)
            else Reading(t, sim.elec_meter, "energy_kwh", e, "kWh")
        )


@dataclass
class Run:
    scorer: AnomalyScorer
    clock: SimClock
    events: list[Event] = field(default_factory=list)

    def of(
        self, kind: str, phase: Phase | None = None, min_severity: Severity = Severity.DEBUG
    ) -> list[Event]:
        return [
            e
            for e in self.events
            if e.kind == kind and (phase is None or e.phase is phase) and e.severity >= min_severity
        ]


def make_scorer(
    sims: list[SimHousehold],
    state_dir: Path | None = None,
    anomaly: dict[str, Any] | None = None,
    households: list[dict[str, Any]] | None = None,
    start_ts: float | None = None,
) -> Run:
    cfg = AgentConfig.model_validate(
        {
            "gateway": {"id": "t", "state_dir": str(state_dir or "/nonexistent")},
            "anomaly": anomaly or {},
            "households": households if households is not None else households_config(sims),
        }
    )
    clock = SimClock((start_ts if start_ts is not None else float(sims[0].ts[0])) - 1)
    run = Run(None, clock)  # type: ignore[arg-type]
    run.scorer = AnomalyScorer(
        cfg.anomaly, list(cfg.households), run.events.append, clock, state_dir, autosave=False
    )
    return run


def feed(run: Run, readings: Iterator[Reading]) -> None:
    replay(run.scorer, run.clock, readings)


def without_incident(sim: SimHousehold) -> SimHousehold:
    assert not sim.incidents
    return sim


def add_water_flow(sim: SimHousehold, from_ts: float, until_ts: float, litres_per_h: float) -> None:
    """A leak: a constant extra flow between two times, added to the water counter."""
    dt_h = np.clip(sim.ts, from_ts, until_ts) - from_ts
    sim.water_m3 = np.floor((sim.water_m3 * 1000 + dt_h / 3600 * litres_per_h) + 1e-9) / 1000


def quiet_sim(seed: int = 11, days: int = 30) -> SimHousehold:
    """A household with no incident, no trip and no lost polls (the tests add their own)."""
    return simulate_household("hh-1", seed, days, incident=False, missing=False, trips=False)


def stop_using(sim: SimHousehold, t0: float, t1: float, left_on_w: float = 0.0) -> None:
    """Nobody uses anything between t0 and t1: water stands still, power stays at standby + fridge
    (+ ``left_on_w``: a light or the TV left burning)."""
    p = sim.profile
    base_w = p.standby_w + p.fridge_w * p.fridge_duty + left_on_w
    inside = (sim.ts >= t0) & (sim.ts < t1)
    after = sim.ts >= t1
    for arr, per_s in ((sim.water_m3, 0.0), (sim.energy_kwh, base_w / 3.6e6)):
        i0 = int(np.argmax(inside))
        start_val = arr[i0 - 1]
        new_inside = start_val + per_s * (sim.ts[inside] - sim.ts[i0 - 1])
        shift = arr[after][0] - (start_val + per_s * (sim.ts[after][0] - sim.ts[i0 - 1]))
        arr[inside] = np.floor(new_inside * 100) / 100 if per_s else new_inside
        arr[after] -= shift - (0.05 if per_s else 0.0)  # the counter resumes a little higher
