"""The chat messages of one question: system rules, earlier turns, fenced sources, question.

Articles are untrusted. Each source sits inside `<source …>` … `</source>` tags, and nothing in
an article — its text, title or file name — can open or close such a tag: every tag-like
sequence (`<` or a look-alike before a letter, `/`, `!` or `?`, whatever the case or spacing)
loses its angle bracket, and attribute values lose quotes, angle brackets and line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from openai.types.chat import ChatCompletionMessageParam

from rag.history import Message
from rag.prompts import JSON_INSTRUCTION, SOURCE_TEMPLATE, SYSTEM_PROMPT, USER_TEMPLATE
from rag.text.tokens import count_tokens
from rag.types import Context

# "<" and its look-alikes (full-width, small, mathematical, CJK angle brackets) where a tag
# could start: before a letter, "/", "!" or "?", with any spacing in between.
_TAG_START = re.compile(r"[<\uff1c\ufe64\u2039\u27e8\u3008](?=\s*[/!?A-Za-z])")
_BRACKETS = re.compile(r"[<>\uff1c\uff1e\ufe64\ufe65\u2039\u203a\u27e8\u27e9\u3008\u3009]")


def fit_contexts(
    contexts: Sequence[Context], question: str, history: Sequence[Message], budget: int
) -> list[Context]:
    """The best-ranked contexts whose prompt fits in `budget` tokens with the rest."""
    used = count_tokens(SYSTEM_PROMPT) + count_tokens(JSON_INSTRUCTION)
    used += count_tokens(question) + 50
    used += sum(count_tokens(m["content"]) + 4 for m in history)
    kept = []
    for ctx in contexts:
        cost = count_tokens(ctx.text) + count_tokens(ctx.title) + 40
        if used + cost > budget:
            break
        kept.append(ctx)
        used += cost
    return kept


def build_messages(
    question: str, contexts: Sequence[Context], history: Sequence[Message], *, json: bool = False
) -> list[ChatCompletionMessageParam]:
    """System rules, earlier turns, then the numbered sources and the question.

    Args:
        json: ask for the answer as JSON (for servers that take `json_object` but no schema).
    """
    sources = "\n\n".join(
        SOURCE_TEMPLATE.format(
            n=i,
            file=attribute(ctx.source_file),
            date=ctx.date.isoformat() if ctx.date else "unknown",
            title=attribute(ctx.title),
            text=neutralise(ctx.text),
        )
        for i, ctx in enumerate(contexts, start=1)
    )
    user = USER_TEMPLATE.format(sources=sources, question=question)
    if json:
        user += "\n\n" + JSON_INSTRUCTION
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        *({"role": m["role"], "content": m["content"]} for m in history),
        {"role": "user", "content": user},
    ]
    return cast(list[ChatCompletionMessageParam], messages)


def neutralise(text: str) -> str:
    """Article text that cannot open or close a tag: "<" before a tag becomes "‹"."""
    return _TAG_START.sub("‹", text)


def attribute(value: str) -> str:
    """A value safe inside a double-quoted attribute: no double quotes, angle brackets or
    line breaks."""
    return " ".join(_BRACKETS.sub(" ", value.replace('"', "'")).split())
