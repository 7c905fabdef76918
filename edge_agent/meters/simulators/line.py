"""A serial line with the real line rate: relays bytes between two ptys, each byte delayed by its wire
time (start + data + parity + stop bits at the baud rate), half duplex, with the slave's turnaround.

A pty moves bytes instantly; benchmarks need the wire's pace to compare against the ceiling computed
from frame sizes and silences.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections import deque


class LineSimulator:
    def __init__(
        self, master_fd: int, slave_fd: int, baud: int, bits_per_char: int, turnaround_chars: float = 3.5
    ):
        """``master_fd`` leads to the agent (the bus master), ``slave_fd`` to the meters."""
        self.fds = (master_fd, slave_fd)
        self.char_s = bits_per_char / baud
        self.turnaround_s = turnaround_chars * self.char_s
        self._queue: deque[tuple[float, int, bytes]] = deque()
        self._wire_free = 0.0
        self._last_from = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="line-sim", daemon=True)
        self.bytes_relayed = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _schedule(self, src: int, data: bytes, now: float) -> None:
        t = max(now, self._wire_free)
        if src == 1 and self._last_from == 0:
            t = max(t, self._wire_free + self.turnaround_s)  # a slave answers only after the frame gap
        self._last_from = src
        dst = self.fds[1 - src]
        for b in data:
            t += self.char_s
            self._queue.append((t, dst, bytes([b])))
        self._wire_free = t

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            batch: dict[int, bytearray] = {}
            while self._queue and self._queue[0][0] <= now:
                _, dst, b = self._queue.popleft()
                batch.setdefault(dst, bytearray()).extend(b)
            for dst, out in batch.items():
                try:
                    os.write(dst, bytes(out))
                    self.bytes_relayed += len(out)
                except OSError:
                    pass
            timeout = 0.05 if not self._queue else max(0.0, self._queue[0][0] - time.monotonic())
            try:
                ready, _, _ = select.select(list(self.fds), [], [], timeout)
            except (OSError, ValueError):
                return
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                if data:
                    self._schedule(self.fds.index(fd), data, time.monotonic())
