"""How one meter is read: a list of request steps built from its profile, one per protocol.

A step is one request on the line (one DL/T 645 DI, one CJ/T 188 DI, one merged Modbus block) and the
quantities it yields. The bus owner runs the steps with retries, the time budget and fault accounting;
readers know the protocol, not the scheduling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edge_agent.config.meters import BusConfig, MeterConfig, ProfileConfig
from edge_agent.meters import cjt188, dlt645
from edge_agent.meters.bcd import address_to_wire
from edge_agent.meters.framing import FrameError, UnexpectedReply, WrongAddress
from edge_agent.meters.link import FrameLink, Pacer
from edge_agent.meters.modbus_map import WORDS, Block, plan_blocks, raw_rollover
from edge_agent.meters.profile import resolve_profile, unit_of


@dataclass(frozen=True)
class QuantitySpec:
    quantity: str
    unit: str
    counter: bool = False
    rollover: float | None = None
    """Counters: the value at which the meter's register wraps back to zero."""


@dataclass(frozen=True)
class Step:
    """One request and the quantities its reply carries."""

    quantities: tuple[QuantitySpec, ...]
    run: Callable[[float], dict[str, float]]
    """Called with the timeout in seconds; returns values by quantity or raises."""
    label: str


class ModbusErrorReply(FrameError):
    """The slave answered with a Modbus exception (e.g. 02 illegal data address)."""

    kind = "error-reply"


@dataclass
class MeterReader:
    meter: MeterConfig
    profile: ProfileConfig
    steps: list[Step]
    timeout_s: float
    retries: int

    @property
    def meter_id(self) -> str:
        return self.meter.id

    def quantities(self) -> list[QuantitySpec]:
        return [q for s in self.steps for q in s.quantities]


def _check_address(got: str, want: str) -> None:
    if got != want:
        raise WrongAddress(f"reply from {got}, asked {want}")


def dlt645_steps(meter: MeterConfig, profile: ProfileConfig, link: FrameLink) -> list[Step]:
    address = dlt645.parse_address(meter.address)
    wire = address_to_wire(address, dlt645.ADDRESS_BYTES)

    def answers(di: int) -> Callable[[bytes], str | None]:
        """A frame from this meter answering this DI (or an error reply); else why not."""
        want = bytes((b + 0x33) & 0xFF for b in dlt645.di_bytes(di))

        def check(f: bytes) -> str | None:
            if f[1:7] != wire:
                return "wrong-address"
            return None if f[8] & dlt645.ERROR or f[10:14] == want else "stale"

        return check

    dis = [dlt645.parse_di(d) for d in profile.dis] or list(dlt645.DEFAULT_DIS)
    steps = []
    for di in dis:
        spec = dlt645.DATA_IDS[di]

        def run(timeout_s: float, di: int = di) -> dict[str, float]:
            frame = dlt645.decode_frame(
                link.transact(dlt645.build_read(address, di), dlt645.extract, timeout_s, answers(di))
            )
            _check_address(frame.address, address)
            return dlt645.parse_read_reply(frame, di)

        qs = tuple(
            QuantitySpec(f.quantity, unit_of(f.quantity), spec.counter, f.rollover if spec.counter else None)
            for f in spec.fields
        )
        steps.append(Step(qs, run, f"DI {di:08X}"))
    return steps


def cjt188_steps(meter: MeterConfig, profile: ProfileConfig, link: FrameLink) -> list[Step]:
    address = cjt188.parse_address(meter.address)
    wire = address_to_wire(address, cjt188.ADDRESS_BYTES)

    def from_meter(frame: bytes) -> str | None:
        return None if frame[2:9] == wire else "wrong-address"

    quantity = profile.quantity
    want_unit = unit_of(quantity).replace("kWh", "kWh")

    def run(timeout_s: float) -> dict[str, float]:
        request = cjt188.build_read(profile.meter_type, address, order=profile.di_order)
        frame = cjt188.decode_frame(link.transact(request, cjt188.extract, timeout_s, from_meter))
        _check_address(frame.address, address)
        data = cjt188.parse_read_reply(frame)
        if want_unit and data.unit != want_unit:
            raise UnexpectedReply(f"meter reports {data.unit}, profile expects {want_unit}")
        return {quantity: data.total}

    q = QuantitySpec(quantity, unit_of(quantity), True, cjt188.TOTAL_ROLLOVER)
    return [Step((q,), run, "DI 901F")]


def modbus_steps(meter: MeterConfig, profile: ProfileConfig, client: object, pacer: Pacer) -> list[Step]:
    """Steps over a pymodbus sync client (serial RTU or TCP); the client is owned by the bus thread."""
    from pymodbus.exceptions import ModbusIOException

    from edge_agent.meters.framing import NoReply

    unit = int(meter.address)
    steps = []
    for block in plan_blocks(profile.registers, profile.max_gap_registers, profile.max_block_registers):

        def run(timeout_s: float, block: Block = block) -> dict[str, float]:
            c = client  # a pymodbus ModbusBaseSyncClient
            c.comm_params.timeout_connect = timeout_s  # type: ignore[attr-defined]
            read = c.read_holding_registers if block.table == "holding" else c.read_input_registers  # type: ignore[attr-defined]
            try:
                with pacer:
                    rr = read(block.start, count=block.count, device_id=unit)
            except ModbusIOException as exc:
                raise NoReply(str(exc)) from exc
            if rr.isError():
                raise ModbusErrorReply(f"exception code {getattr(rr, 'exception_code', '?')}")
            regs = list(rr.registers)
            if len(regs) < block.count:
                raise UnexpectedReply(f"{len(regs)} registers, asked {block.count}")
            return {r.quantity: block.value_of(r, regs) for r in block.registers}

        qs = tuple(
            QuantitySpec(
                r.quantity, r.unit or unit_of(r.quantity), r.counter, raw_rollover(r) if r.counter else None
            )
            for r in block.registers
        )
        label = f"{block.table} {block.start}+{block.count}"
        assert all(WORDS[r.type] for r in block.registers)
        steps.append(Step(qs, run, label))
    return steps


def build_reader(
    meter: MeterConfig,
    bus: BusConfig,
    link: FrameLink | None,
    client: object | None,
    pacer: Pacer | None = None,
) -> MeterReader:
    """Raises ValueError when the meter's profile cannot be used."""
    profile = resolve_profile(meter, bus)
    if meter.protocol == "dlt645":
        assert link is not None
        steps = dlt645_steps(meter, profile, link)
    elif meter.protocol == "cjt188":
        assert link is not None
        steps = cjt188_steps(meter, profile, link)
    else:
        assert client is not None
        steps = modbus_steps(meter, profile, client, pacer or Pacer(0.0))
    timeout_s = (meter.timeout_ms or bus.timeout_ms) / 1000.0
    retries = bus.retries if meter.retries is None else meter.retries
    return MeterReader(meter, profile, steps, timeout_s, retries)
