"""`answer()`, `stream_answer()` and `article_text()` for scripts: one shared `Pipeline` per
settings."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

from rag.config import Settings
from rag.filters import Filters
from rag.history import Message
from rag.pipeline import Pipeline
from rag.types import Answer, Stream

_defaults: dict[tuple[str, str], Pipeline] = {}
_defaults_lock = threading.Lock()


def default_pipeline(settings: Settings | None = None) -> Pipeline:
    """The shared pipeline for `settings` (built on first use, reused after)."""
    settings = settings or Settings.load()
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    key = (settings.model_dump_json(), secret)
    with _defaults_lock:
        if key not in _defaults:
            _defaults[key] = Pipeline.from_settings(settings)
        return _defaults[key]


def answer(
    question: str,
    *,
    top_k: int | None = None,
    filters: Filters | dict[str, Any] | None = None,
    history: Sequence[Message] | None = None,
    as_of: dt.date | str | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer `question` from the indexed articles with the default pipeline."""
    pipeline = default_pipeline(settings)
    return pipeline.answer(question, top_k=top_k, filters=filters, history=history, as_of=as_of)


def stream_answer(
    question: str,
    *,
    top_k: int | None = None,
    filters: Filters | dict[str, Any] | None = None,
    history: Sequence[Message] | None = None,
    as_of: dt.date | str | None = None,
    settings: Settings | None = None,
) -> Stream:
    """Stream the answer's text pieces, then the finished `Answer`."""
    pipeline = default_pipeline(settings)
    return pipeline.stream_answer(
        question, top_k=top_k, filters=filters, history=history, as_of=as_of
    )


def article_text(source: str, *, settings: Settings | None = None) -> str:
    """The text citations of `source` index into: `quote == article_text(source)[start:end]`.

    For a page, PDF, Word file, feed entry or JSON object it is the text extracted when it was
    indexed (kept with the index); for a .txt or .md file, the file's text.
    """
    return default_pipeline(settings).source_text(source)
