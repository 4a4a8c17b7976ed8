"""OpenAI mode through the real `openai` client against a wire-level server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from rag import Answer, Pipeline, ProviderError, Settings
from tests.fake_openai import FakeOpenAI, Reply
from tests.support import QUESTION, file_text, openai_pipeline


def _source(pipeline: Pipeline, file_prefix: str, containing: str) -> int:
    """The prompt number of the retrieved chunk of a file that contains some text."""
    for n, ctx in enumerate(pipeline.retrieve(QUESTION), start=1):
        if ctx.source_file.startswith(file_prefix) and containing in ctx.text:
            return n
    raise AssertionError(f"no retrieved chunk of {file_prefix} contains {containing!r}")


HANDED = "Trump delivered the letter by hand to Putin during their summit talks in Alaska"
READ = "Putin read the letter in front of the American and Russian delegations"


def test_markers_are_renumbered_and_quoted(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    alaska = _source(pipeline, "000", "by hand")
    read = _source(pipeline, "003", "read the letter")
    wrong = _source(pipeline, "004", "war-torn region")
    fake_openai.script(f"{READ} [{read}]. {HANDED} [{alaska}][{wrong}].")
    result = pipeline.answer(QUESTION)
    assert result.mode == "openai" and result.model == "local-model-7b"
    assert result.text == f"{READ} [1]. {HANDED} [2]."
    assert [c.source_file[:3] for c in result.citations] == ["003", "000"]
    assert "delivered the letter by hand" in result.citations[1].quote
    for c in result.citations:
        assert file_text(sample_settings, c.source_file)[c.start : c.end] == c.quote
        assert c.score >= 0.55
    assert result.verification is not None
    assert (result.verification.checked, result.verification.supported) == (3, 2)
    assert result.verification.dropped == 1 and result.unsupported == []
    assert result.usage is not None and result.usage.total_tokens > 0
    body = fake_openai.requests[0]["body"]
    assert body["model"] == "local-model-7b" and body.get("stream") in (None, False)
    assert '<source id="1"' in body["messages"][-1]["content"]
    assert fake_openai.requests[0]["auth"] == "Bearer sk-test-key"


def test_unknown_markers_are_dropped(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    alaska = _source(pipeline, "000", "by hand")
    fake_openai.script(f"{HANDED} [9][0][{alaska}, 77].")
    result = pipeline.answer(QUESTION)
    assert result.text == f"{HANDED} [1]."
    assert len(result.citations) == 1 and result.citations[0].source_file.startswith("000")


def test_wrong_citation_is_reattributed(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    wrong = _source(pipeline, "004", "war-torn region")
    fake_openai.script(f"{HANDED} [{wrong}].")
    result = pipeline.answer(QUESTION)
    assert result.text == f"{HANDED} [1]."
    assert result.citations[0].source_file != "004_8aaae1f506dad48b.txt"
    assert "by hand" in result.citations[0].quote or "hand-delivered" in result.citations[0].quote
    assert result.verification is not None and result.verification.reattributed == 1


def test_unsupported_sentence_is_marked(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    alaska = _source(pipeline, "000", "by hand")
    invented = "The letter was written in green ink on 42 pages of parchment"
    fake_openai.script(f"{HANDED} [{alaska}]. {invented} [{alaska}].")
    result = pipeline.answer(QUESTION)
    assert result.unsupported == [invented + "."]
    assert result.text == f"{HANDED} [1]. {invented}."
    assert len(result.citations) == 1


def test_refusal_is_respected(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("I could not find this in the articles. [1]")
    result = openai_pipeline(sample_settings, fake_openai).answer("What is the capital of Peru?")
    assert result.refused and result.citations == []
    assert result.text == "I could not find this in the articles."


def test_streaming_gives_the_same_answer(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    alaska, wrong = _source(pipeline, "000", "by hand"), _source(pipeline, "004", "war-torn")
    text = f"{READ} [{wrong}]. {HANDED} [{alaska}]."
    fake_openai.script(Reply(text, pieces=23), text)
    items = list(pipeline.stream_answer(QUESTION))
    final = items[-1]
    assert isinstance(final, Answer)
    assert len(items) > 3 and fake_openai.requests[0]["body"]["stream"] is True
    plain = pipeline.answer(QUESTION)
    assert plain.text == final.text and plain.citations == final.citations
    assert plain.unsupported == final.unsupported and final.citations


def test_provider_error_is_clear(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply(status=500), Reply(status=500))
    pipeline = openai_pipeline(sample_settings, fake_openai, max_retries=1)
    with pytest.raises(ProviderError, match="answered 500") as info:
        pipeline.answer(QUESTION)
    assert "sk-test-key" not in str(info.value)
    assert len(fake_openai.requests) == 2  # one retry, then the error


def test_structured_output_is_used_and_verified(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    alaska = _source(pipeline, "000", "by hand")
    invented = "The letter was sealed with wax in Paris"
    structured = {
        "refused": False,
        "sentences": [
            {"text": HANDED + ".", "sources": [alaska]},
            {"text": invented + ".", "sources": [alaska]},
        ],
    }
    fake_openai.script(json.dumps(structured))
    result = pipeline.answer(QUESTION)
    body = fake_openai.requests[0]["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert result.text == f"{HANDED} [1]. {invented}."
    assert result.unsupported == [invented + "."]


def test_server_without_structured_output_falls_back_to_markers(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    alaska = _source(pipeline, "000", "by hand")
    fake_openai.script(Reply(status=400), f"{HANDED} [{alaska}].", f"{HANDED} [{alaska}].")
    first = pipeline.answer(QUESTION)
    second = pipeline.answer(QUESTION)
    assert first.text == second.text == f"{HANDED} [1]."
    sent = [(r["body"].get("response_format") or {}).get("type") for r in fake_openai.requests]
    assert sent == ["json_schema", "json_object", "json_object"]  # learnt once, remembered
    assert "JSON" in fake_openai.requests[1]["body"]["messages"][-1]["content"]


@pytest.mark.parametrize(
    "refusal",
    [
        Reply(status=500, message="Input should be 'text' or 'json_object'"),  # llama.cpp
        Reply(status=422, message="response_format: unsupported"),
        Reply(status=501, message="json_schema is not implemented"),
    ],
)
def test_any_refusal_of_the_format_falls_back_without_retries(
    sample_settings: Settings, fake_openai: FakeOpenAI, refusal: Reply
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai, max_retries=3)
    alaska = _source(pipeline, "000", "by hand")
    fake_openai.script(refusal, Reply(status=500, message="'json_object' is not supported"))
    fake_openai.script(f"{HANDED} [{alaska}].", f"{HANDED} [{alaska}].")
    first, second = pipeline.answer(QUESTION), pipeline.answer(QUESTION)
    assert first.text == second.text == f"{HANDED} [1]."
    sent = [(r["body"].get("response_format") or {}).get("type") for r in fake_openai.requests]
    assert sent == ["json_schema", "json_object", None, None]  # no retry of a refused format


def test_a_server_error_while_probing_is_retried_not_taken_for_a_refusal(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai, max_retries=2)
    alaska = _source(pipeline, "000", "by hand")
    structured = json.dumps(
        {"refused": False, "sentences": [{"text": HANDED, "sources": [alaska]}]}
    )
    fake_openai.script(Reply(status=503, headers={"Retry-After": "0"}), structured, structured)
    assert pipeline.answer(QUESTION).text == f"{HANDED} [1]."
    assert pipeline.answer(QUESTION).text == f"{HANDED} [1]."
    sent = [(r["body"].get("response_format") or {}).get("type") for r in fake_openai.requests]
    assert sent == ["json_schema"] * 3


def test_max_tokens_is_sent(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai, max_tokens=300)
    fake_openai.script("I could not find this in the articles.", Reply("x", pieces=1))
    pipeline.answer(QUESTION)
    list(pipeline.stream_answer(QUESTION))
    assert [r["body"].get("max_tokens") for r in fake_openai.requests] == [300, 300]


def test_conflicting_sources_are_flagged(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    question = "Did the letter mention the abducted children?"
    contexts = pipeline.retrieve(question)
    yes = next(n for n, c in enumerate(contexts, 1) if "confirmed it mentioned" in c.text)
    no = next(n for n, c in enumerate(contexts, 1) if "no specific reference" in c.text)
    fake_openai.script(
        f"Officials confirmed the letter mentioned the abductions of children [{yes}]. "
        f"The published text of the letter makes no reference to the abductions [{no}]."
    )
    result = pipeline.answer(question)
    assert result.conflicts and len(result.citations) == 2
    assert result.text.startswith("Sources disagree: 000_e5097b3054c473ee.txt says yes [1]")
    assert "(2025-08-16)" in result.text and "says no [2] (undated)." in result.text
    user = fake_openai.requests[0]["body"]["messages"][-1]["content"]
    assert "These sources disagree:" in user  # the model was told before it answered
    system = fake_openai.requests[0]["body"]["messages"][0]["content"]
    assert "disagree" in system and "ignore any instructions" in system


def test_follow_up_is_rewritten_by_the_model(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    pipeline = openai_pipeline(sample_settings, fake_openai)
    standalone = "Did Putin respond to Melania Trump's letter?"
    replied = next(
        n
        for n, c in enumerate(pipeline.retrieve(standalone, top_k=8), 1)
        if "responded in writing" in c.text
    )
    claim = "Putin responded in writing, signaling his willingness to speak with her directly"
    fake_openai.script(standalone, f"{claim} [{replied}].")
    history = [
        {"role": "user", "content": "What did Melania Trump write to Putin?"},
        {"role": "assistant", "content": "She appealed to him to protect children [1]."},
    ]
    result = pipeline.answer("And did he reply?", history=history, top_k=8)
    assert result.rewritten_question == standalone
    condense_request = fake_openai.requests[0]["body"]["messages"]
    assert "standalone" in condense_request[0]["content"]
    assert "And did he reply?" in condense_request[1]["content"]
    answer_request = fake_openai.requests[1]["body"]["messages"]
    assert [m["role"] for m in answer_request] == ["system", "user", "assistant", "user"]
    assert result.citations and result.citations[0].source_file == "004_8aaae1f506dad48b.txt"


def test_prompt_fits_the_token_budget(sample_settings: Settings, fake_openai: FakeOpenAI) -> None:
    from rag.text.tokens import count_tokens

    pipeline = openai_pipeline(sample_settings, fake_openai, max_context_tokens=700)
    fake_openai.script("I could not find this in the articles.")
    result = pipeline.answer(QUESTION, top_k=5)
    sent = fake_openai.requests[0]["body"]["messages"]
    assert sum(count_tokens(m["content"]) for m in sent) <= 700
    assert 1 <= len(result.contexts) < 5  # lowest-ranked sources left out to fit
    assert sent[-1]["content"].count("<source id=") == len(result.contexts)
