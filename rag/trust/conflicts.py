"""Disagreeing sources: two files that state the same fact about the question differently.

Two kinds, both cheap and explainable (no NLI model):
- a **value** conflict: two statements from different files that align word for word except
  for one value of the same kind (a number, a year or date, a name) — `rag.trust.values`;
- a **negation** conflict (yes/no questions): two statements on the same point of the
  question, one of which negates the very predicate the other affirms.
Wording differences, an added detail, or different facts are not conflicts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.text.answertype import expected_type
from rag.text.sentences import content_terms, sentence_spans, words
from rag.trust.values import negation_diff, value_diff
from rag.types import Citation, Conflict, ConflictSide, Context

_NEGATION = re.compile(
    r"\b(no|not|never|none|neither|nor|without|denied|denies|deny|cannot|can't|"
    r"\w+n't|in contrast|contrary)\b",
    re.IGNORECASE,
)
_CONTRAST = re.compile(r",?\s*\b(?:but|however|although|though|whereas|yet)\b|;", re.IGNORECASE)
_NAME = re.compile(r"(?<!^)\b[A-Z][\w'’-]+")
_NEGATORS = frozenset("no not never none neither nor without cannot".split())
MIN_SHARED_TERMS = 2
NEGATION_REACH = 6  # words after a negation within which the denied word is looked for


def negates(text: str, question: str) -> bool:
    """Whether a statement denies the point of the question.

    Only the clause that carries most of the question's words counts, so "did not share
    the full letter but confirmed it mentioned X" affirms X.
    """
    return bool(_NEGATION.search(_main_clause(text, question)))


def _main_clause(text: str, question: str) -> str:
    wanted = content_terms(question)
    clauses = [c for c in _CONTRAST.split(text) if c.strip()] or [text]
    return max(reversed(clauses), key=lambda c: len(content_terms(c) & wanted))


def _negated_terms(text: str, question: str) -> frozenset[str]:
    """Question words a negation in `text`'s main clause governs ("does not mention X")."""
    tokens = words(_main_clause(text, question))
    wanted = content_terms(question)
    governed: set[str] = set()
    for i, token in enumerate(tokens):
        if token in _NEGATORS or token.endswith("n't"):
            # What a negation denies is the first word after it when the question asks about
            # that word ("did not travel to Alaska" denies travelling, not Alaska); otherwise
            # the question's words shortly after it ("makes no reference to the abductions").
            after = [content_terms(t) for t in tokens[i + 1 : i + 1 + NEGATION_REACH]]
            first = next((t for t in after if t), frozenset())
            if first & wanted:
                governed |= first
            else:
                governed |= frozenset().union(*after) if after else frozenset()
    return frozenset(governed) & wanted


def on_same_point(question: str, first: str, second: str) -> bool:
    """Whether two statements speak to the same part of the question."""
    shared = content_terms(question) & content_terms(first) & content_terms(second)
    return len(shared) >= MIN_SHARED_TERMS


