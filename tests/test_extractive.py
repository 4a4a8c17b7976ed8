"""Offline answers quote statements, not headlines, captions or subheadings."""

from __future__ import annotations

import numpy as np
import pytest

from rag import Pipeline, Settings
from rag.providers.embeddings import build_embedder
from rag.retrieval.scoring import is_statement
from rag.text.sentences import sentence_spans


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


def test_answering_embeds_only_the_question(sample_settings: Settings) -> None:
    embedded: list[list[str]] = []
    model = build_embedder(sample_settings)

    class Recording:
        model_id = model.model_id
        dimension = model.dimension

        def embed(self, texts: list[str]) -> np.ndarray:
            embedded.append(list(texts))
            return model.embed(texts)

    pipeline = Pipeline.from_settings(sample_settings, embedder=Recording())
    question = "What did Melania Trump's letter ask Putin to do?"
    result = pipeline.answer(question)
    assert result.citations and embedded == [[question]]

    # The scorer holds the vectors the indexer stored for the retrieved chunks' sentences.
    chunk = result.contexts[0]
    start, end = sentence_spans(chunk.text)[-1]
    stored = pipeline.retriever._sentences.get(
        ids=[f"{chunk.chunk_id}:{len(sentence_spans(chunk.text)) - 1}"], include=["embeddings"]
    )
    cached = pipeline.scorer.vectors([chunk.text[start:end]])[0]
    np.testing.assert_allclose(cached, stored["embeddings"][0])
    assert embedded == [[question]]  # read from the cache, not embedded again
