"""Fixtures shared by every test: a real Mosquitto broker on a free port, serial pty pairs, paths.

Tests use real parts. A system tool a test needs (mosquitto, socat, gst-rtsp-server...) is installed by
``tools/test.sh``; when it is missing, :func:`require_tool` skips the test on a developer's machine but
fails it under ``CI=true``: CI must never pass by silently skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def require_tool(name: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None
    )
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required under CI=true (tools/test.sh installs it)")
        pytest.skip(f"{name} not installed (tools/test.sh installs it)")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s}s")


@dataclass
class Broker:
    """A private Mosquitto on a free loopback port; ``stop()``/``start()`` simulate an outage."""

    workdir: Path
    extra_conf: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def conf_path(self) -> Path:
        return self.workdir / "mosquitto.conf"

    def start(self) -> None:
        exe = require_tool("mosquitto")
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "log_dest stderr"]
        if not any(line.startswith(("allow_anonymous", "password_file")) for line in self.extra_conf):
            lines.append("allow_anonymous true")
        if os.geteuid() == 0:
            lines.append("user root")  # keep reading the test's root-owned TLS keys and password files
        self.conf_path.write_text("\n".join(lines + self.extra_conf) + "\n")
        with open(self.workdir / "mosquitto.log", "ab") as log:
            self.proc = subprocess.Popen(
                [exe, "-c", str(self.conf_path)], stdout=subprocess.DEVNULL, stderr=log
            )
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def log(self) -> str:
        p = self.workdir / "mosquitto.log"
        return p.read_text(errors="replace") if p.exists() else ""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path / "broker")
    b.workdir.mkdir()
    b.start()
    yield b
    b.stop()


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[object]:
    """Call with a list of extra mosquitto.conf lines (TLS listeners, password files...)."""
    made: list[Broker] = []

    def make(extra_conf: list[str] | None = None, start: bool = True) -> Broker:
        d = tmp_path / f"broker{len(made)}"
        d.mkdir()
        b = Broker(d, list(extra_conf or []))
        made.append(b)
        if start:
            b.start()
        return b

    yield make
    for b in made:
        b.stop()


@dataclass
class PtyPair:
    """Two ends of a virtual serial line (like an RS-485 pair): the agent opens ``a``, a simulator ``b``."""

    a: str
    b: str
    proc: subprocess.Popen[bytes]


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    exe = require_tool("socat")
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    proc = subprocess.Popen(
        [exe, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while not (a.exists() and b.exists()):
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("socat did not create the pty pair")
        time.sleep(0.02)
    yield PtyPair(str(a), str(b), proc)
    proc.terminate()
    proc.wait(5)
