"""`edge-agent detect`: what a technician runs first on a new box."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from edge_agent.cli.main import main
from tests.conftest import REPO


def test_picture_prints_and_draws(
    sources: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dog-boxes.png"
    assert main(["detect", str(sources["darknet"] / "dog.jpg"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "bicycle" in text and "dog" in text and "model nanodet-m" in text
    drawn, original = cv2.imread(str(out)), cv2.imread(str(sources["darknet"] / "dog.jpg"))
    assert drawn.shape == original.shape
    assert (cv2.absdiff(drawn, original).max(axis=2) > 60).mean() > 0.005  # boxes and labels were drawn


def test_clip_frames_as_json(sources: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "detect",
        str(sources["vtest"]),
        "--json",
        "--every-s",
        "5",
        "--max-frames",
        "2",
        "--score",
        "0.5",
    ]
    assert main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["frame"] for x in lines] == [0, 50]  # 10 fps
    for x in lines:
        assert (x["width"], x["height"]) == (768, 576)
        assert any(d["label"] == "person" for d in x["detections"])
        assert all(d["score"] >= 0.5 for d in x["detections"])


def test_unreadable_input_and_bad_model_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", str(tmp_path / "missing.jpg")]) == 66
    assert "cannot read" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "missing.jpg"), "--model", "no-such-model"]) == 78
    assert "no-such-model.yaml: model manifest not found" in capsys.readouterr().err


def test_console_script_runs(sources: dict[str, Path]) -> None:
    """Through the installed entry point, as a technician would run it."""
    exe = Path(sys.executable).parent / "edge-agent"
    proc = subprocess.run(
        [str(exe), "detect", str(sources["darknet"] / "giraffe.jpg")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "giraffe" in proc.stdout and "zebra" in proc.stdout


def test_daemon_refuses_a_bad_model_with_exit_78(
    sources: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`edge-agent run` with a camera and a manifest whose sha256 is wrong: a config error, not a crash."""
    models = tmp_path / "models"
    models.mkdir()
    m = (REPO / "models" / "nanodet-m.yaml").read_text(encoding="utf-8")
    (models / "swapped.yaml").write_text(
        m.replace("file: nanodet-m.onnx", f"file: {REPO / 'models' / 'nanodet-m.onnx'}").replace(
            "sha256: ", "sha256: 0000000000000000000000000000000000000000000000000000000000000000\n#"
        ),
        encoding="utf-8",
    )
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(
        f"gateway: {{id: gw-test, state_dir: {tmp_path / 'state'}}}\n"
        f"detector: {{model: swapped, models_dir: models}}\n"
        f"cameras:\n  - id: cam1\n    url: {sources['vtest']}\n",
        encoding="utf-8",
    )
    assert main(["run", "-c", str(cfg), "--duration-s", "1"]) == 78
    err = capsys.readouterr().err
    assert "swapped.yaml" in err and "sha256" in err
