"""The daemon as systemd sees it: a real subprocess, real signals, sd_notify on a real datagram socket."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.config.reference import render_reference
from edge_agent.sdnotify import Notifier
from tests.conftest import REPO, free_port

CONFIG = """\
gateway:
  id: gw-test
  log_level: info
mqtt:
  host: 127.0.0.1
  port: {port}
watchdog:
  main_loop_interval_s: 0.2
"""


class NotifyListener:
    """What systemd does: bind a datagram socket and collect what the service sends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[str] = []

    def wait_for(self, field: str, timeout_s: float = 20.0, count: int = 1) -> list[str]:
        """Collect messages until ``field`` has been received ``count`` times in all."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.count(field) >= count:
                return self.messages
            with contextlib.suppress(TimeoutError):
                self.messages.append(self.sock.recv(4096).decode())
        raise AssertionError(f"{field} x{count} not received; got {self.messages}")

    def count(self, field: str) -> int:
        return sum(field in m.split("\n") for m in self.messages)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[NotifyListener]:
    n = NotifyListener(tmp_path / "notify.sock")
    yield n
    n.sock.close()


def start_agent(cfg: Path, state: Path, notify: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "NOTIFY_SOCKET": str(notify), "WATCHDOG_USEC": "1000000", "PYTHONUNBUFFERED": "1"}
    env.pop("WATCHDOG_PID", None)
    return subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run", "-c", str(cfg), "--state-dir", str(state)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def write_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(CONFIG.format(port=free_port()))  # no broker there: events wait in the outbox
    return cfg


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_ready_watchdog_then_clean_stop_on_signal(tmp_path: Path, listener: NotifyListener, sig: int) -> None:
    proc = start_agent(write_config(tmp_path), tmp_path / "state", listener.path)
    try:
        listener.wait_for("READY=1")
        listener.wait_for("WATCHDOG=1")
        assert any(line.startswith("STATUS=") for m in listener.messages for line in m.split("\n"))
        t0 = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(timeout=10)
        stopped_in_s = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate()
    assert rc == 0, err
    assert stopped_in_s < 5.0, f"took {stopped_in_s:.1f}s to stop"  # the systemd contract, not a benchmark
    listener.wait_for("STOPPING=1", timeout_s=1)
    assert "stopped" in err


def test_sighup_with_bad_config_keeps_running_config(tmp_path: Path, listener: NotifyListener) -> None:
    cfg = write_config(tmp_path)
    proc = start_agent(cfg, tmp_path / "state", listener.path)
    try:
        listener.wait_for("READY=1", timeout_s=60)
        good = cfg.read_text()
        cfg.write_text(good + "cameras:\n  - id: c1\n    urll: x.mp4\n")
        proc.send_signal(signal.SIGHUP)
        listener.wait_for("RELOADING=1", timeout_s=60)
        # the watchdog must keep being fed with the old config
        listener.wait_for("WATCHDOG=1", count=listener.count("WATCHDOG=1") + 3, timeout_s=60)
        assert proc.poll() is None, "a bad config on reload must not stop the agent"

        cfg.write_text(good.replace("log_level: info", "log_level: debug"))
        reloads, readies = listener.count("RELOADING=1"), listener.count("READY=1")
        proc.send_signal(signal.SIGHUP)
        listener.wait_for("RELOADING=1", count=reloads + 1, timeout_s=60)
        listener.wait_for("READY=1", count=readies + 1, timeout_s=60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    except (AssertionError, TimeoutError):
        proc.kill()
        print(proc.communicate()[1])  # shown by pytest on failure
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate()
    assert f"reload refused, keeping the running config: {cfg}:11: cameras[0].urll: unknown key" in err
    assert "reloading config" in err


def test_notifier_reaches_an_abstract_socket() -> None:
    name = f"edge-agent-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind("\0" + name)
        s.settimeout(2)
        n = Notifier("@" + name)
        assert n.ready("starting")
        assert s.recv(4096).decode() == "READY=1\nSTATUS=starting"
        n.close()


def test_notifier_is_a_no_op_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not Notifier().enabled
    assert Notifier().watchdog() is False


def test_config_reference_is_current() -> None:
    current = (REPO / "docs" / "config.md").read_text()
    assert current == render_reference(), "regenerate: python -m edge_agent.config.reference > docs/config.md"


def test_systemd_unit_security_and_verify(tmp_path: Path) -> None:
    from tests.conftest import require_tool

    exe = require_tool("systemd-analyze")
    unit = REPO / "systemd" / "edge-agent.service"
    r = subprocess.run([exe, "security", "--offline=true", str(unit)], capture_output=True, text=True)
    line = next(line for line in r.stdout.splitlines() if "Overall exposure level" in line)
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 2.5, line
    # verify needs the ExecStart binaries to exist: point them at this checkout's install.
    local = tmp_path / "edge-agent.service"
    local.write_text(
        unit.read_text().replace(
            "/opt/edge-agent/.venv/bin/edge-agent", str(Path(sys.executable).parent / "edge-agent")
        )
    )
    v = subprocess.run([exe, "verify", str(local)], capture_output=True, text=True)
    assert v.returncode == 0, v.stderr
    assert v.stderr.strip() == "", v.stderr


def test_metrics_endpoint_when_enabled(tmp_path: Path, listener: NotifyListener) -> None:
    import urllib.request

    port = free_port()
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text() + f"metrics:\n  enabled: true\n  port: {port}\n")
    proc = start_agent(cfg, tmp_path / "state", listener.path)
    try:
        listener.wait_for("WATCHDOG=1")
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        proc.terminate()
        proc.wait(10)
    assert 'edge_agent_part_healthy{part="events"} 1.0' in body
    assert "edge_agent_build_info" in body


def test_sighup_with_a_missing_model_keeps_running_config(tmp_path: Path, listener: NotifyListener) -> None:
    """The new file is valid YAML but points at a model that does not exist: refused before anything stops."""
    cfg = write_config(tmp_path)
    proc = start_agent(cfg, tmp_path / "state", listener.path)
    try:
        listener.wait_for("READY=1", timeout_s=60)
        clip = REPO / "media" / "street-parked-van.mp4"
        cfg.write_text(
            cfg.read_text() + f"detector:\n  model: no-such-model\ncameras:\n  - id: c1\n    url: {clip}\n"
        )
        proc.send_signal(signal.SIGHUP)
        listener.wait_for("RELOADING=1", timeout_s=60)
        listener.wait_for("WATCHDOG=1", count=listener.count("WATCHDOG=1") + 2, timeout_s=60)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate()
    assert f"reload refused, keeping the running config: {cfg}:9: detector: " in err
    assert "model manifest not found" in err
