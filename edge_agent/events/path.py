"""The event path as the daemon sees it: an ``emit`` for analysers and a service to start and stop.

``emit(event)`` returns once the event is a committed row in the outbox (durable); the publisher thread
sends it when the broker is there. An unreachable broker is a normal condition for a gateway, so the
service stays healthy (the watchdog keeps being fed and systemd does not restart us) and says so in its
summary; it turns unhealthy only when events cannot be stored or the publisher thread died.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import edge_agent
from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.events import metrics
from edge_agent.events.commands import CommandGate, CommandRegistry
from edge_agent.events.model import Event, EventSink
from edge_agent.events.mqtt import MqttPublisher
from edge_agent.events.outbox import Outbox, OutboxError
from edge_agent.service import Health

log = logging.getLogger(__name__)


@dataclass
class EventPath:
    emit: EventSink
    service: EventService
    commands: CommandRegistry = field(default_factory=CommandRegistry)
    """Where other parts register remote-command handlers (``ping`` and ``status`` are built in)."""


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


class EventService:
    """Outbox + publisher as one :class:`~edge_agent.service.Service` named ``events``."""

    name = "events"

    def __init__(self, outbox: Outbox, publisher: MqttPublisher) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self._store_error: str = ""
        self._stopped = False
        self._rate_mark = (time.monotonic(), 0)

    def emit(self, event: Event) -> None:
        """Make ``event`` durable. If the disk refuses it, log and count it: the caller must keep running."""
        try:
            self.outbox.append(event, self.publisher.state.conn_gen)
        except OutboxError as exc:
            self._store_error = str(exc)
            metrics.EVENTS_LOST.inc()
            log.error("%s", exc)
            return
        self._store_error = ""
        metrics.EVENTS_STORED.inc()

    def start(self) -> None:
        self.publisher.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop sending. The outbox stays open: an event emitted during shutdown is still stored (sent next run)."""
        self._stopped = True
        self.publisher.stop(timeout_s)

    def details(self, *, new_rate_window: bool = False) -> dict[str, Any]:
        """Numbers for health and the ``status`` command; the publish rate is over the time since the last
        health check (which starts a new window)."""
        st = self.publisher.state
        now = time.monotonic()
        t0, n0 = self._rate_mark
        rate = (st.published - n0) / (now - t0) if now > t0 else 0.0
        if new_rate_window:
            self._rate_mark = (now, st.published)
        return {
            "connected": st.connected,
            "outbox_depth": self.outbox.depth(),
            "oldest_pending_age_s": round(self.outbox.oldest_age_s(), 1),
            "publish_rate_per_s": round(rate, 1),
            "published": st.published,
            "reconnects": st.reconnects,
            "session": self.outbox.session,
            "dropped": dict(self.outbox.dropped_total),
            "last_error": st.last_error,
        }

    def health(self) -> Health:
        d = self.details(new_rate_window=True)
        st = self.publisher.state
        if st.connected:
            summary = f"broker up, {d['outbox_depth']} pending, {d['publish_rate_per_s']}/s"
        elif not st.last_error:
            summary = f"connecting to broker, {d['outbox_depth']} waiting"
        else:
            down = time.monotonic() - st.down_since_mono if st.down_since_mono is not None else 0.0
            summary = (
                f"broker unreachable {_age(down)}, {d['outbox_depth']} waiting"
                f" (oldest {_age(d['oldest_pending_age_s'])})"
            )
            if st.next_attempt_mono is not None:
                summary += f", retry in {max(0.0, st.next_attempt_mono - time.monotonic()):.0f}s"
        ok = True
        if self._store_error:
            ok, summary = False, f"cannot store events: {self._store_error}; {summary}"
        if st.loop_error:
            ok, summary = False, f"publisher failing: {st.loop_error}; {summary}"
        if st.started and not st.alive and not self._stopped:
            ok, summary = False, f"publisher thread died; {summary}"
        return Health(ok, summary, d)


def build_event_path(cfg: AgentConfig, state_dir: Path, clock: Clock, config_sha256: str) -> EventPath:
    """Open the outbox (creating it in ``state_dir`` by default) and prepare the publisher (not started)."""
    ob = cfg.outbox
    outbox = Outbox(
        ob.path or (state_dir / "outbox.sqlite"),
        cfg.gateway.id,
        max_events=ob.max_events,
        max_age_s=ob.max_age_h * 3600.0,
        max_bytes=int(ob.max_mb * 1024 * 1024),
        synchronous=ob.synchronous,
        clock=clock,
    )
    registry = CommandRegistry()
    gate = None
    if cfg.mqtt.commands is not None:
        gate = CommandGate(
            registry,
            cfg.mqtt.commands.secret.reveal().encode("utf-8"),
            clock,
            max_age_s=cfg.mqtt.commands.max_age_s,
        )
    birth = {
        "ver": edge_agent.__version__,
        "cfg": config_sha256,
        "enc": cfg.mqtt.encoding,
        "cameras": [c.id for c in cfg.cameras],
        "meters": [m.id for b in cfg.buses for m in b.meters],
    }
    publisher = MqttPublisher(
        cfg.mqtt,
        cfg.gateway.id,
        outbox,
        window=ob.inflight_window,
        late_after_s=ob.late_after_s,
        birth=birth,
        commands=gate,
        clock=clock,
    )
    service = EventService(outbox, publisher)
    registry.register(
        "ping", lambda args: {"pong": True, "ver": edge_agent.__version__, "session": outbox.session}
    )
    registry.register("status", lambda args: service.details())
    log.info("outbox %s: session %d, %d event(s) waiting", outbox.path, outbox.session, outbox.depth())
    return EventPath(emit=service.emit, service=service, commands=registry)


__all__ = ["EventPath", "EventService", "build_event_path"]
