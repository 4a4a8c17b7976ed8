"""The chat messages of one question: system rules, earlier turns, fenced sources, question.

Articles are untrusted. Each source sits inside `<source …>` … `</source>` tags, and nothing in
an article — its text, title or file name — can open or close such a tag: every tag-like
sequence (`<` or a look-alike before a letter, `/`, `!` or `?`, whatever the case or spacing)
loses its angle bracket, and attribute values lose quotes, angle brackets and line breaks.

Before that, the text is put in the form a model reads it in (`prompt_text`): HTML entities
decoded (repeatedly: `&amp;lt;` too), NFKC (full-width and other compatibility forms folded),
invisible format characters (zero-width, bidi controls, soft hyphens) removed, so no disguise
of a tag survives; and bracket markers like ours (`[3]`, `[Source 3]`) become `(3)`, so an
article cannot cite for the model. This is for the prompt only: contexts and citations keep
the file's own text and offsets.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from typing import cast

from openai.types.chat import ChatCompletionMessageParam

from rag.history import Message
from rag.prompts import SOURCE_TEMPLATE, SYSTEM_PROMPT, USER_TEMPLATE
from rag.text.tokens import count_tokens
from rag.types import Context

# "<" and its look-alikes (full-width, small, mathematical, CJK angle brackets) where a tag
# could start: before a letter, "/", "!" or "?", with any spacing in between.
_TAG_START = re.compile(r"[<\uff1c\ufe64\u2039\u27e8\u3008](?=\s*[/!?A-Za-z])")
# What a model may read as one of our source markers: "[3]", "[1, 2]", "[Source 3]".
_MARKER_LIKE = re.compile(r"\[(\s*(?:sources?\b\W*)?\d[^\[\]\n]{0,20})\]", re.IGNORECASE)
_ENTITY_START = re.compile(r"&(?=#?[A-Za-z0-9])")
_DECODE_ROUNDS = 8
_BRACKETS = re.compile(r"[<>\uff1c\uff1e\ufe64\ufe65\u2039\u203a\u27e8\u27e9\u3008\u3009]")


def fit_contexts(
    contexts: Sequence[Context], question: str, history: Sequence[Message], budget: int
) -> list[Context]:
    """The best-ranked contexts whose prompt fits in `budget` tokens with the rest."""
    used = count_tokens(SYSTEM_PROMPT)
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
    question: str, contexts: Sequence[Context], history: Sequence[Message]
) -> list[ChatCompletionMessageParam]:
    """System rules, earlier turns, then the numbered sources and the question: the one
    request every surface sends (plain text with `[n]` markers, streamed or not)."""
    sources = "\n\n".join(
        SOURCE_TEMPLATE.format(
            n=i,
            file=attribute(ctx.source_file),
            date=ctx.date.isoformat() if ctx.date else "unknown",
            title=attribute(prompt_text(ctx.title)),
            text=neutralise(prompt_text(ctx.text)),
        )
        for i, ctx in enumerate(contexts, start=1)
    )
    user = USER_TEMPLATE.format(sources=sources, question=question)
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        *({"role": m["role"], "content": m["content"]} for m in history),
        {"role": "user", "content": user},
    ]
    return cast(list[ChatCompletionMessageParam], messages)


def prompt_text(text: str) -> str:
    """Article text as a model reads it, disguises undone, with marker-like brackets made
    parentheses; `neutralise` then removes what could open or close a tag."""
    for _ in range(_DECODE_ROUNDS):
        plain = "".join(c for c in text if unicodedata.category(c) != "Cf")
        decoded = html.unescape(unicodedata.normalize("NFKC", plain))
        if decoded == text:
            break
        text = decoded
    else:  # entities nested deeper than the rounds: break what is left of them
        if html.unescape(text) != text:
            text = _ENTITY_START.sub("& ", text)
    return _MARKER_LIKE.sub(r"(\1)", text)


def neutralise(text: str) -> str:
    """Article text that cannot open or close a tag: "<" before a tag becomes "‹"."""
    return _TAG_START.sub("‹", text)


def attribute(value: str) -> str:
    """A value safe inside a double-quoted attribute: no double quotes, angle brackets or
    line breaks."""
    return " ".join(_BRACKETS.sub(" ", value.replace('"', "'")).split())
