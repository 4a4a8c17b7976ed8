"""The answering pipeline: question → hybrid retrieval → extractive or generative answer, cited.

`Pipeline` wires its collaborators and runs one question through them; each job lives in its
own module: input checks (`rag.checks`), the corpus listing (`rag.store.catalogue`), retrieval
(`rag.retrieval.retrieve`), the offline answerer (`rag.answering.extractive`), the model answerer
(`rag.answering.generate`), citation verification (`rag.trust.verify`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.answering import Answerer, Asked
from rag.answering.extractive import ExtractiveAnswerer
from rag.checks import check_question, check_top_k
from rag.config import Settings
from rag.errors import ConfigError, IndexNotBuiltError, StoreDamagedError
from rag.filters import Filters
from rag.history import Message, check_history
from rag.providers.embeddings import Embedder, build_embedder
from rag.retrieval.retrieve import FusionConfig, HybridRetriever
from rag.retrieval.scoring import ExtractiveConfig, SentenceScorer
from rag.store.catalogue import Catalogue
from rag.store.chroma import (
    Stores,
    describe_location,
    open_client,
    open_collection,
    open_stores,
    reopen_client,
)
from rag.store.integrity import REBUILD_HINT, isolated_problem, probe, run_interrupted
from rag.store.lexical import LexicalIndex
from rag.store.stories import Stories
from rag.trust.verify import Verifier
from rag.types import Answer, Context, CorpusInfo, Stream, Usage

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from openai import OpenAI


class Pipeline:
    """Reusable answering pipeline over one Chroma collection and its companions."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder,
        stores: Stores,
        llm: OpenAI | None = None,
        fusion: FusionConfig | None = None,
        extractive: ExtractiveConfig | None = None,
        reopen: Callable[[], Stores] | None = None,
        texts: Callable[[], Collection | None] | None = None,
    ) -> None:
        """Args:
        stores: the chunk, sentence and generation-stamp collections
            (`rag.store.chroma.open_stores`).
        texts: opens the article records' collection (extracted texts; `rag.store.articles`).
        llm: an OpenAI(-compatible) client (`openai.OpenAI`), used in OpenAI mode.
        reopen: returns the stores read from disk again (embedded mode), for when another
            process rewrote them.
        """
        self.settings = settings
        self.mode = settings.resolved_mode
        self.embedder = embedder
        chunks, sentences, state = stores
        self.scorer = SentenceScorer(
            embedder, extractive or ExtractiveConfig(min_support=settings.min_support)
        )
        location = describe_location(settings)
        lexical = LexicalIndex(chunks, state, settings.bm25_dir)
        self.retriever = HybridRetriever(
            chunks, embedder, self.scorer, sentences, fusion, location, lexical, reopen
        )
        self.verifier = Verifier(self.scorer)
        self.catalogue = Catalogue(settings, lexical, location, texts)
        self._answerer = self._make_answerer(llm)
        self.stories = Stories(texts or (lambda: None), self.catalogue.source_text)

    def _make_answerer(self, llm: OpenAI | None) -> Answerer:
        """The answerer for the settings' answer mode, picked once."""
        if self.mode != "openai":
            return ExtractiveAnswerer(self.scorer, self.verifier)
        from rag.answering.generate import GenerativeAnswerer  # imports openai: only when used

        if llm is None:
            raise ConfigError("OpenAI mode needs a chat client: pass llm= or use from_settings().")
        return GenerativeAnswerer(llm, self.settings, self.verifier)

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        llm: OpenAI | None = None,
    ) -> Pipeline:
        """Open the configured store; raises `IndexNotBuiltError` if nothing is indexed yet.

        Args:
            embedder: the embedder to use (default: the one the settings name).
            llm: an OpenAI(-compatible) client (default: one made from the settings when the
                answer mode or the embedding backend needs it).
        """
        settings = settings or Settings.load()
        needs_llm = settings.resolved_mode == "openai" or settings.embedding_backend == "openai"
        if llm is None and needs_llm:
            from rag.providers.llm import (
                make_client,  # the openai package is only imported when used
            )

            llm = make_client(settings)
        embedder = embedder or build_embedder(settings, llm)
        _check_interrupted(settings)
        clients = [open_client(settings, create=False)]  # the one reads go to, once reopened
        stores = open_stores(clients[0], settings, embedder)
        if not settings.uses_server:  # a store torn by a killed process fails here, not later
            probe(list(stores), describe_location(settings))

        def reopen() -> Stores:
            clients[0] = reopen_client(settings)
            return open_stores(clients[0], settings, embedder)

        reopens = None if settings.uses_server else reopen  # a server sees every writer

        def texts() -> Collection | None:
            try:
                return open_collection(clients[0], settings, embedder, create=False, texts=True)
            except IndexNotBuiltError:  # indexed before article records were kept
                return None

        return cls(settings, embedder=embedder, stores=stores, llm=llm, reopen=reopens, texts=texts)

    @property
    def store(self) -> Collection:
        """The chunk collection (reopened from disk if another process rewrote it)."""
        return self.retriever.store

    def corpus(self) -> CorpusInfo:
        """Files, chunk count and last indexing time of the store."""
        return self.catalogue.corpus()

    def source_text(self, source_file: str, chunk_id: str | None = None) -> str:
        """The whole text of an indexed article, as citation offsets index it (with a
        citation's `chunk_id`: the version it quoted, if the article was corrected since)."""
        return self.catalogue.source_text(source_file, chunk_id)

    def refresh(self) -> None:
        """Pick up what an index run changed (the BM25 side is rebuilt)."""
        self.retriever.refresh()

    def retrieve(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | dict[str, Any] | None = None,
    ) -> list[Context]:
        """The chunks that best match `question`, best first."""
        question = check_question(question)
        count = check_top_k(top_k, self.settings.top_k)
        return self._one_per_story(question, count, Filters.coerce(filters))

    def _one_per_story(
        self, search: str, top_k: int, filters: Filters | None, vector: np.ndarray | None = None
    ) -> list[Context]:
        """The best `top_k` chunks, copies of one story counted once: when copies were dropped,
        retrieval goes deeper to fill the room they left (otherwise it is the plain top k)."""
        found = self.retriever.retrieve(search, top_k, filters, vector)
        contexts = self.stories.one_per_story(found, top_k)
        if len(contexts) == len(found):
            return contexts
        deeper = self.retriever.retrieve(search, 2 * top_k, filters, vector)
        return self.stories.one_per_story(deeper, top_k)

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
        final = None
        for item in self._checked(question, top_k, filters, history, as_of, live=False):
            if isinstance(item, Answer):
                final = item
        if final is None:  # pragma: no cover - the stream always ends with the Answer
            raise RuntimeError("the answer stream ended without an Answer")
        return final

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
        return self._checked(question, top_k, filters, history, as_of, live=True)

    def _checked(
        self,
        question: str,
        top_k: int | None,
        filters: Filters | dict[str, Any] | None,
        history: Sequence[Message] | None,
        as_of: dt.date | str | None,
        *,
        live: bool,
    ) -> Stream:
        """Check every input now, then stream; with `live=False` the draft is not yielded
        piece by piece, but the model gets the very same request either way."""
        question = check_question(question)
        count = check_top_k(top_k, self.settings.top_k)
        turns = check_history(history)
        checked = Filters.coerce(filters, as_of)
        return self._stream(question, count, checked, turns, live=live)

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
        search, condensing = self._standalone(question, turns)
        vector = self.retriever.embed_query(search)
        contexts = self._one_per_story(search, top_k, filters, vector)
        answer = Answer(
            question=question,
            text="",
            mode=self.mode,
            rewritten_question=search if search != question else None,
            timings={"retrieve": time.perf_counter() - started},
        )
        asked = Asked(question, search, vector, contexts, turns, live, condensing)
        answer = yield from self._answerer.run(answer, asked)
        # The files may have changed since they were indexed: offsets follow the file as it is.
        answer.citations = self.stories.with_copies(self.catalogue.current(answer.citations))
        answer.closest = self.catalogue.current(answer.closest)
        answer.contexts = self.catalogue.current_contexts(answer.contexts)
        answer.timings["total"] = time.perf_counter() - started
        yield answer

    def _standalone(self, question: str, turns: list[Message]) -> tuple[str, Usage | None]:
        """The question to search for (a follow-up rewritten to stand on its own), and the
        tokens the model spent rewriting it."""
        if not turns:
            return question, None
        return self._answerer.condense(question, turns)


def _check_interrupted(settings: Settings) -> None:
    """After an index run was killed mid-write, read the store in a child process first: a
    torn HNSW file can crash Chroma (SIGSEGV) instead of raising, and would take the chat's
    whole server down with it."""
    store = settings.chroma_path
    if settings.uses_server or not run_interrupted(store) or not os.access(store, os.W_OK):
        return
    problem = isolated_problem(store)
    if problem is not None:
        location = describe_location(settings)
        raise StoreDamagedError(f"The {location} is damaged ({problem}); {REBUILD_HINT}")
