"""Input checks at the API boundary: every bad argument is a `BadInputError` saying what to do."""

from __future__ import annotations

from rag.errors import BadInputError
from rag.text.tokens import count_tokens

MAX_QUESTION_TOKENS = 1000
MAX_TOP_K = 50


def check_question(question: object) -> str:
    """The question stripped; a clear error when it is empty, not text, or too long."""
    if not isinstance(question, str):
        raise BadInputError(f"The question must be text, not {type(question).__name__}.")
    cleaned = "".join(ch for ch in question if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise BadInputError("The question is empty. Ask something about the articles.")
    # A byte-level BPE token covers at least one UTF-8 byte: a short question needs no count
    # (and a cold start need not build the tokenizer's 100k-entry table).
    short = len(cleaned.encode("utf-8")) <= MAX_QUESTION_TOKENS
    tokens = 0 if short else count_tokens(cleaned)
    if tokens > MAX_QUESTION_TOKENS:
        raise BadInputError(
            f"The question is {tokens} tokens long; the limit is {MAX_QUESTION_TOKENS}. Shorten it."
        )
    return cleaned


def check_top_k(top_k: object, default: int) -> int:
    """`top_k` as a whole number of sources from 1 to 50 (`default` when None)."""
    if top_k is None:
        return default
    # bool is an int subclass; "5" and 2.5 are not counts either.
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise BadInputError(
            f"top_k must be a whole number from 1 to {MAX_TOP_K}, not {top_k!r} "
            f"({type(top_k).__name__})."
        )
    if not 1 <= top_k <= MAX_TOP_K:
        raise BadInputError(f"top_k must be from 1 to {MAX_TOP_K}; got {top_k}.")
    return top_k
