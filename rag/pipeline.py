"""The answering pipeline: question → hybrid retrieval → extractive or OpenAI answer, cited."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.cite import MarkerRewriter
from rag.config import Settings
from rag.conflicts import conflict_note, find_conflicts
from rag.corpus import read_text
from rag.embeddings import Embedder, LocalEmbedder, make_embedder
from rag.errors import BadInputError, IndexNotBuiltError, ProviderError, StoreError
from rag.extractive import ExtractiveConfig, SentenceScorer
from rag.filters import Filters
from rag.history import Message, check_history, condense
from rag.lexical import LexicalIndex
from rag.llm import (
    Completion,
    build_messages,
    chat,
    condense_with_model,
    draft_from_json,
    estimate_cost,
    fit_contexts,
    make_client,
)
from rag.prompts import REFUSAL
from rag.retrieve import FusionConfig, HybridRetriever, Stores
from rag.store import (
    describe_location,
    open_client,
    open_collection,
    read_metadatas,
    reopen_client,
)
from rag.tokens import count_tokens, use_vendored_tiktoken_cache
from rag.types import Answer, Context, CorpusInfo, IndexedFile, Usage
from rag.verify import Verified, Verifier, with_markers

MAX_QUESTION_TOKENS = 1000
# "[7]" inside quoted article text is the article's, not a citation: shown as "(7)".
_SOURCE_MARKER = re.compile(r"\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
_PIECE = re.compile(r"\S.*?(?:[.!?…][\"'”’)]*(?:\s+|$)|$)", re.DOTALL)

Stream = Iterator["str | Answer"]


@cache
def _local_embedder() -> LocalEmbedder:
    return LocalEmbedder()  # one ONNX session per process: it is immutable and thread-safe


def build_embedder(settings: Settings, client: Any = None) -> Embedder:
    """The embedder the settings name (the local model is loaded once per process)."""
    if settings.embedding_backend == "local":
        return _local_embedder()
    if client is None:
        client = make_client(settings)
    return make_embedder("openai", client, settings.openai_embedding_model)


class Pipeline:
    """Reusable answering pipeline over one Chroma collection."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder,
        store: ChromaVectorStore,
        sentences: Collection | None = None,
        state: Collection | None = None,
        llm_client: Any = None,
        fusion: FusionConfig | None = None,
        extractive: ExtractiveConfig | None = None,
    ) -> None:
        use_vendored_tiktoken_cache()
        self.settings = settings
        self.mode = settings.resolved_mode
        self.embedder = embedder
        extractive = extractive or ExtractiveConfig(min_support=settings.min_support)
        self.scorer = SentenceScorer(embedder, extractive)
        self.retriever = HybridRetriever(
            store,
            embedder,
            self.scorer,
            sentences,
            fusion,
            location=describe_location(settings),
            lexical=LexicalIndex(store.client, state, settings.bm25_dir),
        )
        self.verifier = Verifier(self.scorer)
        self._llm_client = llm_client
        self._structured = True  # until the server rejects structured output
        self._corpus: tuple[tuple[str, bool], CorpusInfo] | None = None  # (stamp, what it holds)

    def corpus(self) -> CorpusInfo:
        """Files, chunk count and last indexing time of the store.

        Reading every chunk's metadata from Chroma takes 15 s at 100k chunks: the listing comes
        from the BM25 snapshot's records when that matches the store, and is kept until the
        store's generation stamp changes (the chat page asks on every rerun).
        """
        try:
            generation = self.retriever.lexical.stamp()
            if self._corpus is not None and self._corpus[0] == generation:
                return self._corpus[1]
            # The BM25 snapshot keeps what the listing needs of every chunk, when it is current.
            metadatas = self.retriever.lexical.records() or read_metadatas(self.store.client)
        except Exception as exc:
            raise StoreError(f"The {self.retriever.location} failed: {exc}") from None
        files: dict[str, IndexedFile] = {}
        for meta in metadatas:
            name = str(meta["source_file"])
            when = meta.get("indexed_at")
            stamp = dt.datetime.fromtimestamp(float(when), dt.UTC) if when else None
            date = meta.get("date")
            entry = files.setdefault(
                name,
                IndexedFile(
                    source_file=name,
                    title=str(meta.get("title", "")),
                    date=dt.date.fromisoformat(str(date)) if date else None,
                    chunks=0,
                    indexed_at=stamp,
                ),
            )
            entry.chunks += 1
        ordered = sorted(files.values(), key=lambda f: f.source_file)
        stamps = [f.indexed_at for f in ordered if f.indexed_at]
        info = CorpusInfo(
            files=ordered, chunks=len(metadatas), last_indexed=max(stamps, default=None)
        )
        self._corpus = (generation, info)
        return info

    def source_text(self, source_file: str) -> str:
        """The whole text of an indexed article, as citation offsets index it."""
        root = self.settings.corpus_dir.resolve()
        path = (root / source_file).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise BadInputError(f"{source_file!r} is not a file of the corpus folder {root}.")
        return read_text(path)

    @property
    def store(self) -> ChromaVectorStore:
        """The chunk store (reopened from disk if another process rewrote it)."""
        return self.retriever.store

    def refresh(self) -> None:
        """Pick up what an index run changed (the BM25 side is rebuilt)."""
        self.retriever.refresh()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Pipeline:
        """Open the configured store; raises `IndexNotBuiltError` if nothing is indexed yet."""
        settings = settings or Settings.load()
        needs_client = settings.resolved_mode == "openai" or settings.embedding_backend == "openai"
        client = make_client(settings) if needs_client else None
        embedder = build_embedder(settings, client)
        store, sentences, state = _open_stores(
            open_client(settings, create=False), settings, embedder
        )
        pipeline = cls(
            settings,
            embedder=embedder,
            store=store,
            sentences=sentences,
            state=state,
            llm_client=client,
        )
        if not settings.uses_server:
            pipeline.retriever.reopen = pipeline._reopen
        return pipeline

    def _reopen(self) -> Stores:
        return _open_stores(reopen_client(self.settings), self.settings, self.embedder)

    def retrieve(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | dict[str, Any] | None = None,
    ) -> list[Context]:
        """The chunks that best match `question`, best first."""
        return self.retriever.retrieve(
            check_question(question), top_k or self.settings.top_k, Filters.coerce(filters)
        )

    def answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | dict[str, Any] | None = None,
        history: Sequence[Message] | None = None,
        as_of: dt.date | str | None = None,
    ) -> Answer:
        """Answer `question` from the indexed articles, with citations."""
        question = check_question(question)
        turns = check_history(history)
        checked = Filters.coerce(filters, as_of)
        stream = self._stream(question, top_k or self.settings.top_k, checked, turns, live=False)
        return _last_answer(stream)

    def stream_answer(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | dict[str, Any] | None = None,
        history: Sequence[Message] | None = None,
        as_of: dt.date | str | None = None,
    ) -> Stream:
        """Yield the answer's text in pieces, then the finished `Answer`.

        Bad input raises here, before the first piece is asked for.
        """
        question = check_question(question)
        turns = check_history(history)
        checked = Filters.coerce(filters, as_of)
        return self._stream(question, top_k or self.settings.top_k, checked, turns, live=True)

    def _stream(
        self,
        question: str,
        top_k: int,
        filters: Filters | None,
        turns: list[Message],
        *,
        live: bool,
    ) -> Stream:
        started = time.perf_counter()
        condensing = Completion()
        search = self._standalone(question, turns, condensing)
        vector = self.retriever.embed_query(search)
        contexts = self.retriever.retrieve(search, top_k, filters, vector)
        answer = Answer(
            question=question,
            text="",
            mode=self.mode,
            rewritten_question=search if search != question else None,
            timings={"retrieve": time.perf_counter() - started},
        )
        if self.mode == "extractive":
            yield from self._extractive(answer, search, vector, contexts)
        else:
            yield from self._generate(answer, question, contexts, turns, live=live)
            answer.usage = _add_usage(answer.usage, condensing.usage, self.settings.chat_model)
        answer.timings["total"] = time.perf_counter() - started
        yield answer

    def _standalone(self, question: str, turns: list[Message], completion: Completion) -> str:
        """The question to search for: a follow-up is rewritten to stand on its own."""
        if not turns:
            return question
        if self.mode == "openai":
            model = self.settings.chat_model
            return condense_with_model(self._llm_client, model, question, turns, completion)
        return condense(question, turns) or question

    def _extractive(
        self, answer: Answer, search: str, vector: np.ndarray, contexts: list[Context]
    ) -> Iterator[str]:
        started = time.perf_counter()
        evidence = self.scorer.select(search, vector, contexts)
        answer.contexts = contexts
        draft = " ".join(
            with_markers(
                _SOURCE_MARKER.sub(r"(\1)", ev.text), f"[{contexts.index(ev.context) + 1}]"
            )
            for ev in evidence
        )
        self._apply(answer, search, self.verifier.verify(draft, contexts))
        if not answer.citations:
            answer.refused, answer.text, answer.unsupported = True, REFUSAL, []
        answer.timings["answer"] = time.perf_counter() - started
        yield from _PIECE.findall(answer.text)

    @staticmethod
    def _apply(answer: Answer, question: str, verified: Verified) -> None:
        answer.text, answer.citations = verified.text, verified.citations
        answer.unsupported, answer.verification = verified.unsupported, verified.report
        answer.conflicts = find_conflicts(question, verified.citations)
        if answer.conflicts:
            answer.text += " " + conflict_note(answer.conflicts, answer.citations)

    def _generate(
        self,
        answer: Answer,
        question: str,
        contexts: list[Context],
        turns: list[Message],
        *,
        live: bool,
    ) -> Iterator[str]:
        started = time.perf_counter()
        fitted = fit_contexts(contexts, question, turns, self.settings.max_context_tokens)
        messages = build_messages(question, fitted, turns)
        rewriter = MarkerRewriter(len(fitted))
        completion = Completion(structured=self._structured)
        answer.contexts, answer.model = fitted, self.settings.chat_model
        model = self.settings.chat_model
        try:
            for piece in chat(self._llm_client, model, messages, completion, stream=live):
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
        self._structured = completion.structured
        answer.usage = completion.usage or Usage(
            prompt_tokens=sum(count_tokens(str(m.get("content", ""))) for m in messages),
            completion_tokens=count_tokens("".join(completion.pieces)),
        )
        if answer.usage.total_tokens == 0:
            answer.usage.total_tokens = answer.usage.prompt_tokens + answer.usage.completion_tokens
        draft = "".join(completion.pieces).strip()
        draft = (None if live else draft_from_json(draft)) or draft
        answer.incomplete = completion.finish_reason == "length" or (
            live and completion.finish_reason is None
        )
        if not draft:
            raise ProviderError(
                f"The model {model!r} returned an empty answer. Retry, or check the server."
            )
        if _is_refusal(draft):
            answer.refused, answer.text, answer.citations = True, REFUSAL, []
        else:
            # The streamed text was the model's draft; the Answer carries the verified one.
            started_verify = time.perf_counter()
            self._apply(answer, question, self.verifier.verify(draft, fitted))
            answer.timings["verify"] = time.perf_counter() - started_verify
        answer.timings["answer"] = time.perf_counter() - started


