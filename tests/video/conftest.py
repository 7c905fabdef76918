"""Video fixtures: the shipped detector (loaded once) and the committed street clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO

MEDIA = REPO / "media"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def detector():  # type: ignore[no-untyped-def]
    """The real NanoDet model of models/ (one onnxruntime session for the whole test run)."""
    from edge_agent.config.inference import DetectorConfig
    from edge_agent.inference.detector import load_detector

    return load_detector(DetectorConfig())
