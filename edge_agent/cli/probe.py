"""``edge-agent probe``: for technicians at the cabinet. Finds the meters on a bus and prints their
nameplate addresses and readings, with the same bus code the daemon uses (``--watch`` keeps polling)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

DEFAULT_PROFILE = {"dlt645": "dlt645-default", "cjt188": "cjt188-water", "modbus": None}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "probe",
        help="find the meters on a bus and print their addresses and readings",
        description="Discover meters on an RS-485 port (or Modbus TCP) and print a table of nameplate "
        "addresses and readings. DL/T 645 and CJ/T 188 default to 2400 8E1, Modbus RTU to 9600 8N1.",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial device, e.g. /dev/ttyUSB0")
    where.add_argument("--host", help="Modbus TCP or serial server, HOST:PORT")
    p.add_argument("--protocol", required=True, choices=["modbus", "dlt645", "cjt188"])
    p.add_argument("--baud", type=int, help="baud rate (default 2400, Modbus 9600)")
    p.add_argument("--parity", choices=["N", "E", "O"], help="parity (default E, Modbus N)")
    p.add_argument("--bytesize", type=int, choices=[7, 8], default=8)
    p.add_argument("--stopbits", type=int, choices=[1, 2], default=1)
    p.add_argument(
        "--address",
        action="append",
        help="meter address as on the nameplate (Modbus: unit id); repeat for several; default: discover",
    )
    p.add_argument("--scan", default="1-16", help="Modbus unit ids to try when no --address (default 1-16)")
    p.add_argument("--profile", help="profile name (shipped) for the readings; default per protocol")
    p.add_argument("--timeout-ms", type=int, default=1000, help="reply timeout (default 1000)")
    p.add_argument("--watch", action="store_true", help="keep polling and printing")
    p.add_argument("--interval-s", type=float, default=5.0, help="period with --watch (default 5)")
    p.add_argument("--count", type=int, help="with --watch: stop after this many polls")
    p.set_defaults(func=probe)


def _bus_dict(args: argparse.Namespace, addresses: list[str]) -> dict[str, Any]:
    profile = args.profile or DEFAULT_PROFILE[args.protocol]
    meters = [
        {"id": f"{args.protocol}-{a}", "protocol": args.protocol, "address": a}
        | ({"profile": profile} if profile else {})
        for a in addresses
    ]
    return {
        "id": "probe",
        "port": args.port,
        "host": args.host,
        "baud": args.baud,
        "parity": args.parity,
        "bytesize": args.bytesize,
        "stopbits": args.stopbits,
        "timeout_ms": args.timeout_ms,
        "cycle_budget_s": 3600,
        "meters": meters,
    }


def _discover(args: argparse.Namespace) -> list[str]:
    from edge_agent.config.meters import BusConfig
    from edge_agent.meters.bus import BusOwner, default_inter_frame_s
    from edge_agent.meters.discovery import DiscoveryError, discover_modbus, discover_wildcard
    from edge_agent.meters.transport import LinkDown

    timeout_s = args.timeout_ms / 1000.0
    if args.protocol == "modbus":
        lo, _, hi = args.scan.partition("-")
        units = range(int(lo), int(hi or lo) + 1)
        bus = BusOwner(
            BusConfig.model_validate(_bus_dict(args, ["1"]) | {"meters": [_probe_modbus_meter(args)]}),
            _clock(),
            lambda r: None,
        )
        try:
            if not bus.client.connect():
                print(f"probe: cannot open {args.port or args.host}", file=sys.stderr)
                return []
            found = discover_modbus(bus.client, units, min(timeout_s, 0.3))
        finally:
            bus.stop()
        for f in found:
            print(f"found Modbus unit {f.address} ({f.detail})", file=sys.stderr)
        return [f.address for f in found]
    cfg = BusConfig.model_validate(_bus_dict(args, []))
    from edge_agent.meters.bus import make_transport

    transport = make_transport(cfg)
    try:
        transport.open()
        try:
            f = discover_wildcard(transport, args.protocol, timeout_s, default_inter_frame_s(cfg))
        finally:
            transport.close()
    except (LinkDown, DiscoveryError) as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return []
    print(f"found {args.protocol} meter {f.address} {f.detail}".rstrip(), file=sys.stderr)
    return [f.address]


def _probe_modbus_meter(args: argparse.Namespace) -> dict[str, Any]:
    # Discovery needs a bus with one meter for the client; its profile is never read.
    return {"id": "scan", "protocol": "modbus", "address": "1", "profile": args.profile or "modbus-water-u32"}


def _nameplate(protocol: str, address: str) -> str:
    from edge_agent.meters import cjt188, dlt645

    if protocol == "dlt645":
        return dlt645.parse_address(address)
    if protocol == "cjt188":
        return cjt188.parse_address(address)
    return address


def _clock() -> Any:
    from edge_agent.clock import SystemClock

    return SystemClock()


def _print_table(results: list[Any], names: dict[str, str]) -> None:
    rows = [("address", "quantity", "value", "unit", "quality")]
    for r in results:
        for v in r.values:
            value = "" if v.value is None else f"{v.value:g}"
            quality = v.quality.value + (
                f" ({v.fault})" if v.fault and v.fault not in v.quality.value else ""
            )
            rows.append((names[r.meter_id], v.spec.quantity, value, v.spec.unit, quality))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    sys.stdout.flush()


def probe(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from edge_agent.config.meters import BusConfig
    from edge_agent.meters.bus import BusOwner

    if args.protocol == "modbus" and not args.profile and args.address is None:
        print(
            "probe: Modbus readings need --profile (e.g. eastron-sdm120); discovering units only",
            file=sys.stderr,
        )
    addresses = args.address or _discover(args)
    if not addresses:
        print("probe: no meter found", file=sys.stderr)
        return 1
    if args.protocol == "modbus" and not args.profile:
        return 0
    try:
        cfg = BusConfig.model_validate(_bus_dict(args, addresses))
    except ValidationError as exc:
        for err in exc.errors():
            print(f"probe: {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        return 2
    bus = BusOwner(cfg, _clock(), lambda r: None)
    names = {m.id: _nameplate(m.protocol, m.address) for m in cfg.meters}
    n = 0
    try:
        while True:
            results = bus.run_cycle()
            if bus.port_error:
                print(f"probe: {bus.port_error}", file=sys.stderr)
            _print_table(results, names)
            n += 1
            if not args.watch or (args.count is not None and n >= args.count):
                break
            print()
            time.sleep(args.interval_s)
    finally:
        bus.stop()
    return 0 if any(r.answered for r in results) else 1
