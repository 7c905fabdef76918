"""Benchmark of the event path: outbox persist rate, delivery rate to a local Mosquitto, bytes on the wire.

    .venv/bin/python bench/events.py [--json] [--events N]

Every rate is printed next to its goal and next to the bare limit measured in the same run on the same
disk and broker (plain SQLite insert+commit per row; plain paho QoS 1 publishing with the same in-flight
window), so a slow machine shows up as a slow limit, not as a failed goal.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from edge_agent.config.events import MqttConfig
from edge_agent.events.codec import dumps_json, encode_event
from edge_agent.events.model import Phase, Severity, new_event, uuid7
from edge_agent.events.mqtt import MqttPublisher
from edge_agent.events.outbox import Outbox

GOAL_PERSIST_PER_S = 5000.0
GOAL_DELIVER_PER_S = 2000.0
GOAL_JSON_BYTES = 256
WINDOW = 64


def typical_occupation_event():
    """A road_occupation start event shaped like the one edge_agent/video/occupation.py emits."""
    ts = time.time()
    return new_event(
        "road_occupation",
        "cam-north",
        ts,
        phase=Phase.START,
        severity=Severity.NOTICE,
        incident=uuid7(ts),
        body={
            "zone": "lane-1",
            "occ": "vehicle",
            "classes": ["car"],
            "count": 1,
            "boxes": [[0.412, 0.533, 0.118, 0.097]],
            "conf": 0.71,
            "duration_s": 64.0,
        },
    )


def _event(i: int):
    return new_event(
        "telemetry", "meter-0001", time.time(), severity=Severity.DEBUG, body={"q": "power_w", "val": i}
    )


def bench_persist(d: Path, n: int, producers: int, sync: str, rep: int = 0) -> float:
    ob = Outbox(
        d / f"persist-{sync}-{producers}-{rep}.sqlite", "gw-bench", max_events=10 * n, synchronous=sync
    )
    per = n // producers

    def work() -> None:
        for i in range(per):
            ob.append(_event(i))

    threads = [threading.Thread(target=work) for _ in range(producers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = per * producers / (time.perf_counter() - t0)
    ob.close()
    return rate


def bare_sqlite(d: Path, n: int, sync: str, rep: int = 0) -> float:
    """The limit: one INSERT + COMMIT per row of the same size, no Python layer above sqlite3."""
    db = sqlite3.connect(str(d / f"bare-{sync}-{rep}.sqlite"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={sync.upper()}")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, record BLOB)")
    rec = encode_event(_event(1), 1, "gw-bench")
    t0 = time.perf_counter()
    for _ in range(n):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (record) VALUES (?)", (rec,))
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    db.close()
    return rate


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_mosquitto(d: Path) -> tuple[subprocess.Popen[bytes], int]:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = _free_port()
    conf = d / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("mosquitto did not start")


def bench_deliver(d: Path, port: int, n: int, rep: int = 0) -> float:
    """Events already in the outbox, publisher started: time until the broker acknowledged them all."""
    ob = Outbox(d / f"deliver-{rep}.sqlite", "gw-bench", max_events=10 * n, synchronous="full")
    for i in range(n):
        ob.append(_event(i))
    cfg = MqttConfig(host="127.0.0.1", port=port, prefix="bench", reconnect_min_s=0.1, reconnect_max_s=0.5)  # type: ignore[call-arg]
    pub = MqttPublisher(cfg, "gw-bench", ob, window=WINDOW)
    t0 = time.perf_counter()
    pub.start()
    while ob.depth() > 0:
        time.sleep(0.005)
    rate = n / (time.perf_counter() - t0)
    pub.stop()
    ob.close()
    return rate


def bare_paho(port: int, n: int) -> float:
    """The limit: the same paho loop publishing QoS 1 with the same window, nothing stored or deleted."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bare", protocol=MQTTProtocolVersion.MQTTv5)
    client.max_inflight_messages = 0
    acked = [0]
    client.on_publish = lambda c, u, mid, rc, p: acked.__setitem__(0, acked[0] + 1)
    client.connect("127.0.0.1", port)
    while not client.is_connected():
        client.loop(0.05)
    payload = encode_event(_event(1), 1, "gw-bench")
    sent = 0
    t0 = time.perf_counter()
    while acked[0] < n:
        while sent < n and sent - acked[0] < WINDOW:
            client.publish("bench/bare", payload, qos=1)
            sent += 1
        if client.loop(0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise RuntimeError("bare client lost its connection")
    rate = n / (time.perf_counter() - t0)
    client.disconnect()
    return rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--events", type=int, default=3000, help="events per measurement (default %(default)s)")
    ap.add_argument(
        "--repeats", type=int, default=3, help="interleaved repeats, median kept (default %(default)s)"
    )
    args = ap.parse_args()
    n = args.events
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        d = Path(tmp)
        r: dict[str, float] = {}
        # interleaved repeats, median of each: the disk is shared with whatever else runs on the machine
        runs: dict[str, list[float]] = {}
        for rep in range(args.repeats):
            plan: list[tuple[str, Callable[..., float], tuple[object, ...]]] = [
                ("bare_sqlite_full_per_s", bare_sqlite, (d, n, "full", rep)),
                ("outbox_persist_per_s", bench_persist, (d, n, 1, "full", rep)),
                ("outbox_persist_4_producers_per_s", bench_persist, (d, n, 4, "full", rep)),
                ("bare_sqlite_normal_per_s", bare_sqlite, (d, n, "normal", rep)),
                ("outbox_persist_normal_sync_per_s", bench_persist, (d, n, 1, "normal", rep)),
            ]
            for key, fn, fn_args in plan:
                runs.setdefault(key, []).append(fn(*fn_args))
        r.update({k: statistics.median(v) for k, v in runs.items()})
        proc, port = start_mosquitto(d)
        try:
            dn = 3 * n
            r["deliver_per_s"] = statistics.median(
                bench_deliver(d, port, dn, rep) for rep in range(args.repeats)
            )
            r["bare_paho_qos1_per_s"] = statistics.median(bare_paho(port, dn) for _ in range(args.repeats))
        finally:
            proc.terminate()
            proc.wait(5)
    ev = typical_occupation_event()
    r["occupation_event_json_bytes"] = len(encode_event(ev, 123456, "gw-0042"))
    r["occupation_event_cbor_bytes"] = len(encode_event(ev, 123456, "gw-0042", encoding="cbor"))
    r["occupation_body_json_bytes"] = len(dumps_json(ev.body))
    if args.json:
        print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in r.items()}))
        return 0
    rows = [
        ("outbox persist, 1 producer, sync=full (/s)", r["outbox_persist_per_s"], GOAL_PERSIST_PER_S, r["bare_sqlite_full_per_s"]),
        ("outbox persist, 4 producers, sync=full (/s)", r["outbox_persist_4_producers_per_s"], GOAL_PERSIST_PER_S, r["bare_sqlite_full_per_s"]),
        ("outbox persist, 1 producer, sync=normal (/s)", r["outbox_persist_normal_sync_per_s"], GOAL_PERSIST_PER_S, r["bare_sqlite_normal_per_s"]),
        ("delivered to mosquitto, PUBACKed (/s)", r["deliver_per_s"], GOAL_DELIVER_PER_S, r["bare_paho_qos1_per_s"]),
    ]  # fmt: skip
    print(f"{'measure':<46} {'value':>9} {'goal':>7} {'/goal':>6} {'bare limit':>11} {'/limit':>7}")
    for name, value, goal, limit in rows:
        print(
            f"{name:<46} {value:>9.0f} {goal:>7.0f} {value / goal:>6.2f} {limit:>11.0f} {value / limit:>7.2f}"
        )
    for key, goal_bytes in (
        ("occupation_event_json_bytes", GOAL_JSON_BYTES),
        ("occupation_event_cbor_bytes", None),
    ):
        g = f"{goal_bytes:>7d} {r[key] / goal_bytes:>6.2f}" if goal_bytes else f"{'-':>7} {'-':>6}"
        print(f"{'road_occupation start, ' + key.split('_')[2].upper() + ' (bytes)':<46} {r[key]:>9.0f} {g}")
    body = int(r["occupation_body_json_bytes"])
    envelope = int(r["occupation_event_json_bytes"]) - body
    print(
        f"road_occupation JSON = {envelope} B envelope + {body} B body (the body video/occupation.py emits)"
    )
    print(
        f"bare limits: sqlite INSERT+COMMIT per row; paho QoS 1 with the same window ({WINDOW}), same broker"
    )
    print(f"medians of {args.repeats} interleaved runs; {n} events per persist run, {3 * n} per delivery run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
