"""``edge-agent probe`` on simulated lines: discovery, the nameplate table, collisions, Modbus scans."""

from __future__ import annotations

import pytest

from edge_agent.cli.main import main
from edge_agent.meters.profile import load_shipped_profile
from edge_agent.meters.simulators.modbus import ModbusSimulator, SimModbusMeter
from edge_agent.meters.simulators.rs485 import SimCjt188Meter, SimDlt645Meter
from tests.conftest import free_port

from .helpers import rs485_line


def test_dlt645_discovery_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    with rs485_line([SimDlt645Meter("652022122003", energy_kwh=1206.42)]) as (port, _sim):
        assert main(["probe", "--port", port, "--protocol", "dlt645", "--parity", "N"]) == 0
    out, err = capsys.readouterr()
    assert "found dlt645 meter 652022122003" in err
    lines = out.splitlines()
    assert lines[0].split() == ["address", "quantity", "value", "unit", "quality"]
    assert lines[1].split() == ["652022122003", "energy_kwh", "1206.42", "kWh", "ok"]


def test_cjt188_discovery_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    with rs485_line([SimCjt188Meter("78330011223344", water_m3=556677.0, flow_m3_per_h=0)]) as (port, _sim):
        assert main(["probe", "--port", port, "--protocol", "cjt188", "--parity", "N"]) == 0
    out, err = capsys.readouterr()
    assert "found cjt188 meter 78330011223344 type 10" in err
    assert out.splitlines()[1].split() == ["78330011223344", "water_m3", "556677", "m3", "ok"]


def test_collision_is_explained_and_addresses_work(capsys: pytest.CaptureFixture[str]) -> None:
    with rs485_line([SimDlt645Meter("1"), SimDlt645Meter("2")]) as (port, sim):
        assert main(["probe", "--port", port, "--protocol", "dlt645", "--parity", "N"]) == 1
        assert "several meters" in capsys.readouterr().err
        sim.by_address("000000000002").fault = "silent"
        argv = ["probe", "--port", port, "--protocol", "dlt645", "--parity", "N", "--timeout-ms", "200"]
        argv += ["--address", "1", "--address", "2", "--watch", "--count", "2", "--interval-s", "0"]
        assert main(argv) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("0000")]
    assert len(rows) == 12  # 2 polls x 2 meters x 3 quantities
    assert ["000000000001", "energy_kwh", "1000", "kWh", "ok"] in rows
    assert ["000000000002", "energy_kwh", "kWh", "timeout"] in rows


def test_modbus_scan_and_read_over_tcp(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    meters = [SimModbusMeter(3, load_shipped_profile("eastron-sdm120"), base={"energy_kwh": 42.5})]
    sim = ModbusSimulator(meters, tcp=("127.0.0.1", port), time_scale=0.0)
    sim.start()
    try:
        argv = ["probe", "--host", f"127.0.0.1:{port}", "--protocol", "modbus", "--scan", "1-4"]
        assert main([*argv, "--profile", "eastron-sdm120"]) == 0
    finally:
        sim.stop()
    out, err = capsys.readouterr()
    # pymodbus's server answers absent units with exception 04 (it has no "stay silent" mode), so the
    # scan lists them too; the one that is there has no holding register 0 (exception 02).
    assert "found Modbus unit 3 (exception 2 on holding 0)" in err
    assert ["3", "energy_kwh", "42.5", "kWh", "ok"] in [line.split() for line in out.splitlines()]


def test_missing_port_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--port", "/nonexistent/ttyUSB7", "--protocol", "cjt188"]) == 1
    assert "ttyUSB7" in capsys.readouterr().err
