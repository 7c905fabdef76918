"""What a detector reports to its household, which turns it into an :class:`Event` with its own id."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_agent.events.model import Phase, Severity


@dataclass(frozen=True)
class Signal:
    kind: str
    phase: Phase
    ts: float
    severity: Severity
    incident: str
    body: dict[str, object] = field(default_factory=dict)
