"""Load and validate a config file, reporting every problem as ``FILE:LINE: dotted.path: message``.

Validation errors from pydantic carry a location (``("cameras", 1, "zones", 0, "polygon")``); we keep the
YAML node tree from parsing and walk it along that location to find the line the installer must fix.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from edge_agent.config.gateway import AgentConfig

EX_CONFIG = 78
"""sysexits.h: configuration error. systemd's unit does not restart on it (RestartPreventExitStatus)."""


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class ConfigError(Exception):
    """A config that must not be run. ``problems`` has one entry per thing to fix."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedConfig:
    config: AgentConfig
    path: Path
    sha256: str
    """Hash of the file's bytes: announced in the birth message so the platform sees which config runs."""


def _construct(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    return loader.construct_document(node)


def _walk(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, str]:
    """Follow a pydantic location through the YAML tree: the deepest line reached, and the dotted path."""
    line = node.start_mark.line + 1 if node is not None else 1
    path = ""
    for part in loc:
        if isinstance(part, int) and isinstance(node, yaml.SequenceNode):
            path += f"[{part}]"
            node = node.value[part] if part < len(node.value) else None
        elif isinstance(part, str) and isinstance(node, yaml.MappingNode):
            path += f".{part}" if path else part
            match = [(k, v) for k, v in node.value if getattr(k, "value", None) == part]
            if match:
                key_node, node = match[0]
                line = key_node.start_mark.line + 1
                continue
            node = None
            continue
        elif isinstance(part, int | str) and node is None:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
            continue
        else:
            continue  # pydantic's union/validator tags are not part of the file's structure
        if node is not None:
            line = node.start_mark.line + 1
    return line, path


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (typo?)"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg


def parse_config(text: str, filename: str = "<config>", base_dir: Path | None = None) -> AgentConfig:
    """Validate config text; raise :class:`ConfigError` listing every problem with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(
            [ConfigProblem(filename, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]
        ) from exc
    data = _construct(root) if root is not None else None
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigProblem(filename, 1, "", "the file must be a YAML mapping with a 'gateway' section")]
        )
    try:
        return AgentConfig.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            line, path = _walk(root, tuple(err["loc"]))
            problems.append(ConfigProblem(filename, line, path, _message(dict(err))))
        raise ConfigError(problems) from exc


def problem_at(path: Path, dotted: str, message: str) -> ConfigProblem:
    """A problem found after validation (e.g. a zone class the model lacks), located by its dotted path."""
    loc: list[str | int] = [int(i) if i else k for k, i in re.findall(r"([A-Za-z_][\w-]*)|\[(\d+)\]", dotted)]
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        root = None
    line, _ = _walk(root, tuple(loc))
    return ConfigProblem(str(path), line, dotted, message)


def load_config(path: str | Path) -> LoadedConfig:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(p), 0, "", f"cannot read config: {exc.strerror}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(str(p), 1, "", "config is not UTF-8 text")]) from exc
    return LoadedConfig(parse_config(text, str(p), p.resolve().parent), p, hashlib.sha256(raw).hexdigest())
