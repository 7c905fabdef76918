"""One request, one reply, on a shared line: what the DL/T 645 and CJ/T 188 readers need from a bus.

The link keeps the inter-frame silence, drops late bytes left over from an earlier (timed-out) reply
before sending, waits for the reply within the timeout and gives up early on a frame that stops arriving
(truncated) instead of waiting the whole timeout. It classifies what went wrong as a FrameError kind.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from edge_agent.meters.framing import Extracted, GarbageError, NoReply, TruncatedFrame, WrongAddress
from edge_agent.meters.transport import Transport, sleep_until

Extractor = Callable[[bytes], Extracted]


class Pacer:
    """Keeps the bus silent for ``inter_frame_s`` after each transaction (for the Modbus client, whose
    transactions pymodbus runs): ``with pacer: client.read_...``."""

    def __init__(self, inter_frame_s: float, detect_s: float = 0.0) -> None:
        """``detect_s``: how long after the last byte the client notices a reply is complete at the
        earliest; that time was already silence on the wire, so it counts toward the gap."""
        self.inter_frame_s = inter_frame_s
        self.detect_s = min(detect_s, inter_frame_s)
        self._quiet_until = 0.0

    def __enter__(self) -> Pacer:
        sleep_until(self._quiet_until)
        return self

    def __exit__(self, *exc: object) -> None:
        self._quiet_until = time.monotonic() + self.inter_frame_s - self.detect_s


class FrameLink:
    def __init__(self, transport: Transport, inter_frame_s: float, faults: Counter[str]) -> None:
        self.transport = transport
        self.inter_frame_s = inter_frame_s
        self.faults = faults
        """Shared with the bus owner: counts of fault kinds (late bytes, garbage bytes...)."""
        char_s = float(getattr(transport, "char_time_s", 0.0))
        self.char_time_s = char_s
        self.gap_limit_s = max(0.1, 20 * char_s)
        """A started frame whose bytes stop for this long is truncated."""
        self._quiet_until = 0.0

    def wire_time_s(self, n_bytes: int) -> float:
        return n_bytes * self.char_time_s

    def transact(
        self,
        request: bytes,
        extract: Extractor,
        timeout_s: float,
        accept: Callable[[bytes], str | None] | None = None,
    ) -> bytes:
        """Send ``request``, return the first complete reply frame that ``accept`` takes (it returns None, or
        why not: ``"wrong-address"``, ``"stale"`` for a late reply to an earlier question); raises a FrameError
        or LinkDown. Refused frames are counted and skipped; if only those came, that is the fault."""
        sleep_until(self._quiet_until)
        late = self.transport.discard_input()
        if late:
            self.faults["late_bytes"] += late
        try:
            self.transport.write(request)
            # A pty or socket takes the bytes at once; a real line needs their wire time first.
            deadline = time.monotonic() + self.wire_time_s(len(request)) + timeout_s
            return self._receive(extract, deadline, accept)
        finally:
            self._quiet_until = time.monotonic() + self.inter_frame_s

    def _receive(
        self, extract: Extractor, deadline: float, accept: Callable[[bytes], str | None] | None
    ) -> bytes:
        buf = b""
        noise = 0
        strays: list[str] = []
        started = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not started:
                break
            wait = self.gap_limit_s if started else remaining  # a frame in progress may finish
            chunk = self.transport.read(wait)
            if not chunk:
                if started:
                    raise TruncatedFrame(f"reply stopped after {len(buf)} bytes: {buf[:40].hex(' ')}")
                continue
            buf += chunk
            found = extract(buf)
            if found.garbage:
                noise += found.garbage
                self.faults["garbage_bytes"] += found.garbage
            if found.error is not None:
                raise found.error
            if found.frame is not None:
                why = None if accept is None else accept(found.frame)
                if why is None:
                    return found.frame
                strays.append(why)
                self.faults[f"skipped_{why}"] += 1
            buf = buf[found.consumed :]
            started = found.need_more
        if "wrong-address" in strays:
            raise WrongAddress(f"{len(strays)} frame(s) from another address, none from the addressed meter")
        if strays:
            raise NoReply(f"only late replies to earlier requests ({len(strays)})")
        if noise:
            raise GarbageError(f"only noise came back ({noise} bytes)")
        raise NoReply("no reply")
