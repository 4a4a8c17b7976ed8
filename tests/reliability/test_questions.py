"""Awkward questions get a clear error or a sane answer, never a crash."""

from __future__ import annotations

import re

import pytest

from rag import BadInputError, Settings, answer
from tests.support import file_text


def _valid(result, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.text)}
    assert markers == {c.n for c in result.citations}
    for c in result.citations:
        assert file_text(settings, c.source_file)[c.start : c.end] == c.quote


@pytest.mark.parametrize("question", ["", "  \t\n ", "\x00\x07\x1b"])
def test_empty_questions_are_rejected(sample_settings: Settings, question: str) -> None:
    with pytest.raises(BadInputError, match="empty"):
        answer(question, settings=sample_settings)


def test_a_20000_character_question_is_rejected_with_the_limit(sample_settings: Settings) -> None:
    with pytest.raises(BadInputError, match=r"the limit is 1000"):
        answer("Where is the letter? " * 1000, settings=sample_settings)


@pytest.mark.parametrize("question", ["?!?! ... ???", "🙂🙂🙂 🚀", "¿¡ — … !?"])
def test_punctuation_and_emoji_are_refused_not_crashed(
    sample_settings: Settings, question: str
) -> None:
    result = answer(question, settings=sample_settings)
    assert result.refused and result.citations == []


def test_control_characters_are_removed(sample_settings: Settings) -> None:
    result = answer("\x07Where did Trump\x1b hand Putin the letter?\x00", settings=sample_settings)
    assert result.question == "Where did Trump hand Putin the letter?"
    assert "Alaska" in result.text
    _valid(result, sample_settings)


@pytest.mark.parametrize(
    "question", ["¿Dónde entregó Trump la carta a Putin?", "Где Трамп передал письмо Путину?"]
)
def test_other_languages_get_a_valid_answer_or_refusal(
    sample_settings: Settings, question: str
) -> None:
    result = answer(question, settings=sample_settings)
    _valid(result, sample_settings)


@pytest.mark.parametrize(
    ("top_k", "problem"),
    [
        (-1, "from 1 to 50"),
        (0, "from 1 to 50"),
        (51, "from 1 to 50"),
        ("5", "whole number"),
        (2.5, "whole number"),
        (True, "whole number"),
    ],
)
def test_bad_top_k_is_bad_input_not_a_store_failure(
    sample_settings: Settings, top_k: object, problem: str
) -> None:
    with pytest.raises(BadInputError, match=problem):
        answer("Where did Trump hand Putin the letter?", top_k=top_k, settings=sample_settings)  # type: ignore[arg-type]


def test_the_question_limit_counts_tokens_not_characters(sample_settings: Settings) -> None:
    # 400 characters, but each emoji is several tokens: over the limit all the same.
    with pytest.raises(BadInputError, match=r"the limit is 1000"):
        answer("Where is the letter? " + "🧑‍💻" * 200, settings=sample_settings)
