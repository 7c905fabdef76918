"""Config of households (a water and an electricity meter) and of the anomaly scorer.

Households name the meters that show a person's activity; the ``anomaly`` section holds how activity is
derived, how the routine is learned and how alarm thresholds follow from a false-alarm budget. The
defaults suit 15-minute polling of a 1 L water meter and a 0.01 kWh electricity meter.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator

from edge_agent.config.base import StrictModel


class AwayPeriod(StrictModel):
    """A declared absence: inactivity is not scored and the routine does not learn from it."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, populate_by_name=True)

    from_: dt.datetime = Field(
        alias="from", description="Start of the absence (ISO 8601; no offset = anomaly.timezone)."
    )
    until: dt.datetime = Field(description="End of the absence (ISO 8601; no offset = anomaly.timezone).")

    @field_validator("from_", "until", mode="before")
    @classmethod
    def _date_is_midnight(cls, v: object) -> object:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return dt.datetime(v.year, v.month, v.day)
        return v

    @model_validator(mode="after")
    def _ordered(self) -> AwayPeriod:
        a, b = self.from_, self.until
        if (a.tzinfo is None) == (b.tzinfo is None) and b <= a:
            raise ValueError("until must be after from")
        return self


class HouseholdConfig(StrictModel):
    id: str = Field(min_length=1, description="Household id used in events.")
    water_meter: str | None = Field(None, description="Id of the household's water meter.")
    electricity_meter: str | None = Field(None, description="Id of the household's electricity meter.")
    away: list[AwayPeriod] = Field(
        default_factory=list,
        description="Declared absences (`from`/`until`); inactivity alarms are suppressed during them.",
    )

    @model_validator(mode="after")
    def _some_meter(self) -> HouseholdConfig:
        if self.water_meter is None and self.electricity_meter is None:
            raise ValueError("a household needs a water_meter or an electricity_meter (or both)")
        if self.water_meter is not None and self.water_meter == self.electricity_meter:
            raise ValueError("water_meter and electricity_meter must be different meters")
        return self


class AnomalyConfig(StrictModel):
    """Scorer settings shared by every household."""

    timezone: str = Field(
        "UTC", description="IANA time zone of the households (routines are learned in local hours)."
    )
    slot_s: int = Field(
        900,
        ge=60,
        le=3600,
        description="Activity slot length; at least the meters' poll period, and a divisor of 3600.",
    )
    grace_s: float = Field(
        120.0, ge=0, le=1800, description="How long after a slot ends late readings are still awaited."
    )
    tick_s: float = Field(30.0, gt=0, le=600, description="Period of the scoring thread (wall time).")
    max_interval_s: float = Field(
        3600.0, gt=0, description="Two readings further apart than this leave a gap (no data) between them."
    )
    water_resolution_m3: float = Field(
        0.001, gt=0, description="Water meter resolution; any increment of at least this is a draw."
    )
    energy_resolution_kwh: float = Field(0.01, gt=0, description="Electricity meter resolution.")
    elec_margin_w: float = Field(
        40.0, ge=0, description="Power above the learned standby (and fridge swing) that counts as activity."
    )
    default_fridge_swing_w: float = Field(
        150.0, ge=0, description="Fridge/standby swing assumed until a few nights have been seen."
    )
    baseline_window_s: float = Field(
        3600.0,
        gt=0,
        description="A constant load (light, TV left on) stops counting as activity after this long.",
    )
    night_start_h: int = Field(1, ge=0, le=23, description="Local hour the standby-learning night begins.")
    night_end_h: int = Field(5, ge=1, le=24, description="Local hour the standby-learning night ends.")
    routine_half_life_days: float = Field(
        42.0, gt=0, description="Age at which an observed day counts half in the routine (forgetting)."
    )
    prior_weeks: float = Field(
        2.0, gt=0, description="Weight of the cold-start prior routine, in weeks of observations."
    )
    notice_per_year: float = Field(
        6.0, gt=0, description="False-notice budget per household-year (sets the notice threshold)."
    )
    alarm_per_year: float = Field(
        0.5, gt=0, description="False-alarm budget per household-year (sets the alarm threshold)."
    )
    calibration_days: int = Field(
        120, ge=14, le=730, description="Days of the household's own silence scores kept for thresholds."
    )
    held_load_evidence: bool = Field(
        True,
        description=(
            "Score a light or TV held on with no other use as evidence someone is home and not moving "
            "(turn off where people often leave a lamp on when they go out)."
        ),
    )
    update_interval_s: float = Field(
        3 * 3600.0, gt=0, description="Period of update events while an inactivity incident lasts."
    )
    offline_after_s: float = Field(
        7200.0, gt=0, description="No data from any of a household's meters this long: meter_offline."
    )
    leak_min_flow_l_h: float = Field(
        2.0, gt=0, description="Hourly water flow that, never dropping below it, indicates a leak."
    )
    leak_hours: int = Field(
        24,
        ge=2,
        le=72,
        description="Consecutive hours of flow that start a leak (the whole night window also does).",
    )
    spike_ratio: float = Field(
        3.0, gt=1, description="A day's use must exceed this many times the household's median day."
    )
    spike_mad_k: float = Field(
        6.0, gt=0, description="... and the median by this many robust standard deviations (MAD)."
    )
    spike_min_water_l: float = Field(200.0, ge=0, description="... and the median by at least this water.")
    spike_min_energy_kwh: float = Field(6.0, ge=0, description="... and the median by at least this energy.")
    spike_baseline_days: int = Field(28, ge=7, le=365, description="Days in the spike baseline.")
    save_interval_s: float = Field(
        600.0, gt=0, description="How often learned state is written to the state dir (clock time)."
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        if v in ("UTC", "Etc/UTC"):
            return v  # needs no time-zone database
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (is the tzdata package installed?)") from exc
        return v

    @model_validator(mode="after")
    def _consistent(self) -> AnomalyConfig:
        if 3600 % self.slot_s:
            raise ValueError("slot_s must divide an hour (60, 300, 600, 900, 1200, 1800, 3600)")
        if self.night_end_h <= self.night_start_h:
            raise ValueError("night_end_h must be after night_start_h")
        return self
