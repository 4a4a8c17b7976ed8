"""Errors the library raises, each with a message that says what to do next.

RagError
├── ConfigError          a setting is missing or malformed
├── BadInputError        a question, filter or file the caller passed is unusable
├── IndexNotBuiltError   no index exists yet for these settings
├── StoreError           the Chroma store cannot be reached or read
│   └── StoreDamagedError  the embedded store's files are damaged: rebuild it
└── ProviderError        the OpenAI(-compatible) provider failed after retries
"""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(RagError):
    """A setting is missing or malformed."""


class BadInputError(RagError):
    """An argument (question, filter, file) cannot be used as given."""


class IndexNotBuiltError(RagError):
    """No index exists yet for the configured store and embedding model."""


class StoreError(RagError):
    """The vector store cannot be reached or read."""


class ProviderError(RagError):
    """The language-model or embedding provider failed after retries."""


class StoreDamagedError(StoreError):
    """The embedded store cannot be read as it is on disk: rebuild it from the articles."""
