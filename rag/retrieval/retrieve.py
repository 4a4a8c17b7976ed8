"""Hybrid retrieval: three candidate lists, fused by weighted RRF, then reranked by sentence.

1. dense chunks (Chroma), 2. BM25 chunks (llama-index), 3. dense sentences (Chroma, the
index stores a vector per sentence), each sentence voting for its chunk. The fused top
candidates are then reranked by their best sentence's support for the question (the same
score the extractive answerer uses), blended with the normalised fusion score.

The BM25 index is built from the chunks in the store itself, so it always matches what
the dense side can return (embedded or server mode alike); `rag.store.lexical` keeps it in step
with the store's generation stamp and saves it on disk for the next process.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from chromadb.api.models.Collection import Collection

from rag.errors import RagError, StoreDamagedError, StoreError
from rag.filters import Filters
from rag.providers.embeddings import Embedder
from rag.retrieval.scoring import SentenceScorer
from rag.store.chroma import Stores
from rag.store.integrity import damaged
from rag.store.lexical import LexicalIndex, Snapshot
from rag.text.sentences import sentence_spans
from rag.types import Context

log = logging.getLogger(__name__)


# Share of the chunks a filter must let through to be applied after an unfiltered search.
BROAD_FILTER = 0.05


@dataclass(frozen=True)
class FusionConfig:
    """How candidates are gathered, fused and reranked."""

    candidates: int = 30  # depth taken from each chunk-level side before fusion
    sentence_candidates: int = 0  # sentences taken from the sentence side (0: off)
    rrf_k: int = 60
    dense_weight: float = 0.5
    bm25_weight: float = 1.0
    sentence_weight: float = 0.0
    rerank_depth: int = 20  # fused candidates reranked by sentence support (0: no rerank)
    fusion_share: float = 0.5  # weight of the normalised fusion score in the reranked score


class HybridRetriever:
    """Dense + BM25 + sentence retrieval over one Chroma store, fused and reranked."""

    def __init__(
        self,
        chunks: Collection,
        embedder: Embedder,
        scorer: SentenceScorer,
        sentences: Collection | None = None,
        fusion: FusionConfig | None = None,
        location: str = "Chroma store",
        lexical: LexicalIndex | None = None,
        reopen: Callable[[], Stores] | None = None,
    ) -> None:
        """Args:
        reopen: opens the store from disk again (embedded mode), for when another process
            rewrote it; None where a store server sees every writer's changes.
        """
        self.location = location
        self._store = chunks
        self._embedder = embedder
        self._scorer = scorer
        self._sentences = sentences
        self.fusion = fusion or FusionConfig()
        self.lexical = lexical or LexicalIndex(chunks)
        self._lock = threading.Lock()
        self._reopen = reopen

    @property
    def store(self) -> Collection:
        """The chunk collection queries go to (replaced when the store is reopened)."""
        return self._store

    def refresh(self) -> None:
        """Bring the BM25 side in line with the store now, not at the next query."""
        self.lexical.invalidate()
        self.lexical.current()

    def embed_query(self, question: str) -> np.ndarray:
        """The question's unit vector."""
        vector: np.ndarray = self._embedder.embed([question])[0]
        return vector

    def retrieve(
        self,
        question: str,
        top_k: int,
        filters: Filters | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Context]:
        """The `top_k` best chunks for `question`, best first."""
        vector = self.embed_query(question) if query_vector is None else query_vector
        try:
            return self._retrieve(question, top_k, filters, vector)
        except RagError:
            raise
        except Exception:  # e.g. chunks deleted by an index run between two of our reads
            with self._lock:
                self.lexical.invalidate()
                if self._reopen is not None:  # another process may have rewritten the store
                    self._store, self._sentences, state = self._reopen()
                    self.lexical.rebind(self._store, state)
        try:
            return self._retrieve(question, top_k, filters, vector)
        except RagError:
            raise
        except Exception as exc:  # the store's client errors are not part of its API
            if self._reopen is None:  # a server
                raise StoreError(
                    f"The {self.location} failed: {str(exc).splitlines()[0]}. Check that it "
                    "is running; the next question tries again."
                ) from None
            raise StoreDamagedError(damaged(self.location, "a query", exc)) from None

    def _retrieve(
        self, question: str, top_k: int, filters: Filters | None, vector: np.ndarray
    ) -> list[Context]:
        depth = max(self.fusion.candidates, top_k)
        filters = None if filters is None or filters.is_empty() else filters
        where = filters.to_chroma_where() if filters else None
        # Every side names chunks by id; only the fused head is read from the store, so a
        # BM25 index older than the store can never put outdated text in a context.
        snapshot = self.lexical.current()  # one stamp check per query serves both sides
        ranked: list[tuple[Sequence[str], float]] = [
            (self._dense(vector, depth, filters, snapshot), self.fusion.dense_weight),
            (
                snapshot.search(question, depth, filters) if snapshot else [],
                self.fusion.bm25_weight,
            ),
            (self._sentence_votes(vector, where), self.fusion.sentence_weight),
        ]
        fused, counts = self._fuse(ranked, limit=max(self.fusion.rerank_depth, top_k))
        if self.fusion.rerank_depth:
            head = self._rerank(question, vector, fused[: self.fusion.rerank_depth], counts)
            fused = head + fused[self.fusion.rerank_depth :]
        return fused[:top_k]

    def _dense(
        self,
        vector: np.ndarray,
        depth: int,
        filters: Filters | None,
        snapshot: Snapshot | None = None,
    ) -> list[str]:
        """Ids of the `depth` chunks nearest to `vector` that pass `filters`, nearest first.

        Chroma evaluates a `where` clause over every matching record (74 ms for a filter
        matching 60% of 10k chunks, against 1 ms unfiltered), so a filter that lets through
        a fair share of the chunks is applied to an unfiltered, deeper nearest-neighbour list
        instead, using the files and dates the BM25 snapshot holds for every chunk.
        """
        query = self._store.query
        if filters is None:
            got = query(query_embeddings=[vector.tolist()], n_results=depth, include=[])
            return list(got["ids"][0])
        share = float(filters.mask(snapshot.sources, snapshot.dates).mean()) if snapshot else 0.0
        if snapshot is not None and share >= BROAD_FILTER:
            reach = min(len(snapshot.ids), math.ceil(2 * depth / share))
            got = query(query_embeddings=[vector.tolist()], n_results=reach, include=[])
            ids: list[str] = list(got["ids"][0])
            passed = self._passing(ids, filters, snapshot)
            seen_all = len(ids) < reach or reach == len(snapshot.ids)
            if len(passed) >= depth or seen_all:
                return passed[:depth]
        where = filters.to_chroma_where()
        got = query(query_embeddings=[vector.tolist()], n_results=depth, where=where, include=[])
        return list(got["ids"][0])

    def _passing(self, ids: list[str], filters: Filters, snapshot: Snapshot) -> list[str]:
        """Those of `ids` that pass `filters` (chunks newer than the snapshot are looked up)."""
        known = {
            i: (str(snapshot.sources[row]), int(snapshot.dates[row]))
            for i in ids
            if (row := snapshot.rows.get(i)) is not None
        }
        unknown = [i for i in ids if i not in known]
        if unknown:
            got = self._store.get(ids=unknown, include=["metadatas"])
            for i, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                known[i] = (str(meta.get("source_file", "")), int(str(meta.get("date_int", 0))))
        listed = [i for i in ids if i in known]  # a chunk deleted since the search is dropped
        keep = filters.mask(
            np.array([known[i][0] for i in listed], dtype=str),
            np.array([known[i][1] for i in listed], dtype=np.int64),
        )
        return [i for i, ok in zip(listed, keep, strict=True) if ok]

    def _sentence_votes(self, vector: np.ndarray, where: dict[str, Any] | None) -> list[str]:
        """Chunk ids in the order of their best-matching sentence."""
        if self._sentences is None or self.fusion.sentence_candidates == 0:
            return []
        result = self._sentences.query(
            query_embeddings=[vector.tolist()],
            n_results=self.fusion.sentence_candidates,
            where=where,
            include=["metadatas"],
        )
        metadatas = (result.get("metadatas") or [[]])[0]
        return list(dict.fromkeys(str(m["chunk_id"]) for m in metadatas))

    def _fuse(
        self, ranked: list[tuple[Sequence[str], float]], limit: int
    ) -> tuple[list[Context], dict[str, int]]:
        """The fused candidates, best first, and how many sentences each has stored."""
        fused: dict[str, float] = {}
        for ids, weight in ranked:
            for rank, node_id in enumerate(ids):
                fused[node_id] = fused.get(node_id, 0.0) + weight / (self.fusion.rrf_k + rank + 1)
        best = sum(weight for _, weight in ranked) / (self.fusion.rrf_k + 1)
        ordered = sorted(fused, key=lambda node_id: -fused[node_id])[:limit]
        read: dict[str, tuple[str, Mapping[str, Any]]] = {}
        if ordered:
            got = self._store.get(ids=ordered, include=["documents", "metadatas"])
            rows = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
            read = {i: (text, meta) for i, text, meta in rows}
        # A chunk can vanish between two reads while an index run replaces it, and a BM25
        # index older than the store can still name it: skip it.
        kept = [i for i in ordered if i in read and "source_file" in read[i][1]]
        counts = {i: int(str(read[i][1].get("sentence_count", -1))) for i in kept}
        return [_to_context(i, *read[i], fused[i] / best) for i in kept], counts

    def _rerank(
        self, question: str, vector: np.ndarray, head: list[Context], counts: dict[str, int]
    ) -> list[Context]:
        if not head:
            return head
        self._prime_sentences(head, counts)
        support: dict[str, float] = {}
        for ev in self._scorer.candidates(question, vector, head):
            support.setdefault(ev.context.chunk_id, ev.score)
        share = self.fusion.fusion_share
        rescored = [c.model_copy(update={"support": support.get(c.chunk_id, 0.0)}) for c in head]
        return sorted(rescored, key=lambda c: -((c.support or 0.0) + share * c.score))

    def _prime_sentences(self, head: list[Context], counts: dict[str, int]) -> None:
        """Hand the stored vectors of these chunks' sentences to the scorer's cache.

        Sentences are fetched by id ("<chunk id>:<i>"): a lookup by key, where a metadata
        filter would scan a collection that grows ~8x faster than the chunks. Their texts are
        cut from the chunk (the indexer split it with the same `sentence_spans`; the chunk's
        sentence count confirms it), as reading them from Chroma costs more than the vectors.
        """
        if self._sentences is None:
            return
        wanted = [c for c in head if c.chunk_id not in self._scorer.primed_chunks]
        if not wanted:
            return
        spans = {c.chunk_id: sentence_spans(c.text) for c in wanted}
        if all(counts.get(c.chunk_id, -1) == len(spans[c.chunk_id]) for c in wanted):
            texts = {
                f"{c.chunk_id}:{n}": c.text[start:end]
                for c in wanted
                for n, (start, end) in enumerate(spans[c.chunk_id])
            }
            if not texts:
                return
            got = self._sentences.get(ids=list(texts), include=["embeddings"])
            found = [texts[i] for i in got["ids"]]
        else:  # an index written by another version of the chunker
            where: dict[str, Any] = {"chunk_id": {"$in": [c.chunk_id for c in wanted]}}
            got = self._sentences.get(where=where, include=["documents", "embeddings"])
            found = list(got.get("documents") or [])
        vectors = got.get("embeddings")
        if found and vectors is not None:
            chunk_ids = [c.chunk_id for c in wanted]
            self._scorer.prime(found, np.asarray(vectors, dtype=np.float32), chunk_ids)


def _to_context(chunk_id: str, text: str, meta: Mapping[str, Any], score: float) -> Context:
    date = meta.get("date")
    return Context(
        chunk_id=chunk_id,
        source_file=str(meta["source_file"]),
        title=str(meta.get("title", "")),
        date=dt.date.fromisoformat(str(date)) if date else None,
        text=text,
        start=int(str(meta["start"])),
        end=int(str(meta["end"])),
        position=int(str(meta.get("position", 0))),
        score=round(score, 6),
    )
