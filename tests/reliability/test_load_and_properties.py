"""Concurrency (8 threads, one index) and property-based checks of citation mapping."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag import Pipeline, Settings
from rag.trust.verify import Verifier

QUESTIONS = [
    "Where did Trump hand Putin the letter?",
    "Where was Melania Trump born?",
    "Did the letter mention the abducted children?",
    "Who issued an arrest warrant against Putin?",
    "What did Zelenskyy call the letter?",
    "How many children were reunited with their families in the last 24 hours?",
    "What is the boiling point of mercury?",
    "What did Keir Starmer say about Trump's efforts?",
]


def _key(answer) -> tuple:  # type: ignore[no-untyped-def]
    return (answer.text, tuple(answer.citations), answer.refused)


@pytest.mark.slow  # load: eight threads
def test_eight_threads_give_the_sequential_answers(sample_settings: Settings) -> None:
    pipeline = Pipeline.from_settings(sample_settings)
    work = [QUESTIONS[i % len(QUESTIONS)] for i in range(200)]
    expected = {q: _key(pipeline.answer(q)) for q in QUESTIONS}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(pipeline.answer, work))
    assert len(results) == 200
    assert [_key(r) for r in results] == [expected[q] for q in work]


marker_text = st.lists(
    st.one_of(
        st.sampled_from(
            ["Trump ", "delivered ", "the letter ", "in Alaska", ". ", "? ", "\n", " "]
        ),
        st.from_regex(r"\[[0-9]{1,3}(, ?[0-9]{1,3})?\]", fullmatch=True),
        st.sampled_from(["[", "]", "[[1]]", "[]", "[-1]", "[1,]", "[ 2 ]"]),
    ),
    max_size=25,
).map("".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=marker_text)
def test_verifier_never_raises_or_leaves_unresolved_markers(
    sample_settings: Settings, text: str
) -> None:
    pipeline = _shared(sample_settings)
    contexts = pipeline.retrieve("Where did Trump hand Putin the letter?")
    verified = Verifier(pipeline.scorer).verify(text, contexts)
    numbers = [c.n for c in verified.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    import re

    for marker in re.findall(r"\[(\d+)\]", verified.text):
        assert 1 <= int(marker) <= len(numbers)


_PIPELINES: dict[str, Pipeline] = {}


def _shared(settings: Settings) -> Pipeline:
    key = str(settings.chroma_path)
    if key not in _PIPELINES:
        _PIPELINES[key] = Pipeline.from_settings(settings)
    return _PIPELINES[key]
