"""Remote commands: HMAC signature, age, replay; handlers by name; end to end over a real broker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_agent.clock import SimClock, SystemClock
from edge_agent.events.commands import CommandError, CommandGate, CommandRegistry, make_command, sign
from edge_agent.events.path import build_event_path
from tests.events.helpers import Subscriber, agent_config, wait_until

KEY = b"shared-secret"
T0 = 1_750_000_000.0


@pytest.fixture
def gate() -> tuple[CommandGate, SimClock, list[dict]]:
    clock = SimClock(T0)
    reg = CommandRegistry()
    calls: list[dict] = []

    def away(args):
        if "days" not in args:
            raise CommandError("needs days")
        calls.append(dict(args))
        return {"until": T0 + args["days"] * 86400}

    reg.register("away", away)
    reg.register("boom", lambda args: 1 / 0)
    return CommandGate(reg, KEY, clock, max_age_s=300), clock, calls


def test_signed_command_runs_and_reply_is_signed(gate) -> None:
    g, _clock, calls = gate
    reply = g("away", make_command(KEY, "away", {"days": 2}, T0 + 1, "n1"))
    assert reply["ok"] and reply["result"] == {"until": T0 + 2 * 86400} and calls == [{"days": 2}]
    assert reply["nonce"] == "n1" and reply["sig"] == sign(KEY, reply)


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda d: {**d, "sig": sign(b"wrong key", d)}, "bad signature"),
        (lambda d: {**d, "args": {"days": 30}}, "bad signature"),  # tampered after signing
        (lambda d: {**d, "sig": "00"}, "bad signature"),
        (lambda d: {k: v for k, v in d.items() if k != "nonce"}, "needs name"),
    ],
)
def test_tampered_or_incomplete_commands_refused(gate, mutate, error) -> None:
    g, _, calls = gate
    doc = json.loads(make_command(KEY, "away", {"days": 2}, T0, "n2"))
    reply = g("away", json.dumps(mutate(doc)).encode())
    assert not reply["ok"] and error in reply["error"] and calls == []


def test_stale_future_replayed_unknown_and_failing(gate) -> None:
    g, clock, calls = gate
    assert "from gateway time" in g("away", make_command(KEY, "away", {"days": 1}, T0 - 301, "a"))["error"]
    assert "from gateway time" in g("away", make_command(KEY, "away", {"days": 1}, T0 + 301, "b"))["error"]
    ok = make_command(KEY, "away", {"days": 1}, T0 + 5, "c")
    assert g("away", ok)["ok"]
    clock.advance(10)
    assert g("away", ok)["error"] == "nonce already used"
    assert g("away", make_command(KEY, "away", {}, T0 + 10, "d"))["error"] == "needs days"
    assert "unknown command" in g("nope", make_command(KEY, "nope", {}, T0 + 10, "e"))["error"]
    assert "does not match topic" in g("boom", make_command(KEY, "away", {"days": 1}, T0 + 10, "f"))["error"]
    assert g("boom", make_command(KEY, "boom", {}, T0 + 10, "g"))["error"].startswith("failed")
    assert g("away", b"{not json")["error"] == "not JSON"
    assert len(calls) == 1


def test_commands_signed_before_start_refused(gate) -> None:
    """After a restart the nonce memory is empty: anything signed before the start is refused."""
    g, _, _ = gate
    assert (
        "before this agent started"
        in g("away", make_command(KEY, "away", {"days": 1}, T0 - 60, "x"))["error"]
    )


def test_ping_over_the_broker(broker, tmp_path: Path) -> None:
    cfg = agent_config(tmp_path, broker.port, "  commands:\n    secret: {value: shared-secret}\n")
    path = build_event_path(cfg, tmp_path / "state", SystemClock(), "x")
    seen: list[dict] = []
    path.commands.register("away", lambda args: seen.append(dict(args)) or {"ok": 1})
    path.service.start()
    sub = Subscriber(broker.port, "test/gw-test/cmd_result")
    platform = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="platform", protocol=MQTTProtocolVersion.MQTTv5
    )
    platform.connect("127.0.0.1", broker.port)
    platform.loop_start()
    try:
        wait_until(lambda: path.service.publisher.state.commands_ready, what="SUBACK for the command topic")
        now = time.time()
        platform.publish(
            "test/gw-test/cmd/ping", make_command(KEY, "ping", {}, now, "p1"), qos=1
        ).wait_for_publish(5)
        platform.publish("test/gw-test/cmd/away", make_command(KEY, "away", {"days": 3}, now, "p2"), qos=1)
        platform.publish(
            "test/gw-test/cmd/away", make_command(b"forged", "away", {"days": 99}, now, "p3"), qos=1
        )
        msgs = sub.wait_for(lambda ms: len(ms) >= 3, 10)
    finally:
        platform.loop_stop()
        platform.disconnect()
        sub.close()
        path.service.stop()
    replies = {r["nonce"]: r for r in (json.loads(m.payload) for m in msgs)}
    assert replies["p1"]["ok"] and replies["p1"]["result"]["pong"] is True
    assert replies["p2"]["ok"] and seen == [{"days": 3}]
    assert replies["p3"] == {**replies["p3"], "ok": False, "error": "bad signature"}
    assert all(r["sig"] == sign(KEY, r) for r in replies.values())
