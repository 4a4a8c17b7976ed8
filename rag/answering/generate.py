"""The generative answerer: an OpenAI(-compatible) model answers from numbered sources."""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from openai.types.chat import ChatCompletionMessageParam

from rag.answering import Asked
from rag.answering.messages import build_messages, fit_contexts
from rag.answering.refusal import refuse
from rag.config import Settings
from rag.errors import ProviderError
from rag.history import Message
from rag.prompts import CONFLICT_HINT, REFUSAL
from rag.providers.llm import (
    CONDENSE_MAX_TOKENS,
    Completion,
    Limits,
    OutputFormat,
    chat,
    condense_with_model,
    estimate_cost,
)
from rag.text.tokens import count_tokens
from rag.trust.cite import MarkerRewriter, draft_from_json, strip_controls
from rag.trust.conflicts import SourceConflict, missing_sides, source_conflicts
from rag.trust.verify import Verifier, with_verified
from rag.types import Answer, Usage

if TYPE_CHECKING:
    from openai import OpenAI

# The end of a sentence: its closing punctuation, quotes, and any [n] markers after it.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)]*(?:\s*\[[^\[\]\n]{0,20}\])*(?=\s|$)")


class GenerativeAnswerer:
    """Prompts the model, streams its draft, then verifies its citations."""

    def __init__(self, client: OpenAI, settings: Settings, verifier: Verifier) -> None:
        self._client = client
        self._settings = settings
        self._model = settings.chat_model
        self._budget = settings.max_context_tokens
        self._verifier = verifier
        self.output = OutputFormat()  # what structured output the server takes, once learnt

    def condense(self, question: str, turns: list[Message]) -> tuple[str, Usage | None]:
        """The follow-up `question` rewritten by the model to stand on its own, and the
        tokens that took."""
        limits = Limits.of(self._settings, CONDENSE_MAX_TOKENS)
        search, completion = condense_with_model(self._client, self._model, question, turns, limits)
        return search, completion.usage

    def run(self, answer: Answer, asked: Asked) -> Generator[str, None, Answer]:
        """Yield the model's draft as it streams (when `asked.live`); return the verified
        Answer."""
        started = time.perf_counter()
        question, turns, live = asked.question, asked.turns, asked.live
        fitted = fit_contexts(asked.contexts, question, turns, self._budget)
        disputes = source_conflicts(question, fitted)
        structured = not live and self.output.current is not None
        messages = _with_hint(build_messages(question, fitted, turns, json=structured), disputes)
        completion = Completion()
        answer = answer.model_copy(
            update={"contexts": fitted, "model": self._model, "timings": dict(answer.timings)}
        )
        yield from self._draft(messages, completion, len(fitted), live=live)
        answer.usage = _usage(completion, messages)
        draft = strip_controls("".join(completion.pieces)).strip()
        draft = (None if live else draft_from_json(draft)) or draft
        answer.incomplete, answer.incomplete_reason = self._incomplete(completion, live)
        if answer.incomplete:
            draft = _whole_sentences(draft)  # a cut sentence may say the opposite of its end
        if not draft:
            raise ProviderError(
                f"The model {self._model!r} returned an empty answer. Retry, or check the server."
            )
        if _is_refusal(draft):
            answer = refuse(answer, question, None, fitted, self._verifier.scorer)
        else:
            # The streamed text was the model's draft; the Answer carries the verified one.
            started_verify = time.perf_counter()
            answer = with_verified(answer, question, self._verifier.verify(draft, fitted))
            cited = {int(n) for n in re.findall(r"\[(\d+)\]", draft)}
            extra = [] if answer.conflicts else missing_sides(disputes, cited)
            if extra:  # the model showed one side of a disagreement: add the other
                draft = " ".join([draft, *extra])
                answer = with_verified(answer, question, self._verifier.verify(draft, fitted))
            if not answer.citations:  # nothing the model wrote is supported: never shown
                answer = refuse(answer, question, None, fitted, self._verifier.scorer)
            answer.timings["verify"] = time.perf_counter() - started_verify
        answer.timings["answer"] = time.perf_counter() - started
        answer.usage = self.add_usage(answer.usage, asked.condensing)
        return answer

    def _incomplete(self, completion: Completion, live: bool) -> tuple[bool, str | None]:
        """Whether the draft was cut short, and a sentence saying why."""
        settings = self._settings
        if completion.cut == "deadline":
            return True, (
                f"The answer was cut at RAG_REQUEST_TIMEOUT ({settings.request_timeout:g} s)."
            )
        if completion.cut == "size":
            return True, (
                f"The answer was cut at RAG_MAX_ANSWER_CHARS ({settings.max_answer_chars})."
            )
        if completion.finish_reason == "length":
            return True, f"The model reached RAG_MAX_TOKENS ({settings.max_tokens})."
        if live and completion.finish_reason is None:
            return True, "The provider stopped before the answer was finished."
        return False, None

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
            pieces = chat(
                self._client,
                self._model,
                messages,
                completion,
                Limits.of(self._settings),
                stream=live,
                output=self.output,
            )
            for piece in pieces:
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
        """`usage` plus a condensing call's `extra`, with its estimated cost (a new object)."""
        if usage is None:
            return None
        if extra is not None:
            usage = usage.model_copy(
                update={
                    "prompt_tokens": usage.prompt_tokens + extra.prompt_tokens,
                    "completion_tokens": usage.completion_tokens + extra.completion_tokens,
                    "total_tokens": usage.total_tokens + extra.total_tokens,
                }
            )
        return usage.model_copy(update={"cost_usd": estimate_cost(self._model, usage)})


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


def _whole_sentences(draft: str) -> str:
    """`draft` up to its last finished sentence (and the markers after it), if it has one."""
    ends = list(_SENTENCE_END.finditer(draft))
    return draft[: ends[-1].end()].rstrip() if ends else draft


def _is_refusal(text: str) -> bool:
    head = REFUSAL.rstrip(".").lower()
    return text.strip().lower().startswith(head)
