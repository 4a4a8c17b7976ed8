"""The OpenAI(-compatible) chat call: prompt with numbered sources, stream, count tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from rag.config import Settings
from rag.errors import ConfigError, ProviderError
from rag.history import Message
from rag.prompts import (
    ANSWER_SCHEMA,
    CONDENSE_PROMPT,
    REFUSAL,
    SOURCE_TEMPLATE,
    SYSTEM_PROMPT,
    USER_TEMPLATE,
)
from rag.tokens import count_tokens
from rag.types import Context, Usage


def make_client(settings: Settings) -> openai.OpenAI:
    """An OpenAI client for the settings; retries with backoff honour Retry-After."""
    if settings.openai_api_key is None:
        raise ConfigError(
            "OpenAI mode needs OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server); "
            "set it, or use RAG_ANSWER_MODE=extractive to answer offline."
        )
    return openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.request_timeout,
        max_retries=settings.max_retries,
    )


def fit_contexts(
    contexts: Sequence[Context], question: str, history: Sequence[Message], budget: int
) -> list[Context]:
    """The best-ranked contexts whose prompt fits in `budget` tokens with the rest."""
    used = count_tokens(SYSTEM_PROMPT) + count_tokens(question) + 50
    used += sum(count_tokens(m["content"]) + 4 for m in history)
    kept = []
    for ctx in contexts:
        cost = count_tokens(ctx.text) + 30
        if used + cost > budget:
            break
        kept.append(ctx)
        used += cost
    return kept


def build_messages(
    question: str, contexts: Sequence[Context], history: Sequence[Message]
) -> list[ChatCompletionMessageParam]:
    """System rules, earlier turns, then the numbered sources and the question."""
    sources = "\n\n".join(
        SOURCE_TEMPLATE.format(
            n=i,
            file=_attr(ctx.source_file),
            date=ctx.date.isoformat() if ctx.date else "unknown",
            title=_attr(ctx.title),
            text=ctx.text.replace("</source>", "</ source>"),
        )
        for i, ctx in enumerate(contexts, start=1)
    )
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        *({"role": m["role"], "content": m["content"]} for m in history),
        {"role": "user", "content": USER_TEMPLATE.format(sources=sources, question=question)},
    ]
    return cast(list[ChatCompletionMessageParam], messages)


def _attr(value: str) -> str:
    return value.replace('"', "'").replace("\n", " ")


@dataclass
class Completion:
    """Filled in while a completion streams."""

    usage: Usage | None = None
    finish_reason: str | None = None
    structured: bool = True  # ask for the JSON schema (non-streamed calls only)
    pieces: list[str] = field(default_factory=list)


def chat(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    completion: Completion,
    *,
    stream: bool,
) -> Iterator[str]:
    """Yield the completion's text (in pieces when streaming); usage lands in `completion`."""
    try:
        if stream:
            yield from _streamed(client, model, messages, completion)
        else:
            text = _complete(client, model, messages, completion)
            completion.pieces.append(text)
            yield text
    except (openai.OpenAIError, ValueError) as exc:  # ValueError: a body that is not JSON
        raise ProviderError(describe_provider_error(exc, client)) from None


def _complete(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    completion: Completion,
) -> str:
    """One non-streamed completion; asks for the JSON schema unless the server refused it."""
    extra: dict[str, Any] = {}
    if completion.structured:
        extra["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "cited_answer", "schema": ANSWER_SCHEMA, "strict": True},
        }
    try:
        resp = client.chat.completions.create(
            model=model, messages=messages, temperature=0, **extra
        )
    except openai.BadRequestError:
        if not completion.structured:
            raise
        completion.structured = False  # a server without structured output: use [n] markers
        return _complete(client, model, messages, completion)
    if resp.usage is not None:
        completion.usage = _usage(resp.usage)
    choice = resp.choices[0] if resp.choices else None
    completion.finish_reason = choice.finish_reason if choice else None
    return (choice.message.content if choice else None) or ""


def draft_from_json(text: str) -> str | None:
    """A structured answer as marker text ("sentence [1][2]. ..."); None if `text` is not one."""
    try:
        data = json.loads(text)
        sentences = data["sentences"]
        if data.get("refused"):
            return REFUSAL
        parts = []
        for item in sentences:
            sentence = str(item["text"]).strip()
            sources = [int(s) for s in item.get("sources", [])]
            parts.append(sentence + "".join(f" [{s}]" for s in sources))
        return " ".join(parts)
    except (ValueError, TypeError, KeyError):
        return None


def condense_with_model(
    client: openai.OpenAI,
    model: str,
    question: str,
    history: Sequence[Message],
    completion: Completion,
) -> str:
    """A standalone form of a follow-up question, written by the model."""
    turns = "\n".join(f"{m['role']}: {m['content']}" for m in history[-6:])
    messages = cast(
        list[ChatCompletionMessageParam],
        [
            {"role": "system", "content": CONDENSE_PROMPT},
            {"role": "user", "content": f"Conversation:\n{turns}\n\nLast question: {question}"},
        ],
    )
    completion.structured = False
    try:
        text = _complete(client, model, messages, completion)
    except (openai.OpenAIError, ValueError) as exc:  # ValueError: a body that is not JSON
        raise ProviderError(describe_provider_error(exc, client)) from None
    return " ".join(text.split()) or question


# USD per million tokens (input, output), for the estimate in `Usage.cost_usd`.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


def estimate_cost(model: str, usage: Usage) -> float | None:
    """Estimated USD cost of `usage` on `model`; None for models with no known price."""
    price = PRICES.get(model)
    if price is None:
        return None
    return round((usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1e6, 6)


def _streamed(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    completion: Completion,
) -> Iterator[str]:
    chunks = client.chat.completions.create(
        model=model,
        messages=messages,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in chunks:
        if chunk.usage is not None:
            completion.usage = _usage(chunk.usage)
        for choice in chunk.choices:
            completion.finish_reason = choice.finish_reason or completion.finish_reason
            if choice.delta and choice.delta.content:
                completion.pieces.append(choice.delta.content)
                yield choice.delta.content


def _usage(raw: Any) -> Usage:
    return Usage(
        prompt_tokens=raw.prompt_tokens or 0,
        completion_tokens=raw.completion_tokens or 0,
        total_tokens=raw.total_tokens or 0,
    )


def describe_provider_error(exc: BaseException, client: Any) -> str:
    """One line saying what the provider did and what to try; never the key."""
    where = str(client.base_url).rstrip("/")
    if isinstance(exc, openai.AuthenticationError):
        return f"The provider at {where} rejected the API key (401). Check OPENAI_API_KEY."
    if isinstance(exc, openai.APITimeoutError):
        return f"The provider at {where} timed out. Retry, or raise RAG_REQUEST_TIMEOUT."
    if isinstance(exc, openai.APIConnectionError):
        return f"Cannot reach the provider at {where}. Check OPENAI_BASE_URL and the network."
    if isinstance(exc, openai.RateLimitError):
        return f"The provider at {where} is rate-limiting requests (429), even after retries."
    if isinstance(exc, openai.APIStatusError):
        return f"The provider at {where} answered {exc.status_code}: {_short(exc.message)}"
    if isinstance(exc, ValueError):
        return f"The provider at {where} sent a malformed response: {_short(str(exc))}"
    return f"The provider at {where} failed: {_short(str(exc))}"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
