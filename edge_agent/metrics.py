"""Prometheus metrics endpoint: off by default, bound to 127.0.0.1 when enabled.

Each concern defines its own metrics next to its code (prometheus_client's default registry); this module
serves them and holds the daemon's own: build info and the health of each part.
"""

from __future__ import annotations

import logging

from prometheus_client import Gauge, Info, start_http_server

from edge_agent import __version__
from edge_agent.config.gateway import MetricsConfig

log = logging.getLogger(__name__)
_started: set[tuple[str, int]] = set()

BUILD = Info("edge_agent_build", "Agent version and the config it runs")
PART_HEALTHY = Gauge("edge_agent_part_healthy", "1 while the part reports healthy", ["part"])


def start_metrics_server(cfg: MetricsConfig, config_sha256: str = "") -> None:
    BUILD.info({"version": __version__, "config_sha256": config_sha256[:12]})
    if not cfg.enabled or (cfg.bind, cfg.port) in _started:
        return
    start_http_server(cfg.port, addr=cfg.bind)
    _started.add((cfg.bind, cfg.port))
    log.info("metrics on http://%s:%d/metrics", cfg.bind, cfg.port)


def record_health(part: str, ok: bool) -> None:
    PART_HEALTHY.labels(part=part).set(1 if ok else 0)