def _open_stores(chroma: ClientAPI, settings: Settings, embedder: Embedder) -> Stores:
    """The chunk store, sentence collection and generation stamp of the embedding model."""
    collection = open_collection(chroma, settings, embedder, create=False)
    sentences = open_collection(chroma, settings, embedder, create=False, sentences=True)
    try:
        state: Collection | None = open_collection(
            chroma, settings, embedder, create=False, state=True
        )
    except IndexNotBuiltError:  # written before stamps existed: BM25 follows the chunk count
        state = None
    return ChromaVectorStore(chroma_collection=collection), sentences, state


def _add_usage(usage: Usage | None, extra: Usage | None, model: str) -> Usage | None:
    """The answer's token usage with the condensing call's added, and its estimated cost."""
    if usage is None:
        return None
    if extra is not None:
        usage.prompt_tokens += extra.prompt_tokens
        usage.completion_tokens += extra.completion_tokens
        usage.total_tokens += extra.total_tokens
    usage.cost_usd = estimate_cost(model, usage)
    return usage


def _last_answer(stream: Stream) -> Answer:
    final = None
    for item in stream:
        if isinstance(item, Answer):
            final = item
    if final is None:  # pragma: no cover - _stream always ends with the Answer
        raise RuntimeError("the answer stream ended without an Answer")
    return final


