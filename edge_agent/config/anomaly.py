"""Config of households (a water and an electricity meter) and of the anomaly scorer."""

from __future__ import annotations

from pydantic import Field

from edge_agent.config.base import StrictModel


class HouseholdConfig(StrictModel):
    id: str = Field(min_length=1, description="Household id used in events.")
    water_meter: str | None = Field(None, description="Id of the household's water meter.")
    electricity_meter: str | None = Field(None, description="Id of the household's electricity meter.")


class AnomalyConfig(StrictModel):
    """Scorer settings shared by every household."""
