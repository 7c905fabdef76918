"""Prometheus metrics of the event path (default registry; served by edge_agent.metrics when enabled).

Module-level because the registry is process-wide: a config reload rebuilds the event path but keeps
counting into the same series.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

OUTBOX_DEPTH = Gauge(
    "edge_agent_outbox_depth", "Events stored in the outbox, not yet acknowledged by the broker."
)
OUTBOX_OLDEST_AGE_S = Gauge(
    "edge_agent_outbox_oldest_age_seconds", "How long the oldest pending event has waited in the outbox."
)
OUTBOX_DROPPED = Counter(
    "edge_agent_outbox_dropped_total", "Events dropped from the outbox (reason: size or age).", ["reason"]
)
EVENTS_STORED = Counter("edge_agent_events_stored_total", "Events made durable in the outbox.")
EVENTS_LOST = Counter(
    "edge_agent_events_lost_total", "Events the outbox could not store (disk full, I/O error)."
)
EVENTS_PUBLISHED = Counter("edge_agent_events_published_total", "Events acknowledged by the broker (PUBACK).")
EVENTS_REJECTED = Counter(
    "edge_agent_events_rejected_total",
    "Events the broker acknowledged with a failure reason code (e.g. ACL).",
)
MQTT_CONNECTED = Gauge("edge_agent_mqtt_connected", "1 while connected to the broker.")
MQTT_RECONNECTS = Counter("edge_agent_mqtt_reconnects_total", "Successful connections after the first one.")
COMMANDS = Counter("edge_agent_commands_total", "Remote commands received, by result.", ["result"])
