"""Bus config mistakes are clear errors at load time (before anything opens a port)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from edge_agent.config.meters import BusConfig, shipped_profile_names
from edge_agent.meters.profile import load_shipped_profile


def bus(**kw: Any) -> BusConfig:
    return BusConfig.model_validate({"id": "b", "port": "/dev/ttyUSB0", **kw})


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"meters": [{"id": "m", "protocol": "dlt645", "address": "1234567890123"}]}, "up to 12 digits"),
        (
            {"meters": [{"id": "m", "protocol": "modbus", "address": "300", "profile": "eastron-sdm120"}]},
            "1-247",
        ),
        ({"meters": [{"id": "m", "protocol": "modbus", "address": "1"}]}, "needs a profile"),
        (
            {"meters": [{"id": "m", "protocol": "cjt188", "address": "1", "profile": "nope"}]},
            "unknown profile",
        ),
        ({"meters": [{"id": "m", "protocol": "dlt645", "address": "1", "group": "x"}]}, "unknown group"),
        (
            {
                "meters": [
                    {"id": "a", "protocol": "dlt645", "address": "1"},
                    {"id": "b", "protocol": "modbus", "address": "1", "profile": "eastron-sdm120"},
                ]
            },
            "cannot share a bus",
        ),
        ({"host": "nohost"}, "must be HOST:PORT"),
        ({"host": "10.0.0.5:502"}, "exactly one of port, host"),
        ({"profiles": {"p": {"protocol": "dlt645", "dis": ["0001"]}}}, "8 hex digits"),
        ({"profiles": {"p": {"protocol": "modbus"}}}, "needs registers"),
        ({"groups": [{"id": "g", "interval_s": 5, "cron": "* * * * *"}]}, "exactly one of interval_s, cron"),
        ({"parity": "X"}, "parity"),
    ],
)
def test_mistakes_are_refused_with_a_reason(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        bus(**kw)
    assert message in str(err.value)


def test_defaults_follow_the_protocol() -> None:
    china = bus(meters=[{"id": "m", "protocol": "cjt188", "address": "1"}])
    assert (china.effective_baud, china.effective_parity) == (2400, "E")
    modbus = bus(meters=[{"id": "m", "protocol": "modbus", "address": "1", "profile": "eastron-sdm120"}])
    assert (modbus.effective_baud, modbus.effective_parity) == (9600, "N")
    assert bus(simulate=True, port=None).simulate


@pytest.mark.parametrize("name", shipped_profile_names())
def test_every_shipped_profile_loads(name: str) -> None:
    assert load_shipped_profile(name).protocol in ("modbus", "dlt645", "cjt188")
