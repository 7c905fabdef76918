"""A real agent process for the crash test: ``python -m tests.events.emitter CONFIG --start K --count N``.

Emits N events (body ``{"i": K..K+N-1}``) through :func:`build_event_path` as an analyser would, printing
``emitted I`` once each ``emit`` has returned (the event is durable from then on). With ``--drain`` it waits
until the outbox is empty and stops cleanly; without, it keeps running until killed.
"""

from __future__ import annotations

import argparse
import sys
import time

from edge_agent.clock import SystemClock
from edge_agent.config.loader import load_config
from edge_agent.events.model import Severity, new_event
from edge_agent.events.path import build_event_path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--drain", action="store_true")
    args = ap.parse_args()
    loaded = load_config(args.config)
    cfg = loaded.config
    path = build_event_path(cfg, cfg.gateway.state_dir, SystemClock(), loaded.sha256)
    path.service.start()
    for i in range(args.start, args.start + args.count):
        path.emit(new_event("test_burst", "emitter", time.time(), severity=Severity.INFO, body={"i": i}))
        print(f"emitted {i}", flush=True)
    if args.drain:
        deadline = time.monotonic() + 60
        while path.service.outbox.depth() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        path.service.stop()
        print("drained" if path.service.outbox.depth() == 0 else "not drained", flush=True)
        return 0
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
