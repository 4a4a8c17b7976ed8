"""Bounded generation: a token cap is asked for, one deadline covers the whole call (retries and
stream included), the text accepted is capped, and the verifier's work is bounded."""

from __future__ import annotations

import pytest

from rag import Answer, Pipeline, ProviderError, Settings
from tests.fake_openai import FakeOpenAI, Reply
from tests.support import openai_pipeline

Q = "Where did Trump hand Putin the letter?"
HANDED = "Trump delivered the letter by hand to Putin during their summit talks in Alaska [1]. "


def _final(pipeline: Pipeline) -> Answer:
    items = list(pipeline.stream_answer(Q))
    assert isinstance(items[-1], Answer)
    return items[-1]


def test_a_huge_body_is_cut_at_the_size_cap(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(HANDED * 12_000)  # ~1 MB of answer in one JSON body
    result = openai_pipeline(sample_settings, fake_openai, max_answer_chars=2_000).answer(Q)
    assert result.incomplete and "RAG_MAX_ANSWER_CHARS (2000)" in (result.incomplete_reason or "")
    assert len(result.text) <= 2_000 and result.citations
    assert result.verification is not None and result.verification.sentences <= 2_000 // 80


def test_an_endless_stream_is_cut_at_the_size_cap(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(HANDED, endless=True))
    result = _final(openai_pipeline(sample_settings, fake_openai, max_answer_chars=1_000))
    assert result.incomplete and "RAG_MAX_ANSWER_CHARS" in (result.incomplete_reason or "")
    assert result.citations and len(result.text) <= 1_000


def test_an_endless_stream_is_cut_at_the_deadline(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(HANDED, endless=True))
    pipeline = openai_pipeline(
        sample_settings, fake_openai, request_timeout=1.5, max_answer_chars=1_000_000
    )
    result = _final(pipeline)
    assert result.incomplete and "RAG_REQUEST_TIMEOUT (1.5 s)" in (result.incomplete_reason or "")
    assert result.citations
    assert result.text.endswith("[1].")  # the sentence the cut fell in is left out


def test_a_dripping_stream_is_cut_at_the_deadline(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    # One byte every 2 ms: each read is quick, so only a deadline on the whole call ends it.
    fake_openai.script(Reply(HANDED * 3, drip=0.002))
    result = _final(openai_pipeline(sample_settings, fake_openai, request_timeout=2))
    assert result.incomplete and "RAG_REQUEST_TIMEOUT (2 s)" in (result.incomplete_reason or "")


def test_a_dripping_body_times_out_as_a_whole(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(HANDED, drip=0.1))  # ~40 s for the whole body
    pipeline = openai_pipeline(sample_settings, fake_openai, request_timeout=1.5)
    with pytest.raises(ProviderError, match=r"no answer within RAG_REQUEST_TIMEOUT \(1.5 s\)"):
        pipeline.answer(Q)


def test_the_deadline_covers_retries(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(*[Reply(status=503, headers={"Retry-After": "1"})] * 8)
    pipeline = openai_pipeline(sample_settings, fake_openai, request_timeout=1.5, max_retries=6)
    with pytest.raises(ProviderError, match="RAG_REQUEST_TIMEOUT"):
        pipeline.answer(Q)
    assert len(fake_openai.requests) <= 3  # 1 s apart: the deadline came first


def test_the_token_limit_marks_the_answer_incomplete(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(HANDED, finish="length"))
    result = openai_pipeline(sample_settings, fake_openai, max_tokens=64).answer(Q)
    assert result.incomplete and "RAG_MAX_TOKENS (64)" in (result.incomplete_reason or "")
    assert fake_openai.requests[0]["body"]["max_tokens"] == 64


def test_the_verifier_work_is_bounded(sample_settings: Settings) -> None:
    from rag.trust.verify import MAX_CLAIMS

    pipeline = Pipeline.from_settings(sample_settings)
    contexts = pipeline.retrieve(Q)
    verified = pipeline.verifier.verify(HANDED * 5_000, contexts)  # 430 KB, 5,000 sentences
    assert verified.report.sentences == MAX_CLAIMS
    assert len(verified.text) < 100 * MAX_CLAIMS
