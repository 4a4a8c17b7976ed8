"""Citation-grounded question answering over a folder of news articles.

>>> from rag import answer
>>> print(answer("Where did Trump hand Putin the letter?"))
"""

from rag.config import Settings
from rag.errors import (
    BadInputError,
    ConfigError,
    IndexNotBuiltError,
    ProviderError,
    RagError,
    StoreError,
)
from rag.filters import Filters
from rag.pipeline import Pipeline, answer, stream_answer
from rag.types import Answer, Citation, Context, Usage

__all__ = [
    "Answer",
    "BadInputError",
    "Citation",
    "ConfigError",
    "Context",
    "Filters",
    "IndexNotBuiltError",
    "Pipeline",
    "ProviderError",
    "RagError",
    "Settings",
    "StoreError",
    "Usage",
    "answer",
    "stream_answer",
]
