"""The bus owner on a simulated RS-485 line: every fault kind gives its quality flag and a count, never an
exception out of the bus, and the healthy meters on the same line keep being read in the same cycle."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from edge_agent.clock import SimClock
from edge_agent.meters.reading import Quality
from edge_agent.meters.simulators.pty import open_raw
from edge_agent.meters.simulators.rs485 import FAULTS, Rs485Simulator, SimCjt188Meter, SimDlt645Meter
from tests.conftest import require_tool

from .helpers import bus_config, by_meter, make_bus, rs485_line

HEALTHY = [("elec-ok", "dlt645", "000000000001"), ("water-ok", "cjt188", "00000000000001")]

EXPECTED = {
    "silent": (Quality.TIMEOUT, "timeout"),
    "bad-checksum": (Quality.BAD_FRAME, "bad-checksum"),
    "garbage": (Quality.BAD_FRAME, "garbage"),
    "truncated": (Quality.BAD_FRAME, "truncated"),
    "slow": (Quality.TIMEOUT, "timeout"),
    "wrong-address": (Quality.BAD_FRAME, "wrong-address"),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("protocol", ["dlt645", "cjt188"])
def test_fault_gives_quality_and_count_and_healthy_meters_are_read(fault: str, protocol: str) -> None:
    bad_address = "000000000009" if protocol == "dlt645" else "00000000000009"
    sims = [
        SimDlt645Meter("000000000001", energy_kwh=1206.42),
        SimCjt188Meter("00000000000001", water_m3=12.5),
        (SimDlt645Meter if protocol == "dlt645" else SimCjt188Meter)(bad_address, fault=fault),  # type: ignore[operator]
    ]
    meters = [{"id": i, "protocol": p, "address": a} for i, p, a in HEALTHY]
    meters.append({"id": "bad", "protocol": protocol, "address": bad_address})
    with rs485_line(sims, slow_s=1.0) as (port, sim):
        cfg = bus_config(port, meters, timeout_ms=300, retries=1, parity="N", baud=2400)
        bus = make_bus(cfg)
        try:
            # Two cycles: the second one also proves a late (slow) reply does not poison the next request.
            for cycle in range(2):
                got = by_meter(bus.run_cycle())
                quality, kind = EXPECTED[fault]
                if fault == "slow" and cycle == 1:
                    # The late reply to the same question may be taken as this cycle's answer; a late reply
                    # to another question is skipped as stale. Never a wrong value, never a bad frame.
                    assert {v.quality for v in got["bad"].values} <= {Quality.OK, Quality.TIMEOUT}
                else:
                    assert {v.quality for v in got["bad"].values} == {quality}
                    assert {v.fault for v in got["bad"].values} == {kind}
                    assert all(v.value is None for v in got["bad"].values)
                assert [v.quality for v in got["elec-ok"].values] == [Quality.OK] * 3
                assert got["elec-ok"].values[0].value == pytest.approx(1206.42, abs=0.01)
                assert got["water-ok"].values[0].value == pytest.approx(12.5, abs=0.01)
            assert bus.faults[kind] >= (1 if fault == "slow" else 2)
            assert bus.states["bad"].failures == 2 or fault == "slow"
            assert bus.states["elec-ok"].ok_polls == 2
        finally:
            bus.stop()
    assert sim.asked["000000000001"] == 6  # 3 DIs x 2 cycles, no retry needed


def test_error_reply_is_not_retried() -> None:
    # DI 02800002 (frequency) answered by the simulator; 0000FF00 is unknown to it -> error reply D1 02.
    with rs485_line([SimDlt645Meter("000000000001")]) as (port, _sim):
        profile = {"protocol": "dlt645", "dis": ["00000000"]}
        cfg = bus_config(
            port, [{"id": "e", "protocol": "dlt645", "address": "1", "profile": profile}], parity="N"
        )
        bus = make_bus(cfg)
        # Ask for a DI the meter does not have, through the frame link directly (same code path).
        from edge_agent.meters import dlt645

        bus._ensure_open()
        assert bus.link is not None
        raw = bus.link.transact(dlt645.build_read("000000000001", 0x0000FF00), dlt645.extract, 0.5)
        with pytest.raises(dlt645.ErrorReply):
            dlt645.parse_read_reply(dlt645.decode_frame(raw), 0x0000FF00)
        bus.stop()


def test_dead_meter_backs_off_and_comes_back() -> None:
    clock = SimClock()
    with rs485_line([SimDlt645Meter("000000000001"), SimDlt645Meter("000000000002", fault="silent")]) as (
        port,
        sim,
    ):
        meters = [
            {"id": "ok", "protocol": "dlt645", "address": "1", "profile": "dlt645-energy"},
            {"id": "dead", "protocol": "dlt645", "address": "2", "profile": "dlt645-energy"},
        ]
        cfg = bus_config(port, meters, timeout_ms=200, retries=1, parity="N", offline_after_failures=2)
        bus = BusOwnerFactory.make(cfg, clock)
        try:
            for _ in range(2):
                bus.run_cycle()
                clock.advance(60)
            assert sim.asked["000000000002"] == 4  # 2 cycles x (1 try + 1 retry)
            got = by_meter(bus.run_cycle())  # now backing off: not asked at all
            assert got["dead"].values[0].quality is Quality.SKIPPED
            assert got["dead"].values[0].fault == "backoff"
            assert got["ok"].values[0].quality is Quality.OK
            assert sim.asked["000000000002"] == 4
            clock.advance(60)
            bus.run_cycle()  # pause over: asked once, no retries while dead
            assert sim.asked["000000000002"] == 5
            sim.by_address("000000000002").fault = None
            clock.advance(300)  # the pause doubled after that failure
            got = by_meter(bus.run_cycle())
            assert got["dead"].values[0].quality is Quality.OK
            assert bus.states["dead"].failures == 0
        finally:
            bus.stop()


def test_time_budget_skips_and_then_prioritises_starved_meters() -> None:
    sims = [SimDlt645Meter(f"00000000000{i}", fault="silent" if i == 1 else None) for i in range(1, 5)]
    meters = [
        {"id": f"m{i}", "protocol": "dlt645", "address": str(i), "profile": "dlt645-energy"}
        for i in range(1, 5)
    ]
    with rs485_line(sims) as (port, _sim):
        # Budget 0.5 s, timeout 0.2 s, 1 retry: the silent meter eats most of the cycle.
        cfg = bus_config(port, meters, timeout_ms=200, retries=1, parity="N", cycle_budget_s=0.5)
        bus = make_bus(cfg)
        try:
            first = by_meter(bus.run_cycle())
            skipped = [m for m, r in first.items() if r.values[0].fault == "budget"]
            assert skipped, "the silent meters should have used up the budget"
            assert all(first[m].values[0].quality is Quality.SKIPPED for m in skipped)
            second = bus.run_cycle()
            assert second[0].meter_id == skipped[0]  # starved meters go first next time
            assert second[0].values[0].quality is Quality.OK
            assert bus.faults["budget"] >= 1
        finally:
            bus.stop()


def test_vanished_port_is_reopened_with_backoff() -> None:
    with rs485_line([SimDlt645Meter("000000000001")]) as (port, _sim):
        cfg = bus_config(
            "/nonexistent/ttyUSB9",
            [{"id": "e", "protocol": "dlt645", "address": "1", "profile": "dlt645-energy"}],
            parity="N",
        )
        bus = make_bus(cfg)
        got = bus.run_cycle()
        assert got[0].values[0].fault == "port-down" and got[0].values[0].quality is Quality.TIMEOUT
        assert bus.port_error and "ttyUSB9" in bus.port_error
        # The adapter comes back (here: under the pty's name); the next attempt after the backoff opens it.
        assert bus.transport is not None
        bus.transport.port = port  # type: ignore[attr-defined]
        bus._reopen_at = 0.0
        got = bus.run_cycle()
        assert got[0].values[0].quality is Quality.OK
        assert bus.reopens == 1 and bus.port_error is None
        bus.stop()


class BusOwnerFactory:
    @staticmethod
    def make(cfg, clock):  # type: ignore[no-untyped-def]
        return make_bus(cfg, clock=clock)


def test_unplugged_adapter_then_back(tmp_path: Path) -> None:
    """The line vanishes under an open port (socat killed: like a USB adapter pulled) and comes back under
    the same name: meters read port-down meanwhile, then the bus reopens by itself."""
    exe = require_tool("socat")
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"

    def line() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([exe, f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"])
        deadline = time.monotonic() + 5
        while not (a.exists() and b.exists()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return proc

    def meter_on_b() -> tuple[Rs485Simulator, int]:
        fd = open_raw(str(b))
        sim = Rs485Simulator(fd, [SimDlt645Meter("000000000001")])
        sim.start()
        return sim, fd

    proc = line()
    sim, fd = meter_on_b()
    cfg = bus_config(
        str(a),
        [{"id": "e", "protocol": "dlt645", "address": "1", "profile": "dlt645-energy"}],
        parity="N",
        timeout_ms=300,
    )
    bus = make_bus(cfg)
    try:
        assert bus.run_cycle()[0].values[0].quality is Quality.OK
        sim.stop()
        os.close(fd)
        proc.terminate()
        proc.wait(5)
        got = bus.run_cycle()  # the port is gone
        assert got[0].values[0].quality is Quality.TIMEOUT
        assert bus.faults["port-down"] >= 1 and bus.port_error
        proc = line()
        sim, fd = meter_on_b()
        deadline = time.monotonic() + 10
        quality = None
        while time.monotonic() < deadline and quality is not Quality.OK:
            time.sleep(0.3)  # the reopen backoff starts at 0.5 s
            quality = bus.run_cycle()[0].values[0].quality
        assert quality is Quality.OK
        assert bus.reopens >= 1 and bus.port_error is None
    finally:
        bus.stop()
        sim.stop()
        os.close(fd)
        proc.terminate()
        proc.wait(5)
