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


def load_or_exit(path: str) -> LoadedConfig:
    """Load a config or print every problem as FILE:LINE: path: message and exit 78 (EX_CONFIG)."""
    try:
        return load_config(path)
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        raise SystemExit(EX_CONFIG) from None
