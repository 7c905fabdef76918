"""Builds the meter side from config: simulators (``simulate: true``), one bus owner per port, the poll
schedule and reporting; returns it as one Service named ``meters``."""

from __future__ import annotations

import logging
import zlib
from pathlib import Path
from typing import Protocol

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.config.meters import BusConfig
from edge_agent.events.model import EventSink
from edge_agent.meters.bus import BusOwner
from edge_agent.meters.reading import ReadingSink
from edge_agent.meters.reporting import MeterReporter
from edge_agent.meters.schedule import PollScheduler, group_schedules
from edge_agent.service import Health, Service

log = logging.getLogger("edge_agent.meters")


class _Sim(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class SimulatedLine:
    """The simulator behind a ``simulate: true`` bus and the port the agent opens to reach it."""

    def __init__(self, bus: BusConfig) -> None:
        from edge_agent.meters.profile import resolve_profile
        from edge_agent.meters.simulators.pty import open_pty

        self.pty = None
        self.host: str | None = None
        self.sim: _Sim
        faults = bus.simulation.faults
        scale = bus.simulation.time_scale
        if bus.protocol_family == "modbus":
            from edge_agent.meters.simulators.modbus import ModbusSimulator, SimModbusMeter

            mm = [SimModbusMeter(int(m.address), resolve_profile(m, bus)) for m in bus.meters]
            # pymodbus's server opens a serial port by path and a pty master has none: serve Modbus TCP on
            # loopback instead (the same server code, the same PDUs).
            tcp_port = _free_port()
            self.host = f"127.0.0.1:{tcp_port}"
            self.sim = ModbusSimulator(mm, tcp=("127.0.0.1", tcp_port), time_scale=scale)
        else:
            from edge_agent.meters.simulators.rs485 import Rs485Simulator, SimCjt188Meter, SimDlt645Meter

            meters: list[SimDlt645Meter | SimCjt188Meter] = []
            for m in bus.meters:
                seed = zlib.crc32(m.id.encode())
                if m.protocol == "dlt645":
                    meters.append(
                        SimDlt645Meter(
                            m.address,
                            energy_kwh=1000.0 + seed % 9000,
                            power_w=200.0 + seed % 800,
                            fault=faults.get(m.id),
                        )
                    )
                else:
                    p = resolve_profile(m, bus)
                    meters.append(
                        SimCjt188Meter(
                            m.address,
                            water_m3=50.0 + seed % 500,
                            flow_m3_per_h=0.01 + (seed % 50) / 1000.0,
                            meter_type=p.meter_type,
                            di_order=p.di_order,
                            fault=faults.get(m.id),
                        )
                    )
            self.pty = open_pty()
            self.sim = Rs485Simulator(self.pty.master, meters, time_scale=scale)

    @property
    def port(self) -> str | None:
        return self.pty.name if self.pty is not None else None

    def start(self) -> None:
        self.sim.start()

    def stop(self) -> None:
        self.sim.stop()
        if self.pty is not None:
            self.pty.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MeterService:
    name = "meters"

    def __init__(
        self, buses: list[BusOwner], sims: list[SimulatedLine], reporters: list[MeterReporter]
    ) -> None:
        self.buses = buses
        self.sims = sims
        self.reporters = reporters
        self.scheduler = PollScheduler(buses)

    def start(self) -> None:
        for s in self.sims:
            s.start()
        for b in self.buses:
            b.start()
        self.scheduler.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self.scheduler.stop()
        per_bus = timeout_s / max(1, len(self.buses))
        for b in self.buses:
            b.stop(per_bus)
        for s in self.sims:
            s.stop()

    def health(self) -> Health:
        states = [s for b in self.buses for s in b.states.values()]
        answering = sum(1 for s in states if s.answering)
        dead = [b.id for b in self.buses if not b.alive]
        ports_down = [b.id for b in self.buses if b.port_error]
        summary = f"{answering}/{len(states)} meters answering"
        if ports_down:
            summary += f", port down: {', '.join(ports_down)}"
        details: dict[str, object] = {b.id: b.snapshot() for b in self.buses}
        details["missed_runs"] = self.scheduler.missed_total
        # A dead meter or port is reported, not fatal: only a dead bus thread withholds the watchdog.
        return Health(ok=not dead, summary=summary, details=details)


def build_meter_service(
    cfg: AgentConfig, emit: EventSink, on_reading: ReadingSink, clock: Clock, state_dir: Path
) -> Service | None:
    """None when no bus has meters. Raises ValueError when a profile cannot be used."""
    buses: list[BusOwner] = []
    sims: list[SimulatedLine] = []
    reporters: list[MeterReporter] = []
    for bus_cfg in cfg.buses:
        if not bus_cfg.meters:
            continue
        port = host = None
        if bus_cfg.simulate:
            line = SimulatedLine(bus_cfg)
            sims.append(line)
            port, host = line.port, line.host
        reporter = MeterReporter(bus_cfg, emit, on_reading, clock)
        periods = {s.group: s.period_s for s in group_schedules(bus_cfg)}
        buses.append(BusOwner(bus_cfg, clock, reporter.handle, port=port, host=host, period_s=periods))
        reporters.append(reporter)
    if not buses:
        return None
    return MeterService(buses, sims, reporters)
