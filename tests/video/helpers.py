"""Small builders shared by the video tests."""

from __future__ import annotations

from edge_agent.events.model import Event
from edge_agent.inference.detection import Detection


def det(x1: float, y1: float, x2: float, y2: float, label: str = "car", score: float = 0.6) -> Detection:
    return Detection(x1, y1, x2, y2, score, {"person": 0, "car": 2, "truck": 7}.get(label, 99), label)


class Collect:
    """An event sink that keeps what it is given (the real sink is the outbox)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[tuple[str, str]]:
        return [(e.kind, e.phase.value) for e in self.events]
