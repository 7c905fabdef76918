"""Wires the parts together and supervises them from the main thread.

Data flows one way: meters -> readings -> anomaly scorer; cameras -> detector -> incidents; every analyser
emits events into the event path (outbox, then MQTT). The daemon owns no data itself: it builds the parts
from the config, starts them in order, feeds the systemd watchdog only while every part reports healthy,
reloads on SIGHUP (validating the new file first) and stops everything in reverse order on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

from edge_agent.clock import Clock, SystemClock
from edge_agent.config import ConfigError, LoadedConfig, load_config
from edge_agent.config.loader import problem_at
from edge_agent.events.commands import CommandRegistry
from edge_agent.events.model import Event, EventSink
from edge_agent.meters.reading import Reading, ReadingSink
from edge_agent.metrics import record_health, start_metrics_server
from edge_agent.sdnotify import Notifier, watchdog_interval_s
from edge_agent.service import Health, Service

log = logging.getLogger("edge_agent.daemon")


@dataclass
class Parts:
    """What one config builds; rebuilt as a whole on reload (the outbox on disk carries events across)."""

    services: list[Service] = field(default_factory=list)
    commands: CommandRegistry = field(default_factory=CommandRegistry)
    """The event path's remote-command registry: parts register their handlers here."""

    def start(self) -> None:
        for s in self.services:
            log.info("starting %s", s.name)
            s.start()

    def stop(self, timeout_s: float) -> None:
        for s in reversed(self.services):
            try:
                s.stop(timeout_s)
            except Exception:
                log.exception("stopping %s failed", s.name)

    def health(self) -> list[tuple[str, Health]]:
        out = []
        for s in self.services:
            try:
                out.append((s.name, s.health()))
            except Exception as exc:
                out.append((s.name, Health(False, f"health check failed: {exc}")))
        return out


def _no_scorer(reading: Reading) -> None:
    """Where readings go when no household is configured: telemetry only."""


def build_parts(
    loaded: LoadedConfig, clock: Clock, event_tap: Callable[[Event], None] | None = None
) -> Parts:
    """Build every part the config asks for, sources last so their events have somewhere to go."""
    from edge_agent.anomaly.service import build_anomaly_service
    from edge_agent.events.path import build_event_path
    from edge_agent.meters.service import build_meter_service
    from edge_agent.video.service import build_video_service

    cfg = loaded.config
    state_dir = cfg.gateway.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    path = build_event_path(cfg, state_dir, clock, loaded.sha256)
    emit = path.emit
    if event_tap is not None:
        inner = emit

        def emit(event: Event, _inner: EventSink = inner) -> None:
            _inner(event)
            event_tap(event)

    services: list[Service] = [path.service]
    anomaly = build_anomaly_service(cfg, emit, clock, state_dir)
    on_reading: ReadingSink = _no_scorer
    if anomaly is not None:
        services.append(anomaly)
        anomaly.register_commands(path.commands)  # remote `away` (signed, docs/anomaly.md)
        on_reading = anomaly.on_reading

    meters = build_meter_service(cfg, emit, on_reading, clock, state_dir)
    if meters is not None:
        services.append(meters)
    video = build_video_service(cfg, emit, clock, state_dir)
    if video is not None:
        services.append(video)
    return Parts(services=services, commands=path.commands)


