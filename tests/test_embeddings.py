"""The local embedder: how it batches, and that batching never changes a vector."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rag import Settings
from rag.providers.embeddings import LocalEmbedder, build_embedder


class _Shapes:
    """An ONNX session that records the shape of every batch it runs."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.shapes: list[tuple[int, int]] = []

    def run(self, names: list[str], feeds: dict[str, Any]) -> Any:
        self.shapes.append(feeds["input_ids"].shape)
        return self._session.run(names, feeds)


@pytest.fixture
def embedder(monkeypatch: pytest.MonkeyPatch) -> tuple[LocalEmbedder, _Shapes]:
    model = build_embedder(Settings())
    assert isinstance(model, LocalEmbedder)
    shapes = _Shapes(model._session)
    monkeypatch.setattr(model, "_session", shapes)
    return model, shapes


def test_long_texts_go_in_small_batches_and_short_ones_in_full_batches(
    embedder: tuple[LocalEmbedder, _Shapes],
) -> None:
    model, shapes = embedder
    tide = "the tide rose and the boats moved. " * 40
    long = [f"Report {i} on the harbour, {tide}" for i in range(12)]
    short = [f"Item {i} was sold." for i in range(40)]
    model.embed(long + short)
    # 32 texts padded to 256 tokens took +550 MB of working memory; a batch stays in budget.
    assert max(rows * width for rows, width in shapes.shapes) <= 1024
    assert all(width == 256 for rows, width in shapes.shapes if rows * width > 512)  # truncated
    assert (32, shapes.shapes[0][1]) == shapes.shapes[0]  # the short ones fill a batch


def test_a_vector_does_not_depend_on_its_batch(embedder: tuple[LocalEmbedder, _Shapes]) -> None:
    model, _ = embedder
    texts = [
        "The Normans gave their name to Normandy, a region in France.",
        "Tesla was born in 1856 in Smiljan, in the Austrian Empire, and later moved to the US.",
        "Short one.",
        " ".join(["A very long sentence about the history of the river and its many bridges"] * 8),
    ]
    together = model.embed(texts)
    alone = np.stack([model.embed([t])[0] for t in texts])
    assert np.array_equal(together, alone)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
