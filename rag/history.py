"""Chat history: validation, and offline condensing of a follow-up into a standalone question."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.errors import BadInputError
from rag.text.sentences import content_terms

Message = dict[str, str]

# A follow-up opens with a conjunction or leans on a personal pronoun for its subject.
_FOLLOW_UP = re.compile(
    r"^(and|but|also|what about|how about|so)\b|\b(he|she|it|they|him|her|them|his|its)\b",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"\b(?:[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*|\d[\d,.]*)\b")


def check_history(history: Sequence[Any] | None) -> list[Message]:
    """History as a list of {"role": "user"|"assistant", "content": str} messages."""
    if not history:
        return []
    messages: list[Message] = []
    for i, item in enumerate(history):
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            raise BadInputError(
                f"history[{i}] must be a dict with role 'user' or 'assistant' and a content string."
            )
        content = item.get("content")
        if not isinstance(content, str):
            raise BadInputError(f"history[{i}].content must be a string.")
        messages.append({"role": item["role"], "content": content})
    return messages


def condense(question: str, history: Sequence[Message]) -> str | None:
    """A standalone form of a follow-up question, carrying over the previous turn's entities.

    Returns None when the question does not read as a follow-up or there is nothing to add.
    """
    previous = next((m["content"] for m in reversed(history) if m["role"] == "user"), None)
    if previous is None or not _is_follow_up(question):
        return None
    have = content_terms(question)
    found = [m.group(0) for m in _ENTITY.finditer(previous)]
    head = _head_phrase(previous)
    if head and not any(content_terms(head) <= content_terms(e) for e in found):
        found = [e for e in found if not content_terms(e) <= content_terms(head)] + [head]
    carried = [
        phrase
        for phrase in dict.fromkeys(found)
        if not content_terms(phrase) <= have and content_terms(phrase)
    ]
    if not carried:
        return None
    return f"{question.rstrip()} ({', '.join(carried)})"


_WORDS = re.compile(r"[\w’'-]+")


def _head_phrase(question: str) -> str | None:
    """The last content word of a question, with the possessor before it ("Melania's
    letter"): in English the thing a question is about usually closes it."""
    tokens: list[str] = _WORDS.findall(question)
    for i in range(len(tokens) - 1, -1, -1):
        if content_terms(tokens[i]):
            if i > 0 and re.search(r"['’]s$", tokens[i - 1]):
                return f"{tokens[i - 1]} {tokens[i]}"
            return tokens[i]
    return None


def _is_follow_up(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question)) or len(question.split()) <= 4
