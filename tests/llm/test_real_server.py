"""The generative path against a real OpenAI-compatible server (llama.cpp + SmolLM2-135M),
through the product's own code and the real `openai` client.

A 135M model writes poor answers; these tests check what the product guarantees whatever the
model writes: every citation that reaches the reader is supported by its quote at its offsets,
counts add up, limits hold, the chat's stream and `rag.answer()` give the same verified answer,
and each protocol feature (the judge's structured output, streaming, usage, condensing,
`rag eval`) works against a server that is not a scripted fake.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import cast

import pytest
from openai.types.chat import ChatCompletionMessageParam
from typer.testing import CliRunner

from bench.claims import ROOT, build_cases, run, summarise
from bench.common import DEFAULT_BENCH
from cli import app
from devtools.llm_server import ALIAS, LlamaServer
from evals.judge import VERDICT_SCHEMA, Judge, parse_verdict
from evals.suite import Case
from rag import Answer, Pipeline, Settings
from rag.prompts import JUDGE_CORRECTNESS_PROMPT
from rag.providers.llm import Limits, OutputFormat, complete, make_client
from rag.text.roles import misattributed
from tests.support import file_text

pytestmark = pytest.mark.llm

Q = "Where did Trump hand Putin the letter?"


def _check_grounded(answer: Answer, settings: Settings) -> None:
    """What must hold whatever the model wrote."""
    assert answer.mode == "openai" and answer.model == ALIAS
    if answer.refused:
        assert answer.citations == [] and answer.unsupported == []
        return
    assert answer.citations, "an answer that is not a refusal has a supported sentence"
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}
    for c in answer.citations:
        assert file_text(settings, c.source_file)[c.start : c.end] == c.quote
        assert c.score >= 0.55
    v = answer.verification
    assert v is not None
    assert v.checked == v.supported + v.dropped
    assert v.sentences == v.kept + v.reattributed + v.unsupported


def test_the_server_refuses_a_json_schema_and_json_mode_is_learnt(llm_settings: Settings) -> None:
    # Only the eval judge asks for structured output; answers are plain text.
    output = OutputFormat()
    messages = cast(
        list[ChatCompletionMessageParam],
        [
            {"role": "system", "content": JUDGE_CORRECTNESS_PROMPT},
            {"role": "user", "content": "QUESTION: Where?\n\nREFERENCE: Alaska\n\nANSWER: Alaska"},
        ],
    )
    text, completion = complete(
        make_client(llm_settings),
        ALIAS,
        messages,
        Limits.of(llm_settings, 60),
        output=output,
        schema=VERDICT_SCHEMA,
    )
    assert output.current == "json_object" and output.confirmed  # json_schema got a 500
    assert "score" in parse_verdict(text), text  # the grammar made it a verdict
    assert completion.usage is not None and completion.usage.prompt_tokens > 20


def test_the_chat_and_rag_answer_give_the_same_verified_answer(llm_settings: Settings) -> None:
    # One request shape: the chat streams it, `rag.answer()` (CLI, evals) does not; at
    # temperature 0 the same question gets the same draft, so the same verified answer.
    # The request bodies are identical (tests/test_openai_claims.py); llama.cpp's server is not
    # always deterministic between two identical requests (its prompt cache changes the
    # batch), so a pair is asked up to three times and one pair must agree in full.
    pipeline = Pipeline.from_settings(llm_settings)
    question = "Where was Melania Trump born?"
    seen = []
    for _ in range(3):
        plain = pipeline.answer(question)
        items = list(pipeline.stream_answer(question))
        streamed = items[-1]
        assert isinstance(streamed, Answer) and len(items) > 2
        mine = (streamed.text, streamed.citations, streamed.refused, streamed.unsupported)
        theirs = (plain.text, plain.citations, plain.refused, plain.unsupported)
        seen.append((mine, theirs))
        if mine == theirs:
            break
    else:
        raise AssertionError(f"no pair of answers agreed in three tries: {seen}")
    _check_grounded(plain, llm_settings)
    for sentence in plain.unsupported:  # what no source supports never reaches the body
        assert sentence not in plain.text


def test_the_claims_benchmark_smoke_subset(tmp_path: Path) -> None:
    # Fixed drafts (one or two of each kind) through the real generative path: the verifier
    # keeps true claims with their citation and shows no wrong one.
    cases = build_cases(DEFAULT_BENCH, smoke=2)
    rows = run(cases, {"new": ROOT}, DEFAULT_BENCH, tmp_path)["new"]
    summary = summarise(cases, rows)
    assert summary["all/correct"]["kept"] >= 0.9, summary
    assert summary["all/wrong"]["shown"] <= 0.1, summary


def test_plain_answer_is_grounded(llm_settings: Settings) -> None:
    result = Pipeline.from_settings(llm_settings).answer(Q)
    _check_grounded(result, llm_settings)
    assert result.usage is not None and result.usage.prompt_tokens > 100
    assert result.usage.completion_tokens > 0 and result.usage.cost_usd is None


def test_streaming_answer_is_grounded(llm_settings: Settings) -> None:
    items = list(Pipeline.from_settings(llm_settings).stream_answer(Q))
    final = items[-1]
    assert isinstance(final, Answer) and all(isinstance(i, str) for i in items[:-1])
    assert len(items) > 3  # it streamed in pieces
    _check_grounded(final, llm_settings)
    for sentence_quote in _cited_pairs(final):
        assert not misattributed(*sentence_quote)
    assert final.usage is not None and final.usage.completion_tokens > 0


def _cited_pairs(answer: Answer) -> list[tuple[str, str]]:
    from bench.citations import answer_sentences

    by_n = {c.n: c.quote for c in answer.citations}
    return [(s, by_n[n]) for s, numbers in answer_sentences(answer) for n in numbers]


def test_max_tokens_is_honoured_and_the_cut_is_marked(llm_settings: Settings) -> None:
    settings = llm_settings.model_copy(update={"max_tokens": 16})
    items = list(Pipeline.from_settings(settings).stream_answer(Q))
    final = items[-1]
    assert isinstance(final, Answer)
    assert final.usage is not None and final.usage.completion_tokens <= 16
    if final.incomplete:  # the model may also finish within 16 tokens
        assert "RAG_MAX_TOKENS (16)" in (final.incomplete_reason or "")
    _check_grounded(final, settings)


def test_follow_up_is_condensed_by_the_model(llm_settings: Settings) -> None:
    history = [
        {"role": "user", "content": "What did Melania Trump write to Putin?"},
        {"role": "assistant", "content": "She appealed to him to protect children [1]."},
    ]
    result = Pipeline.from_settings(llm_settings).answer("And did he reply?", history=history)
    assert result.rewritten_question and result.rewritten_question != "And did he reply?"
    assert len(result.rewritten_question) < 2_000  # 128 tokens at most
    _check_grounded(result, llm_settings)


def test_the_eval_judge_gets_verdicts(llm_settings: Settings) -> None:
    answer = Pipeline.from_settings(llm_settings.model_copy(update={"answer_mode": "extractive"}))
    result = answer.answer(Q)
    case = Case(question=Q, reference=["in Alaska, at the summit"], id="q")
    verdicts = Judge(llm_settings).grade(case, result)
    assert set(verdicts) == {"judge_correctness", "judge_faithfulness"}
    for verdict in verdicts.values():  # structured output makes a 135M model's verdict parse
        assert "score" in verdict, verdicts
        assert 0 <= verdict["score"] <= 1 and verdict["tokens"] > 0, verdict


def test_rag_eval_in_openai_mode_end_to_end(
    llm_settings: Settings, llm_server: LlamaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"name: llm-smoke\ncorpus: {llm_settings.corpus_dir}\ncases:\n"
        "  - question: Where was Melania Trump born?\n"
        "    expected_sources: 000_e5097b3054c473ee.txt\n    reference: Slovenia\n"
        "  - question: What is the capital of Peru?\n    unanswerable: true\n"
    )
    env = {
        "OPENAI_API_KEY": "sk-local",
        "OPENAI_BASE_URL": llm_server.base_url,
        "RAG_CHAT_MODEL": ALIAS,
        "RAG_TOP_K": "3",
        "RAG_MAX_CONTEXT_TOKENS": "1500",
        "RAG_MAX_TOKENS": "160",
        "RAG_REQUEST_TIMEOUT": "120",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["eval", str(suite), "--mode", "openai", "--out", str(out), "--judge", "--quiet"]
        + ["--fail-above", "errors=0"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert not summary["errors"], summary["errors"]
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows] == ["ok", "ok"] and all(r["mode"] == "openai" for r in rows)
    assert all(r["tokens"] > 0 for r in rows)
    judged = [v for r in rows for v in r.get("judge", {}).values()]
    assert judged and all("score" in v for v in judged), judged
