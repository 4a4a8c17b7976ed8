"""The offline answerer: the retrieved sentence that answers the question, cited, first.

Refusal is decided by the calibrated answerability model (`rag.answering.answerability`); a
refusal lists the closest passages (`rag.answering.refusal`). Which sentences are quoted is
`rag.answering.compose`; disagreeing sources are named in one plain sentence
(`rag.trust.conflicts`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator

from rag.answering import Asked
from rag.answering.answerability import AnswerabilityModel, default_model, features
from rag.answering.compose import Quote, compose
from rag.answering.refusal import refuse
from rag.history import Message, condense
from rag.retrieval.scoring import Evidence, SentenceScorer
from rag.text.answertype import answer_span
from rag.trust.verify import Verifier, with_markers, with_verified
from rag.types import Answer, Citation, Context, Usage

# "[7]" inside quoted article text is the article's, not a citation: shown as "(7)".
_SOURCE_MARKER = re.compile(r"\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
# The pieces an answer is streamed in: one sentence each.
_PIECE = re.compile(r"\S.*?(?:[.!?…][\"'”’)]*(?:\s+|$)|$)", re.DOTALL)


class ExtractiveAnswerer:
    """Quotes the sentence that answers, verified like a model's answer, or refuses."""

    def __init__(
        self,
        scorer: SentenceScorer,
        verifier: Verifier,
        model: AnswerabilityModel | None = None,
    ) -> None:
        self._scorer = scorer
        self._verifier = verifier
        self._model = model  # read on first use: fitting a new model needs no valid old one

    def condense(self, question: str, turns: list[Message]) -> tuple[str, Usage | None]:
        """The follow-up with the previous question's names carried over (no model, no tokens)."""
        return condense(question, turns) or question, None

    def run(self, answer: Answer, asked: Asked) -> Generator[str, None, Answer]:
        """Answer from `asked.contexts`; yield the text sentence by sentence, return the Answer."""
        started = time.perf_counter()
        search, vector, contexts = asked.search, asked.vector, asked.contexts
        ranked = self._scorer.candidates(search, vector, contexts)
        answerability, quotes = self._decide(search, ranked, contexts)
        answer = answer.model_copy(
            update={
                "contexts": contexts,
                "answerability": answerability,
                "timings": dict(answer.timings),
            }
        )
        if quotes:
            draft = " ".join(_quoted(q, contexts) for q in quotes)
            answer = with_verified(answer, search, self._verifier.verify(draft, contexts))
            answer.citations = [_with_span(search, c) for c in answer.citations]
        if not answer.citations:
            answer = refuse(answer, search, vector, contexts, self._scorer)
        answer.timings["answer"] = time.perf_counter() - started
        yield from _PIECE.findall(answer.text)
        return answer

    def _decide(
        self, search: str, ranked: list[Evidence], contexts: list[Context]
    ) -> tuple[float | None, list[Quote]]:
        """P(answerable) and the quotes to answer with (none when the question is refused)."""
        if not ranked or ranked[0].score < self._scorer.config.min_support:
            return None, []  # nothing in the retrieved text is even near the question
        model = self._model = self._model or default_model()
        answerability = round(model.probability(features(search, ranked, contexts)), 4)
        if answerability < model.threshold:
            return answerability, []
        return answerability, compose(search, ranked, self._scorer)


def _quoted(quote: Quote, contexts: list[Context]) -> str:
    """The quote (after its antecedent, when it needs one) with its sources' markers."""
    parts = []
    if quote.antecedent is not None:
        parts.append(_sentence(quote.antecedent, contexts))
    parts.append(_sentence(quote.evidence, contexts, quote.also or []))
    return " ".join(parts)


def _sentence(ev: Evidence, contexts: list[Context], also: list[Evidence] | None = None) -> str:
    sources = [ev, *(also or [])]
    markers = "".join(f"[{contexts.index(s.context) + 1}]" for s in sources)
    return with_markers(_SOURCE_MARKER.sub(r"(\1)", ev.text), markers)


def _with_span(question: str, citation: Citation) -> Citation:
    """`citation` with the offsets of the phrase answering `question`, when one is found."""
    span = answer_span(question, citation.quote)
    if span is None:
        return citation
    return citation.model_copy(
        update={"answer_span": (citation.start + span[0], citation.start + span[1])}
    )
