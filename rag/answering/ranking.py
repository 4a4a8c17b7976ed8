"""Which retrieved sentence answers the question: a small fitted ranker over the best few.

The support score (`rag.retrieval.scoring`) says how near a sentence is to the question; it
does not say whether the sentence holds the answer. Among the best `DEPTH` readable
sentences, the ranker scores features of each (support and its share of the best, rare
question words and word pairs found, how tightly they cluster, whether a phrase of the
asked-for type that the question does not name is present, what is new in the sentence,
where its passage ranked, and how well the answer encoder (`rag.answering.reader`) says it
answers, alone and against the best of the few) with a logistic model fitted on the
squad-dev bench and its paraphrase set (cross-validated by article) by
`fit/fit_sentence_ranker.py` and shipped as `rag/assets/sentence_ranker.json`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from rag.answering.reader import default_encoder
from rag.retrieval.scoring import Evidence
from rag.text.align import align
from rag.text.answertype import answer_span, candidates, expected_type
from rag.text.sentences import DANGLING, content_terms, sentence_spans, words

MODEL_PATH = Path(__file__).parents[1] / "assets" / "sentence_ranker.json"
DEPTH = 10  # the ranker reorders the best this many sentences; the rest keep their order

FEATURES = (
    "support",
    "support_share",
    "rank",
    "lexical",
    "idf_share",
    "pairs",
    "tightness",
    "type_found",
    "type_missing",
    "type_phrases",
    "novel_share",
    "length",
    "passage_rank",
    "flips",
    "names_missing",
    "found_date",
    "found_number",
    "found_name",
    "found_place",
    "neighbour_support",
    "idf_missing",
    "answer_near",
    "context_gain",
    "context_idf_gain",
    "dangling",
    "reader",
    "reader_gap",
)


def _idf(pool: Sequence[Evidence], wanted: frozenset[str]) -> dict[str, float]:
    """Inverse document frequency of each term over the sentences retrieved for a question
    (a question word found in none of them is the rarest of all)."""
    df: Counter[str] = Counter({t: 0 for t in wanted})
    for ev in pool:
        df.update(content_terms(ev.text))
    n = len(pool)
    return {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}


@lru_cache(maxsize=65_536)
def _stems(text: str) -> tuple[str, ...]:
    """Content stems in reading order (stopwords dropped), for word-pair and span features."""
    out = []
    for w in words(text):
        terms = content_terms(w)
        if terms:
            out.append(min(terms))
    return tuple(out)


def features(question: str, ranked: Sequence[Evidence], depth: int = DEPTH) -> list[list[float]]:
    """A feature row (in `FEATURES` order) for each of the best `depth` sentences."""
    if not ranked:
        return []
    wanted = content_terms(question)
    idf = _idf(ranked, wanted)
    weight = sum(idf.get(t, 0.0) for t in wanted) or 1.0
    q_stems = _stems(question)
    q_pairs = set(zip(q_stems, q_stems[1:], strict=False))
    kind = expected_type(question)
    typed = kind is not None and kind != "yesno"
    best = ranked[0].score or 1.0
    passages: list[int] = []
    for ev in ranked:
        key = id(ev.context)
        if key not in passages:
            passages.append(key)
    neighbours = _neighbour_support(ranked)
    previous = _previous_terms(ranked[:depth])
    read = default_encoder().similarities(question, [ev.text for ev in ranked[:depth]])
    read_best = float(read.max())
    rows = []
    for rank, ev in enumerate(ranked[:depth]):
        have = content_terms(ev.text)
        shared = wanted & have
        stems = _stems(ev.text)
        pairs = set(zip(stems, stems[1:], strict=False))
        hits = [i for i, s in enumerate(stems) if s in wanted]
        tight = len(hits) / (hits[-1] - hits[0] + 1) if len(hits) > 1 else 0.0
        phrases = len(candidates(ev.text, kind)) if typed else 0
        alignment = align(question, ev.text)
        span = answer_span(question, ev.text) if typed else None
        found = span is not None
        near = 0.0
        if span is not None and hits:
            before = len(_stems(ev.text[: span[0]]))
            near = 1 / (1 + min(abs(before - h) for h in hits))
        rows.append(
            [
                ev.score,
                ev.score / best,
                math.log1p(rank),
                len(shared) / len(wanted) if wanted else 0.0,
                sum(idf.get(t, 0.0) for t in shared) / weight,
                len(q_pairs & pairs) / len(q_pairs) if q_pairs else 0.0,
                tight,
                float(found),
                float(typed and not found),
                math.log1p(phrases),
                len(have - wanted) / len(have) if have else 0.0,
                math.log1p(len(stems)),
                math.log1p(passages.index(id(ev.context))),
                float(alignment.flips),
                float(alignment.names_missing),
                *(float(found and kind == k) for k in ("date", "number", "name", "place")),
                neighbours.get((id(ev.context), ev.start), 0.0),
                sum(idf.get(t, 0.0) for t in wanted - have) / weight,
                near,
                *_context_gain(
                    wanted, shared, previous.get((id(ev.context), ev.start)), idf, weight
                ),
                float(bool(DANGLING.match(ev.text))),
                float(read[rank]),
                float(read[rank]) - read_best,
            ]
        )
    return rows


def key_of(ev: Evidence) -> tuple[int, int]:
    """A sentence's key within one question's candidates: its chunk and start."""
    return (id(ev.context), ev.start)


def _previous_terms(ranked: Sequence[Evidence]) -> dict[tuple[int, int], frozenset[str]]:
    """The content terms of the sentence before each one in its chunk (what "he", "they",
    "the move" at its start point back to)."""
    out: dict[tuple[int, int], frozenset[str]] = {}
    for ev in ranked:
        context, before = ev.context, None
        for start, end in sentence_spans(context.text):
            if context.start + start >= ev.start:
                break
            before = (start, end)
        if before is not None:
            out[key_of(ev)] = content_terms(context.text[before[0] : before[1]])
    return out


def _context_gain(
    wanted: frozenset[str],
    shared: frozenset[str],
    previous: frozenset[str] | None,
    idf: dict[str, float],
    weight: float,
) -> tuple[float, float]:
    """Share (plain and idf-weighted) of the question's words that the sentence before adds
    to those the sentence holds."""
    if not previous or not wanted:
        return 0.0, 0.0
    gained = (wanted & previous) - shared
    return len(gained) / len(wanted), sum(idf.get(t, 0.0) for t in gained) / weight


def _neighbour_support(ranked: Sequence[Evidence]) -> dict[tuple[int, int], float]:
    """The best support of the sentences just before and after each one in its passage."""
    by_passage: dict[int, list[Evidence]] = {}
    for ev in ranked:
        by_passage.setdefault(id(ev.context), []).append(ev)
    out = {}
    for passage in by_passage.values():
        passage.sort(key=lambda ev: ev.start)
        for i, ev in enumerate(passage):
            around = passage[max(i - 1, 0) : i] + passage[i + 1 : i + 2]
            out[(id(ev.context), ev.start)] = max((n.score for n in around), default=0.0)
    return out


@dataclass(frozen=True)
class SentenceRanker:
    """The fitted logistic model: P(the sentence holds the answer) from its features."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> SentenceRanker:
        """Read the shipped coefficients; refuses a file fitted on other features."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(
                f"{path} was fitted on other features; refit it: python -m fit.fit_sentence_ranker"
            )
        return cls(
            mean=np.array(data["mean"]),
            scale=np.array(data["scale"]),
            coef=np.array(data["coef"]),
            intercept=float(data["intercept"]),
        )

    def scores(self, rows: list[list[float]]) -> np.ndarray:
        """Log-odds that each sentence holds the answer."""
        x = (np.array(rows, dtype=np.float64) - self.mean) / self.scale
        return np.asarray(x @ self.coef + self.intercept)

    def order(self, question: str, ranked: Sequence[Evidence]) -> list[Evidence]:
        """`ranked` with its best `DEPTH` sentences reordered by the model, best first."""
        scored = self.scored(question, ranked)
        head = [ev for ev, _ in sorted(scored, key=lambda pair: -pair[1])]
        return [*head, *ranked[len(head) :]]

    def scored(self, question: str, ranked: Sequence[Evidence]) -> list[tuple[Evidence, float]]:
        """The best `DEPTH` sentences with the model's log-odds, in `ranked` order."""
        rows = features(question, ranked)
        if not rows:
            return []
        return list(zip(ranked, self.scores(rows).tolist(), strict=False))


@cache
def default_ranker() -> SentenceRanker:
    """The shipped ranker (read once)."""
    return SentenceRanker.load()
