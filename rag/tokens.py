"""Token counting with tiktoken, offline: llama-index ships the encodings it needs."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import tiktoken

ENCODING_NAME = "cl100k_base"


def use_vendored_tiktoken_cache() -> None:
    """Point tiktoken at llama-index's vendored encodings unless the user chose a cache."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    import llama_index.core

    vendored = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(vendored)


@cache
def encoding() -> tiktoken.Encoding:
    """The tokenizer used for chunk sizes and prompt budgets."""
    use_vendored_tiktoken_cache()
    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    """Number of tokens `text` takes in prompts."""
    return len(encoding().encode(text, disallowed_special=()))
