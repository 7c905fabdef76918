"""Helpers shared by sub-commands: loading a config the same way everywhere, printing its problems."""

from __future__ import annotations

import argparse
import sys

from edge_agent.config import EX_CONFIG, ConfigError, LoadedConfig, load_config


def add_config_arg(p: argparse.ArgumentParser, default: str | None = None) -> None:
    from edge_agent.cli.main import DEFAULT_CONFIG

    p.add_argument(
        "-c", "--config", default=default or DEFAULT_CONFIG, help="config file (default: %(default)s)"
    )


def load_or_exit(path: str, *, preflight: bool = False) -> LoadedConfig:
    """Load a config or print every problem as FILE:LINE: path: message and exit 78 (EX_CONFIG).

    ``preflight`` also checks what the file points at (the model, zone classes), as ``check-config`` and
    a reload do: for commands that are about to run cameras.
    """
    from edge_agent.daemon import preflight as check_beyond_yaml

    try:
        loaded = load_config(path)
        if preflight:
            check_beyond_yaml(loaded)
        return loaded
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        raise SystemExit(EX_CONFIG) from None
