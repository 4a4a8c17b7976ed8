"""Citation-grounded question answering over a folder of news articles.

>>> from rag import answer
>>> print(answer("Where did Trump hand Putin the letter?"))

Names are imported on first use, so `import rag` stays cheap for commands that need little.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.errors import (
        BadInputError,
        ConfigError,
        IndexNotBuiltError,
        ProviderError,
        RagError,
        StoreDamagedError,
        StoreError,
    )
    from rag.facade import answer, article_text, stream_answer
    from rag.filters import Filters
    from rag.history import Message
    from rag.pipeline import Pipeline
    from rag.types import (
        Answer,
        Citation,
        Conflict,
        ConflictSide,
        Context,
        CorpusInfo,
        IndexedFile,
        Stream,
        Usage,
        Verification,
    )

# Each public name and the module that defines it.
_HOMES = {
    "Answer": "rag.types",
    "BadInputError": "rag.errors",
    "Citation": "rag.types",
    "ConfigError": "rag.errors",
    "Conflict": "rag.types",
    "ConflictSide": "rag.types",
    "Context": "rag.types",
    "CorpusInfo": "rag.types",
    "Filters": "rag.filters",
    "IndexNotBuiltError": "rag.errors",
    "IndexedFile": "rag.types",
    "Message": "rag.history",
    "Pipeline": "rag.pipeline",
    "ProviderError": "rag.errors",
    "RagError": "rag.errors",
    "Settings": "rag.config",
    "StoreDamagedError": "rag.errors",
    "StoreError": "rag.errors",
    "Stream": "rag.types",
    "Usage": "rag.types",
    "Verification": "rag.types",
    "answer": "rag.facade",
    "article_text": "rag.facade",
    "stream_answer": "rag.facade",
}

__all__ = [
    "Answer",
    "BadInputError",
    "Citation",
    "ConfigError",
    "Conflict",
    "ConflictSide",
    "Context",
    "CorpusInfo",
    "Filters",
    "IndexNotBuiltError",
    "IndexedFile",
    "Message",
    "Pipeline",
    "ProviderError",
    "RagError",
    "Settings",
    "StoreDamagedError",
    "StoreError",
    "Stream",
    "Usage",
    "Verification",
    "answer",
    "article_text",
    "stream_answer",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
