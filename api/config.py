"""The HTTP service's own settings: keys, limits, CORS (the answering settings are `rag.Settings`).

Read from the environment (and `.env` in the entry point), like `rag.Settings`; each one is
declared once here with its meaning.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError


def _alias(name: str) -> Any:
    return AliasChoices(f"RAG_API_{name.upper()}", name)


class ApiConfig(BaseSettings):
    """Keys and limits of `rag serve`."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", env_file=None, populate_by_name=True
    )

    keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated API keys (Authorization: Bearer KEY); required off loopback.",
        validation_alias=_alias("keys"),
    )
    rate_per_minute: int = Field(
        default=120,
        ge=0,
        description="Requests per minute per key (or per address without keys); 0: no limit.",
        validation_alias=_alias("rate_per_minute"),
    )
    max_body_kb: int = Field(
        default=1024,
        ge=1,
        le=100_000,
        description="Largest JSON request body; uploads may be as large as one article (5 MB).",
        validation_alias=_alias("max_body_kb"),
    )
    max_question_chars: int = Field(
        default=4000,
        ge=10,
        le=100_000,
        description="Longest question accepted (for /v1/chat/completions: the last message).",
        validation_alias=_alias("max_question_chars"),
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds a client may take to send its request body.",
        validation_alias=_alias("body_timeout"),
    )
    open_uploads: bool = Field(
        default=False,
        description="Allow adding and removing articles without a key (loopback, no keys only).",
        validation_alias=_alias("open_uploads"),
    )
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins allowed by CORS; empty: CORS off.",
        validation_alias=_alias("cors_origins"),
    )
    max_connections: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Open connections (or running requests) past which the server answers 503.",
        validation_alias=_alias("max_connections"),
    )
    keep_alive: int = Field(
        default=5,
        ge=1,
        le=600,
        description="Seconds an idle connection (new or kept alive) stays open.",
        validation_alias=_alias("keep_alive"),
    )

    @classmethod
    def load(cls, env_file: str | os.PathLike[str] | None = None, **overrides: Any) -> ApiConfig:
        """Build the config, turning validation failures into one `ConfigError`."""
        explicit = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(_env_file=env_file, **explicit)  # type: ignore[call-arg]
        except ValidationError as exc:
            problems = "; ".join(
                f"RAG_API_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"Invalid API settings: {problems}.") from None

    def key_list(self) -> list[str]:
        """The configured keys (blank entries dropped)."""
        raw = self.keys.get_secret_value() if self.keys else ""
        return [key.strip() for key in raw.split(",") if key.strip()]

    def origins(self) -> list[str]:
        """The CORS origins (none: CORS off)."""
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_table() -> str:
    """The Markdown table of these settings (`docs/api.md` carries it; a test compares)."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in ApiConfig.model_fields.items():
        default = "" if field.default in (None, "") else str(field.default).lower()
        lines.append(f"| `RAG_API_{name.upper()}` | {default or '(none)'} | {field.description} |")
    return "\n".join(lines)
