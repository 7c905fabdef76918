"""A Modbus RTU (serial) or TCP slave with several meters, on pymodbus's own server.

Each simulated meter lays its profile's quantities into registers (same types and word orders the agent
decodes) and recomputes them at every read, so totals grow with time. The server is pymodbus's, an
implementation independent of the agent's decoding, run on its own asyncio loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from dataclasses import dataclass, field

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from edge_agent.config.meters import ProfileConfig
from edge_agent.meters.modbus_map import WORDS, encode_value

log = logging.getLogger("edge_agent.meters.sim")


@dataclass
class SimModbusMeter:
    unit: int
    profile: ProfileConfig
    base: dict[str, float] = field(default_factory=dict)
    """Value at simulated time 0 per quantity (counters grow from there)."""
    rate_per_h: dict[str, float] = field(default_factory=dict)
    """Growth per simulated hour per counter quantity."""

    def value(self, quantity: str, elapsed_s: float) -> float:
        if quantity in self.rate_per_h:
            return self.base.get(quantity, 0.0) + self.rate_per_h[quantity] * elapsed_s / 3600.0
        if quantity in self.base:
            return self.base[quantity]
        defaults = {"voltage_v": 230.0 + 2.0 * math.sin(elapsed_s / 600.0), "frequency_hz": 50.0}
        if quantity in defaults:
            return defaults[quantity]
        if quantity.startswith("energy"):
            return 1000.0 + 0.4 * elapsed_s / 3600.0
        if quantity.startswith("water"):
            return 100.0 + 0.02 * elapsed_s / 3600.0
        if quantity.startswith("power"):
            return 400.0
        if quantity.startswith("current"):
            return 1.74
        return 1.0


def _regs_for(meter: SimModbusMeter, table: str, elapsed_s: float, start: int, count: int) -> list[int]:
    regs = [0] * count
    for r in meter.profile.registers:
        if r.table != table:
            continue
        raw = (meter.value(r.quantity, elapsed_s) - r.offset) / r.scale
        if r.type.startswith("u"):
            raw = max(0.0, raw) % float(2 ** (16 * WORDS[r.type]))
        words = encode_value(raw, r.type, r.order)
        at = r.address - start
        regs[at : at + len(words)] = words
    return regs


class ModbusSimulator:
    """Serves meters on a serial port path (RTU) or on ``("127.0.0.1", port)`` (TCP)."""

    def __init__(
        self,
        meters: list[SimModbusMeter],
        *,
        port: str | None = None,
        tcp: tuple[str, int] | None = None,
        baud: int = 9600,
        parity: str = "N",
        time_scale: float = 1.0,
    ) -> None:
        self.meters = meters
        self.port, self.tcp, self.baud, self.parity = port, tcp, baud, parity
        self.time_scale = time_scale
        self.reads = 0
        self._t0 = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusSerialServer | ModbusTcpServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def elapsed_s(self) -> float:
        return (time.monotonic() - self._t0) * self.time_scale

    def _device(self, meter: SimModbusMeter) -> SimDevice:
        spans: dict[str, tuple[int, int]] = {}
        for table in ("holding", "input"):
            regs = [r for r in meter.profile.registers if r.table == table]
            if regs:
                lo = min(r.address for r in regs)
                hi = max(r.address + WORDS[r.type] for r in regs)
                spans[table] = (lo, hi - lo)

        def block(table: str) -> list[SimData]:
            if table not in spans:
                return [SimData(60000, count=1, values=0, datatype=DataType.REGISTERS)]
            lo, n = spans[table]
            return [SimData(lo, values=_regs_for(meter, table, 0.0, lo, n), datatype=DataType.REGISTERS)]

        async def action(
            function_code: int,
            start_address: int,
            address: int,
            count: int,
            current_registers: list[int],
            set_values: list[int] | list[bool] | None,
        ) -> None:
            table = {3: "holding", 4: "input"}.get(function_code)
            if table is None or set_values is not None:
                return None
            self.reads += 1
            fresh = _regs_for(meter, table, self.elapsed_s(), start_address, len(current_registers))
            current_registers[:] = fresh
            return None

        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        return SimDevice(
            id=meter.unit, simdata=(bits, list(bits), block("holding"), block("input")), action=action
        )

    def start(self) -> None:
        logging.getLogger("pymodbus").setLevel(logging.ERROR)  # it logs every frame otherwise
        devices = [self._device(m) for m in self.meters]
        self._thread = threading.Thread(target=self._run, args=(devices,), name="sim-modbus", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("Modbus simulator did not start")

    def _run(self, devices: list[SimDevice]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def serve() -> None:
            # pymodbus servers must be built inside their running loop.
            if self.tcp is not None:
                self._server = ModbusTcpServer(devices, address=self.tcp, ignore_missing_devices=True)
            else:
                self._server = ModbusSerialServer(
                    devices,
                    port=self.port or "",
                    baudrate=self.baud,
                    parity=self.parity,
                    ignore_missing_devices=True,  # an absent unit is silent on a real line
                )
            task = asyncio.create_task(self._server.serve_forever())
            await asyncio.sleep(0.2)  # let it bind/open before reporting ready
            self._ready.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        try:
            loop.run_until_complete(serve())
        except Exception:
            log.exception("Modbus simulator stopped")
        finally:
            self._ready.set()

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            fut = asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop)
            try:
                fut.result(3)
            except Exception:
                log.debug("Modbus simulator shutdown", exc_info=True)
        if self._thread is not None:
            self._thread.join(3)
