"""Virtual serial lines without hardware: a pty pair whose slave name the agent opens like a tty."""

from __future__ import annotations

import contextlib
import os
import termios
import tty
from dataclasses import dataclass


@dataclass
class Pty:
    """``master`` is the simulator's end (a raw fd); ``name`` is what the agent opens (``/dev/pts/N``)."""

    master: int
    slave: int
    name: str

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def open_pty() -> Pty:
    """A fresh pty pair in raw mode. The slave fd stays open so the master never sees a hang-up while the
    agent closes and reopens the port."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return Pty(master, slave, os.ttyname(slave))


def open_raw(path: str) -> int:
    """Open a tty path (e.g. one end of a socat pair) raw, for a simulator."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd
