"""TLS, mutual TLS and passwords against a real Mosquitto; bad TLS files refused at config load (exit 78)."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge_agent.clock import SystemClock
from edge_agent.config import ConfigError
from edge_agent.config.loader import EX_CONFIG
from edge_agent.events.model import new_event
from edge_agent.events.path import EventPath, build_event_path
from tests.conftest import REPO, require_tool
from tests.events.conftest import Pki
from tests.events.helpers import agent_config, wait_until


def _tls_conf(pki: Pki, mutual: bool = False) -> list[str]:
    lines = [f"cafile {pki.ca}", f"certfile {pki.server_cert}", f"keyfile {pki.server_key}"]
    return [*lines, "require_certificate true"] if mutual else lines


def _start(tmp_path: Path, port: int, extra: str) -> EventPath:
    path = build_event_path(agent_config(tmp_path, port, extra), tmp_path / "state", SystemClock(), "x")
    path.service.start()
    return path


def _delivers(path: EventPath) -> None:
    wait_until(lambda: path.service.publisher.state.connected, 15, "TLS connection")
    path.emit(new_event("test_burst", "s", time.time(), body={"i": 1}))
    wait_until(lambda: path.service.publisher.state.published == 1, 10, "PUBACK over TLS")


def _refused(path: EventPath, expect: str) -> str:
    wait_until(lambda: path.service.publisher.state.last_error != "", 15, "a refusal")
    err = path.service.publisher.state.last_error
    assert not path.service.publisher.state.connected
    assert expect in err, err
    print("refused:", err)
    return err


def test_tls_with_test_ca(broker_factory, tmp_path: Path, pki: Pki) -> None:
    b = broker_factory(_tls_conf(pki))
    path = _start(tmp_path, b.port, f"  tls: {{ca_file: {pki.ca}}}\n")
    try:
        _delivers(path)
    finally:
        path.service.stop()


def test_tls_untrusted_broker_refused(broker_factory, tmp_path: Path, pki: Pki, caplog) -> None:
    b = broker_factory(_tls_conf(pki))
    caplog.set_level(logging.ERROR, "edge_agent.events")
    path = _start(tmp_path, b.port, f"  tls: {{ca_file: {pki.other_ca}}}\n")
    try:
        _refused(path, "TLS handshake")
        assert path.service.health().ok  # a broker we cannot trust is a delivery problem, not a crash
        assert any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records)
    finally:
        path.service.stop()


def test_mutual_tls(broker_factory, tmp_path: Path, pki: Pki) -> None:
    b = broker_factory(_tls_conf(pki, mutual=True))
    without = _start(tmp_path / "a", b.port, f"  tls: {{ca_file: {pki.ca}}}\n")
    try:
        _refused(without, "")
    finally:
        without.service.stop()
    with_cert = _start(
        tmp_path / "b",
        b.port,
        f"  tls: {{ca_file: {pki.ca}, cert_file: {pki.client_cert}, key_file: {pki.client_key}}}\n",
    )
    try:
        _delivers(with_cert)
    finally:
        with_cert.service.stop()


def test_wrong_password_refused_with_clear_log_line(broker_factory, tmp_path: Path, caplog) -> None:
    passwd = tmp_path / "passwd"
    subprocess.run([require_tool("mosquitto_passwd"), "-b", "-c", str(passwd), "agent", "s3cret"], check=True)
    b = broker_factory(["allow_anonymous false", f"password_file {passwd}"])
    (tmp_path / "good").write_text("s3cret\n")
    (tmp_path / "bad").write_text("guess\n")
    caplog.set_level(logging.ERROR, "edge_agent.events")
    bad = _start(tmp_path / "x", b.port, f"  username: agent\n  password: {{file: {tmp_path / 'bad'}}}\n")
    try:
        _refused(bad, "refused the connection")
        lines = [r.getMessage() for r in caplog.records if "refused the connection" in r.getMessage()]
        assert lines and "check mqtt.username, mqtt.password" in lines[0]
        assert len(lines) == 1  # said once, not at every retry
    finally:
        bad.service.stop()
    good = _start(tmp_path / "y", b.port, f"  username: agent\n  password: {{file: {tmp_path / 'good'}}}\n")
    try:
        _delivers(good)
    finally:
        good.service.stop()


def test_missing_tls_file_is_a_config_error_with_line(tmp_path: Path, pki: Pki) -> None:
    with pytest.raises(ConfigError) as exc:
        agent_config(
            tmp_path,
            8883,
            f"  tls:\n    ca_file: {pki.ca}\n    cert_file: {tmp_path / 'nope.pem'}\n    key_file: {pki.client_key}\n",
        )
    (problem,) = exc.value.problems
    assert problem.path == "mqtt.tls.cert_file" and problem.line == 14
    assert "cannot read" in problem.message and "nope.pem" in problem.message
    with pytest.raises(ConfigError, match="both cert_file and key_file"):
        agent_config(tmp_path, 8883, f"  tls: {{ca_file: {pki.ca}, cert_file: {pki.client_cert}}}\n")
    with pytest.raises(ConfigError, match="TLS files not usable"):
        agent_config(tmp_path, 8883, f"  tls: {{ca_file: {pki.client_key}}}\n")  # a key is not a CA
    with pytest.raises(ConfigError, match="TLS files not usable"):  # certificate and key do not match
        agent_config(
            tmp_path,
            8883,
            f"  tls: {{ca_file: {pki.ca}, cert_file: {pki.client_cert}, key_file: {pki.server_key}}}\n",
        )
    with pytest.raises(ConfigError, match="password given without username"):
        agent_config(tmp_path, 1883, "  password: {value: x}\n")


def test_agent_refuses_to_start_without_its_ca_file(tmp_path: Path) -> None:
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("gateway:\n  id: gw-1\nmqtt:\n  tls:\n    ca_file: missing-ca.pem\n")
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent", "run", "-c", str(cfg), "--state-dir", str(tmp_path / "s")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == EX_CONFIG
    assert f"{cfg}:5: mqtt.tls.ca_file: cannot read {tmp_path / 'missing-ca.pem'}" in proc.stderr
