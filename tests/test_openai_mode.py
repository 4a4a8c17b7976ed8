"""OpenAI mode through the real `openai` client against a wire-level server on 127.0.0.1."""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from rag import Answer, Pipeline, ProviderError, Settings
from tests.conftest import file_text
from tests.fake_openai import FakeOpenAI, Reply

QUESTION = "Where did Trump hand Putin the letter?"


def openai_pipeline(settings: Settings, server: FakeOpenAI, **extra: object) -> Pipeline:
    update = {
        "answer_mode": "openai",
        "openai_api_key": SecretStr("sk-test-key"),
        "openai_base_url": server.base_url,
        "chat_model": "local-model-7b",
        "max_retries": 0,
    }
    return Pipeline.from_settings(settings.model_copy(update={**update, **extra}))


def test_markers_are_renumbered_and_quoted(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(
        "Trump handed the letter to Putin in Alaska [2]. Putin read it aloud [1][2]."
    )
    result = openai_pipeline(sample_settings, fake_openai).answer(QUESTION)
    assert result.mode == "openai" and result.model == "local-model-7b"
    assert (
        result.text == "Trump handed the letter to Putin in Alaska [1]. Putin read it aloud [2][1]."
    )
    assert result.citations[0].chunk_id == result.contexts[1].chunk_id
    assert result.citations[1].chunk_id == result.contexts[0].chunk_id
    for c in result.citations:
        assert file_text(sample_settings, c.source_file)[c.start : c.end] == c.quote
    assert result.usage is not None and result.usage.total_tokens > 0
    body = fake_openai.requests[0]["body"]
    assert body["model"] == "local-model-7b" and body.get("stream") in (None, False)
    assert '<source id="1"' in body["messages"][-1]["content"]
    assert fake_openai.requests[0]["auth"] == "Bearer sk-test-key"


def test_unknown_markers_are_dropped(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("The letter was delivered in Alaska [9]. It was read aloud [1][0][3, 77].")
    result = openai_pipeline(sample_settings, fake_openai).answer(QUESTION)
    assert result.text == "The letter was delivered in Alaska. It was read aloud [1][2]."
    assert len(result.citations) == 2
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.text)}
    assert markers == {c.n for c in result.citations}


def test_refusal_is_respected(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("I could not find this in the articles. [1]")
    result = openai_pipeline(sample_settings, fake_openai).answer("What is the capital of Peru?")
    assert result.refused and result.citations == []
    assert result.text == "I could not find this in the articles."


def test_streaming_gives_the_same_answer(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    text = "Trump gave Putin the letter at the Alaska summit [3]. Putin read it [1]."
    fake_openai.script(Reply(text, pieces=23), text)
    pipeline = openai_pipeline(sample_settings, fake_openai)
    items = list(pipeline.stream_answer(QUESTION))
    final = items[-1]
    assert isinstance(final, Answer)
    assert len(items) > 3 and "".join(i for i in items[:-1] if isinstance(i, str)) == final.text
    assert fake_openai.requests[0]["body"]["stream"] is True
    plain = pipeline.answer(QUESTION)
    assert plain.text == final.text and plain.citations == final.citations


def test_provider_error_is_clear(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(status=500), Reply(status=500))
    pipeline = openai_pipeline(sample_settings, fake_openai, max_retries=1)
    with pytest.raises(ProviderError, match="answered 500") as info:
        pipeline.answer(QUESTION)
    assert "sk-test-key" not in str(info.value)
    assert len(fake_openai.requests) == 2  # one retry, then the error
