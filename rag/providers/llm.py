"""The OpenAI(-compatible) chat call: bounded requests, structured output where the server
takes it, token usage and readable provider errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from rag.config import Settings
from rag.errors import ConfigError, ProviderError
from rag.history import Message
from rag.prompts import ANSWER_SCHEMA, CONDENSE_PROMPT
from rag.providers.wire import Completion, Deadline, Emit, bounded, read_body, read_stream
from rag.types import Usage

__all__ = ["Completion", "Deadline", "Limits", "OutputFormat", "chat", "make_client"]

CONDENSE_MAX_TOKENS = 128
# Bytes of body or of one stream event accepted per character of answer allowed: JSON escapes
# and a structured answer's keys take room, SSE events carry ~200 bytes of envelope each.
BYTES_PER_CHAR = 8
BYTES_OVERHEAD = 65_536
# Words in an error message that say a server refused the requested output format.
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar", "format")


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


@dataclass(frozen=True)
class Limits:
    """What bounds one call: its deadline, the tokens asked for, the text accepted."""

    deadline: Deadline
    max_tokens: int
    max_chars: int

    @classmethod
    def of(cls, settings: Settings, max_tokens: int | None = None) -> Limits:
        """The limits of one call made now under `settings`."""
        return cls(
            Deadline(settings.request_timeout),
            max_tokens or settings.max_tokens,
            settings.max_answer_chars,
        )


class OutputFormat:
    """Which structured output the server takes, learnt from its first refusals and kept.

    The ladder is a JSON schema, then plain JSON mode (with the schema, which llama.cpp turns
    into a grammar and others ignore), then none: `[n]` markers in text.
    """

    LADDER: tuple[str | None, ...] = ("json_schema", "json_object", None)

    def __init__(self) -> None:
        self._step = 0
        self.confirmed = False  # a request in the current format has succeeded
        self._lock = threading.Lock()

    @property
    def current(self) -> str | None:
        """The format to ask for next (None: plain text)."""
        return self.LADDER[self._step]

    def reject(self, kind: str) -> None:
        """The server refused `kind`: step below it, for this and every later call."""
        with self._lock:
            if self.LADDER[self._step] == kind and self._step < len(self.LADDER) - 1:
                self._step += 1
                self.confirmed = False


def response_format(kind: str | None, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The `response_format` request field for `kind`."""
    if kind == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "cited_answer", "schema": schema, "strict": True},
        }
    if kind == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


def chat(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    completion: Completion,
    limits: Limits,
    *,
    stream: bool,
    output: OutputFormat | None = None,
    schema: dict[str, Any] = ANSWER_SCHEMA,
) -> Iterator[str]:
    """Yield the completion's text (in pieces when streaming) within `limits`; usage, finish
    reason and any cut land in `completion`. Structured output (`output`, non-streamed only)
    steps down whenever the server refuses the format asked for."""
    kind = output.current if output is not None and not stream else None
    # A format not yet seen to work is tried without retries: llama.cpp refuses a JSON schema
    # with a 500, which the client would otherwise retry with backoff.
    probing = kind is not None and output is not None and not output.confirmed
    retries: int | None = 0 if probing else None
    while True:
        try:
            yield from _bounded_call(
                client, model, messages, completion, limits, stream, kind, schema, retries
            )
        except openai.APIStatusError as exc:
            if kind is not None and output is not None and _refuses_format(exc):
                output.reject(kind)
                kind = output.current
                probing = kind is not None
                retries = 0 if probing else None
                continue
            if probing and client.max_retries > 0 and _retryable(exc):
                probing, retries = False, client.max_retries - 1  # what the probe went without
                continue
            raise ProviderError(describe_provider_error(exc, client)) from None
        except openai.APIConnectionError as exc:
            if probing and client.max_retries > 0:
                probing, retries = False, client.max_retries - 1
                continue
            raise ProviderError(describe_provider_error(exc, client)) from None
        except Exception as exc:  # a malformed body; httpx errors while reading the stream
            raise ProviderError(describe_provider_error(exc, client)) from None
        if output is not None and kind is not None:
            output.confirmed = True
        if completion.cut == "deadline" and not completion.pieces:
            raise ProviderError(
                f"The provider at {_where(client)} timed out: no answer within "
                f"RAG_REQUEST_TIMEOUT ({limits.deadline.seconds:g} s). Retry, or raise it."
            )
        return


def _retryable(exc: openai.APIStatusError) -> bool:
    return exc.status_code >= 500 or exc.status_code in (408, 409, 429)


def _bounded_call(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    completion: Completion,
    limits: Limits,
    stream: bool,
    kind: str | None,
    schema: dict[str, Any],
    retries: int | None,
) -> Iterator[str]:
    """One request (with `retries`, or the client's), read in a worker thread under the
    call's deadline and size cap."""
    cap = limits.max_chars * BYTES_PER_CHAR + BYTES_OVERHEAD
    params: dict[str, Any] = {"model": model, "messages": messages, "temperature": 0}
    params["max_tokens"] = limits.max_tokens
    if stream:
        params.update(stream=True, stream_options={"include_usage": True})
    fmt = response_format(kind, schema)
    if fmt is not None:
        params["response_format"] = fmt
    caller = client if retries is None else client.with_options(max_retries=retries)

    def work(emit: Emit, stop: threading.Event) -> None:
        # Each attempt may take at most what is left; the caller stops waiting at the deadline.
        timeout = max(limits.deadline.remaining(), 0.01)
        with caller.chat.completions.with_streaming_response.create(
            **params, timeout=timeout
        ) as response:
            reader = read_stream if stream else read_body
            reader(response.iter_bytes(), emit, stop, completion, cap)

    return bounded(work, limits.deadline, limits.max_chars, completion)


def _refuses_format(exc: openai.APIStatusError) -> bool:
    """Whether an error answers the requested output format rather than the request."""
    if exc.status_code in (401, 403, 404, 408, 409, 429):
        return False
    if exc.status_code in (400, 422):
        return True
    message = f"{exc.message} {exc.body}".lower()
    return any(word in message for word in _FORMAT_WORDS)


def complete(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    limits: Limits,
    *,
    output: OutputFormat | None = None,
    schema: dict[str, Any] = ANSWER_SCHEMA,
) -> tuple[str, Completion]:
    """The whole text of one non-streamed completion, and what arrived with it."""
    completion = Completion()
    text = "".join(
        chat(
            client, model, messages, completion, limits, stream=False, output=output, schema=schema
        )
    )
    return text, completion


def condense_with_model(
    client: openai.OpenAI, model: str, question: str, history: Sequence[Message], limits: Limits
) -> tuple[str, Completion]:
    """A standalone form of a follow-up question, written by the model, and its usage."""
    turns = "\n".join(f"{m['role']}: {m['content']}" for m in history[-6:])
    messages = cast(
        list[ChatCompletionMessageParam],
        [
            {"role": "system", "content": CONDENSE_PROMPT},
            {"role": "user", "content": f"Conversation:\n{turns}\n\nLast question: {question}"},
        ],
    )
    text, completion = complete(client, model, messages, limits)
    return " ".join(text.split()) or question, completion


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


def _where(client: openai.OpenAI) -> str:
    return str(client.base_url).rstrip("/")


def describe_provider_error(exc: BaseException, client: openai.OpenAI) -> str:
    """One line saying what the provider did and what to try; never the key."""
    where = _where(client)
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
    if "timeout" in type(exc).__name__.lower():
        return f"The provider at {where} timed out. Retry, or raise RAG_REQUEST_TIMEOUT."
    return f"The provider at {where} failed: {_short(str(exc))}"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
