"""A simulated RS-485 line with several DL/T 645-2007 and CJ/T 188-2004 meters on it.

It answers with the real bytes (built by the same codecs the agent parses, checked against the public
vectors), each meter silent unless addressed, as the standards say; consumption grows with time; and any
meter can be told to misbehave: silent, bad checksum, garbage bytes, truncated frame, slow reply, reply
from the wrong address. A wildcard address read with several meters on the line collides, as on a real bus.
"""

from __future__ import annotations

import logging
import math
import os
import random
import select
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from edge_agent.meters import cjt188, dlt645

log = logging.getLogger("edge_agent.meters.sim")

Fault = Literal["silent", "bad-checksum", "garbage", "truncated", "slow", "wrong-address"]
FAULTS: tuple[Fault, ...] = ("silent", "bad-checksum", "garbage", "truncated", "slow", "wrong-address")


@dataclass
class SimDlt645Meter:
    address: str
    energy_kwh: float = 1000.0
    """Total at simulated time 0; grows by ``power_w``."""
    power_w: float = 400.0
    voltage_v: float = 230.0
    fault: Fault | None = None

    def __post_init__(self) -> None:
        self.address = dlt645.parse_address(self.address)

    def values(self, elapsed_s: float) -> dict[str, float]:
        e = self.energy_kwh + self.power_w / 1000.0 * elapsed_s / 3600.0
        e = math.floor(e * 100) / 100 % 1_000_000
        v = round(self.voltage_v + 2.0 * math.sin(elapsed_s / 600.0), 1)
        return {
            "energy_kwh": e,
            "energy_import_kwh": e,
            "energy_export_kwh": 0.0,
            "voltage_v": v,
            "voltage_b_v": 0.0,
            "voltage_c_v": 0.0,
            "current_a": round(self.power_w / max(v, 1.0), 3),
            "power_w": round(self.power_w, 1),
            "power_factor": 1.0,
            "frequency_hz": 50.0,
        }


@dataclass
class SimCjt188Meter:
    address: str
    water_m3: float = 100.0
    flow_m3_per_h: float = 0.02
    meter_type: int = cjt188.TYPE_COLD_WATER
    di_order: cjt188.DiOrder = "standard"
    fault: Fault | None = None

    def __post_init__(self) -> None:
        self.address = cjt188.parse_address(self.address)

    def total(self, elapsed_s: float) -> float:
        return math.floor((self.water_m3 + self.flow_m3_per_h * elapsed_s / 3600.0) * 100) / 100 % 1_000_000


