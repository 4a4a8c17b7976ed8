"""One frozen settings object: explicit arguments > environment / `.env` > defaults."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError

# The off-topic floor: below this best sentence support the answer is a plain refusal. Above
# it the calibrated answerability model decides (rag.answering.answerability,
# `make fit-answerability`); on the squad-dev bench 0.9% of answerable questions fall under it.
DEFAULT_MIN_SUPPORT = 0.35
# A cited answer of a few sentences is 100-300 tokens; 512 leaves room without letting a model
# ramble for minutes. Whatever the server sends past RAG_MAX_ANSWER_CHARS is not read.
DEFAULT_MAX_TOKENS = 512
DEFAULT_MAX_ANSWER_CHARS = 8_000

AnswerMode = Literal["auto", "extractive", "openai"]
EmbeddingBackend = Literal["local", "openai"]


class Settings(BaseSettings):
    """Every knob of the product, each declared once with its description.

    The environment name is `RAG_` + the field name, except the four that follow other tools'
    names (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `CHROMA_HOST`, `CHROMA_PORT`). `.env.example`
    and docs/configuration.md are generated from these fields (`python -m scripts.gen_docs`).
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", env_file=None, env_prefix="RAG_", populate_by_name=True
    )

    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="OPENAI_API_KEY",
        description="OpenAI or any OpenAI-compatible server. With no key the product answers "
        "offline (extractive). Whitespace around the key is dropped; a key with a space, line "
        "break or non-ASCII character inside is refused (copy it again).",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias="OPENAI_BASE_URL",
        description="Base URL of an OpenAI-compatible server, e.g. http://localhost:8080/v1 "
        "(empty: api.openai.com).",
    )
    chat_model: str = Field(
        default="gpt-4o-mini",
        description="Chat model name (not empty); not checked against OpenAI's list, so local "
        "model names work.",
    )
    answer_mode: AnswerMode = Field(
        default="auto",
        description="auto (OpenAI when a key is set, else extractive) | extractive | openai",
    )
    embedding_backend: EmbeddingBackend = Field(
        default="local",
        description="local (MiniLM int8 ONNX, offline) | openai. Each model gets its own Chroma "
        "collection.",
    )
    openai_embedding_model: str = Field(
        default="text-embedding-3-small",
        description="Embedding model used when RAG_EMBEDDING_BACKEND=openai (not empty).",
    )
    chroma_path: Path = Field(
        default=Path(".rag/chroma"),
        description="Embedded Chroma store folder (used when CHROMA_HOST is empty); not empty, "
        "which would mean the current folder.",
    )
    chroma_host: str | None = Field(
        default=None,
        validation_alias="CHROMA_HOST",
        description="A Chroma server (`chroma run`): set the host to use it instead of the "
        "embedded store.",
    )
    chroma_port: int = Field(
        default=8000,
        ge=1,
        le=65535,
        validation_alias="CHROMA_PORT",
        description="The Chroma server's port (with CHROMA_HOST).",
    )
    bm25_cache: Path | None = Field(
        default=None,
        description="Where saved BM25 indexes go (empty: inside the embedded store's folder, or "
        ".rag/bm25/<host>-<port> with a server). Safe to delete: they are rebuilt from the store.",
    )
    collection: str = Field(
        default="articles",
        description="Collection name prefix; the embedding model's name is appended.",
    )
    corpus_dir: Path = Field(
        default=Path("data/articles"),
        description="Folder of articles (.txt .md .html .htm .pdf .docx .json .jsonl .xml .rss "
        ".atom) `rag index` reads by default.",
    )
    upload_dir: Path = Field(
        default=Path(".rag/uploads"),
        description="Where articles added from the chat are saved; indexed together with "
        "RAG_CORPUS_DIR (cited as uploads/NAME).",
    )
    chunk_size: int = Field(
        default=192,
        ge=32,
        le=2048,
        description="Chunk size in tiktoken (cl100k) tokens.",
    )
    chunk_overlap: int = Field(
        default=32,
        ge=0,
        le=512,
        validate_default=True,  # checked when unset too: 32 is not below RAG_CHUNK_SIZE=32
        description="Chunk overlap in tokens; must be smaller than RAG_CHUNK_SIZE.",
    )
    max_file_mb: float = Field(
        default=10.0,
        gt=0,
        le=1000,
        description="Largest article file indexed; a larger one is skipped with a message "
        "naming this key.",
    )
    fetch_timeout: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="`rag add URL`: seconds allowed to connect and between bytes of a download "
        "(the size cap is RAG_MAX_FILE_MB).",
    )
    fetch_allow_private: bool = Field(
        default=False,
        description="`rag add URL`: allow loopback and private-network addresses (off: such "
        "URLs are refused).",
    )
    index_batch: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description="Chunks embedded and written to Chroma together while indexing.",
    )
    top_k: int = Field(default=5, ge=1, le=50, description="Chunks retrieved per question.")
    min_support: float = Field(
        default=DEFAULT_MIN_SUPPORT,
        ge=0.0,
        le=1.0,
        description="Off-topic floor: below this best sentence support (0-1) the answer is a "
        "plain refusal; above it the calibrated answerability model "
        "(rag/assets/answerability.json) decides.",
    )
    max_context_tokens: int = Field(
        default=6000,
        ge=256,
        description="Token budget of the prompt sent to the model (sources are dropped, "
        "lowest-ranked first, to fit).",
    )
    request_timeout: float = Field(
        default=60.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds (a finite number above 0) one model call may take in all: retries, "
        "backoff and the whole stream included; an answer cut there keeps its finished "
        "sentences, marked incomplete.",
    )
    max_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Retries (with backoff) after 429/5xx/timeouts, within RAG_REQUEST_TIMEOUT.",
    )
    max_tokens: int = Field(
        default=DEFAULT_MAX_TOKENS,
        ge=16,
        le=32_768,
        description="Sent as max_tokens: the longest answer the model may write (16-32768).",
    )
    max_answer_chars: int = Field(
        default=DEFAULT_MAX_ANSWER_CHARS,
        ge=200,
        le=1_000_000,
        description="Characters of answer read from the server at most (200-1000000); the rest "
        "is not read.",
    )

    @field_validator("openai_base_url", "chroma_host", "bm25_cache", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "chroma_path",
        "corpus_dir",
        "upload_dir",
        "chat_model",
        "openai_embedding_model",
        mode="before",
    )
    @classmethod
    def _not_blank(cls, value: Any, info: ValidationInfo) -> Any:
        # An empty path would be the current folder, an empty model name a provider error later.
        if isinstance(value, str) and not value.strip():
            default = cls.model_fields[str(info.field_name)].default
            raise ValueError(f"must not be empty; unset it to use the default ({default})")
        return value

    @field_validator("openai_api_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        """Strip whitespace around the key (a key file's newline); refuse one HTTP cannot send.

        The message names the problem, never the key.
        """
        key = value.get_secret_value().strip() if value is not None else ""
        if not key:
            return None
        problem = _key_problem(key)
        if problem:
            raise ValueError(f"malformed: it contains {problem}; copy the key again")
        return SecretStr(key)

    @field_validator("chunk_overlap")
    @classmethod
    def _check_overlap(cls, value: int, info: ValidationInfo) -> int:
        size = info.data.get("chunk_size")  # absent when the size itself was malformed
        if size is not None and value >= size:
            raise ValueError(f"must be smaller than RAG_CHUNK_SIZE ({size}); lower one of them")
        return value

    @field_validator("openai_base_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as http://localhost:8080/v1")
        return value

    @field_validator("collection")
    @classmethod
    def _check_collection(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,62}", value):
            raise ValueError("must be 2-63 characters of letters, digits, '.', '_' or '-'")
        return value

    @classmethod
    def load(cls, env_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
        """Build settings, turning validation failures into one readable `ConfigError`.

        Args:
            env_file: a `.env` file to read (entry points pass one; the library never does).
            **overrides: explicit values, which win over the environment.
        """
        explicit = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(_env_file=env_file, **explicit)  # type: ignore[call-arg]
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None

    @property
    def resolved_mode(self) -> Literal["extractive", "openai"]:
        """The answer mode in effect: `auto` means OpenAI when a key is set."""
        if self.answer_mode == "auto":
            return "openai" if self.openai_api_key else "extractive"
        return self.answer_mode

    @property
    def uses_server(self) -> bool:
        """Whether Chroma is reached over HTTP rather than embedded on disk."""
        return self.chroma_host is not None

    @property
    def bm25_dir(self) -> Path:
        """Where saved BM25 indexes go: inside the embedded store, or per server under .rag/."""
        if self.bm25_cache is not None:
            return self.bm25_cache.resolve()
        if self.uses_server:
            return Path(".rag/bm25", f"{self.chroma_host}-{self.chroma_port}").resolve()
        return self.chroma_path.resolve() / "bm25"


def _key_problem(key: str) -> str | None:
    """What makes an API key unsendable in an HTTP header, if anything."""
    if any(c in "\r\n" for c in key):
        return "a line break"
    if any(c in " \t" for c in key):
        return "a space"
    if not key.isascii():
        return "a non-ASCII character (a curly quote, ellipsis or no-break space from copying?)"
    if not key.isprintable():
        return "a control character"
    return None


def _env_name(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    return (
        alias if isinstance(alias, str) else f"{Settings.model_config['env_prefix']}{name}".upper()
    )


ENV_NAMES = {name: _env_name(name) for name in Settings.model_fields}


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = str(err["loc"][0]) if err["loc"] else "?"
        field = next((f for f, env in ENV_NAMES.items() if loc in (f, env, env.lower())), loc)
        value = err.get("input")
        shown = "" if field == "openai_api_key" else f" (got {value!r})"
        lines.append(f"{ENV_NAMES.get(field, loc)}: {err['msg']}{shown}")
    return "; ".join(lines)
