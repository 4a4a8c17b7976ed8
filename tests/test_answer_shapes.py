"""Answers shaped like the question: lists, summaries, timelines, asked-for kinds, follow-ups."""

from __future__ import annotations

import re

import pytest

from cli.main import render
from rag import Pipeline, Settings
from rag.history import condense
from rag.text.answertype import holds_type, strict_type
from rag.text.shapes import question_shape
from tests.support import file_text


@pytest.mark.parametrize(
    ("question", "shape"),
    [
        ("How did European leaders react to the summit?", "list"),
        ("How have the opposition parties responded to the budget?", "list"),
        ("Which other cities held protests?", "list"),
        ("Summarize the coverage of the strike.", "summary"),
        ("What do the articles say about the election?", "summary"),
        ("What happened after the talks collapsed?", "summary"),
        ("How did the dispute develop over the summer?", "timeline"),
        ("Give me a timeline of the merger.", "timeline"),
        ("Did the minister ever apologise?", "yesno"),
        ("And was the deal signed?", "yesno"),
        ("Where did the two leaders meet?", "fact"),
        # SQuAD-style questions that only look like the shapes above
        ("What type of vote must the Council pass in order to approve changes?", "fact"),
        ("What are injectors used to supply?", "fact"),
        ("By what other name was the Gate known?", "fact"),
        ("What are the stages in a compound engine called?", "fact"),
    ],
)
def test_question_shapes_follow_the_wording(question: str, shape: str) -> None:
    assert question_shape(question) == shape


@pytest.mark.parametrize(
    ("question", "kind", "sentence", "holds"),
    [
        ("How much did the bridge cost?", "money", "The bridge opened in 2019.", False),
        ("How much did the bridge cost?", "money", "It cost $4.5 million to build.", True),
        ("How much did the bridge cost?", "money", "It cost 4.5 million euros.", True),
        ("How old is the mayor?", "age", "The mayor, 54, spoke on Friday.", True),
        ("How old is the mayor?", "age", "The mayor spoke on Friday.", False),
        ("How old is the mayor?", "age", "The 54-year-old mayor spoke.", True),
    ],
)
def test_an_asked_for_kind_must_be_in_the_sentence(
    question: str, kind: str, sentence: str, holds: bool
) -> None:
    assert strict_type(question) == kind
    assert holds_type(question, kind, sentence) is holds


def test_questions_that_pin_nothing_down_have_no_strict_kind() -> None:
    assert strict_type("What did the leaders tell reporters?") is None
    assert strict_type("Did the talks succeed?") is None
    # Measured not to separate answerable from unanswerable questions: not a refusal rule.
    assert strict_type("Who signed the treaty?") is None
    assert strict_type("Which ministers attended?") is None
    assert strict_type("When did the war end?") is None


@pytest.mark.parametrize(
    ("question", "sentence", "holds"),
    [
        ("Which ministers attended?", "Foreign Minister Ana Lopez attended.", True),
        ("Which ministers attended?", "It was the first summit since Joe Biden.", False),
        ("What is the name of her adviser?", "Her adviser met Putin's team.", False),
        ("What is the name of her adviser?", "Her adviser, John Smith, met them.", True),
    ],
)
def test_a_role_name_stands_beside_its_role(question: str, sentence: str, holds: bool) -> None:
    assert holds_type(question, "name", sentence) is holds


@pytest.fixture(scope="module")
def pipeline(sample_settings: Settings) -> Pipeline:
    return Pipeline.from_settings(sample_settings)


def test_a_reaction_question_gets_one_cited_item_per_source(
    pipeline: Pipeline, sample_settings: Settings
) -> None:
    answer = pipeline.answer("How did European leaders react to the summit?")
    assert answer.shape == "list" and not answer.refused
    lines = answer.text.splitlines()
    assert lines[0] == "From the articles:"
    items = [line for line in lines[1:] if line.startswith("- ")]
    assert len(items) >= 2 and all(re.search(r"\[\d+\]", line) for line in items)
    for c in answer.citations:
        assert file_text(sample_settings, c.source_file)[c.start : c.end] == c.quote


def test_a_summary_is_a_marked_extract_in_the_order_of_events(
    pipeline: Pipeline, sample_settings: Settings
) -> None:
    answer = pipeline.answer("Summarize what the articles say about the letter.")
    assert answer.shape == "summary" and not answer.refused
    lines = answer.text.splitlines()
    assert lines[0].startswith("From the articles") and "not a written summary" in lines[0]
    assert len(lines) >= 3  # several sentences, from more than one article
    assert len({c.source_file for c in answer.citations}) >= 2
    markers = [re.search(r"\[(\d+)\]", line) for line in lines[1:]]
    dates = [answer.citation(int(m.group(1))).date for m in markers if m]
    dated = [d for d in dates if d is not None]
    assert dated == sorted(dated)
    assert dates[: len(dated)] == dated  # undated articles come after the dated ones


def test_a_timeline_gives_dated_items_in_date_order(pipeline: Pipeline) -> None:
    answer = pipeline.answer("Give me a timeline of the letter story.")
    assert answer.shape == "timeline" and not answer.refused
    lines = answer.text.splitlines()
    assert lines[0] == "From the articles, in date order:"
    stamps = [re.match(r"- (\d{4}-\d\d-\d\d|undated): ", line) for line in lines[1:]]
    assert all(stamps)
    days = [m.group(1) for m in stamps if m and m.group(1) != "undated"]
    assert len(days) >= 2 and days == sorted(days)


@pytest.mark.parametrize(
    "question",
    ["How old is Vladimir Putin?", "How much money did the letter cost to deliver?"],
)
def test_a_near_topic_question_whose_kind_of_answer_is_absent_is_refused(
    pipeline: Pipeline, question: str
) -> None:
    answer = pipeline.answer(question)
    assert answer.refused
    assert answer.closest  # the closest passages are listed, marked as not answering
    assert answer.confidence is None and answer.confidence_words is None


def test_a_fact_answer_says_how_well_it_answers(pipeline: Pipeline) -> None:
    answer = pipeline.answer("Where did Trump hand Putin the letter?")
    assert not answer.refused and answer.shape == "fact"
    assert answer.confidence in ("answers", "related")
    assert answer.confidence_words in (
        "answers the question",
        "related, may not answer the question",
    )


def test_a_follow_up_searches_for_what_the_previous_question_was_about(
    pipeline: Pipeline,
) -> None:
    history = [
        {"role": "user", "content": "How did Zelenskyy describe Melania's letter?"},
        {"role": "assistant", "content": "He called it a true act of humanism [1]."},
    ]
    assert condense("And what did Putin reply?", history) == (
        "And what did Putin reply? (Zelenskyy, Melania's letter)"
    )
    answer = pipeline.answer("And what did Putin reply?", history=history)
    assert answer.rewritten_question is not None and "letter" in answer.rewritten_question
    assert render(answer).startswith(f"Searched for: {answer.rewritten_question}")


def test_a_follow_up_does_not_repeat_a_name_it_carries() -> None:
    assert condense("What did he say?", [{"role": "user", "content": "Who is Keir Starmer?"}]) == (
        "What did he say? (Keir Starmer)"
    )