@dataclass
class Rs485Simulator:
    """Serves meters on a raw fd (a pty master, or one end of a socat pair opened with ``open_raw``)."""

    fd: int
    meters: list[SimDlt645Meter | SimCjt188Meter]
    time_scale: float = 1.0
    """Simulated seconds per real second: consumption visible in a short demo."""
    slow_s: float = 1.5
    """Delay of a ``slow`` meter's reply (longer than the agent's default 1 s timeout)."""
    seed: int = 645
    asked: Counter[str] = field(default_factory=Counter)
    """Requests addressed to each meter (by nameplate address): lets tests see who was asked."""
    noise_frames: int = 0
    """Requests that could not be parsed (the agent's bytes, garbled)."""

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: list[tuple[float, bytes]] = []

    def elapsed_s(self) -> float:
        return (time.monotonic() - self._t0) * self.time_scale

    def by_address(self, address: str) -> SimDlt645Meter | SimCjt188Meter:
        for m in self.meters:
            if m.address == address.upper() or m.address.lstrip("0") == address.upper().lstrip("0"):
                return m
        raise KeyError(address)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sim-rs485", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)

    # -- the line ------------------------------------------------------------------------------------
    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            timeout = 0.1
            if self._pending:
                timeout = max(0.0, min(timeout, self._pending[0][0] - time.monotonic()))
            try:
                ready, _, _ = select.select([self.fd], [], [], timeout)
            except (OSError, ValueError):
                return
            now = time.monotonic()
            while self._pending and self._pending[0][0] <= now:
                self._write(self._pending.pop(0)[1])
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # EIO while no one has the other end open
                time.sleep(0.05)
                continue
            buf += chunk
            while buf:
                reply, buf, done = self._handle(buf)
                if reply:
                    self._write(reply)
                if not done:
                    break

    def _write(self, data: bytes) -> None:
        try:
            os.write(self.fd, data)
        except OSError as exc:
            log.debug("simulator write failed: %s", exc)

    def _handle(self, buf: bytes) -> tuple[bytes, bytes, bool]:
        """(reply, rest of buffer, whether to look for another frame)."""
        start = buf.find(b"\x68")
        if start < 0:
            return b"", b"", False
        buf = buf[start:]
        if len(buf) >= 8 and buf[7] == 0x68:
            found = dlt645.extract(buf)
            if found.frame is not None:
                return self._answer_dlt645(dlt645.decode_frame(found.frame)), buf[found.consumed :], True
        else:
            found = cjt188.extract(buf)
            if found.frame is not None:
                return self._answer_cjt188(cjt188.decode_frame(found.frame)), buf[found.consumed :], True
        if found.need_more:
            return b"", buf, False
        self.noise_frames += 1
        return b"", buf[max(found.consumed, 1) :], True

    # -- DL/T 645 ------------------------------------------------------------------------------------
    def _answer_dlt645(self, req: dlt645.Dlt645Frame) -> bytes:
        elec = [m for m in self.meters if isinstance(m, SimDlt645Meter)]
        if req.function == dlt645.FN_READ_ADDRESS and req.address == dlt645.WILDCARD:
            return self._collide(
                [dlt645.build_address_reply(m.address, preamble=4) for m in elec if not m.fault]
            )
        meter = next((m for m in elec if m.address == req.address), None)
        if meter is None or req.function != dlt645.FN_READ or len(req.data) < 4:
            return b""  # not addressed to a meter here: silence, as the standard says
        self.asked[meter.address] += 1
        di = int.from_bytes(req.data[:4], "little")
        reply_address = meter.address
        if meter.fault == "wrong-address":
            reply_address = _other_address(meter.address)
        if di not in dlt645.DATA_IDS:
            reply = dlt645.build_error_reply(reply_address, 0x02, preamble=4)
        else:
            payload = dlt645.encode_values(di, meter.values(self.elapsed_s()))
            reply = dlt645.build_read_reply(reply_address, di, payload, preamble=4)
        return self._misbehave(meter.fault, reply)

    # -- CJ/T 188 ------------------------------------------------------------------------------------
    def _answer_cjt188(self, req: cjt188.Cjt188Frame) -> bytes:
        water = [m for m in self.meters if isinstance(m, SimCjt188Meter)]
        if req.function == cjt188.C_READ_ADDRESS and req.address == cjt188.WILDCARD:
            replies = [
                cjt188.build_address_reply(m.meter_type, m.address, order=m.di_order, preamble=4)
                for m in water
                if not m.fault
            ]
            return self._collide(replies)
        meter = next((m for m in water if m.address == req.address), None)
        if meter is None or req.function != cjt188.C_READ:
            return b""
        self.asked[meter.address] += 1
        reply_address = _other_address(meter.address) if meter.fault == "wrong-address" else meter.address
        order = cjt188.read_di(req.data, cjt188.DI_METER_DATA)
        if order is None:
            return self._misbehave(
                meter.fault, cjt188.build_error_reply(meter.meter_type, reply_address, 0x0001)
            )
        ser = req.data[2] if len(req.data) > 2 else 0
        t = time.gmtime(time.time())
        data = cjt188.MeterData(
            total=meter.total(self.elapsed_s()),
            unit="m3",
            settlement_total=meter.water_m3,
            meter_time=time.strftime("%Y-%m-%dT%H:%M:%S", t),
            status=0,
        )
        reply = cjt188.build_read_reply(
            meter.meter_type, reply_address, cjt188.encode_meter_data(data), ser=ser, order=order, preamble=4
        )
        return self._misbehave(meter.fault, reply)

    # -- faults --------------------------------------------------------------------------------------
    def _misbehave(self, fault: Fault | None, reply: bytes) -> bytes:
        if fault == "silent":
            return b""
        if fault == "bad-checksum":
            return reply[:-2] + bytes([reply[-2] ^ 0x5A]) + reply[-1:]
        if fault == "garbage":
            return bytes(
                self._rng.choice([b for b in range(256) if b not in (0x68, 0xFE)]) for _ in range(17)
            )
        if fault == "truncated":
            return reply[: len(reply) // 2]
        if fault == "slow":
            self._pending.append((time.monotonic() + self.slow_s, reply))
            return b""
        return reply

    @staticmethod
    def _collide(replies: list[bytes]) -> bytes:
        """Several meters answering at once: their bytes OR together on the wire (garbage for the agent)."""
        if len(replies) <= 1:
            return replies[0] if replies else b""
        n = max(len(r) for r in replies)
        out = bytearray(n)
        for r in replies:
            for i, b in enumerate(r):
                out[i] |= b
        return bytes(out)


def _other_address(address: str) -> str:
    last = int(address[-1], 16)
    return address[:-1] + f"{(last + 1) % 10}"
