"""`answer()` end to end on the sample corpus: right sources, refusals, citations that resolve."""

from __future__ import annotations

import json
import re

import pytest

from rag import (
    Answer,
    BadInputError,
    ConfigError,
    IndexNotBuiltError,
    Settings,
    answer,
    stream_answer,
)
from tests.support import file_text

SINGLE_SOURCE = [
    ("Where was Melania Trump born?", "000_e5097b3054c473ee.txt", "Slovenia"),
    ("How did Trump rate the summit out of 10?", "000_e5097b3054c473ee.txt", "10 out of 10"),
    (
        "What did Keir Starmer say about Trump's efforts?",
        "001_ef341db465d16e61.txt",
        "closer than ever",
    ),
    (
        "Who issued an arrest warrant against Putin?",
        "002_d141276db4e5eb8d.txt",
        "International Criminal Court",
    ),
    ("What did Zelenskyy call the letter?", "002_d141276db4e5eb8d.txt", "humanism"),
    ("When was the previous US-Russia summit held?", "003_1305e3d104303dd2.txt", "June 2021"),
    (
        "How many children were reunited with their families in the last 24 hours?",
        "004_8aaae1f506dad48b.txt",
        "eight children",
    ),
]


def assert_citations_resolve(result: Answer, settings: Settings) -> None:
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.text)}
    assert markers == {c.n for c in result.citations}
    assert [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))
    for c in result.citations:
        assert file_text(settings, c.source_file)[c.start : c.end] == c.quote


@pytest.mark.parametrize(("question", "source", "fact"), SINGLE_SOURCE)
def test_cites_the_right_article(
    sample_settings: Settings, question: str, source: str, fact: str
) -> None:
    result = answer(question, settings=sample_settings)
    assert not result.refused
    assert result.citations[0].source_file == source
    assert fact in result.text
    assert_citations_resolve(result, sample_settings)


@pytest.mark.parametrize(
    "question", ["What is the boiling point of mercury?", "Who won the 2018 football World Cup?"]
)
def test_refuses_off_topic(sample_settings: Settings, question: str) -> None:
    result = answer(question, settings=sample_settings)
    assert result.refused and result.citations == []
    assert "could not find" in result.text


def test_answer_is_structured_and_json(sample_settings: Settings) -> None:
    result = answer("Where did Trump hand Putin the letter?", settings=sample_settings)
    assert str(result) == result.text and "Alaska" in result.text
    data = json.loads(result.model_dump_json())
    assert data["mode"] == "extractive" and data["citations"][0]["n"] == 1
    assert {"retrieve", "answer", "total"} <= set(data["timings"])
    assert result.contexts and all(c.text for c in result.contexts)
    assert Answer.model_validate(data) == result


def test_stream_matches_answer(sample_settings: Settings) -> None:
    items = list(
        stream_answer("Who read the letter in front of the delegations?", settings=sample_settings)
    )
    final = items[-1]
    assert isinstance(final, Answer)
    assert "".join(i for i in items[:-1] if isinstance(i, str)) == final.text
    same = answer("Who read the letter in front of the delegations?", settings=sample_settings)
    assert same.citations == final.citations and same.text == final.text


def test_filters_restrict_sources(sample_settings: Settings) -> None:
    only = "003_1305e3d104303dd2.txt"
    result = answer(
        "Where did Trump hand Putin the letter?",
        filters={"sources": [only]},
        settings=sample_settings,
    )
    assert {c.source_file for c in result.contexts} == {only}
    dated = answer(
        "Where did Trump hand Putin the letter?",
        settings=sample_settings,
        filters={"since": "2025-08-17"},
    )
    assert {c.source_file for c in dated.contexts} <= {only, "004_8aaae1f506dad48b.txt"}


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question_is_rejected(sample_settings: Settings, question: str) -> None:
    with pytest.raises(BadInputError, match="empty"):
        answer(question, settings=sample_settings)


def test_no_index_says_how_to_build_it(tmp_path) -> None:
    with pytest.raises(IndexNotBuiltError, match="rag index"):
        answer("anything?", settings=Settings(chroma_path=tmp_path / "none"))


def test_openai_mode_without_key_is_a_config_error(sample_settings: Settings) -> None:
    forced = sample_settings.model_copy(update={"answer_mode": "openai"})
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        answer("Where?", settings=forced)


def test_bad_filters_are_rejected(sample_settings: Settings) -> None:
    with pytest.raises(BadInputError, match="since"):
        answer(
            "Where?",
            settings=sample_settings,
            filters={"since": "2025-09-01", "until": "2025-01-01"},
        )


def test_unreachable_server_names_host_and_port() -> None:
    import socket

    from rag import StoreError

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(chroma_host="127.0.0.1", chroma_port=port)
    with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
        answer("Where?", settings=settings)
