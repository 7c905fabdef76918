"""Little-endian BCD, as DL/T 645 and CJ/T 188 carry their values (pure functions, no I/O)."""

from __future__ import annotations


class BcdError(ValueError):
    """A nibble above 9: the meter sent something that is not a number (often ``FF``: 'not available')."""


def decode_bcd_le(data: bytes, *, signed: bool = False) -> int:
    """Digits of little-endian BCD as an int; with ``signed`` the top bit of the last byte is the sign."""
    if not data:
        raise BcdError("empty BCD field")
    raw = bytearray(data)
    negative = False
    if signed and raw[-1] & 0x80:
        negative = True
        raw[-1] &= 0x7F
    value = 0
    for byte in reversed(raw):
        hi, lo = byte >> 4, byte & 0x0F
        if hi > 9 or lo > 9:
            raise BcdError(f"not BCD: {bytes(data).hex(' ')}")
        value = value * 100 + hi * 10 + lo
    return -value if negative else value


def encode_bcd_le(value: int, n_bytes: int, *, signed: bool = False) -> bytes:
    """The inverse of :func:`decode_bcd_le`; raises ValueError when ``value`` does not fit."""
    negative = value < 0
    if negative and not signed:
        raise ValueError(f"{value} is negative and the field is unsigned")
    digits = abs(value)
    out = bytearray()
    for _ in range(n_bytes):
        digits, pair = divmod(digits, 100)
        out.append((pair // 10) << 4 | pair % 10)
    if digits:
        raise ValueError(f"{value} does not fit in {n_bytes} BCD bytes")
    if negative:
        if out[-1] & 0x80:
            raise ValueError(f"{value} does not fit in {n_bytes} signed BCD bytes")
        out[-1] |= 0x80
    return bytes(out)


def address_to_wire(nameplate: str, n_bytes: int) -> bytes:
    """Nameplate address (most significant digits first, as printed) to wire order (lowest byte first).

    ``AA`` bytes (the wildcard) pass through, so ``"AAAAAAAAAAAA"`` works too.
    """
    text = nameplate.strip().replace(" ", "")
    if len(text) > 2 * n_bytes:
        raise ValueError(f"address {nameplate!r} is longer than {2 * n_bytes} digits")
    text = text.rjust(2 * n_bytes, "0")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"address {nameplate!r} is not hex/BCD digits") from None
    return raw[::-1]


def address_from_wire(wire: bytes) -> str:
    """Wire order (lowest byte first) to the nameplate string (upper-case hex digits)."""
    return wire[::-1].hex().upper()
