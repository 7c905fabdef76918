"""What every config model shares: unknown keys are errors (a typo must not be silently ignored)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Secret(StrictModel):
    """A secret given inline, from a file (``file:``) or from an environment variable (``env:``).

    Exactly one source must be set. Files are read when the config is loaded, so an unreadable secret
    is a config error before anything starts.
    """

    value: str | None = Field(None, description="The secret itself (avoid: the config file is often shared).")
    file: Path | None = Field(None, description="A file holding the secret (trailing newline stripped).")
    env: str | None = Field(None, description="An environment variable holding the secret.")

    @field_validator("file")
    @classmethod
    def _relative_to_config(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        return None if v is None else resolve_path(v, info)

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


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    """Resolve a relative path against the config file's folder (the loader passes it as ``base_dir``).

    Use in a field validator: ``_p = field_validator("clip")(classmethod(lambda cls, v, info: resolve_path(v, info)))``
    or call it from your own validator. Absolute paths and URLs are left alone by the caller.
    """
    base = (info.context or {}).get("base_dir")
    if base is None or value.is_absolute():
        return value
    return (Path(base) / value).resolve()
