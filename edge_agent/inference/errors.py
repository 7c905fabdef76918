"""The one error a model can raise at load: the daemon turns it into exit 78 (EX_CONFIG)."""

from __future__ import annotations


class ModelError(Exception):
    """A model that must not run: bad or missing manifest, swapped .onnx (sha256), input/output mismatch.

    Raised at load, never on a frame, so a wrong model is a config error the installer sees at once.
    """
