"""Authenticated remote commands: a registry of handlers and the gate that checks every request.

A command arrives on ``PREFIX/GATEWAY/cmd/NAME`` as JSON ``{"name", "args", "ts", "nonce", "sig"}`` where
``sig`` is the hex HMAC-SHA256, under the shared secret, of :func:`canonical` of the other four fields. The
gate refuses a command whose signature is wrong, whose ``ts`` (epoch seconds) is more than ``max_age_s`` from
the gateway's clock, whose nonce was already seen, or that was signed before this agent started (so a
replay cannot slip in through a restart's empty nonce memory). Replies go to ``PREFIX/GATEWAY/cmd_result``
as ``{"name", "nonce", "ok", "result" | "error", "ts", "sig"}``, signed the same way.

Other parts register handlers by name (``registry.register("away", handler)``). A handler gets the ``args``
mapping, returns a small JSON-able mapping (or None) and raises :class:`CommandError` to refuse. It runs
on the MQTT thread: it must return quickly (set a flag, queue work), never block.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from edge_agent.clock import Clock
from edge_agent.events import metrics

log = logging.getLogger(__name__)

Handler = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]
MAX_NONCES = 10_000


class CommandError(Exception):
    """Raised by a handler to refuse a command with a message for the operator."""


class CommandRegistry:
    """Handlers by command name. Registering a name again replaces the handler (config reloads do that)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()

    def register(self, name: str, handler: Handler) -> None:
        if not name or "/" in name or "+" in name or "#" in name:
            raise ValueError(f"bad command name {name!r}")
        with self._lock:
            self._handlers[name] = handler

    def unregister(self, name: str) -> None:
        with self._lock:
            self._handlers.pop(name, None)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._handlers)

    def get(self, name: str) -> Handler | None:
        with self._lock:
            return self._handlers.get(name)


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The signed bytes: the fields except ``sig`` as compact JSON with sorted keys (UTF-8)."""
    doc = {k: v for k, v in fields.items() if k != "sig"}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: bytes, fields: Mapping[str, Any]) -> str:
    return hmac.new(secret, canonical(fields), hashlib.sha256).hexdigest()


def make_command(secret: bytes, name: str, args: Mapping[str, Any], ts: float, nonce: str) -> bytes:
    """Build a signed command payload (what the platform sends; tests and tools use it too)."""
    doc: dict[str, Any] = {"name": name, "args": dict(args), "ts": ts, "nonce": nonce}
    doc["sig"] = sign(secret, doc)
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


class CommandGate:
    """Checks a command, runs its handler and builds the signed reply. Used from the MQTT thread only."""

    def __init__(
        self, registry: CommandRegistry, secret: bytes, clock: Clock, *, max_age_s: float = 300.0
    ) -> None:
        self.registry = registry
        self._secret = secret
        self.clock = clock
        self.max_age_s = max_age_s
        self.started_at = clock.now()
        self._nonces: OrderedDict[str, float] = OrderedDict()

    def __call__(self, topic_name: str, payload: bytes) -> dict[str, Any]:
        result, reply = self._handle(topic_name, payload)
        metrics.COMMANDS.labels(result=result).inc()
        reply["ts"] = round(self.clock.now() * 1000)
        reply["sig"] = sign(self._secret, reply)
        return reply

    def _refuse(self, result: str, name: str, nonce: Any, why: str) -> tuple[str, dict[str, Any]]:
        log.warning("refused remote command %r (nonce %r): %s", name, nonce, why)
        return result, {"name": name, "nonce": nonce, "ok": False, "error": why}

    def _handle(self, topic_name: str, payload: bytes) -> tuple[str, dict[str, Any]]:
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            return self._refuse("malformed", topic_name, None, "not JSON")
        if not isinstance(doc, dict):
            return self._refuse("malformed", topic_name, None, "not a JSON object")
        nonce = doc.get("nonce")
        name, args, ts, sig = doc.get("name"), doc.get("args", {}), doc.get("ts"), doc.get("sig")
        if (
            not isinstance(name, str)
            or not isinstance(args, dict)
            or not isinstance(ts, int | float)
            or isinstance(ts, bool)
            or not isinstance(nonce, str)
            or not nonce
            or not isinstance(sig, str)
        ):
            return self._refuse("malformed", topic_name, nonce, "needs name, args, ts, nonce, sig")
        if set(doc) - {"name", "args", "ts", "nonce", "sig"}:
            return self._refuse("malformed", name, nonce, "unknown fields")
        if not hmac.compare_digest(sign(self._secret, doc), sig):
            return self._refuse("bad_signature", name, nonce, "bad signature")
        if name != topic_name:
            return self._refuse("malformed", name, nonce, f"name does not match topic ({topic_name})")
        now = self.clock.now()
        if abs(now - ts) > self.max_age_s:
            return self._refuse(
                "stale",
                name,
                nonce,
                f"ts {ts:.0f} is more than {self.max_age_s:.0f}s from gateway time {now:.0f}",
            )
        if ts < self.started_at - 1.0:
            return self._refuse("stale", name, nonce, "signed before this agent started; send it again")
        self._forget_old(now)
        if nonce in self._nonces:
            return self._refuse("replayed", name, nonce, "nonce already used")
        if len(self._nonces) >= MAX_NONCES:
            return self._refuse("busy", name, nonce, "too many commands in the replay window")
        self._nonces[nonce] = ts
        handler = self.registry.get(name)
        if handler is None:
            return self._refuse(
                "unknown", name, nonce, f"unknown command (known: {', '.join(self.registry.names())})"
            )
        try:
            result = handler(args)
        except CommandError as exc:
            return self._refuse("refused", name, nonce, str(exc))
        except Exception as exc:
            log.exception("command %s failed", name)
            return "failed", {"name": name, "nonce": nonce, "ok": False, "error": f"failed: {exc}"}
        log.info("remote command %s(%s) done", name, json.dumps(args)[:200])
        return "ok", {"name": name, "nonce": nonce, "ok": True, "result": dict(result or {})}

    def _forget_old(self, now: float) -> None:
        while self._nonces:
            _nonce, ts = next(iter(self._nonces.items()))
            if now - ts <= self.max_age_s:
                break
            self._nonces.popitem(last=False)
