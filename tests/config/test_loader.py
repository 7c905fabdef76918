"""A bad config is refused with one FILE:LINE: path: message line per problem and exit status 78."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.config import EX_CONFIG, ConfigError, load_config
from tests.conftest import REPO

BAD = """\
gateway:
  id: gw1
  stat_dir: /tmp/x
mqtt:
  port: "not a port"
cameras:
  - id: c1
    url: street.mp4
    analysis_fps: 100
    zones:
      - id: lane
        polygon: [[0, 0], [1, 1]]
"""


def test_every_problem_has_its_line_and_path(tmp_path: Path) -> None:
    f = tmp_path / "gateway.yaml"
    f.write_text(BAD)
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    lines = [str(p) for p in exc.value.problems]
    assert lines == [
        f"{f}:3: gateway.stat_dir: unknown key (typo?)",
        f"{f}:5: mqtt.port: Input should be a valid integer, unable to parse string as an integer",
        f"{f}:9: cameras[0].analysis_fps: Input should be less than or equal to 30",
        f"{f}:12: cameras[0].zones[0].polygon: needs at least 3 points",
    ]


def test_check_config_exits_78_with_one_line_per_problem(tmp_path: Path) -> None:
    f = tmp_path / "gateway.yaml"
    f.write_text(BAD)
    r = subprocess.run(
        [sys.executable, "-m", "edge_agent", "check-config", str(f)], capture_output=True, text=True, cwd=REPO
    )
    assert r.returncode == EX_CONFIG
    assert len(r.stderr.strip().splitlines()) == 4
    assert all(line.startswith(f"{f}:") for line in r.stderr.strip().splitlines())


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_shipped_configs_are_valid(name: str) -> None:
    load_config(REPO / "configs" / name)


def test_secret_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "mqtt-password").write_text("s3cret\n")
    f = tmp_path / "gateway.yaml"
    f.write_text("gateway: {id: gw1}\nmqtt:\n  username: gw1\n  password: {file: mqtt-password}\n")
    cfg = load_config(f).config
    assert cfg.mqtt.password is not None and cfg.mqtt.password.reveal() == "s3cret"


def test_unreadable_secret_and_two_sources_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "gateway.yaml"
    f.write_text(
        "gateway: {id: gw1}\nmqtt:\n  username: gw1\n  password: {file: missing}\n"
        "  commands:\n    secret: {value: a, env: HOME}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    text = str(exc.value)
    assert (
        f"{f}:4: mqtt.password: Value error, cannot read secret file" in text
        or "cannot read secret file" in text
    )
    assert "give exactly one of value, file, env" in text


def test_check_config_refuses_zone_classes_the_model_lacks(tmp_path: Path) -> None:
    """Beyond the YAML: a class the shipped detector has no label for would silently never match."""
    f = tmp_path / "gateway.yaml"
    f.write_text(
        "gateway: {id: gw1}\ncameras:\n  - id: c1\n    url: rtsp://127.0.0.1/x\n    zones:\n"
        "      - id: lane\n        polygon: [[0, 0], [1, 0], [1, 1]]\n        classes: [car, cars]\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "edge_agent", "check-config", str(f)], capture_output=True, text=True, cwd=REPO
    )
    assert r.returncode == EX_CONFIG
    assert r.stderr.strip() == f"{f}:8: cameras[0].zones[0].classes: ['cars'] not among the detector's labels"


def test_run_refuses_what_check_config_refuses(tmp_path: Path) -> None:
    """Start-up applies the same checks beyond the YAML as check-config and a reload."""
    f = tmp_path / "gateway.yaml"
    f.write_text(
        f"gateway: {{id: gw1, state_dir: {tmp_path / 'state'}}}\ncameras:\n  - id: c1\n    url: rtsp://127.0.0.1/x\n"
        "    zones:\n      - id: lane\n        polygon: [[0, 0], [1, 0], [1, 1]]\n        classes: [cars]\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "edge_agent", "run", "-c", str(f), "--duration-s", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert r.returncode == EX_CONFIG
    assert r.stderr.strip() == f"{f}:8: cameras[0].zones[0].classes: ['cars'] not among the detector's labels"
