"""Our clients against implementations we did not write: pymodbus's server (over a pty and over TCP),
the PyPI ``dlt645`` package's meter simulator (alone on its own pty: it answers frames meant for other
meters) and Debian's ``mbpoll`` reading the Modbus simulator the agent ships."""

from __future__ import annotations

import re
import subprocess

import pytest

from edge_agent.config.meters import ProfileConfig
from edge_agent.meters.profile import load_shipped_profile
from edge_agent.meters.reading import Quality
from edge_agent.meters.simulators.modbus import ModbusSimulator, SimModbusMeter
from tests.conftest import PtyPair, free_port, require_tool

from .helpers import bus_config, by_meter, make_bus

# Every type and word order, with values the test knows: pymodbus's server lays them out, we decode.
ORDERS_PROFILE = ProfileConfig.model_validate(
    {
        "protocol": "modbus",
        "max_gap_registers": 2,
        "registers": [
            {"quantity": "a_u16", "address": 0, "type": "u16"},
            {"quantity": "b_i16", "address": 1, "type": "i16"},
            {"quantity": "c_u32", "address": 2, "type": "u32", "order": "CDAB"},
            {"quantity": "d_i32", "address": 4, "type": "i32", "order": "BADC"},
            {"quantity": "e_f32", "address": 6, "type": "f32", "order": "DCBA"},
            {"quantity": "f_f64", "address": 8, "type": "f64", "order": "ABCD"},
            {"quantity": "g_u64", "address": 20, "type": "u64", "order": "CDAB"},
            {
                "quantity": "energy_kwh",
                "table": "input",
                "address": 100,
                "type": "u32",
                "scale": 0.01,
                "counter": True,
            },
        ],
    }
)
ORDERS_VALUES = {
    "a_u16": 65000.0,
    "b_i16": -1234.0,
    "c_u32": 3_000_000_000.0,
    "d_i32": -123_456_789.0,
    "e_f32": 229.5,
    "f_f64": 1206.4200000001,
    "g_u64": 2.0**40 + 7,
    "energy_kwh": 12345.67,
}


def _sim_meters() -> list[SimModbusMeter]:
    return [
        SimModbusMeter(1, ORDERS_PROFILE, base=dict(ORDERS_VALUES)),
        SimModbusMeter(
            2, load_shipped_profile("modbus-water-u32"), base={"water_m3": 321.5, "flow_l_per_h": 40}
        ),
    ]


def _check_orders(got: dict[str, object]) -> None:
    r = by_meter(got)  # type: ignore[arg-type]
    values = {v.spec.quantity: v.value for v in r["orders"].values}
    assert {v.quality for v in r["orders"].values} == {Quality.OK}
    assert values == pytest.approx(ORDERS_VALUES)
    water = {v.spec.quantity: v.value for v in r["water"].values}
    assert water == {"water_m3": pytest.approx(321.5), "flow_l_per_h": 40.0}


METERS = [
    {"id": "orders", "protocol": "modbus", "address": "1", "profile": ORDERS_PROFILE.model_dump()},
    {"id": "water", "protocol": "modbus", "address": "2", "profile": "modbus-water-u32"},
]


def test_pymodbus_server_over_a_pty(pty_pair: PtyPair) -> None:
    sim = ModbusSimulator(_sim_meters(), port=pty_pair.b, baud=9600, time_scale=0.0)
    sim.start()
    bus = make_bus(bus_config(pty_pair.a, METERS, baud=9600, parity="N", timeout_ms=500))
    try:
        _check_orders(bus.run_cycle())  # type: ignore[arg-type]
        # The merged plan: holding 0..11 in one request, 20..23 in another, input 100..101: 3 + 1 reads.
        assert len(bus.readers["orders"].steps) == 3
        assert sim.reads == 4
    finally:
        bus.stop()
        sim.stop()


def test_pymodbus_server_over_tcp() -> None:
    port = free_port()
    sim = ModbusSimulator(_sim_meters(), tcp=("127.0.0.1", port), time_scale=0.0)
    sim.start()
    cfg = bus_config("unused", METERS, timeout_ms=500).model_copy(
        update={"port": None, "host": f"127.0.0.1:{port}"}
    )
    bus = make_bus(cfg)
    try:
        _check_orders(bus.run_cycle())  # type: ignore[arg-type]
    finally:
        bus.stop()
        sim.stop()


def test_absent_modbus_unit_does_not_stall_the_others(pty_pair: PtyPair) -> None:
    sim = ModbusSimulator(_sim_meters(), port=pty_pair.b, baud=9600, time_scale=0.0)
    sim.start()
    meters = [*METERS, {"id": "ghost", "protocol": "modbus", "address": "77", "profile": "modbus-water-u32"}]
    bus = make_bus(bus_config(pty_pair.a, meters, baud=9600, parity="N", timeout_ms=300, retries=0))
    try:
        got = by_meter(bus.run_cycle())
        assert {v.quality for v in got["ghost"].values} <= {Quality.TIMEOUT, Quality.ERROR_REPLY}
        assert {v.quality for v in got["water"].values} == {Quality.OK}
    finally:
        bus.stop()
        sim.stop()


def test_dlt645_package_meter_simulator(pty_pair: PtyPair) -> None:
    import dlt645 as dlt  # the test extra installs it: a missing peer must fail, not skip

    svc = dlt.MeterServerService.new_rtu_server(pty_pair.b, 8, 1, 2400, "N", 1.0)
    # The package's trap: set_address takes *wire* order, so its nameplate is the reverse.
    svc.set_address("000102030425")
    svc.set_00(0x00000000, 1206.42)
    svc.set_02(0x02010100, 229.8)
    assert svc.start()
    meters = [{"id": "elec-1", "protocol": "dlt645", "address": "250403020100"}]
    bus = make_bus(bus_config(pty_pair.a, meters, parity="N", timeout_ms=1000))
    try:
        values = {v.spec.quantity: (v.value, v.quality) for v in bus.run_cycle()[0].values}
        assert values["energy_kwh"] == (1206.42, Quality.OK)
        assert values["voltage_v"] == (229.8, Quality.OK)
        assert values["power_w"][1] is Quality.OK
    finally:
        bus.stop()
        svc.stop()


def test_mbpoll_reads_the_modbus_simulator() -> None:
    exe = require_tool("mbpoll")
    port = free_port()
    sim = ModbusSimulator(_sim_meters(), tcp=("127.0.0.1", port), time_scale=0.0)
    sim.start()
    try:
        # Unit 2, holding registers 0-1 as one 32-bit int, low word first (-B is big-endian *bytes*
        # in words; mbpoll's default word order is little = CDAB): 321.5 m3 = 321500 litres.
        out = subprocess.run(
            [
                exe,
                "-m",
                "tcp",
                "-p",
                str(port),
                "-a",
                "2",
                "-t",
                "4:int",
                "-r",
                "1",
                "-c",
                "1",
                "-1",
                "127.0.0.1",
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert out.returncode == 0, out.stderr
        assert re.search(r"\[1\]:\s+321500\b", out.stdout), out.stdout
    finally:
        sim.stop()
