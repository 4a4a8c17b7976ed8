"""OpenAI mode shares the offline answer's trust rules: an unsupported answer is a refusal
with the closest passages, and a disagreement is never shown one-sided."""

from __future__ import annotations

from rag import Settings
from tests.fake_openai import FakeOpenAI
from tests.support import QUESTION, openai_pipeline

LETTER = "Did the letter mention the abducted children?"


def test_an_answer_no_source_supports_becomes_a_refusal(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    fake_openai.script("The letter was handed over in a Geneva hotel by a Swiss courier [1].")
    result = pipeline.answer(QUESTION)
    assert result.refused and result.citations == [] and result.unsupported == []
    assert result.text.startswith("The articles don't say this directly. Closest passages:")
    assert result.closest and not any(c.answers for c in result.closest)


def test_one_side_of_a_disagreement_gets_its_other_side(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    contexts = pipeline.retrieve(LETTER)
    yes = next(n for n, c in enumerate(contexts, 1) if "confirmed it mentioned" in c.text)
    fake_openai.script(
        f"Officials confirmed the letter mentioned the abductions of children [{yes}]."
    )
    result = pipeline.answer(LETTER)
    assert result.conflicts, result.text
    sides = {s.value for c in result.conflicts for s in c.sides}
    assert sides == {"yes", "no"}
    assert len({c.source_file for c in result.citations}) >= 2
