"""Byte transports a bus owner talks through: a serial port (pyserial) or a TCP socket (serial server).

Only the bus owner thread touches a transport. Every method raises :class:`LinkDown` when the device is
gone (USB adapter unplugged, TCP peer closed) so the owner can close it and reopen with backoff.
"""

from __future__ import annotations

import contextlib
import select
import socket
import termios
import time
from typing import Protocol

import serial


class LinkDown(OSError):
    """The port or connection is gone; reopen it."""


class Transport(Protocol):
    name: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read(self, timeout_s: float) -> bytes:
        """Bytes that arrive within ``timeout_s`` (returns early, as soon as some are there)."""
        ...

    def discard_input(self) -> int:
        """Drop what is waiting (a late reply to an earlier request); returns how many bytes."""
        ...


class SerialTransport:
    def __init__(self, port: str, baud: int, parity: str = "N", bytesize: int = 8, stopbits: int = 1) -> None:
        self.name = port
        self.port, self.baud, self.parity, self.bytesize, self.stopbits = (
            port,
            baud,
            parity,
            bytesize,
            stopbits,
        )
        self._ser: serial.Serial | None = None

    @property
    def char_time_s(self) -> float:
        """Wire time of one character: start + data + parity + stop bits."""
        return (1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits) / self.baud

    def open(self) -> None:
        try:
            self._ser = serial.Serial(
                self.port,
                self.baud,
                bytesize=self.bytesize,
                parity=self.parity,
                stopbits=self.stopbits,
                timeout=0,
                write_timeout=2.0,
                exclusive=True,
            )
        except (serial.SerialException, OSError) as exc:
            self._ser = None
            raise LinkDown(f"cannot open {self.port}: {exc}") from exc

    def close(self) -> None:
        if self._ser is not None:
            # Closing a vanished device can fail in odd ways; it is closed either way.
            with contextlib.suppress(Exception):
                self._ser.close()
            self._ser = None

    def _s(self) -> serial.Serial:
        if self._ser is None:
            raise LinkDown(f"{self.port} is not open")
        return self._ser

    def write(self, data: bytes) -> None:
        try:
            self._s().write(data)
            self._s().flush()
        except (serial.SerialException, OSError, termios.error) as exc:
            raise LinkDown(f"write to {self.port} failed: {exc}") from exc

    def read(self, timeout_s: float) -> bytes:
        # Wait with select on the fd: setting pyserial's timeout per call re-applies termios settings,
        # which costs a syscall and fails with EINVAL on ptys opened with parity E.
        s = self._s()
        try:
            ready, _, _ = select.select([s.fileno()], [], [], max(0.0, timeout_s))
            if not ready:
                return b""
            data = s.read(max(1, s.in_waiting))
        except (serial.SerialException, OSError, TypeError, ValueError, termios.error) as exc:
            # pyserial raises SerialException("device reports readiness to read but returned no data")
            # when a USB adapter vanishes; TypeError/ValueError when the fd was closed underneath it.
            raise LinkDown(f"read from {self.port} failed: {exc}") from exc
        if not data:
            raise LinkDown(f"{self.port}: readable but no data (device gone?)")
        return data

    def discard_input(self) -> int:
        s = self._s()
        try:
            n = int(s.in_waiting)
            if n:
                s.read(n)
            return n
        except (serial.SerialException, OSError, termios.error) as exc:
            raise LinkDown(f"{self.port}: {exc}") from exc


class TcpTransport:
    """A transparent serial server (RS-485 to Ethernet converter) at HOST:PORT."""

    def __init__(self, host: str, port: int, connect_timeout_s: float = 3.0) -> None:
        self.name = f"{host}:{port}"
        self.host, self.port, self.connect_timeout_s = host, port, connect_timeout_s
        self._sock: socket.socket | None = None

    @property
    def char_time_s(self) -> float:
        return 0.0

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            self._sock = None
            raise LinkDown(f"cannot connect to {self.name}: {exc}") from exc

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _s(self) -> socket.socket:
        if self._sock is None:
            raise LinkDown(f"{self.name} is not connected")
        return self._sock

    def write(self, data: bytes) -> None:
        try:
            self._s().sendall(data)
        except OSError as exc:
            raise LinkDown(f"send to {self.name} failed: {exc}") from exc

    def read(self, timeout_s: float) -> bytes:
        s = self._s()
        s.settimeout(max(0.001, timeout_s))
        try:
            data = s.recv(4096)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise LinkDown(f"recv from {self.name} failed: {exc}") from exc
        if not data:
            raise LinkDown(f"{self.name} closed the connection")
        return data

    def discard_input(self) -> int:
        s = self._s()
        n = 0
        s.setblocking(False)
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    raise LinkDown(f"{self.name} closed the connection")
                n += len(chunk)
        except BlockingIOError:
            return n
        except OSError as exc:
            raise LinkDown(f"{self.name}: {exc}") from exc
        finally:
            s.setblocking(True)


def sleep_until(deadline_mono: float) -> None:
    delay = deadline_mono - time.monotonic()
    if delay > 0:
        time.sleep(delay)
