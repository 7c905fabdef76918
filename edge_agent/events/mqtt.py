"""The MQTT publisher: one thread that owns one paho client and drains the outbox in order.

Why one thread and no paho ``loop_start``: the thread that publishes, reads PUBACKs and deletes rows is the
only one touching the client, so there is no lock between paho's callbacks and the outbox cursor. A fresh
paho client per connection keeps paho's in-memory queue out of the way: the outbox is the only queue, and
after a reconnect every unacknowledged row is sent again from the oldest, in ``seq`` order, at most
``window`` at a time (duplicates are possible only within that window, with the same ``id``).

Topics (``P`` = prefix, ``G`` = gateway id)::

    P/G/status            retained: birth JSON on connect; {"state":"offline"} as last will and on clean stop
    P/G/events/KIND       QoS 1, one event per message
    P/G/telemetry/SRC     QoS 1, kind ``telemetry``
    P/G/snapshots/SRC     QoS 1, kind ``snapshot``
    P/G/cmd/NAME          subscribed when commands are configured; replies on P/G/cmd_result
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.clock import Clock, SystemClock
from edge_agent.config.events import MqttConfig
from edge_agent.events import metrics
from edge_agent.events.codec import CONTENT_TYPES, encode_wire, mark_late_json
from edge_agent.events.outbox import Outbox, Pending

log = logging.getLogger(__name__)

LOOP_TIMEOUT_S = 0.05
EXPIRE_EVERY_S = 60.0
GAUGES_EVERY_S = 1.0
OFFLINE_ACK_WAIT_S = 1.0
_TOPIC_UNSAFE = re.compile(r"[/+#\s]")


def topic_part(text: str) -> str:
    """A source or kind made safe as one topic level (no ``/``, ``+``, ``#`` or spaces)."""
    return _TOPIC_UNSAFE.sub("_", text) or "_"


def event_topic(prefix: str, gateway: str, kind: str, source: str) -> str:
    """Where an event goes: telemetry and snapshots by source, everything else by kind."""
    base = f"{prefix}/{gateway}"
    if kind == "telemetry":
        return f"{base}/telemetry/{topic_part(source)}"
    if kind == "snapshot":
        return f"{base}/snapshots/{topic_part(source)}"
    return f"{base}/events/{topic_part(kind)}"


def backoff_s(attempt: int, min_s: float, max_s: float, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter (between half and all of the step): gateways that lost the same
    broker do not all come back in the same second."""
    step = min(max_s, min_s * 2 ** max(0, attempt - 1))
    return step * (0.5 + 0.5 * rand())


CommandHandler = Callable[[str, bytes], dict[str, Any]]
"""Given the command name (last topic level) and the raw payload, return the reply to publish."""


@dataclass
class PublisherState:
    """What health() reads from other threads (plain attribute reads, written only by the publisher thread)."""

    connected: bool = False
    conn_gen: int = -1
    """Generation of the live connection (-1 while disconnected): an event stored under another one is late."""
    connections: int = 0
    reconnects: int = 0
    published: int = 0
    rejected: int = 0
    last_error: str = ""
    down_since_mono: float | None = None
    next_attempt_mono: float | None = None
    started: bool = False
    alive: bool = True
    loop_error: str = ""
    """The last unexpected failure of the publisher loop (cleared by the next good turn)."""
    commands_ready: bool = False
    """The broker acknowledged our subscription to the command topic (on this connection)."""
    extra: dict[str, Any] = field(default_factory=dict)


class MqttPublisher:
    def __init__(
        self,
        cfg: MqttConfig,
        gateway_id: str,
        outbox: Outbox,
        *,
        window: int = 64,
        late_after_s: float = 10.0,
        birth: dict[str, Any] | None = None,
        commands: CommandHandler | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.cfg = cfg
        self.gateway_id = gateway_id
        self.outbox = outbox
        self.window = window
        self.late_after_s = late_after_s
        self.clock = clock or SystemClock()
        self.base = f"{cfg.prefix}/{gateway_id}"
        self.status_topic = f"{self.base}/status"
        self.cmd_topic = f"{self.base}/cmd/+"
        self.cmd_result_topic = f"{self.base}/cmd_result"
        self.birth = {"state": "online", **(birth or {}), "session": outbox.session}
        self.commands = commands
        self.state = PublisherState()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: mqtt.Client | None = None
        self._connack: ReasonCode | None = None
        self._lost = False
        self._inflight: dict[int, int] = {}
        """paho message id -> outbox seq of events published and not yet acknowledged."""
        self._acked: list[int] = []
        self._attempt = 0
        self._props = self._make_props()

    # lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self.state.started = True
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Publish ``offline`` (retained) if connected, disconnect cleanly, join the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("MQTT publisher did not stop within %.1fs (connect in progress)", timeout_s)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        last_gauges = last_expire = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                try:
                    self._turn(now, expire=now - last_expire >= EXPIRE_EVERY_S)
                    if now - last_expire >= EXPIRE_EVERY_S:
                        last_expire = now
                    self.state.loop_error = ""
                except Exception as exc:  # an unexpected failure must not end delivery for good
                    if str(exc) != self.state.loop_error:
                        log.exception("MQTT publisher: %s; retrying", exc)
                    self.state.loop_error = str(exc) or type(exc).__name__
                    if self._client is not None:
                        self._connection_lost("publisher error")
                    self._stop.wait(1.0)
                if now - last_gauges >= GAUGES_EVERY_S:
                    last_gauges = now
                    with contextlib.suppress(Exception):
                        metrics.OUTBOX_DEPTH.set(self.outbox.depth())
                        metrics.OUTBOX_OLDEST_AGE_S.set(self.outbox.oldest_age_s())
        finally:
            self.state.alive = False
            self._shutdown()

    def _turn(self, now: float, expire: bool) -> None:
        if expire:
            self.outbox.expire()
        if self._client is None:
            self._try_connect(now)
        else:
            self._serve()

    # connecting ------------------------------------------------------------------------------------
    def _make_props(self) -> dict[str, Properties | None]:
        if self.cfg.protocol != "v5":
            return {"json": None, "cbor": None}
        out: dict[str, Properties | None] = {}
        for enc, ctype in CONTENT_TYPES.items():
            p = Properties(PacketTypes.PUBLISH)
            p.ContentType = ctype
            if enc == "json":
                p.PayloadFormatIndicator = 1
            out[enc] = p
        return out

    def _make_client(self) -> mqtt.Client:
        cfg = self.cfg
        v5 = cfg.protocol == "v5"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id or f"edge-agent-{self.gateway_id}",
            protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if v5 else True,
        )
        client.max_inflight_messages = 0  # the window is ours (plus birth and command replies)
        client.max_queued_messages = 0
        client.connect_timeout = cfg.connect_timeout_s
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password.reveal() if cfg.password else None)
        if cfg.tls is not None:
            ctx = ssl.create_default_context(cafile=str(cfg.tls.ca_file))
            if cfg.tls.cert_file is not None and cfg.tls.key_file is not None:
                ctx.load_cert_chain(str(cfg.tls.cert_file), str(cfg.tls.key_file))
            client.tls_set_context(ctx)
        client.will_set(self.status_topic, self._status_payload("offline"), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _status_payload(self, state: str) -> bytes:
        if state == "online":
            doc: dict[str, Any] = {**self.birth, "ts": round(self.clock.now() * 1000)}
        else:
            doc = {"state": "offline", "session": self.outbox.session}
        return json.dumps(doc, separators=(",", ":")).encode()

    def _try_connect(self, now: float) -> None:
        st = self.state
        if st.next_attempt_mono is not None and now < st.next_attempt_mono:
            self._stop.wait(min(0.2, st.next_attempt_mono - now))
            return
        client = self._make_client()
        where = f"{self.cfg.host}:{self.cfg.port}"
        self._connack, self._lost = None, False
        try:
            if self.cfg.protocol == "v5":
                client.connect(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s, clean_start=True)
            else:
                client.connect(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
            deadline = time.monotonic() + self.cfg.connect_timeout_s
            while self._connack is None and not self._lost and time.monotonic() < deadline:
                if self._stop.is_set():
                    break
                if client.loop(0.1) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    self._lost = True
                    break
        except ssl.SSLError as exc:
            return self._failed(client, f"TLS handshake with {where} failed: {exc.reason or exc}")
        except OSError as exc:
            return self._failed(client, f"cannot reach MQTT broker {where}: {exc.strerror or exc}")
        if self._connack is None:
            if self._stop.is_set():
                return self._failed(client, "stopping", quiet=True)
            if self._lost:
                hint = " (does it require a client certificate?)" if self.cfg.tls else ""
                return self._failed(client, f"MQTT broker {where} closed the connection before CONNACK{hint}")
            return self._failed(client, f"MQTT broker {where} did not answer CONNECT")
        if self._connack.is_failure:
            hint = ""
            if self._connack.value in (0x86, 0x87, 4, 5):
                hint = " (check mqtt.username, mqtt.password and the broker's ACL)"
            return self._failed(client, f"MQTT broker {where} refused the connection: {self._connack}{hint}")
        self._connected(client)

    def _failed(self, client: mqtt.Client, why: str, quiet: bool = False) -> None:
        self._close(client)
        st = self.state
        if not quiet and why != st.last_error:
            log.error("%s; events wait in the outbox", why)
        elif not quiet:
            log.debug("%s", why)
        st.last_error = why
        self._attempt += 1
        delay = backoff_s(self._attempt, self.cfg.reconnect_min_s, self.cfg.reconnect_max_s)
        st.next_attempt_mono = time.monotonic() + delay
        if st.down_since_mono is None:
            st.down_since_mono = time.monotonic()

    def _connected(self, client: mqtt.Client) -> None:
        st = self.state
        self._client = client
        self._attempt = 0
        self._inflight.clear()
        self._acked.clear()
        st.connections += 1
        if st.connections > 1:
            st.reconnects += 1
            metrics.MQTT_RECONNECTS.inc()
        st.conn_gen = st.connections
        st.connected = True
        st.down_since_mono = st.next_attempt_mono = None
        st.last_error = ""
        metrics.MQTT_CONNECTED.set(1)
        self.outbox.rewind()
        client.publish(self.status_topic, self._status_payload("online"), qos=1, retain=True)
        if self.commands is not None:
            client.subscribe(self.cmd_topic, qos=1)
        log.info(
            "connected to MQTT broker %s:%d (session %d); %d event(s) waiting",
            self.cfg.host,
            self.cfg.port,
            self.outbox.session,
            self.outbox.depth(),
        )

    def _close(self, client: mqtt.Client) -> None:
        sock = client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    # serving ---------------------------------------------------------------------------------------
    def _serve(self) -> None:
        client = self._client
        assert client is not None
        rc = client.loop(LOOP_TIMEOUT_S)
        self._flush_acks()
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._lost:
            self._connection_lost(f"connection to MQTT broker lost ({mqtt.error_string(rc)})")
            return
        self._fill_window(client)

    def _fill_window(self, client: mqtt.Client) -> None:
        room = self.window - len(self._inflight)
        if room <= 0:
            return
        for row in self.outbox.take(room):
            payload = self._payload(row)
            info = client.publish(
                event_topic(self.cfg.prefix, self.gateway_id, row.kind, row.src),
                payload,
                qos=1,
                properties=self._props[self.cfg.encoding],
            )
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._connection_lost(f"publish failed ({mqtt.error_string(info.rc)})")
                return
            self._inflight[info.mid] = row.seq

    def _payload(self, row: Pending) -> bytes:
        late = self.outbox.is_late(row, self.state.conn_gen, self.late_after_s)
        if self.cfg.encoding == "json":
            return mark_late_json(row.record) if late else row.record
        wire = json.loads(row.record)
        if late:
            wire["late"] = True
        return encode_wire(wire, "cbor")

    def _flush_acks(self) -> None:
        if self._acked:
            acked, self._acked = self._acked, []
            self.outbox.ack(acked)

    def _connection_lost(self, why: str) -> None:
        client = self._client
        self._client = None
        st = self.state
        st.connected = False
        st.conn_gen = -1
        st.commands_ready = False
        metrics.MQTT_CONNECTED.set(0)
        if client is not None:
            self._close(client)
        log.warning("%s; %d event(s) in flight will be sent again", why, len(self._inflight))
        self._inflight.clear()
        st.last_error = why
        st.down_since_mono = time.monotonic()
        self._attempt = 1
        st.next_attempt_mono = time.monotonic() + backoff_s(
            1, self.cfg.reconnect_min_s, self.cfg.reconnect_max_s
        )

    def _shutdown(self) -> None:
        client = self._client
        self._client = None
        if client is None:
            return
        try:
            self._flush_acks()
            info = client.publish(self.status_topic, self._status_payload("offline"), qos=1, retain=True)
            deadline = time.monotonic() + OFFLINE_ACK_WAIT_S
            while not info.is_published() and time.monotonic() < deadline:
                if client.loop(0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
                self._flush_acks()
            client.disconnect()
            client.loop(0.05)
        except Exception:
            log.debug("clean MQTT disconnect failed", exc_info=True)
        finally:
            self._close(client)
            self.state.connected = False
            self.state.conn_gen = -1
            metrics.MQTT_CONNECTED.set(0)

    # paho callbacks (run inside client.loop on this thread) ----------------------------------------
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode, properties: Any
    ) -> None:
        self._connack = reason_code

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode, properties: Any
    ) -> None:
        self._lost = True

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_code: ReasonCode, properties: Any
    ) -> None:
        seq = self._inflight.pop(mid, None)
        if seq is None:
            return  # status or command reply
        if reason_code.is_failure:
            self.state.rejected += 1
            metrics.EVENTS_REJECTED.inc()
            log.error("broker rejected event seq %d (%s); dropping it", seq, reason_code)
        else:
            self.state.published += 1
            metrics.EVENTS_PUBLISHED.inc()
        self._acked.append(seq)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: list[ReasonCode], properties: Any
    ) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("broker refused the command subscription %s: %s", self.cmd_topic, failed[0])
        self.state.commands_ready = not failed

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self.commands is None or msg.retain:
            return  # a retained command would replay at every connect: never act on one
        name = msg.topic.rsplit("/", 1)[-1]
        try:
            reply = self.commands(name, bytes(msg.payload))
        except Exception as exc:
            log.exception("command %s failed", name)
            reply = {"name": name, "ok": False, "error": f"internal error: {exc}"}
        client.publish(self.cmd_result_topic, json.dumps(reply, separators=(",", ":")).encode(), qos=1)
