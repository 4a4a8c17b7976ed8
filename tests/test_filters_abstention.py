"""Filters apply inside every retrieval side; the refusal decision follows its threshold."""

from __future__ import annotations

import datetime as dt

import pytest

from rag import Filters, Pipeline, Settings

QUESTION = "Where did Trump hand Putin the letter?"
UNDATED = "002_d141276db4e5eb8d.txt"


@pytest.fixture(scope="module")
def pipeline(sample_settings: Settings) -> Pipeline:
    return Pipeline.from_settings(sample_settings)


def _files(pipeline: Pipeline, ids: list[str]) -> set[str]:
    metadatas = pipeline.store.get(ids=ids, include=["metadatas"])["metadatas"] if ids else []
    return {str(m["source_file"]) for m in metadatas or []}


def _sides(pipeline: Pipeline, filters: Filters) -> dict[str, set[str]]:
    retriever = pipeline.retriever
    vector = retriever.embed_query(QUESTION)
    snapshot = retriever.lexical.current()
    assert snapshot is not None
    dense_ids = retriever._dense(vector, 50, filters, snapshot)
    lexical_ids = snapshot.search(QUESTION, 50, filters)
    contexts = retriever.retrieve(QUESTION, 50, filters, vector)
    return {
        "dense": _files(pipeline, dense_ids),
        "bm25": _files(pipeline, lexical_ids),
        "fused": {c.source_file for c in contexts},
    }


def test_unfiltered_sides_see_every_file(pipeline: Pipeline) -> None:
    sides = _sides(pipeline, Filters())
    assert all(len(files) == 5 for files in sides.values()), sides


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (
            Filters(sources=["001_ef341db465d16e61.txt", UNDATED]),
            {"001_ef341db465d16e61.txt", UNDATED},
        ),
        (
            Filters(since=dt.date(2025, 8, 17)),
            {"003_1305e3d104303dd2.txt", "004_8aaae1f506dad48b.txt"},
        ),
        (
            Filters(until=dt.date(2025, 8, 16)),
            {"000_e5097b3054c473ee.txt", "001_ef341db465d16e61.txt"},
        ),
        (
            Filters(since=dt.date(2025, 8, 17), until=dt.date(2025, 8, 17)),
            {"003_1305e3d104303dd2.txt"},
        ),
        (Filters(sources=[UNDATED], since=dt.date(2000, 1, 1)), set()),
        (  # as_of drops later articles only: the undated one stays
            Filters(as_of=dt.date(2025, 8, 16)),
            {"000_e5097b3054c473ee.txt", "001_ef341db465d16e61.txt", UNDATED},
        ),
    ],
)
def test_each_side_keeps_only_what_the_filter_allows(
    pipeline: Pipeline, filters: Filters, allowed: set[str]
) -> None:
    for side, files in _sides(pipeline, filters).items():
        assert files == allowed, side


def test_nothing_left_after_filtering_is_a_refusal(pipeline: Pipeline) -> None:
    result = pipeline.answer(QUESTION, filters={"sources": ["no-such-file.txt"]})
    assert result.refused and result.contexts == [] and result.citations == []


def test_refusal_follows_the_support_threshold(sample_settings: Settings) -> None:
    probe = Pipeline.from_settings(sample_settings)
    vector = probe.retriever.embed_query(QUESTION)
    contexts = probe.retriever.retrieve(QUESTION, sample_settings.top_k, None, vector)
    support = probe.scorer.best_support(QUESTION, vector, contexts)
    assert 0.5 < support < 1.0
    above = Pipeline.from_settings(
        sample_settings.model_copy(update={"min_support": support + 0.01})
    )
    below = Pipeline.from_settings(
        sample_settings.model_copy(update={"min_support": support - 0.01})
    )
    assert above.answer(QUESTION).refused
    assert not below.answer(QUESTION).refused


def test_off_topic_support_is_far_below_on_topic(pipeline: Pipeline) -> None:
    def support(question: str) -> float:
        vector = pipeline.retriever.embed_query(question)
        contexts = pipeline.retriever.retrieve(question, 5, None, vector)
        return pipeline.scorer.best_support(question, vector, contexts)

    on_topic = support(QUESTION)
    for question in [
        "What is the boiling point of mercury?",
        "Who painted the Mona Lisa?",
        "How do I bake sourdough bread?",
    ]:
        off = support(question)
        assert off < pipeline.scorer.config.min_support < on_topic, (question, off)
