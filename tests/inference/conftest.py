"""Fixtures of the inference tests: the shipped detector (loaded once) and the real pictures it is tested on.

The pictures come from Debian packages that tools/test.sh installs (darknet's photos, opencv-doc's
vtest.avi street clip); missing, they skip a test locally and fail it under CI=true, like require_tool.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edge_agent.config.inference import DetectorConfig
from edge_agent.inference.detector import Detector, load_detector
from edge_agent.inference.evaluate import TruthObject, load_truth, read_picture
from tests.conftest import REPO

DARKNET = Path("/usr/share/darknet/data")
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
TRUTH = REPO / "tests" / "data" / "inference" / "truth.yaml"
SHIPPED_ONNX = REPO / "models" / "nanodet-m.onnx"
SHIPPED_MANIFEST = REPO / "models" / "nanodet-m.yaml"


def require_data(path: Path, package: str) -> Path:
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{path} is required under CI=true (Debian package {package}; tools/test.sh installs it)"
            )
        pytest.skip(f"{path} missing (Debian package {package})")
    return path


@pytest.fixture(scope="session")
def sources() -> dict[str, Path]:
    return {"darknet": require_data(DARKNET, "darknet"), "vtest": require_data(VTEST, "opencv-doc")}


@pytest.fixture(scope="session")
def truth() -> dict[str, list[TruthObject]]:
    return load_truth(TRUTH)


@pytest.fixture(scope="session")
def pictures(sources: dict[str, Path], truth: dict[str, list[TruthObject]]) -> dict[str, np.ndarray]:
    """Every labelled picture, read once: ``{"darknet/dog.jpg": frame, "vtest/250": frame, ...}``."""
    return {key: read_picture(key, sources) for key in truth}


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The shipped model as the daemon loads it (default config), shared like the cameras share it."""
    return load_detector(DetectorConfig(max_batch=4))  # exercise batches of up to 4 (the default is 2)
