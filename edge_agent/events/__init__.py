"""Events: the one way out of the agent (model, durable outbox, MQTT delivery)."""

from edge_agent.events.model import Event, EventSink, Phase, Severity, new_event

__all__ = ["Event", "EventSink", "Phase", "Severity", "new_event"]
