"""Disagreeing sources: statements on the question's topic that point opposite ways.

A cheap, explainable test, not an NLI model: two quotes from different files disagree when
they share at least two of the question's content words and exactly one of them negates
(no, not, never, makes no reference, denies, ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text import content_terms
from rag.types import Citation, Conflict

_NEGATION = re.compile(
    r"\b(no|not|never|none|neither|nor|without|denied|denies|deny|cannot|can't|"
    r"\w+n't|in contrast|contrary)\b",
    re.IGNORECASE,
)
_CONTRAST = re.compile(r",?\s*\b(?:but|however|although|though|whereas|yet)\b|;", re.IGNORECASE)
MIN_SHARED_TERMS = 2


def negates(text: str, question: str) -> bool:
    """Whether a statement denies the point of the question.

    Only the clause that carries most of the question's words counts, so "did not share
    the full letter but confirmed it mentioned X" affirms X.
    """
    wanted = content_terms(question)
    clauses = [c for c in _CONTRAST.split(text) if c.strip()] or [text]
    main = max(reversed(clauses), key=lambda c: len(content_terms(c) & wanted))
    return bool(_NEGATION.search(main))


def on_same_point(question: str, first: str, second: str) -> bool:
    """Whether two statements speak to the same part of the question."""
    shared = content_terms(question) & content_terms(first) & content_terms(second)
    return len(shared) >= MIN_SHARED_TERMS


def disagree(question: str, first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two (source_file, statement) pairs disagree on the question."""
    (file_a, text_a), (file_b, text_b) = first, second
    return (
        file_a != file_b
        and negates(text_a, question) != negates(text_b, question)
        and on_same_point(question, text_a, text_b)
    )


def find_conflicts(question: str, citations: Sequence[Citation]) -> list[Conflict]:
    """Pairs of citations whose quotes disagree, each side with its date."""
    found: list[Conflict] = []
    for i, a in enumerate(citations):
        for b in citations[i + 1 :]:
            if disagree(question, (a.source_file, a.quote), (b.source_file, b.quote)):
                yes, no = (b, a) if negates(a.quote, question) else (a, b)
                found.append(Conflict(affirms=yes.n, denies=no.n))
    return found


def conflict_note(conflicts: Sequence[Conflict], citations: Sequence[Citation]) -> str:
    """One sentence saying which citations disagree, with their dates."""
    dates = {c.n: c.date.isoformat() if c.date else "undated" for c in citations}
    pairs = "; ".join(
        f"[{c.affirms}] ({dates[c.affirms]}) against [{c.denies}] ({dates[c.denies]})"
        for c in conflicts
    )
    return f"The sources disagree on this: {pairs}."
