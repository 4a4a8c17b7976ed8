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
from rag.trust.cite import quote_citation
from rag.trust.values import negation_diff, value_diff
from rag.types import Answer, Citation, Conflict, ConflictSide, Context

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


# Words a quote may start with that read as well in the middle of a sentence, lowercased.
_LOWER_OK = frozenset("in according the a an but however meanwhile officials yet".split())


def reconciled(answer: Answer) -> Answer:
    """`answer` with each disagreement's every supporting statement among the retrieved
    passages cited and counted, and a reconciling sentence (`Conflict.summary`) that takes
    the place of the answer's opening list of sides.

    A passage sides with a value when it disagrees with a side stating another value, as the
    sides themselves do. The sentence is an article's own account of both sides where one
    article gives both ("officials said it mentioned X [1]; in contrast, the published text
    makes no reference to X [4]"), and otherwise what each side says and how many articles say
    it, newest first.
    """
    if not answer.conflicts or all(c.summary for c in answer.conflicts):
        return answer
    citations = list(answer.citations)
    conflicts = []
    for conflict in answer.conflicts:
        expanded = conflict
        while True:  # a side found can be the one the next statement disagrees with
            found = _more_sides(answer.question, expanded, citations, answer.contexts)
            if not found:
                break
            sides = _newest_first([*expanded.sides, *found])
            expanded = expanded.model_copy(update={"sides": sides})
        summary = _summary(expanded, {c.n: c for c in citations})
        conflicts.append(expanded.model_copy(update={"summary": summary}))
    # The answer's one-line list of sides (`conflict_note`) gives way to the sentences.
    text = answer.text.replace(
        conflict_note(answer.conflicts), " ".join(c.summary for c in conflicts), 1
    )
    return answer.model_copy(update={"text": text, "citations": citations, "conflicts": conflicts})


def _more_sides(
    question: str, conflict: Conflict, citations: list[Citation], contexts: Sequence[Context]
) -> list[ConflictSide]:
    """Sides stated by retrieved sentences the conflict does not list yet (cited if needed)."""
    known = {side.citation for side in conflict.sides}
    found: list[ConflictSide] = []
    for context in contexts:
        for start, end in sentence_spans(context.text):
            sentence = context.text[start:end]
            value = _side_taken(question, conflict, citations, context, sentence)
            if value is None:
                continue
            cited = _cited(citations, context, context.start + start, context.start + end)
            if cited.n not in known:
                known.add(cited.n)
                found.append(_side(value, cited))
    return found


def _side_taken(
    question: str,
    conflict: Conflict,
    citations: list[Citation],
    context: Context,
    sentence: str,
) -> str | None:
    quotes = {c.n: c for c in citations}
    for side in conflict.sides:
        other = quotes.get(side.citation)
        if other is None:
            continue
        pair = ((context.source_file, sentence), (other.source_file, other.quote))
        if conflict.kind == "negation":
            if disagree(question, *pair):
                return "no" if negates(sentence, question) else "yes"
        elif value_conflict(question, *pair):
            diff = value_diff(sentence, other.quote)
            if diff is not None and diff.second == side.value and diff.first in conflict.values:
                return diff.first
    return None


def _cited(citations: list[Citation], context: Context, start: int, end: int) -> Citation:
    """The citation quoting this span (or overlapping it), added to `citations` if none does."""
    for c in citations:
        if c.source_file == context.source_file and c.start < end and start < c.end:
            return c
    added = quote_citation(len(citations) + 1, context, start, end, context.support or 0.0)
    citations.append(added)
    return added


def _summary(conflict: Conflict, by_n: dict[int, Citation]) -> str:
    both = _telling_both(conflict)
    if both is not None:
        first, second = (by_n[side.citation] for side in both)
        opening = second.quote.strip()
        head = opening.split(" ", 1)[0]
        if head.lower() in _LOWER_OK:
            opening = head.lower() + opening[len(head) :]
        return (
            f"{first.quote.strip().rstrip('.;,')} [{first.n}]; "
            f"{opening.rstrip('.;,')} [{second.n}]."
        )
    parts = []
    for value in conflict.values:
        markers = "".join(f"[{s.citation}]" for s in conflict.sides if s.value == value)
        count = len(conflict.articles(value))
        said = value if conflict.kind == "negation" else f"“{value}”"
        parts.append(
            f"{count} article{'s' if count > 1 else ''} {_verb(conflict, count)} {said} {markers}"
        )
    newest = conflict.sides[0]
    when = f", from {newest.date:%-d %B %Y}," if newest.date else ""
    said = newest.value if conflict.kind == "negation" else f"“{newest.value}”"
    latest = f"the newest{when} says {said} [{newest.citation}]"
    return f"The articles differ: {'; '.join(parts)}; {latest}."


def _verb(conflict: Conflict, count: int) -> str:
    if conflict.kind == "negation":
        return "say" if count > 1 else "says"
    return "give" if count > 1 else "gives"


def _telling_both(conflict: Conflict) -> tuple[ConflictSide, ConflictSide] | None:
    """Two sides from one article that state different values: the article reports the
    disagreement itself (first side in the article's own order)."""
    for file in dict.fromkeys(side.source_file for side in conflict.sides):
        mine = [s for s in conflict.sides if s.source_file == file]
        for a in mine:
            for b in mine:
                if a.value != b.value and a.citation < b.citation:
                    return a, b
    return None
