"""Value conflicts: the same fact with a different value in two files is flagged, with both
sides, newest first; paraphrases, added detail and different facts are not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from index import build_index
from rag import Pipeline, Settings
from rag.trust.conflicts import conflict_note, find_conflicts
from rag.trust.values import value_diff
from rag.types import Citation

QUESTION = "When did the Normans conquer England?"
BASE = "The Normans conquered England in 1066 under William the Conqueror."


def _citation(n: int, quote: str, file: str, day: str | None) -> Citation:
    return Citation(
        n=n,
        source_file=file,
        quote=quote,
        start=0,
        end=len(quote),
        chunk_id=f"{file}#0",
        score=1.0,
        date=dt.date.fromisoformat(day) if day else None,
    )


@pytest.mark.parametrize(
    ("question", "first", "second", "values"),
    [
        (QUESTION, BASE, BASE.replace("1066", "1071"), ("1066", "1071")),  # a year
        (
            "Who led the Normans when they conquered England?",
            BASE,
            BASE.replace("William the Conqueror", "Robert Guiscard"),
            ("William the Conqueror", "Robert Guiscard"),
        ),  # a name
        (
            "How many knights did the Normans bring to England?",
            "The Normans brought 7,000 knights to England in 1066.",
            "The Normans brought 12,000 knights to England in 1066.",
            ("7,000", "12,000"),
        ),  # a number
    ],
)
def test_a_swapped_value_is_a_conflict_with_both_sides_newest_first(
    question: str, first: str, second: str, values: tuple[str, str]
) -> None:
    older = _citation(1, first, "a.txt", "2025-08-16")
    newer = _citation(2, second, "b.txt", "2025-10-10")
    (conflict,) = find_conflicts(question, [older, newer])
    assert conflict.kind == "value"
    assert [s.value for s in conflict.sides] == [values[1], values[0]]  # newest first
    assert conflict.citations == [2, 1]
    note = conflict_note([conflict])
    assert note == (
        f'Sources disagree: b.txt says "{values[1]}" [2] (2025-10-10); '
        f'a.txt says "{values[0]}" [1] (2025-08-16).'
    )


@pytest.mark.parametrize(
    "second",
    [
        "In 1066 the Normans conquered England under William the Conqueror.",  # word order
        "The Normans took England in 1066 under William the Conqueror.",  # a paraphrase
        "The Normans conquered England in 1066 under William the Conqueror, Duke of Normandy.",
        "The Normans conquered Sicily in 1091 under Roger.",  # a different fact
    ],
)
def test_no_conflict_for_paraphrases_details_or_other_facts(second: str) -> None:
    citations = [
        _citation(1, BASE, "a.txt", "2025-08-16"),
        _citation(2, second, "b.txt", "2025-10-10"),
    ]
    assert find_conflicts(QUESTION, citations) == []


def test_same_file_is_never_a_conflict() -> None:
    citations = [
        _citation(1, BASE, "a.txt", None),
        _citation(2, BASE.replace("1066", "1071"), "a.txt", None),
    ]
    assert find_conflicts(QUESTION, citations) == []


def test_number_words_and_digits_are_one_value() -> None:
    assert value_diff("The team won 3 games.", "The team won three games.") is None


def test_conflicting_articles_are_answered_side_by_side(tmp_path: Path) -> None:
    corpus = tmp_path / "articles"
    corpus.mkdir()
    (corpus / "old.txt").write_text(
        " date 2025-08-16 Summit report\n\nThe summit between the two leaders was held in "
        "Anchorage on Friday. Officials described the talks as productive.\n",
        encoding="utf-8",
    )
    (corpus / "new.txt").write_text(
        " date 2025-10-10 Summit review\n\nThe summit between the two leaders was held in "
        "Helsinki on Friday. Reporters were kept outside.\n",
        encoding="utf-8",
    )
    settings = Settings.load(
        chroma_path=tmp_path / "chroma", upload_dir=tmp_path / "up", answer_mode="extractive"
    )
    build_index(corpus, settings, progress=False)
    result = Pipeline.from_settings(settings).answer("Where was the summit held?")
    assert not result.refused
    (conflict,) = result.conflicts
    assert [s.value for s in conflict.sides] == ["Helsinki", "Anchorage"]
    assert [s.date for s in conflict.sides] == [dt.date(2025, 10, 10), dt.date(2025, 8, 16)]
    assert result.text.startswith('Sources disagree: new.txt says "Helsinki" [')
    assert "Anchorage" in result.text and "Helsinki" in result.text
    assert {c.source_file for c in result.citations} == {"old.txt", "new.txt"}


def test_a_negated_copy_of_a_statement_is_a_conflict() -> None:
    question = "What effect did the Normans have on Irish culture?"
    said = "The Normans had a profound effect on Irish culture after their invasion in 1169."
    citations = [
        _citation(1, said, "a.txt", "2025-08-16"),
        _citation(2, said.replace("had a", "had not a"), "b.txt", "2025-10-10"),
    ]
    (conflict,) = find_conflicts(question, citations)
    assert conflict.kind == "negation"
    assert [(s.citation, s.value) for s in conflict.sides] == [(2, "no"), (1, "yes")]
