"""The CLI shows conflicts side by side, answer spans in bold and a refusal's closest passages."""

from __future__ import annotations

import datetime as dt

from cli.main import render
from rag.types import Answer, Citation, Conflict, ConflictSide

QUOTE = "The summit was held in Helsinki on Friday."


def _citation(n: int, file: str, quote: str, **extra: object) -> Citation:
    return Citation(
        n=n,
        source_file=file,
        quote=quote,
        start=100,
        end=100 + len(quote),
        chunk_id=f"{file}#0",
        score=0.9,
        date=dt.date(2025, 10, 10),
        **extra,  # type: ignore[arg-type]
    )


def test_conflict_sides_are_listed_side_by_side_and_the_answer_span_is_bold() -> None:
    at = QUOTE.index("Helsinki")
    answer = Answer(
        question="Where was the summit held?",
        text='Sources disagree: new.txt says "Helsinki" [1] (2025-10-10); old.txt says '
        '"Anchorage" [2] (2025-08-16). ' + QUOTE + " [1]",
        mode="extractive",
        citations=[
            _citation(1, "new.txt", QUOTE, answer_span=(100 + at, 100 + at + 8)),
            _citation(2, "old.txt", QUOTE.replace("Helsinki", "Anchorage")),
        ],
        conflicts=[
            Conflict(
                kind="value",
                slot="The summit was held in … on Friday.",
                sides=[
                    ConflictSide(
                        value="Helsinki",
                        citation=1,
                        source_file="new.txt",
                        date=dt.date(2025, 10, 10),
                    ),
                    ConflictSide(
                        value="Anchorage",
                        citation=2,
                        source_file="old.txt",
                        date=dt.date(2025, 8, 16),
                    ),
                ],
            )
        ],
    )
    out = render(answer)
    assert "Sources disagree on: The summit was held in … on Friday." in out
    assert "    Helsinki   [1] new.txt (2025-10-10)" in out
    assert "    Anchorage  [2] old.txt (2025-08-16)" in out
    assert '"The summit was held in **Helsinki** on Friday."' in out


def test_a_refusal_lists_its_closest_passages_as_not_answering() -> None:
    answer = Answer(
        question="What did Putin reply?",
        text="The articles don't say this directly. Closest passages: ...",
        mode="extractive",
        refused=True,
        closest=[_citation(1, "new.txt", QUOTE, answers=False)],
    )
    out = render(answer)
    assert "Sources:" not in out
    assert "Closest passages (they do not answer the question):" in out
    assert "(1) new.txt (2025-10-10) chars 100-142" in out
