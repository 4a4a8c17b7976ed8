"""Token counting with tiktoken, offline: `cl100k_base`'s table ships in `rag/assets`.

The encoding is built from that file directly, so nothing is downloaded, nothing is written
to tiktoken's cache, and no process-wide setting (such as `TIKTOKEN_CACHE_DIR`) is changed.
tiktoken has no call that builds `cl100k_base` from a given file without its cache, so its
split pattern and special tokens are repeated here; `tests/test_assets.py` checks them, and
the tokens, against `tiktoken.get_encoding("cl100k_base")`.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources

import tiktoken

ENCODING_NAME = "cl100k_base"
# What `tiktoken_ext.openai_public.cl100k_base()` loads: its file (shipped as
# rag/assets/cl100k_base.tiktoken), the file's SHA-256, its split pattern and special tokens.
TABLE = "cl100k_base.tiktoken"
URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
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


@cache
def encoding() -> tiktoken.Encoding:
    """The tokenizer used for chunk sizes and prompt budgets."""
    data = resources.files("rag.assets").joinpath(TABLE).read_bytes()
    if hashlib.sha256(data).hexdigest() != _SHA256:  # pragma: no cover - a damaged install
        raise RuntimeError(f"rag/assets/{TABLE} is damaged; reinstall rag-news.")
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
