"""Config: pydantic models of the YAML file, and its loader. Read by everyone, imports none of them."""

from edge_agent.config.gateway import AgentConfig
from edge_agent.config.loader import (
    EX_CONFIG,
    ConfigError,
    ConfigProblem,
    LoadedConfig,
    load_config,
    parse_config,
)

__all__ = [
    "EX_CONFIG",
    "AgentConfig",
    "ConfigError",
    "ConfigProblem",
    "LoadedConfig",
    "load_config",
    "parse_config",
]
