"""Token counting with tiktoken, offline: llama-index ships the encoding files it needs.

The encoding is built from llama-index's vendored copy of `cl100k_base` directly, so nothing
is downloaded and no process-wide setting (such as `TIKTOKEN_CACHE_DIR`) is changed.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
from functools import cache
from pathlib import Path

import tiktoken

ENCODING_NAME = "cl100k_base"
# What `tiktoken_ext.openai_public.cl100k_base()` loads: its file's URL (tiktoken's cache names
# the file by the URL's SHA-1), the file's SHA-256, its split pattern and special tokens.
_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_SPECIAL = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


def vendored_data(*parts: str) -> Path:
    """A path inside llama-index's `_static` data folder, found without importing llama-index."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise RuntimeError("llama-index-core is not installed: pip install llama-index-core")
    return Path(next(iter(spec.submodule_search_locations)), "_static", *parts)


@cache
def encoding() -> tiktoken.Encoding:
    """The tokenizer used for chunk sizes and prompt budgets."""
    path = vendored_data("tiktoken_cache", hashlib.sha1(_URL.encode()).hexdigest())
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != _SHA256:  # pragma: no cover - a damaged install
        raise RuntimeError(f"{path} is damaged; reinstall llama-index-core.")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in data.splitlines() if line)
    }
    return tiktoken.Encoding(
        name=ENCODING_NAME, pat_str=_PATTERN, mergeable_ranks=ranks, special_tokens=_SPECIAL
    )


def count_tokens(text: str) -> int:
    """Number of tokens `text` takes in prompts."""
    return len(encoding().encode(text, disallowed_special=()))
