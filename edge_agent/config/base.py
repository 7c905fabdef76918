"""What every config model shares: unknown keys are errors (a typo must not be silently ignored)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Secret(StrictModel):
    """A secret given inline, from a file (``file:``) or from an environment variable (``env:``).

    Exactly one source must be set. Files are read when the config is loaded, so an unreadable secret
    is a config error before anything starts.
    """

    value: str | None = None
    file: Path | None = None
    env: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        given = [k for k in ("value", "file", "env") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of value, file, env")
        if self.file is not None:
            try:
                self.file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"cannot read secret file {self.file}: {exc.strerror}") from exc
        if self.env is not None and self.env not in os.environ:
            raise ValueError(f"environment variable {self.env} is not set")
        return self

    def reveal(self) -> str:
        if self.value is not None:
            return self.value
        if self.file is not None:
            return self.file.read_text(encoding="utf-8").strip()
        return os.environ[self.env or ""]
