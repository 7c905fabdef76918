"""Who is on the line? Address discovery for technicians (``edge-agent probe``).

DL/T 645 and CJ/T 188 have a wildcard read-address request; it only works with one meter connected
(several answer at once and collide), which is reported as such. Modbus has no discovery: unit ids are
tried one by one with a short timeout, and any answer (even an exception reply) means a device is there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from edge_agent.meters import cjt188, dlt645
from edge_agent.meters.framing import FrameError, NoReply
from edge_agent.meters.link import FrameLink
from edge_agent.meters.transport import Transport


@dataclass(frozen=True)
class Found:
    address: str
    """Nameplate order (DL/T 645, CJ/T 188) or the unit id (Modbus)."""
    detail: str = ""


class DiscoveryError(Exception):
    """Nothing usable came back; the message says what did."""


def discover_wildcard(transport: Transport, protocol: str, timeout_s: float, inter_frame_s: float) -> Found:
    link = FrameLink(transport, inter_frame_s, Counter())
    try:
        if protocol == "dlt645":
            raw = link.transact(dlt645.build_read_address(), dlt645.extract, timeout_s)
            return Found(dlt645.parse_address_reply(dlt645.decode_frame(raw)))
        raw = link.transact(cjt188.build_read_address(), cjt188.extract, timeout_s)
        meter_type, address = cjt188.parse_address_reply(cjt188.decode_frame(raw))
        return Found(address, f"type {meter_type:02X}")
    except NoReply:
        raise DiscoveryError("no meter answered the wildcard address read") from None
    except FrameError as exc:
        raise DiscoveryError(
            f"the wildcard address read got {exc.kind} ({exc}): several meters on the line answer at once, "
            "give their --address (printed on the nameplate)"
        ) from None


def discover_modbus(client: object, units: range, timeout_s: float) -> list[Found]:
    """Units that answer a read of holding register 0 (an exception reply counts: something is there)."""
    from pymodbus.exceptions import ModbusException

    found = []
    client.comm_params.timeout_connect = timeout_s  # type: ignore[attr-defined]
    for unit in units:
        try:
            rr = client.read_holding_registers(0, count=1, device_id=unit)  # type: ignore[attr-defined]
        except ModbusException:
            continue
        detail = (
            f"exception {getattr(rr, 'exception_code', '?')} on holding 0" if rr.isError() else "holding 0 ok"
        )
        found.append(Found(str(unit), detail))
    return found