class Daemon:
    STOP_TIMEOUT_S = 2.0

    def __init__(
        self,
        loaded: LoadedConfig,
        *,
        clock: Clock | None = None,
        event_tap: Callable[[Event], None] | None = None,
        notifier: Notifier | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self._state_dir_override = state_dir
        self.loaded = self._with_state_dir(loaded)
        self.clock = clock or SystemClock()
        self.event_tap = event_tap
        self.notifier = notifier or Notifier()
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._wake = threading.Event()
        self.parts = Parts()

    def _with_state_dir(self, loaded: LoadedConfig) -> LoadedConfig:
        if self._state_dir_override is None:
            return loaded
        gw = loaded.config.gateway.model_copy(update={"state_dir": self._state_dir_override})
        return replace(loaded, config=loaded.config.model_copy(update={"gateway": gw}))

    # signals -----------------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, self._on_hup)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.request_stop()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self.request_reload()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _register_commands(self) -> None:
        """Remote ``reload`` (signed, see docs/events.md): the same as SIGHUP."""

        def reload(args: object) -> dict[str, object]:
            self.request_reload()
            return {"reloading": True}

        self.parts.commands.register("reload", reload)

    def request_reload(self) -> None:
        self._reload.set()
        self._wake.set()

    # lifecycle ---------------------------------------------------------------------------------------
    def run(self, duration_s: float | None = None) -> int:
        """Run until stopped (or for ``duration_s``); returns the process exit status."""
        cfg = self.loaded.config
        start_metrics_server(cfg.metrics, self.loaded.sha256)
        self.parts = build_parts(self.loaded, self.clock, self.event_tap)
        self._register_commands()
        self.parts.start()
        summary = self._summary(self.parts.health())
        self.notifier.ready(summary)
        log.info("edge-agent ready: gateway %s, %s", cfg.gateway.id, summary)
        started = self.clock.monotonic()
        interval = min(cfg.watchdog.main_loop_interval_s, watchdog_interval_s() or 1e9)
        try:
            while not self._stop.is_set():
                if duration_s is not None and self.clock.monotonic() - started >= duration_s:
                    break
                if self._reload.is_set():
                    self._reload.clear()
                    self._do_reload()
                health = self.parts.health()
                for name, h in health:
                    record_health(name, h.ok)
                if all(h.ok for _, h in health):
                    self.notifier.watchdog()
                else:
                    bad = [f"{n}: {h.summary}" for n, h in health if not h.ok]
                    log.warning("unhealthy, withholding watchdog: %s", "; ".join(bad))
                self.notifier.status(self._summary(health))
                self._wake.wait(interval)
                self._wake.clear()
        finally:
            self.notifier.stopping()
            log.info("stopping")
            self.parts.stop(self.STOP_TIMEOUT_S)
            log.info("stopped")
        return 0

    def _do_reload(self) -> None:
        """Validate the new file (and the model it points at) before touching the running parts."""
        self.notifier.reloading()
        try:
            new = self._with_state_dir(load_config(self.loaded.path))
            preflight(new)
        except ConfigError as exc:
            for p in exc.problems:
                log.error("reload refused, keeping the running config: %s", p)
            self.notifier.ready(self._summary(self.parts.health()))
            return
        log.info("reloading config %s (sha256 %s)", new.path, new.sha256[:12])
        self.parts.stop(self.STOP_TIMEOUT_S)
        try:
            self.parts = build_parts(new, self.clock, self.event_tap)
            self.loaded = new
        except Exception:
            log.exception("building the new config failed; going back to the running one")
            self.parts = build_parts(self.loaded, self.clock, self.event_tap)
        self._register_commands()
        self.parts.start()
        self.notifier.ready(self._summary(self.parts.health()))

    @staticmethod
    def _summary(health: list[tuple[str, Health]]) -> str:
        return "; ".join(f"{n}: {h.summary or ('ok' if h.ok else 'unhealthy')}" for n, h in health) or "idle"


def preflight(loaded: LoadedConfig) -> None:
    """Checks beyond the YAML itself: the model the cameras would load, and the zone classes it knows.

    Raises ConfigError, so that ``check-config``, start-up and SIGHUP refuse the same things.
    """
    cfg = loaded.config
    if not cfg.cameras:
        return
    from edge_agent.inference.detector import check_model
    from edge_agent.inference.errors import ModelError
    from edge_agent.video.service import unknown_zone_classes

    try:
        detector = check_model(cfg.detector)
    except ModelError as exc:
        raise ConfigError([problem_at(loaded.path, "detector", str(exc))]) from exc
    problems = [
        problem_at(loaded.path, *p.split(": ", 1)) for p in unknown_zone_classes(cfg, detector.labels)
    ]
    if problems:
        raise ConfigError(problems)


def describe(loaded: LoadedConfig) -> dict[str, Any]:
    """A short summary of what a config would run (for ``check-config``)."""
    cfg = loaded.config
    return {
        "gateway": cfg.gateway.id,
        "broker": f"{'mqtts' if cfg.mqtt.tls else 'mqtt'}://{cfg.mqtt.host}:{cfg.mqtt.port} ({cfg.mqtt.protocol})",
        "cameras": [c.id for c in cfg.cameras],
        "meters": [m.id for b in cfg.buses for m in b.meters],
        "households": [h.id for h in cfg.households],
    }
