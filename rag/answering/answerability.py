"""Answerability: how likely the retrieved text answers the question, as a calibrated score.

A logistic model over cheap features (support scores and margins, word alignment of the
question with the best sentences, coverage of its names and numbers, the expected answer
type, negation and antonym flips, and the answer encoder's best cosine and its margin over the
second: `rag.answering.reader`). Its coefficients are fitted on the squad-dev bench with
cross-validation by `fit/fit_answerability.py` and shipped as a small versioned JSON file
(`rag/assets/answerability.json`), evaluated here with numpy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from rag.answering.reader import default_encoder
from rag.retrieval.scoring import Evidence
from rag.text.align import NEGATION as _NEGATION
from rag.text.align import align, missing_everywhere
from rag.text.answertype import expected_type, has_type
from rag.text.sentences import content_terms
from rag.types import Context

MODEL_PATH = Path(__file__).parents[1] / "assets" / "answerability.json"
TOP_SENTENCES = 3  # alignment is taken over the best few sentences, not the first alone
TOP_CONTEXTS = 3
READ_SENTENCES = 10  # the answer encoder reads the best this many (the ranker's depth)

FEATURES = (
    "support_1",
    "support_2",
    "support_margin",
    "chunk_support_margin",
    "matched_best",
    "matched_top",
    "missing_top",
    "flips_best",
    "question_negated",
    "negation_dropped",
    "names_missing",
    "names_missing_best",
    "numbers_missing",
    "missing_in_contexts",
    "type_in_best",
    "type_in_top",
    "question_terms",
    "asks_yesno",
    "asks_other",
    "fusion_margin",
    "support_x_matched",
    "reader_best",
    "reader_margin",
)


def features(question: str, ranked: Sequence[Evidence], contexts: Sequence[Context]) -> list[float]:
    """The feature vector (in `FEATURES` order) of a question and its scored sentences."""
    if not ranked:
        return [0.0] * len(FEATURES)
    top = list(ranked[:TOP_SENTENCES])
    aligned = [align(question, ev.text) for ev in top]
    best = aligned[0]
    closest = max(aligned, key=lambda a: a.matched)
    supports = sorted({c.support or 0.0 for c in contexts[:TOP_CONTEXTS]}, reverse=True)
    second = ranked[1].score if len(ranked) > 1 else 0.0
    kind = expected_type(question)
    read = sorted(
        default_encoder().similarities(question, [ev.text for ev in ranked[:READ_SENTENCES]]),
        reverse=True,
    )
    return [
        ranked[0].score,
        second,
        ranked[0].score - second,
        supports[0] - supports[1] if len(supports) > 1 else supports[0] if supports else 0.0,
        best.matched,
        closest.matched,
        float(closest.missing),
        float(best.flips),
        float(bool(_NEGATION.search(question))),
        float(best.negation_dropped),  # the strongest single sign of an unanswerable question
        float(min(a.names_missing for a in aligned)),
        float(best.names_missing),
        float(min(a.numbers_missing for a in aligned)),
        float(missing_everywhere(question, [c.text for c in contexts[:TOP_CONTEXTS]])),
        float(has_type(question, top[0].text)),
        float(any(has_type(question, ev.text) for ev in top)),
        float(len(content_terms(question))),
        float(kind == "yesno"),
        float(kind is None),
        contexts[0].score - contexts[1].score if len(contexts) > 1 else 1.0,
        ranked[0].score * best.matched,
        float(read[0]),
        float(read[0] - read[1]) if len(read) > 1 else float(read[0]),
    ]


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic regression over standardised features, with the refusal threshold."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    version: int

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AnswerabilityModel:
        """A model from its JSON form (as `fit/fit_answerability.py` writes it)."""
        names = tuple(str(n) for n in data["features"])  # type: ignore[attr-defined]
        if names != FEATURES:
            raise ValueError(f"answerability model features {names} are not {FEATURES}")
        return cls(
            names=names,
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=float(data["intercept"]),  # type: ignore[arg-type]
            threshold=float(data["threshold"]),  # type: ignore[arg-type]
            version=int(data["version"]),  # type: ignore[call-overload]
        )

    def probability(self, row: Sequence[float]) -> float:
        """P(answerable) for one feature vector."""
        z = (np.asarray(row, dtype=np.float64) - self.mean) / self.scale
        return float(1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept))))

    def answerable(self, row: Sequence[float]) -> bool:
        """Whether to answer (probability at or above the shipped threshold)."""
        return self.probability(row) >= self.threshold


@cache
def default_model() -> AnswerabilityModel:
    """The shipped model (read once)."""
    return AnswerabilityModel.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
