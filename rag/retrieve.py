"""Hybrid retrieval: dense (Chroma) and BM25 (llama-index) candidates, fused by weighted RRF.

The BM25 index is built from the chunks in the store itself, so it always matches what
the dense side can return (embedded or server mode alike); `refresh()` rebuilds it after
the store changes, and a changed chunk count triggers that by itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from dataclasses import dataclass

import numpy as np
from llama_index.core.schema import BaseNode, NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import MetadataFilters, VectorStoreQuery
from llama_index.retrievers.bm25 import BM25Retriever
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.embeddings import Embedder
from rag.errors import StoreError
from rag.filters import Filters
from rag.types import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionConfig:
    """How candidates are gathered and fused."""

    candidates: int = 30  # depth taken from each side before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0


class HybridRetriever:
    """Dense + BM25 retrieval over one Chroma collection, fused with reciprocal rank fusion."""

    def __init__(
        self, store: ChromaVectorStore, embedder: Embedder, fusion: FusionConfig | None = None
    ) -> None:
        self._store = store
        self._embedder = embedder
        self.fusion = fusion or FusionConfig()
        self._bm25: BM25Retriever | None = None
        self._bm25_count = -1
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Rebuild the BM25 side from the store's current chunks."""
        with self._lock:
            self._bm25, self._bm25_count = self._build_bm25()

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
        metadata_filters = filters.to_metadata_filters() if filters else None
        vector = self.embed_query(question) if query_vector is None else query_vector
        depth = max(self.fusion.candidates, top_k)
        dense = self._dense(vector, depth, metadata_filters)
        lexical = self._lexical(question, depth, metadata_filters)
        return self._fuse(dense, lexical)[:top_k]

    def _dense(
        self, vector: np.ndarray, depth: int, filters: MetadataFilters | None
    ) -> list[NodeWithScore]:
        query = VectorStoreQuery(
            query_embedding=vector.tolist(), similarity_top_k=depth, filters=filters
        )
        try:
            result = self._store.query(query)
        except Exception as exc:
            raise StoreError(f"Dense retrieval failed: {str(exc).splitlines()[0]}") from None
        # llama-index reports exp(-cosine distance); turn it back into a cosine similarity.
        sims = [1.0 + math.log(s) if s > 0 else -1.0 for s in result.similarities or []]
        return [
            NodeWithScore(node=n, score=s) for n, s in zip(result.nodes or [], sims, strict=True)
        ]

    def _lexical(
        self, question: str, depth: int, filters: MetadataFilters | None
    ) -> list[NodeWithScore]:
        base = self._current_bm25()
        if base is None:
            return []
        retriever = base
        if filters is not None:
            try:
                retriever = BM25Retriever(
                    existing_bm25=base.bm25,
                    filters=filters,
                    similarity_top_k=depth,
                    stemmer=base.stemmer,
                )
            except ValueError:  # every chunk filtered out
                return []
        retriever.similarity_top_k = min(depth, self._bm25_count)
        hits = retriever.retrieve(QueryBundle(question))
        return [hit for hit in hits if (hit.score or 0.0) > 0.0]

    def _current_bm25(self) -> BM25Retriever | None:
        count = self._store.client.count()
        with self._lock:
            if self._bm25 is None or count != self._bm25_count:
                self._bm25, self._bm25_count = self._build_bm25()
            return self._bm25

    def _build_bm25(self) -> tuple[BM25Retriever | None, int]:
        nodes: list[BaseNode] = self._store.get_nodes(None)
        if not nodes:
            return None, 0
        retriever = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=len(nodes))
        # Keep the corpus on the bm25 object, so filtered retrievers built on it can map hits.
        retriever.bm25.corpus = retriever.corpus
        return retriever, len(nodes)

    def _fuse(self, dense: list[NodeWithScore], lexical: list[NodeWithScore]) -> list[Context]:
        fused: dict[str, float] = {}
        nodes: dict[str, BaseNode] = {}
        dense_scores: dict[str, float] = {}
        weighted = ((dense, self.fusion.dense_weight), (lexical, self.fusion.bm25_weight))
        for hits, weight in weighted:
            for rank, hit in enumerate(hits):
                node_id = hit.node.node_id
                nodes.setdefault(node_id, hit.node)
                fused[node_id] = fused.get(node_id, 0.0) + weight / (self.fusion.rrf_k + rank + 1)
        for hit in dense:
            dense_scores[hit.node.node_id] = float(hit.score or 0.0)
        ranked = sorted(fused, key=lambda node_id: -fused[node_id])
        return [_to_context(nodes[i], fused[i], dense_scores.get(i)) for i in ranked]


def _to_context(node: BaseNode, score: float, dense_score: float | None) -> Context:
    meta = node.metadata
    date = meta.get("date")
    return Context(
        chunk_id=node.node_id,
        source_file=str(meta["source_file"]),
        title=str(meta.get("title", "")),
        date=dt.date.fromisoformat(date) if date else None,
        text=node.get_content(),
        start=int(meta["start"]),
        end=int(meta["end"]),
        position=int(meta.get("position", 0)),
        score=round(score, 6),
        dense_score=None if dense_score is None else round(dense_score, 6),
    )
