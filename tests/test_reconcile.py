"""A disagreement reconciled from the retrieved passages: every side counted, one sentence."""

from __future__ import annotations

import datetime as dt

from rag.trust.conflicts import conflict_note, find_conflicts, reconciled
from rag.types import Answer, Citation, Context

Q = "Did the letter mention the abducted children?"
YES = "Officials confirmed the letter mentioned the abductions of children."
NO = "The letter does not mention the abductions of children."
BOTH = (
    "Officials said the letter mentioned the abductions of children. "
    "In contrast, the letter as published makes no reference to the abductions."
)


def _context(file: str, text: str, day: int | None) -> Context:
    date = dt.date(2025, 8, day) if day else None
    return Context(
        chunk_id=f"{file}#h#0", source_file=file, title=file, date=date, text=text,
        start=0, end=len(text), position=0, score=1.0,
    )  # fmt: skip


def _cite(n: int, ctx: Context, quote: str) -> Citation:
    at = ctx.text.index(quote)
    return Citation(
        n=n, source_file=ctx.source_file, quote=quote, start=at, end=at + len(quote),
        chunk_id=ctx.chunk_id, score=0.9, date=ctx.date, title=ctx.title,
    )  # fmt: skip


def test_every_supporting_passage_is_cited_and_an_article_telling_both_sides_leads() -> None:
    yes, no, both = (
        _context("a.txt", YES, 16),
        _context("b.txt", NO, 20),
        _context("c.txt", BOTH, None),
    )
    cited = [_cite(1, yes, YES), _cite(2, no, NO)]
    conflicts = find_conflicts(Q, cited)
    assert len(conflicts) == 1
    text = f"{conflict_note(conflicts)} {YES} [1] {NO} [2]"
    answer = Answer(
        question=Q, text=text, citations=cited, contexts=[yes, no, both],
        conflicts=conflicts, mode="extractive",
    )  # fmt: skip
    done = reconciled(answer)
    conflict = done.conflicts[0]
    assert set(conflict.articles("yes")) == {"a.txt", "c.txt"}
    assert set(conflict.articles("no")) == {"b.txt", "c.txt"}
    assert conflict.summary == (
        "Officials said the letter mentioned the abductions of children [3]; "
        "in contrast, the letter as published makes no reference to the abductions [4]."
    )
    assert [c.quote for c in done.citations[2:]] == BOTH.replace(" In", "\nIn").split("\n")
    assert done.text.startswith(conflict.summary) and "Sources disagree" not in done.text
    assert reconciled(done) is done  # once is enough


def test_without_an_article_telling_both_the_sentence_counts_the_sides() -> None:
    yes, no = _context("a.txt", YES, 16), _context("b.txt", NO, 20)
    cited = [_cite(1, yes, YES), _cite(2, no, NO)]
    conflicts = find_conflicts(Q, cited)
    answer = Answer(
        question=Q, text="", citations=cited, contexts=[yes, no], conflicts=conflicts,
        mode="extractive",
    )  # fmt: skip
    assert reconciled(answer).conflicts[0].summary == (
        "The articles differ: 1 article says no [2]; 1 article says yes [1]; "
        "the newest, from 20 August 2025, says no [2]."
    )
