"""The shared sentence scorer: how well each retrieved sentence supports a question.

A sentence's support is a blend of its embedding similarity to the question and the
share of the question's content words it contains. The extractive answerer quotes the best
sentences (`rag.answering.compose`), the answerability model takes the scores as features, the
retriever reranks by them and the verifier checks citations with the same score.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from rag.config import DEFAULT_MIN_SUPPORT
from rag.providers.embeddings import Embedder, Matrix, VectorCache
from rag.text.sentences import content_terms, sentence_spans
from rag.types import Context


@dataclass(frozen=True)
class ExtractiveConfig:
    """Knobs of sentence selection."""

    semantic_weight: float = 0.6
    # Below this best support the question is off topic: a plain refusal. Above it the
    # answerability model decides (rag.answering.answerability).
    min_support: float = DEFAULT_MIN_SUPPORT
    redundancy: float = 0.8  # cosine at which a sentence repeats one already chosen


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved chunk: file offsets and its support score."""

    context: Context
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        """The sentence as it stands in the file."""
        return self.context.text[self.start - self.context.start : self.end - self.context.start]


class SentenceScorer:
    """Scores sentences of retrieved chunks against a question; caches sentence vectors."""

    def __init__(self, embedder: Embedder, config: ExtractiveConfig, cache_size: int = 50_000):
        self.config = config
        self._cache = VectorCache(embedder, cache_size)
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.primed_chunks: set[str] = set()

    def prime(self, texts: list[str], vectors: Matrix, chunk_ids: list[str]) -> None:
        """Take sentence vectors computed at index time, so queries need not embed them."""
        self._cache.put(texts, vectors)
        with self._lock:
            if len(self.primed_chunks) > self._cache_size:
                self.primed_chunks.clear()
            self.primed_chunks.update(chunk_ids)

    def candidates(
        self, question: str, q_vec: np.ndarray, contexts: list[Context]
    ) -> list[Evidence]:
        """Every sentence of `contexts`, scored, best first."""
        pool = self.sentences(contexts)
        if not pool:
            return []
        texts = [ev.text for ev in pool]
        semantic = self.vectors(texts) @ q_vec
        wanted = content_terms(question)
        weight = self.config.semantic_weight
        scored = []
        for ev, text, sem in zip(pool, texts, semantic, strict=True):
            lexical = len(wanted & content_terms(text)) / len(wanted) if wanted else 0.0
            score = weight * float(sem) + (1 - weight) * lexical
            scored.append(Evidence(ev.context, ev.start, ev.end, round(score, 4)))
        return sorted(scored, key=lambda ev: -ev.score)

    @staticmethod
    def sentences(contexts: list[Context]) -> list[Evidence]:
        """Every sentence of `contexts` (file offsets), unscored."""
        return [
            Evidence(c, c.start + s, c.start + e, 0.0)
            for c in contexts
            for s, e in sentence_spans(c.text)
        ]

    def best_support(self, question: str, q_vec: np.ndarray, contexts: list[Context]) -> float:
        """The support of the best sentence of `contexts`: what the refusal decision compares."""
        ranked = self.candidates(question, q_vec, contexts)
        return ranked[0].score if ranked else 0.0

    def vectors(self, texts: list[str]) -> Matrix:
        """Unit vectors of `texts`, from the cache (index-time vectors) or embedded now."""
        return self._cache.vectors(texts)


_CLOSERS = "\"'\u201d\u2019)]"


def is_statement(sentence: str) -> bool:
    """Whether a sentence ends as a statement does (., ! or …, before any closing quote)."""
    end = sentence.rstrip().rstrip(_CLOSERS)
    return end.endswith((".", "!", "\u2026"))
