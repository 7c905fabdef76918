"""What DL/T 645 and CJ/T 188 frames share: ``68 ... L DATA CS 16``, a sum checksum, FE wake-up bytes.

:func:`extract_frame` cuts one frame out of a byte stream as it arrives from a noisy bus: it skips
garbage, says when it needs more bytes and tells a bad checksum from a truncated frame. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

START = 0x68
END = 0x16
PREAMBLE = 0xFE


REPLY = 0x80
"""Control-byte bit 7, shared by DL/T 645 and CJ/T 188: the frame is a meter's reply."""
ERROR = 0x40
"""Control-byte bit 6, shared by both: the reply is an error reply."""


class ControlByte:
    """The reply/error bits both protocols put in the same place of their control byte."""

    control: int

    @property
    def is_reply(self) -> bool:
        return bool(self.control & REPLY)

    @property
    def is_error(self) -> bool:
        return bool(self.control & ERROR)


class FrameError(ValueError):
    """A reply that cannot be used; ``kind`` names the fault for counters and logs."""

    kind = "bad-frame"


class NoReply(FrameError):
    """Nothing came back within the timeout (a silent or absent meter)."""

    kind = "timeout"


class ChecksumError(FrameError):
    kind = "bad-checksum"


class TruncatedFrame(FrameError):
    kind = "truncated"


class GarbageError(FrameError):
    kind = "garbage"


class WrongAddress(FrameError):
    kind = "wrong-address"


class UnexpectedReply(FrameError):
    """A valid frame that answers another question (other function or data identifier)."""

    kind = "unexpected-reply"


def checksum(data: bytes) -> int:
    """Sum of the bytes mod 256 (both standards; the FE preamble is never included)."""
    return sum(data) & 0xFF


@dataclass(frozen=True)
class Extracted:
    frame: bytes | None
    """A complete frame (from its first 68 to its 16) with a good checksum, or None."""
    consumed: int
    """Bytes of the buffer that are used up (garbage, preamble and the frame itself)."""
    garbage: int
    """How many of the consumed bytes were neither preamble nor frame."""
    need_more: bool
    """True when the buffer ends inside what may be a frame."""
    error: FrameError | None = None


def extract_frame(buf: bytes, *, len_index: int, second_start: int | None = None) -> Extracted:
    """Find the first complete frame in ``buf``.

    ``len_index`` is where the length byte L sits (9 for DL/T 645, 10 for CJ/T 188); the whole frame is
    ``len_index + 1 + L + 2`` bytes. ``second_start`` is the index of DL/T 645's second 68, a cheap test
    that a 68 in noise is not a frame start. A frame that ends wrong or fails its checksum is consumed
    and returned as ``error`` so the caller can count it.
    """
    i = 0
    garbage = 0
    n = len(buf)
    while i < n:
        b = buf[i]
        if b == PREAMBLE:
            i += 1
            continue
        if b != START:
            i += 1
            garbage += 1
            continue
        if n - i <= len_index:
            if second_start is not None and n - i > second_start and buf[i + second_start] != START:
                i += 1
                garbage += 1
                continue
            return Extracted(None, i, garbage, True)
        if second_start is not None and buf[i + second_start] != START:
            i += 1
            garbage += 1
            continue
        total = len_index + 1 + buf[i + len_index] + 2
        if n - i < total:
            return Extracted(None, i, garbage, True)
        frame = bytes(buf[i : i + total])
        if frame[-1] != END:
            # A 68 inside noise, or a frame cut short and followed by another: skip this start byte.
            i += 1
            garbage += 1
            continue
        if checksum(frame[:-2]) != frame[-2]:
            return Extracted(
                None,
                i + total,
                garbage,
                False,
                ChecksumError(f"checksum {frame[-2]:02X}, computed {checksum(frame[:-2]):02X}"),
            )
        return Extracted(frame, i + total, garbage, False)
    return Extracted(None, i, garbage, False)
