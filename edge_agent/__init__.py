"""edge-agent: a gateway daemon that turns camera frames and meter readings into compact MQTT events."""

__version__ = "0.1.0"
