"""Provider faults at the wire: bounded retries, then a clear ProviderError; cut streams marked."""

from __future__ import annotations

import re
import socket

import pytest
from pydantic import SecretStr

from rag import Answer, Pipeline, ProviderError, Settings
from tests.fake_openai import FakeOpenAI, Reply

Q = "Where did Trump hand Putin the letter?"


def _pipeline(settings: Settings, base_url: str, **extra: object) -> Pipeline:
    update = {
        "answer_mode": "openai",
        "openai_api_key": SecretStr("sk-test"),
        "openai_base_url": base_url,
        "max_retries": 2,
        **extra,
    }
    return Pipeline.from_settings(settings.model_copy(update=update))


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_then_reported(
    sample_settings: Settings, fake_openai: FakeOpenAI, status: int
) -> None:
    fake_openai.script(*[Reply(status=status, headers={"Retry-After": "0"})] * 3)
    with pytest.raises(ProviderError, match=f"answered {status}"):
        _pipeline(sample_settings, fake_openai.base_url).answer(Q)
    assert len(fake_openai.requests) == 3  # the first try and two retries


def test_connection_refused_names_the_server(sample_settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ProviderError, match=f"Cannot reach the provider at {re.escape(url)}"):
        _pipeline(sample_settings, url, max_retries=0).answer(Q)


def test_read_timeout(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply("late", delay=1.5))
    pipeline = _pipeline(sample_settings, fake_openai.base_url, max_retries=0, request_timeout=0.3)
    with pytest.raises(ProviderError, match="timed out"):
        pipeline.answer(Q)


def test_malformed_json(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        Reply(raw_body="{not json"), Reply(raw_body="{not json"), Reply(raw_body="{")
    )
    with pytest.raises(ProviderError, match="malformed"):
        _pipeline(sample_settings, fake_openai.base_url, max_retries=0).answer(Q)


def test_empty_completion(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("")
    with pytest.raises(ProviderError, match="empty answer"):
        _pipeline(sample_settings, fake_openai.base_url).answer(Q)


def test_stream_cut_midway_is_marked_incomplete(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = _pipeline(sample_settings, fake_openai.base_url, max_retries=0)
    text = (
        "Trump delivered the letter by hand to Putin during their summit talks in Alaska [1]. "
        "Putin read the letter in front of the delegations [2]."
    )
    fake_openai.script(Reply(text, pieces=10, cut_after=6))
    items = list(pipeline.stream_answer(Q))
    final = items[-1]
    assert isinstance(final, Answer) and final.incomplete
    assert any(isinstance(i, str) for i in items[:-1])
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", final.text)}
    assert markers == {c.n for c in final.citations}
    complete = Reply(text)
    fake_openai.script(complete)
    assert not pipeline.answer(Q).incomplete


def test_rate_limit_is_retried_and_cost_estimated(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = _pipeline(
        sample_settings, fake_openai.base_url, max_retries=1, chat_model="gpt-4o-mini"
    )
    text = "Trump delivered the letter by hand to Putin during their summit talks in Alaska [1]."
    fake_openai.script(Reply(status=429, headers={"Retry-After": "0"}), text)
    result = pipeline.answer(Q)
    assert len(fake_openai.requests) == 2 and not result.refused
    assert result.usage is not None and result.usage.cost_usd is not None
    expected = (result.usage.prompt_tokens * 0.15 + result.usage.completion_tokens * 0.60) / 1e6
    assert result.usage.cost_usd == round(expected, 6)
