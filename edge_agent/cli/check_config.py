"""``edge-agent check-config FILE...``: validate without starting anything."""

from __future__ import annotations

import argparse
import sys

from edge_agent.config import EX_CONFIG, ConfigError, load_config
from edge_agent.daemon import describe, preflight


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-config", help="validate config files and summarise what they would run")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = 0
    for f in args.files:
        try:
            loaded = load_config(f)
            preflight(loaded)
        except ConfigError as exc:
            for p in exc.problems:
                print(p, file=sys.stderr)
            status = EX_CONFIG
            continue
        d = describe(loaded)
        print(f"{f}: OK (sha256 {loaded.sha256[:12]})")
        print(f"  gateway:    {d['gateway']}")
        print(f"  broker:     {d['broker']}")
        for key in ("cameras", "meters", "households"):
            items = d[key]
            shown = ", ".join(items[:8]) + (f", ... ({len(items)} in all)" if len(items) > 8 else "")
            print(f"  {key + ':':<11} {len(items)}{'  ' + shown if items else ''}")
    return status
