"""The answer encoder: the shipped int8 ONNX file, how it is swapped for cross-fitting, and
how it reads a paraphrased answer against the base model (cases written for this test, not
from any question set)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.answering.reader import (
    MODEL_PATH,
    AnswerEncoder,
    default_encoder,
    encoder_in_use,
)
from rag.providers.embeddings import LocalEmbedder

# (question, the sentence that answers it in other words, one that repeats its words and
# does not answer)
CASES = [
    (
        "How did the mayor respond to the council's complaint?",
        "She answered in a two-page letter a week later, rejecting every point.",
        "The council's complaint against the mayor was filed on Monday.",
    ),
    (
        "What did the company refuse to tell investors?",
        "It declined to disclose how much the recall would cost.",
        "The company told investors on Tuesday that the meeting would go ahead.",
    ),
    (
        "Who took the pictures of the eclipse?",
        "The images were captured by amateur astronomer Lena Ortiz from her rooftop.",
        "Pictures of the eclipse were shared widely on Tuesday.",
    ),
    (
        "Why was the bridge closed?",
        "Engineers found cracks in two of its supporting cables during an inspection.",
        "The bridge was closed on Friday, the city said.",
    ),
    (
        "When did the festival start?",
        "The first edition was held in the summer of 1987 with four bands.",
        "The festival draws visitors from across the region.",
    ),
    (
        "How many people were hurt in the crash?",
        "Seven passengers were taken to hospital with minor injuries.",
        "The crash happened near the main station, people said.",
    ),
]


def test_the_shipped_encoder_gives_unit_vectors() -> None:
    assert MODEL_PATH.is_file()
    vectors = default_encoder().vectors(["a question?", "An answer."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_it_leans_further_toward_the_answer_in_other_words_than_the_base_model() -> None:
    """A bi-encoder alone still puts a sentence that repeats the question's words near it
    (which is why the encoder is a ranker feature, not the ranker): on these cases the gain is
    a narrower gap, measured against the retrieval embedder the encoder was fitted from."""
    encoder, base = default_encoder(), LocalEmbedder()
    gaps, base_gaps = [], []
    for question, answer, distractor in CASES:
        near = encoder.similarities(question, [answer, distractor])
        gaps.append(near[0] - near[1])
        v = base.embed([question, answer, distractor])
        base_gaps.append(float(v[1] @ v[0] - v[2] @ v[0]))
    assert np.mean(gaps) > np.mean(base_gaps) + 0.05, (gaps, base_gaps)
    assert sum(g > b for g, b in zip(gaps, base_gaps, strict=True)) >= len(CASES) - 2


def test_cross_fitting_swaps_the_encoder_only_inside_the_block() -> None:
    shipped = default_encoder()
    other = AnswerEncoder(MODEL_PATH)
    with encoder_in_use(other):
        assert default_encoder() is other
        with encoder_in_use(None):
            assert default_encoder() is shipped
    assert default_encoder() is shipped


def test_a_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make fit-answer-encoder"):
        AnswerEncoder(tmp_path / "absent.onnx")
