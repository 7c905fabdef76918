"""``edge-agent run`` (the daemon) and ``edge-agent demo`` (the same daemon on the bundled demo config)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import edge_agent
from edge_agent.cli.common import add_config_arg, load_or_exit
from edge_agent.daemon import Daemon
from edge_agent.events.codec import event_line
from edge_agent.events.model import Event
from edge_agent.logsetup import setup_logging


def demo_config_path() -> Path:
    return Path(edge_agent.__file__).resolve().parent.parent / "configs" / "demo.yaml"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the daemon (what the systemd unit starts)")
    add_config_arg(p)
    p.add_argument("--state-dir", type=Path, help="override gateway.state_dir")
    p.add_argument("--duration-s", type=float, help="stop by itself after this many seconds")
    p.add_argument("--print-events", action="store_true", help="also print each event as a JSON line")
    p.set_defaults(func=run)

    d = sub.add_parser("demo", help="run the bundled demo (demo clip, simulated meters): no hardware needed")
    d.add_argument("-c", "--config", default=str(demo_config_path()), help="config (default: %(default)s)")
    d.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "edge-agent-demo",
        help="where the demo keeps its outbox and learned state (default: %(default)s)",
    )
    d.add_argument("--duration-s", type=float, help="stop by itself after this many seconds")
    d.set_defaults(func=demo, print_events=True)


def event_printer(gateway: str) -> Callable[[Event], None]:
    """Prints each event as the wire form's compact JSON line (seq is stamped later, by the outbox)."""

    def print_event(event: Event) -> None:
        print(event_line(event, gateway), flush=True)

    return print_event


def run(args: argparse.Namespace) -> int:
    loaded = load_or_exit(args.config, preflight=True)
    setup_logging(loaded.config.gateway.log_level)
    daemon = Daemon(
        loaded,
        event_tap=event_printer(loaded.config.gateway.id) if args.print_events else None,
        state_dir=args.state_dir,
    )
    daemon.install_signal_handlers()
    return daemon.run(duration_s=args.duration_s)


def demo(args: argparse.Namespace) -> int:
    print(f"edge-agent demo: config {args.config}, state in {args.state_dir}; Ctrl-C stops", file=sys.stderr)
    return run(args)
