"""Shared helpers for meter tests: a simulated RS-485 line on a fresh pty and a bus config for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from edge_agent.clock import SystemClock
from edge_agent.config.meters import BusConfig
from edge_agent.meters.bus import BusOwner, PollResult
from edge_agent.meters.simulators.pty import open_pty
from edge_agent.meters.simulators.rs485 import Rs485Simulator, SimCjt188Meter, SimDlt645Meter


@contextmanager
def rs485_line(
    meters: list[SimDlt645Meter | SimCjt188Meter], **sim_kw: Any
) -> Iterator[tuple[str, Rs485Simulator]]:
    """A fresh pty per use (reopening a pty with parity E fails on this kernel)."""
    pty = open_pty()
    sim = Rs485Simulator(pty.master, meters, **sim_kw)
    sim.start()
    try:
        yield pty.name, sim
    finally:
        sim.stop()
        pty.close()


def bus_config(port: str, meters: list[dict[str, Any]], **kw: Any) -> BusConfig:
    return BusConfig.model_validate({"id": "test-bus", "port": port, "meters": meters, **kw})


def make_bus(cfg: BusConfig, results: list[PollResult] | None = None, clock: Any = None) -> BusOwner:
    sink = results.append if results is not None else (lambda r: None)
    return BusOwner(cfg, clock or SystemClock(), sink)


def by_meter(results: list[PollResult]) -> dict[str, PollResult]:
    return {r.meter_id: r for r in results}
