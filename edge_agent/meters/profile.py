"""Profiles (what a meter model is) resolved for a meter: shipped YAML, bus-level or inline."""

from __future__ import annotations

from functools import cache

import yaml

from edge_agent.config.meters import SHIPPED_PROFILES_DIR, BusConfig, MeterConfig, ProfileConfig
from edge_agent.meters import dlt645

DEFAULT_PROFILE = {"dlt645": "dlt645-default", "cjt188": "cjt188-water"}

UNIT_BY_SUFFIX = {
    "kwh": "kWh",
    "wh": "Wh",
    "m3": "m3",
    "l": "L",
    "w": "W",
    "kw": "kW",
    "v": "V",
    "a": "A",
    "hz": "Hz",
    "gj": "GJ",
    "c": "°C",
    "h": "l/h",
}


def unit_of(quantity: str) -> str:
    """The unit a quantity name carries (``energy_kwh`` -> ``kWh``; ``power_factor`` -> ``""``)."""
    if quantity.endswith("_l_per_h"):
        return "l/h"
    return UNIT_BY_SUFFIX.get(quantity.rsplit("_", 1)[-1], "")


@cache
def load_shipped_profile(name: str) -> ProfileConfig:
    path = SHIPPED_PROFILES_DIR / f"{name}.yaml"
    with open(path, encoding="utf-8") as f:
        return ProfileConfig.model_validate(yaml.safe_load(f))


def resolve_profile(meter: MeterConfig, bus: BusConfig) -> ProfileConfig:
    """The profile a meter is read with; raises ValueError with the reason when it cannot be used."""
    ref = meter.profile if meter.profile is not None else DEFAULT_PROFILE.get(meter.protocol)
    if ref is None:
        raise ValueError(f"meter {meter.id}: no profile")
    if isinstance(ref, ProfileConfig):
        profile = ref
    elif ref in bus.profiles:
        profile = bus.profiles[ref]
    else:
        profile = load_shipped_profile(ref)
    if profile.protocol != meter.protocol:
        raise ValueError(
            f"meter {meter.id}: profile is for {profile.protocol}, meter speaks {meter.protocol}"
        )
    if profile.protocol == "dlt645":
        for text in profile.dis:
            if dlt645.parse_di(text) not in dlt645.DATA_IDS:
                raise ValueError(f"meter {meter.id}: DI {text} cannot be decoded")
    return profile