def disagree(question: str, first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two (source_file, statement) pairs disagree by negation: the same words with a
    "not" added to one, or (yes/no questions) one denying a question word the other states."""
    (file_a, text_a), (file_b, text_b) = first, second
    if file_a == file_b:
        return False
    if negation_diff(text_a, text_b):
        return about_question(question, text_a, text_b)
    if expected_type(question) != "yesno":
        return False
    if negates(text_a, question) == negates(text_b, question):
        return False
    denied = _negated_terms(text_a, question) | _negated_terms(text_b, question)
    affirmed = content_terms(text_b if negates(text_a, question) else text_a)
    return (
        bool(denied & affirmed)
        and on_same_point(question, text_a, text_b)
        and _same_subject(question, text_a, text_b)
    )


def _same_subject(question: str, first: str, second: str) -> bool:
    """Whether both statements name the same of the question's names: "Melania did not
    travel to Alaska" and "Zelenskyy will travel" after "the Alaska summit" are about
    different people."""
    names = content_terms(" ".join(_NAME.findall(question)))
    return names & content_terms(first) == names & content_terms(second)


def about_question(question: str, first: str, second: str) -> bool:
    """Whether two statements both bear on the question (share one of its words: they are
    aligned word for word already, so one shared word ties them to it)."""
    return bool(content_terms(question) & content_terms(first) & content_terms(second))


def value_conflict(question: str, first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two (source_file, statement) pairs give different values for one fact."""
    (file_a, text_a), (file_b, text_b) = first, second
    return (
        file_a != file_b
        and about_question(question, text_a, text_b)
        and value_diff(text_a, text_b) is not None
    )


def conflicting(question: str, first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two statements conflict in either way."""
    return value_conflict(question, first, second) or disagree(question, first, second)


def _newest_first(sides: list[ConflictSide]) -> list[ConflictSide]:
    return sorted(sides, key=lambda s: s.date or dt.date.min, reverse=True)


def _side(value: str, c: Citation) -> ConflictSide:
    return ConflictSide(value=value, citation=c.n, source_file=c.source_file, date=c.date)


def find_conflicts(question: str, citations: Sequence[Citation]) -> list[Conflict]:
    """Pairs of citations that disagree, each side with its value, number and date."""
    found: list[Conflict] = []
    for i, a in enumerate(citations):
        for b in citations[i + 1 :]:
            pair = ((a.source_file, a.quote), (b.source_file, b.quote))
            diff = value_diff(a.quote, b.quote) if value_conflict(question, *pair) else None
            if diff is not None:
                sides = [_side(diff.first, a), _side(diff.second, b)]
                found.append(Conflict(kind="value", slot=diff.slot, sides=_newest_first(sides)))
            elif disagree(question, *pair):
                sides = [_side("no" if negates(c.quote, question) else "yes", c) for c in (a, b)]
                found.append(Conflict(kind="negation", slot=question, sides=_newest_first(sides)))
    return found


def conflict_note(conflicts: Sequence[Conflict]) -> str:
    """One plain sentence per conflict: each source's value, citation and date, newest first."""
    notes = []
    for conflict in conflicts:
        parts = [
            f"{s.source_file} says {_said(conflict, s.value)} [{s.citation}] "
            f"({s.date.isoformat() if s.date else 'undated'})"
            for s in conflict.sides
        ]
        notes.append("Sources disagree: " + "; ".join(parts) + ".")
    return " ".join(notes)


def _said(conflict: Conflict, value: str) -> str:
    if conflict.kind == "negation":
        return "yes" if value == "yes" else "no"
    return f'"{value}"'


@dataclass(frozen=True)
class SourceConflict:
    """Two retrieved sources (numbered from 1, as in the prompt) that disagree."""

    first: int
    second: int
    first_text: str
    second_text: str
    values: tuple[str, str]


def source_conflicts(question: str, contexts: Sequence[Context]) -> list[SourceConflict]:
    """Disagreements among the retrieved chunks themselves, before any answer is written
    (OpenAI mode tells the model about them and checks its answer shows both sides)."""
    wanted = content_terms(question)
    sentences = [
        (n, context.source_file, context.text[s:e])
        for n, context in enumerate(contexts, start=1)
        for s, e in sentence_spans(context.text)
        if len(content_terms(context.text[s:e]) & wanted) >= min(MIN_SHARED_TERMS, len(wanted))
    ]
    found: list[SourceConflict] = []
    for i, (n_a, file_a, text_a) in enumerate(sentences):
        for n_b, file_b, text_b in sentences[i + 1 :]:
            if not conflicting(question, (file_a, text_a), (file_b, text_b)):
                continue
            diff = value_diff(text_a, text_b)
            values = (diff.first, diff.second) if diff else _yes_no(question, text_a, text_b)
            found.append(SourceConflict(n_a, n_b, text_a, text_b, values))
    return found


def _yes_no(question: str, first: str, second: str) -> tuple[str, str]:
    return (
        "no" if negates(first, question) else "yes",
        "no" if negates(second, question) else "yes",
    )


def missing_sides(conflicts: Sequence[SourceConflict], cited: set[int]) -> list[str]:
    """For each disagreement the answer shows one side of, the other side's sentence with
    its source marker: a reader must never see one side alone."""
    extra: list[str] = []
    for c in conflicts:
        if c.first in cited and c.second not in cited:
            extra.append(f"{c.second_text} [{c.second}]")
        elif c.second in cited and c.first not in cited:
            extra.append(f"{c.first_text} [{c.first}]")
    return list(dict.fromkeys(extra))
