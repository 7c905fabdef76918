"""Prometheus metrics endpoint: off by default, bound to 127.0.0.1 when enabled.

Each concern defines its own metrics next to its code (prometheus_client's default registry); this module
only serves them.
"""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

from edge_agent.config.gateway import MetricsConfig

log = logging.getLogger(__name__)
_started: set[tuple[str, int]] = set()


def start_metrics_server(cfg: MetricsConfig) -> None:
    if not cfg.enabled or (cfg.bind, cfg.port) in _started:
        return
    start_http_server(cfg.port, addr=cfg.bind)
    _started.add((cfg.bind, cfg.port))
    log.info("metrics on http://%s:%d/metrics", cfg.bind, cfg.port)
