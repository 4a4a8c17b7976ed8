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
from typing import Literal

from rag.answering import Asked
from rag.answering.answerability import AnswerabilityModel, default_model, features
from rag.answering.compose import Quote, antecedent, compose, compose_extract, lead_pool
from rag.answering.ranking import default_ranker
from rag.answering.refusal import refuse
from rag.history import Message, condense
from rag.retrieval.scoring import Evidence, SentenceScorer
from rag.text.answertype import answer_span, holds_type, strict_type
from rag.text.shapes import Shape, is_extract, question_shape
from rag.trust.conflicts import conflict_note
from rag.trust.verify import Verifier, with_markers, with_verified
from rag.types import Answer, Citation, Context, Usage

# "[7]" inside quoted article text is the article's, not a citation: shown as "(7)".
_SOURCE_MARKER = re.compile(r"\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
# The pieces an answer is streamed in: one sentence each.
_PIECE = re.compile(r"\S.*?(?:[.!?…][\"'”’)]*(?:\s+|$)|$)", re.DOTALL)
Confidence = Literal["answers", "related"]
_FIRST_MARKER = re.compile(r"\[(\d+)\]")
TYPE_DEPTH = 3  # the asked-for kind of phrase must be in one of the best this many sentences
CONFIDENT = 0.5  # answerability at which an answer is said to answer the question
_LEAD_IN = {
    "list": "From the articles:",
    "summary": "From the articles (quoted, not a written summary):",
    "timeline": "From the articles, in date order:",
}


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
        shape = question_shape(answer.question)
        ranked = self._scorer.candidates(search, vector, contexts)
        answerability, confidence, quotes = self._decide(search, shape, ranked, contexts)
        answer = answer.model_copy(
            update={
                "contexts": contexts,
                "answerability": answerability,
                "shape": shape,
                "confidence": confidence,
                "timings": dict(answer.timings),
            }
        )
        if quotes:
            joiner = "\n" if is_extract(shape) else " "
            draft = joiner.join(_quoted(q, contexts) for q in quotes)
            answer = with_verified(answer, search, self._verifier.verify(draft, contexts))
            answer.citations = [_with_span(search, c) for c in answer.citations]
            answer.text = _laid_out(answer.text, shape, answer)
        if not answer.citations:
            answer = refuse(answer, search, vector, contexts, self._scorer)
            answer.confidence = None
        answer.timings["answer"] = time.perf_counter() - started
        yield from _PIECE.findall(answer.text)
        return answer

    def _decide(
        self, search: str, shape: Shape, ranked: list[Evidence], contexts: list[Context]
    ) -> tuple[float | None, Confidence | None, list[Quote]]:
        """P(answerable), how well the quotes answer, and the quotes to answer with (none when
        the question is refused)."""
        if not ranked or ranked[0].score < self._scorer.config.min_support:
            return None, None, []  # nothing in the retrieved text is even near the question
        model = self._model = self._model or default_model()
        answerability = round(model.probability(features(search, ranked, contexts)), 4)
        if shape in ("summary", "timeline"):  # an overview of what is there: support decides
            return answerability, "related", compose_extract(search, shape, ranked, self._scorer)
        if answerability < model.threshold or kind_missing(search, ranked):
            return answerability, None, []
        confidence: Confidence = "answers" if answerability >= CONFIDENT else "related"
        if shape == "list":
            return answerability, confidence, compose_extract(search, shape, ranked, self._scorer)
        return answerability, confidence, compose(search, ranked, self._scorer)


def kind_missing(question: str, ranked: list[Evidence]) -> bool:
    """Whether the question asks for a kind of phrase (an age, a sum, a name, a date, …) that
    none of the most answer-like sentences (or the sentences they lean on) holds."""
    kind = strict_type(question)
    if kind is None:
        return False
    scored = default_ranker().scored(question, lead_pool(ranked))
    best = [ev for ev, _ in sorted(scored, key=lambda pair: -pair[1])[:TYPE_DEPTH]]
    for ev in best:
        before = antecedent(ev)
        texts = [ev.text] + ([before.text] if before is not None else [])
        if any(holds_type(question, kind, text) for text in texts):
            return False
    return True


def _laid_out(text: str, shape: Shape, answer: Answer) -> str:
    """An extract's verified sentences as a list under a line saying it is one."""
    if not is_extract(shape) or not text:
        return text
    note = conflict_note(answer.conflicts) if answer.conflicts else ""
    if note and text.startswith(note):
        text = text[len(note) :]
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    head = f"{note}\n{_LEAD_IN[shape]}" if note else _LEAD_IN[shape]
    if shape == "timeline":
        lines = [f"{_line_date(line, answer)}: {line}" for line in lines]
    if len(lines) == 1:
        return f"{head} {lines[0]}"
    return "\n".join([head, *(f"- {line}" for line in lines)])


def _line_date(line: str, answer: Answer) -> str:
    """The date of the article a line's first citation quotes, or "undated"."""
    found = _FIRST_MARKER.search(line)
    if found is None:
        return "undated"
    try:
        date = answer.citation(int(found.group(1))).date
    except KeyError:
        return "undated"
    return date.isoformat() if date else "undated"


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