def _is_refusal(text: str) -> bool:
    head = REFUSAL.rstrip(".").lower()
    return text.strip().lower().startswith(head)


def check_question(question: object) -> str:
    """The question stripped; a clear error when it is empty, not text, or too long."""
    if not isinstance(question, str):
        raise BadInputError(f"The question must be text, not {type(question).__name__}.")
    cleaned = "".join(ch for ch in question if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise BadInputError("The question is empty. Ask something about the articles.")
    tokens = count_tokens(cleaned)
    if tokens > MAX_QUESTION_TOKENS:
        raise BadInputError(
            f"The question is {tokens} tokens long; the limit is {MAX_QUESTION_TOKENS}. Shorten it."
        )
    return cleaned


_defaults: dict[tuple[str, str], Pipeline] = {}
_defaults_lock = threading.Lock()


def default_pipeline(settings: Settings | None = None) -> Pipeline:
    """The shared pipeline for `settings` (built on first use, reused after)."""
    settings = settings or Settings.load()
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    key = (settings.model_dump_json(), secret)
    with _defaults_lock:
        if key not in _defaults:
            _defaults[key] = Pipeline.from_settings(settings)
        return _defaults[key]


def answer(
    question: str,
    *,
    top_k: int | None = None,
    filters: Filters | dict[str, Any] | None = None,
    history: Sequence[Message] | None = None,
    as_of: dt.date | str | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer `question` from the indexed articles with the default pipeline."""
    pipeline = default_pipeline(settings)
    return pipeline.answer(question, top_k=top_k, filters=filters, history=history, as_of=as_of)


def stream_answer(
    question: str,
    *,
    top_k: int | None = None,
    filters: Filters | dict[str, Any] | None = None,
    history: Sequence[Message] | None = None,
    as_of: dt.date | str | None = None,
    settings: Settings | None = None,
) -> Stream:
    """Stream the answer's text pieces, then the finished `Answer`."""
    pipeline = default_pipeline(settings)
    return pipeline.stream_answer(
        question, top_k=top_k, filters=filters, history=history, as_of=as_of
    )
