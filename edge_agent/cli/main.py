"""``edge-agent`` entry point. Each sub-command lives in its own module with a ``register(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "edge_agent.cli.run",  # run, demo
    "edge_agent.cli.check_config",
    "edge_agent.cli.version",
    "edge_agent.cli.probe",  # meters
    "edge_agent.cli.score_readings",  # anomaly: score-readings, households
    "edge_agent.cli.detect",  # inference
    "edge_agent.cli.replay",  # video
]

DEFAULT_CONFIG = "/etc/edge-agent/config.yaml"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edge-agent",
        description="Gateway daemon: camera incidents and meter anomalies, delivered as MQTT events.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from edge_agent.config import EX_CONFIG
    from edge_agent.inference.errors import ModelError

    try:
        return int(args.func(args) or 0)
    except SystemExit as exc:  # a command that refused its config (load_or_exit): same status, returned
        return exc.code if isinstance(exc.code, int) else 1
    except ModelError as exc:  # a bad model or manifest is a config error, whichever command loads it
        print(f"edge-agent: {exc}", file=sys.stderr)
        return EX_CONFIG
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
