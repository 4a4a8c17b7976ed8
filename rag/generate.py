"""The generative answerer: an OpenAI(-compatible) model answers from numbered sources."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from openai.types.chat import ChatCompletionMessageParam

from rag.cite import MarkerRewriter
from rag.config import Settings
from rag.conflicts import SourceConflict, missing_sides, source_conflicts
from rag.errors import ProviderError
from rag.history import Message
from rag.llm import (
    Completion,
    build_messages,
    chat,
    condense_with_model,
    draft_from_json,
    estimate_cost,
    fit_contexts,
)
from rag.prompts import CONFLICT_HINT, REFUSAL
from rag.refusal import refuse
from rag.tokens import count_tokens
from rag.types import Answer, Context, Usage
from rag.verify import Verifier, apply_verified


class GenerativeAnswerer:
    """Prompts the model, streams its draft, then verifies its citations."""

    def __init__(self, client: Any, settings: Settings, verifier: Verifier) -> None:
        self._client = client
        self._model = settings.chat_model
        self._budget = settings.max_context_tokens
        self._verifier = verifier
        self._structured = True  # until the server rejects structured output

    def condense(self, question: str, turns: list[Message]) -> tuple[str, Usage | None]:
        """The follow-up `question` rewritten by the model to stand on its own, and the
        tokens that took."""
        completion = Completion()
        search = condense_with_model(self._client, self._model, question, turns, completion)
        return search, completion.usage

    def run(
        self,
        answer: Answer,
        question: str,
        contexts: list[Context],
        turns: list[Message],
        *,
        live: bool,
    ) -> Iterator[str]:
        """Fill `answer`; yield the model's draft as it streams (when `live`)."""
        started = time.perf_counter()
        fitted = fit_contexts(contexts, question, turns, self._budget)
        disputes = source_conflicts(question, fitted)
        messages = _with_hint(build_messages(question, fitted, turns), disputes)
        completion = Completion(structured=self._structured)
        answer.contexts, answer.model = fitted, self._model
        yield from self._draft(messages, completion, len(fitted), live=live)
        self._structured = completion.structured
        answer.usage = _usage(completion, messages)
        draft = "".join(completion.pieces).strip()
        draft = (None if live else draft_from_json(draft)) or draft
        answer.incomplete = completion.finish_reason == "length" or (
            live and completion.finish_reason is None
        )
        if not draft:
            raise ProviderError(
                f"The model {self._model!r} returned an empty answer. Retry, or check the server."
            )
        if _is_refusal(draft):
            answer.refused, answer.text, answer.citations = True, REFUSAL, []
        else:
            # The streamed text was the model's draft; the Answer carries the verified one.
            started_verify = time.perf_counter()
            apply_verified(answer, question, self._verifier.verify(draft, fitted))
            cited = {int(n) for n in re.findall(r"\[(\d+)\]", draft)}
            extra = [] if answer.conflicts else missing_sides(disputes, cited)
            if extra:  # the model showed one side of a disagreement: add the other
                draft = " ".join([draft, *extra])
                apply_verified(answer, question, self._verifier.verify(draft, fitted))
            if not answer.citations:  # nothing the model said is supported: a refusal
                refuse(answer, question, None, fitted, self._verifier.scorer)
            answer.timings["verify"] = time.perf_counter() - started_verify
        answer.timings["answer"] = time.perf_counter() - started

    def _draft(
        self,
        messages: list[ChatCompletionMessageParam],
        completion: Completion,
        sources: int,
        *,
        live: bool,
    ) -> Iterator[str]:
        rewriter = MarkerRewriter(sources)
        try:
            for piece in chat(self._client, self._model, messages, completion, stream=live):
                shown = rewriter.feed(piece) if live else ""
                if shown:
                    yield shown
        except ProviderError:
            if not (live and completion.pieces):
                raise
            completion.finish_reason = None  # cut midway: keep what arrived, marked incomplete
        tail = rewriter.finish() if live else ""
        if tail:
            yield tail

    def add_usage(self, usage: Usage | None, extra: Usage | None) -> Usage | None:
        """`usage` with a condensing call's `extra` added, and its estimated cost."""
        if usage is None:
            return None
        if extra is not None:
            usage.prompt_tokens += extra.prompt_tokens
            usage.completion_tokens += extra.completion_tokens
            usage.total_tokens += extra.total_tokens
        usage.cost_usd = estimate_cost(self._model, usage)
        return usage


def _usage(completion: Completion, messages: list[ChatCompletionMessageParam]) -> Usage:
    """What the provider reported, or a tiktoken count when it reported nothing."""
    usage = completion.usage or Usage(
        prompt_tokens=sum(count_tokens(str(m.get("content", ""))) for m in messages),
        completion_tokens=count_tokens("".join(completion.pieces)),
    )
    if usage.total_tokens == 0:
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    return usage


def _with_hint(
    messages: list[ChatCompletionMessageParam], disputes: list[SourceConflict]
) -> list[ChatCompletionMessageParam]:
    """`messages` with the sources' disagreements named at the end of the user message."""
    if not disputes or messages[-1]["role"] != "user":
        return messages
    pairs = "; ".join(
        f'[{d.first}] says "{d.values[0]}", [{d.second}] says "{d.values[1]}"' for d in disputes
    )
    last = dict(messages[-1])
    last["content"] = f"{last['content']}\n\n{CONFLICT_HINT.format(pairs=pairs)}"
    return [*messages[:-1], last]  # type: ignore[list-item]


def _is_refusal(text: str) -> bool:
    head = REFUSAL.rstrip(".").lower()
    return text.strip().lower().startswith(head)
