"""The answer encoder: how well a sentence answers a question, not only how near it is.

The retrieval embedder (all-MiniLM-L6-v2) places a question near sentences on its subject;
a sentence that repeats the question's names beats the one that answers it in other words.
The answer encoder is the same model fine-tuned contrastively on question → answer-sentence
pairs (squad-dev and its paraphrase set, the held-out articles left out; in-batch negatives
plus one of the base model's five closest wrong sentences of the same article) by
`fit/fit_answer_encoder.py`, shipped as int8 ONNX in `rag/assets/answer_encoder.onnx` and
run with onnxruntime. Its cosine is a feature of the sentence ranker and of answerability;
it never decides alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np

from rag.providers.embeddings import LocalEmbedder, VectorCache

MODEL_PATH = Path(__file__).parents[1] / "assets" / "answer_encoder.onnx"


class AnswerEncoder:
    """Unit vectors of questions and sentences from the fine-tuned model (cached by text)."""

    def __init__(self, path: Path = MODEL_PATH, cache_size: int = 20_000) -> None:
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing; reinstall the package, or refit it: make fit-answer-encoder"
            )
        # Its threads sleep when idle: spinning, they starved the embedder's and Chroma's on
        # two cores, and an answer took 76 ms at p50 instead of 42 (squad-dev questions;
        # sleeping threads in the embedder as well cost bulk indexing 6-8% for no gain here).
        embedder = LocalEmbedder(model_path=path, batch_size=16, spin=False)
        self._cache = VectorCache(embedder, cache_size)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts` (one row each)."""
        return self._cache.vectors(texts)

    def similarities(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """Cosine of the question with each sentence."""
        if not sentences:
            return np.zeros(0, dtype=np.float64)
        vectors = self.vectors([question, *sentences])
        return np.asarray(vectors[1:] @ vectors[0], dtype=np.float64)


_loading = threading.Lock()
_shipped: list[AnswerEncoder] = []
# Set only by the fitting scripts, which cross-fit: a question's features come from an
# encoder fitted without its article (`fit/fit_sentence_ranker.py --encoders`).
_in_use: ContextVar[AnswerEncoder | None] = ContextVar("answer_encoder", default=None)


def default_encoder() -> AnswerEncoder:
    """The answer encoder in use: the shipped one (loaded once, on first use)."""
    chosen = _in_use.get()
    if chosen is not None:
        return chosen
    if not _shipped:
        with _loading:
            if not _shipped:
                _shipped.append(AnswerEncoder())
    return _shipped[0]


@contextmanager
def encoder_in_use(encoder: AnswerEncoder | None) -> Iterator[None]:
    """Features computed inside use `encoder` (None: the shipped one)."""
    token = _in_use.set(encoder)
    try:
        yield
    finally:
        _in_use.reset(token)
