"""Writing pieces of chunks to the store: embed, write sentences then chunks, drop stale ones."""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where
from llama_index.core.schema import BaseNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from index.chunking import SentenceRecord, sentence_records
from index.reading import Piece
from index.report import IndexReport
from rag.providers.embeddings import Embedder, Matrix
from rag.store import mark_run, read_all, read_generation, write_generation, write_records

_CHROMA_BATCH = 4096  # records per Chroma add call


@dataclass
class Generation:
    """Stamps the store incomplete before a run's first write and complete after its last."""

    state: Collection
    store: Path | None = None  # the embedded store's folder (None for a server)
    touched: bool = False

    def touch(self) -> None:
        """Called before every write; stamps once."""
        if not self.touched:
            if self.store is not None:
                mark_run(self.store, running=True)
            write_generation(self.state, complete=False)
            self.touched = True

    def interrupted(self) -> bool:
        """Whether the last run to write was killed before it finished (read before writing)."""
        found = read_generation(self.state)
        return found is not None and not found[1]

    def finish(self) -> bool:
        """Stamp the store complete if this run, or one killed before it, wrote to it."""
        found = read_generation(self.state)
        finished = self.touched or found is None or not found[1]
        if finished:
            write_generation(self.state, complete=True)
        if self.store is not None:
            mark_run(self.store, running=False)
        return finished


def _sentence_vectors(
    embedder: Embedder, nodes: list[BaseNode], per_node: list[list[SentenceRecord]]
) -> dict[str, Matrix]:
    """One model pass over the batch's distinct sentences and titles (overlapping chunks share
    sentences; a file's chunks share its title)."""
    texts = {r[1]: None for group in per_node for r in group}
    texts.update((_title(node), None) for node in nodes if _title(node))
    unique = list(texts)
    return dict(zip(unique, embedder.embed(unique) if unique else [], strict=True))


def chunk_vector(vectors: dict[str, Matrix], node: BaseNode, group: list[SentenceRecord]) -> Matrix:
    """A chunk's vector: the normalised mean of its title's and its sentences' vectors.

    Embedding each chunk whole as well would double the model's work for a dense side that
    weighs least in retrieval; `make bench-retrieval` measures the two against each other.
    """
    texts = [r[1] for r in group] + ([_title(node)] if _title(node) else [])
    weights = np.array([len(t) for t in texts], dtype=np.float32)  # as token mean-pooling does
    mean = (np.stack([vectors[t] for t in texts]) * weights[:, None]).sum(axis=0)
    unit: Matrix = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
    return unit


def _title(node: BaseNode) -> str:
    return str(node.metadata.get("title", "")).strip()


def write_batch(
    store: ChromaVectorStore,
    sentences: Collection,
    texts: Collection,
    embedder: Embedder,
    batch: list[Piece],
    report: IndexReport,
    *,
    clean: bool = False,
) -> None:
    """Embed and write a batch: article records and sentences first, then chunks, then drop
    stale versions.

    A file counts as indexed once all its chunks exist, so writing its sentences and its
    record (the text its citations index into) before its chunks means a complete file always
    has them too.

    `clean` says the last run to write the store finished: then a file with no chunks in the
    store has no sentences or record there either (removals and the sweep after an interrupted
    run see to that), and its deletes are skipped. They found nothing, yet cost Chroma a
    metadata query each, six per new file (18% of the time of a first run over 3,000 files).
    """
    nodes: list[BaseNode] = [node for piece in batch for node in piece.nodes]
    per_node = [sentence_records(node) for node in nodes]  # type: ignore[arg-type]
    records = [r for group in per_node for r in group]
    vectors = _sentence_vectors(embedder, nodes, per_node)
    for node, group in zip(nodes, per_node, strict=True):
        node.embedding = chunk_vector(vectors, node, group).tolist()
        node.metadata["sentence_count"] = len(group)  # its sentences' ids: "<chunk id>:<i>"
    for piece in batch:
        if not piece.first or (clean and piece.is_new):
            continue
        # Records of the same hash left by an interrupted run would collide with the new ids.
        same: Where = {"$and": [{"source_file": piece.name}, {"file_hash": piece.digest}]}
        sentences.delete(where=same)
        store.client.delete(where=same)
        texts.delete(where=same)
    write_records(texts, [piece.record for piece in batch if piece.record is not None])
    if nodes:
        for start in range(0, len(records), _CHROMA_BATCH):
            part = records[start : start + _CHROMA_BATCH]
            sentences.add(
                ids=[r[0] for r in part],
                documents=[r[1] for r in part],
                metadatas=[r[2] for r in part],
                embeddings=np.stack([vectors[r[1]] for r in part]),
            )
        store.add(nodes)
    for piece in batch:
        if not piece.last:
            continue
        if not (clean and piece.is_new):
            newer = cast(Where, {"file_hash": {"$ne": piece.digest}})
            stale: Where = {"$and": [{"source_file": piece.name}, newer]}
            store.client.delete(where=stale)
            sentences.delete(where=stale)
            texts.delete(where=stale)
        if piece.name not in report.skipped:  # a file with no text is reported as skipped only
            (report.added if piece.is_new else report.updated).append(piece.name)
    report.chunks_written += len(nodes)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()  # glibc only: elsewhere there is nothing to trim this way


def give_back_memory() -> None:
    """Return the native heap's free pages to the system (glibc's `malloc_trim`).

    Chroma's native side frees what a batch's writes and reads took, but glibc keeps the freed
    pages in its per-thread arenas; between batches they add up (+140 MB of 2,000 files'
    writes that one trim gave back). No-op where the C library has no `malloc_trim`.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def sweep_orphans(chunks: Collection, sentences: Collection) -> int:
    """Delete sentences whose chunk is not in the store; how many went.

    A run killed after writing a file's sentences but before its chunks leaves sentences no
    chunk names; if that file is then removed, or changed back, no later run would touch
    them. Only needed after an interrupted run: it reads every sentence's metadata.
    """
    present = {i for got in read_all(chunks, include=[]) for i in got["ids"]}
    orphans = [
        i
        for got in read_all(sentences, include=["metadatas"])
        for i, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
        if str(meta.get("chunk_id", "")) not in present
    ]
    for start in range(0, len(orphans), _CHROMA_BATCH):
        sentences.delete(ids=orphans[start : start + _CHROMA_BATCH])
    return len(orphans)


def sweep_records(chunks: Collection, texts: Collection) -> int:
    """Delete article records of sources no chunk names (a run killed between a file's record
    and its chunks, the file then removed); how many went."""
    sources = {
        str(meta["source_file"])
        for got in read_all(chunks, include=["metadatas"])
        for meta in got["metadatas"] or []
    }
    orphans = [
        i
        for got in read_all(texts, include=["metadatas"])
        for i, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
        if str(meta.get("source_file", "")) not in sources
    ]
    for start in range(0, len(orphans), _CHROMA_BATCH):
        texts.delete(ids=orphans[start : start + _CHROMA_BATCH])
    return len(orphans)
