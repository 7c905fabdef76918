"""The cameras' config: relative clip paths, zone validation with the line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.config import ConfigError, load_config, parse_config

HEAD = "gateway: {id: gw}\n"


def test_relative_file_url_resolves_against_the_config_folder(tmp_path: Path) -> None:
    cfg_file = tmp_path / "etc" / "config.yaml"
    cfg_file.parent.mkdir()
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "clip.mp4").write_bytes(b"")
    cfg_file.write_text(
        HEAD + "cameras:\n  - id: c\n    url: ../media/clip.mp4\n  - id: r\n    url: rtsp://cam/1\n"
    )
    cams = load_config(cfg_file).config.cameras
    assert cams[0].url == str(tmp_path / "media" / "clip.mp4")
    assert cams[1].url == "rtsp://cam/1"


def test_demo_config_camera_clip_exists() -> None:
    from tests.conftest import REPO

    cfg = load_config(REPO / "configs" / "demo.yaml").config
    assert all(Path(c.url).is_file() for c in cfg.cameras if "://" not in c.url)


@pytest.mark.parametrize(
    ("zone", "line", "message"),
    [
        ("polygon: [[0, 0], [1.2, 0], [1, 1]]", 7, "outside [0, 1]"),
        ("polygon: [[0, 0], [1, 1]]", 7, "at least 3 points"),
        ("polygon: [[0, 0], [1, 0], [1, 1]]\n        active_hours: ['8-18']", 8, "not 'HH:MM-HH:MM'"),
        ("polygon: [[0, 0], [1, 0], [1, 1]]\n        dwel_s: 5", 8, "unknown key"),
    ],
)
def test_bad_zone_is_reported_at_its_line(zone: str, line: int, message: str) -> None:
    text = HEAD + f"cameras:\n  - id: c\n    url: rtsp://x/1\n    zones:\n      - id: z\n        {zone}\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "cfg.yaml")
    (p,) = err.value.problems
    assert p.line == line and message in p.message, str(p)


def test_duplicate_zone_ids_refused() -> None:
    z = "{id: z, polygon: [[0, 0], [1, 0], [1, 1]]}"
    with pytest.raises(ConfigError, match="duplicate zone"):
        parse_config(HEAD + f"cameras:\n  - id: c\n    url: rtsp://x/1\n    zones: [{z}, {z}]\n")


def test_zone_classes_unknown_to_the_model_are_named(detector) -> None:  # type: ignore[no-untyped-def]
    from edge_agent.video.service import unknown_zone_classes

    z = "{id: z, polygon: [[0, 0], [1, 0], [1, 1]], classes: [car, cars, truck]}"
    cfg = parse_config(HEAD + f"cameras:\n  - id: c\n    url: rtsp://x/1\n    zones: [{z}]\n")
    assert unknown_zone_classes(cfg, detector.labels) == [
        "cameras[0].zones[0].classes: ['cars'] not among the detector's labels"
    ]
