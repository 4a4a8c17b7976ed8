"""Offline answers quote statements, not headlines, captions or subheadings."""

from __future__ import annotations

import pytest

from rag import Pipeline, Settings
from rag.extractive import is_statement


@pytest.mark.parametrize(
    ("sentence", "statement"),
    [
        ("What happened during Trump-Putin meeting?", False),  # a subheading
        ("Melania Trump (Photo: Jim Lo Scalzo/EPA)", False),  # a caption
        ("Read more: Trump drops Ukraine ceasefire demand after Putin summit", False),
        ("Trump gives Putin letter from Melania", False),  # a headline
        ("\u201cNext time in Moscow,\u201d Putin said.", True),
        ('It began, "Dear President Putin, Every child shares the same quiet dreams".', True),
        ("He said \u201cit is time.\u201d", True),
        ("Why now? Nobody knows!", True),
    ],
)
def test_is_statement(sentence: str, statement: bool) -> None:
    assert is_statement(sentence) is statement


@pytest.mark.parametrize(
    "question",
    [
        "Where did Trump hand Putin the letter?",
        "Where was Melania Trump born?",
        "How did Trump rate the summit?",
        "At which military base did Trump meet Putin?",
    ],
)
def test_answers_quote_statements(sample_settings: Settings, question: str) -> None:
    answer = Pipeline.from_settings(sample_settings).answer(question)
    assert answer.citations and not answer.refused
    assert all(is_statement(c.quote) for c in answer.citations), [c.quote for c in answer.citations]
