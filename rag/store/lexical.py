"""The BM25 side: built from the chunks in the store, saved on disk, kept in step by a stamp.

An index run that changes the store marks its generation stamp (a one-record collection
beside the chunks, see `rag.store.chroma.write_generation`) incomplete before its first write and
writes a new, complete stamp after its last. Before each query the retriever reads the stamp
(a lookup by id: constant time, where counting the chunks grows with the collection). When a
complete stamp differs from the one its BM25 index was built for, it loads the index saved for
that stamp, or builds one from the store's chunks and saves it for the next process. While a
run is writing (stamp incomplete), or while another thread rebuilds, it keeps answering from
the index it has: BM25 hits count by chunk id only and their text is read from the store, so
an older index can miss a new chunk for a while but never quote outdated text.

Stores written before stamps existed have no stamp collection: their index is rebuilt when the
chunk count changes, and not saved.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer
from chromadb.api.models.Collection import Collection
from tqdm import tqdm

from rag.filters import Filters
from rag.store.chroma import read_all, read_generation

log = logging.getLogger(__name__)

_STAMP_FILE = "stamp.json"
_FORMAT = 3  # of the saved records; a saved index of another format is rebuilt
# What a snapshot keeps of each chunk: what hits, filters and the corpus listing need.
_RECORD_KEYS = (
    "source_file",
    "title",
    "date",
    "date_int",
    "indexed_at",
    "author",
    "outlet",
    "url",
    "language",
)


@dataclass(frozen=True)
class Snapshot:
    """A BM25 index of the chunks, with what a hit needs: its chunk id, file and date."""

    index: bm25s.BM25
    ids: list[str]
    sources: np.ndarray
    dates: np.ndarray
    rows: dict[str, int]  # chunk id -> its row in the arrays above
    records: list[dict[str, Any]]  # per chunk: its id and `_RECORD_KEYS`

    @classmethod
    def of(cls, index: bm25s.BM25, records: list[dict[str, Any]]) -> Snapshot:
        """Wrap `index` (whose documents are `records`, in order)."""
        index.corpus = None  # hits come back as row numbers, mapped through `ids`
        ids = [str(r["node_id"]) for r in records]
        return cls(
            index,
            ids,
            np.array([str(r["source_file"]) for r in records]),
            np.array([int(r["date_int"]) for r in records], dtype=np.int64),
            {node_id: row for row, node_id in enumerate(ids)},
            records,
        )

    def search(self, question: str, depth: int, filters: Filters | None = None) -> list[str]:
        """Ids of the `depth` best-scoring chunks that pass `filters` (score > 0), best first."""
        mask = filters.mask(self.sources, self.dates) if filters else None
        if mask is not None and not mask.any():
            return []
        # Tokenised as llama-index's BM25Retriever tokenises queries (PyStemmer objects are not
        # thread-safe: one per call).
        tokens = bm25s.tokenize(question, stemmer=Stemmer.Stemmer("english"), show_progress=False)
        rows, scores = self.index.retrieve(
            tokens,
            k=min(depth, len(self.ids)),
            weight_mask=None if mask is None else mask.astype(np.float32),
            show_progress=False,
            n_threads=1,
        )
        return [self.ids[r] for r, score in zip(rows[0], scores[0], strict=True) if score > 0]


class LexicalIndex:
    """The current BM25 snapshot of a chunk collection, kept in step with the store."""

    def __init__(
        self, chunks: Collection, state: Collection | None = None, cache_dir: Path | None = None
    ) -> None:
        self._chunks = chunks
        self._state = state
        self._cache_dir = cache_dir if state is not None else None
        self._current: tuple[str | None, Snapshot | None] = (None, None)
        self._build_lock = threading.Lock()

    @property
    def chunks(self) -> Collection:
        """The chunk collection this index follows."""
        return self._chunks

    def rebind(self, chunks: Collection, state: Collection | None) -> None:
        """Read from these collections from now on (the store was reopened)."""
        self._chunks, self._state = chunks, state
        self.invalidate()

    def invalidate(self) -> None:
        """Check the store again before the next query."""
        self._current = (None, self._current[1])

    def stamp(self) -> tuple[str, bool]:
        """What identifies the store's current content, and whether no run is writing it."""
        found = read_generation(self._state) if self._state is not None else None
        return found or (f"count:{self._chunks.count()}", True)

    def records(self) -> list[dict[str, Any]] | None:
        """Every chunk's record, if the snapshot matches the store exactly now (else None)."""
        stamp, complete = self.stamp()
        snapshot = self._snapshot_for(stamp, complete)
        exact = complete and self._current[0] == stamp
        return snapshot.records if snapshot is not None and exact else None

    def current(self, *, progress: bool = False) -> Snapshot | None:
        """The snapshot of the store as it is now (or as it was, while it is being rewritten).

        Args:
            progress: show a terminal progress bar if it has to be built (indexing runs).
        """
        return self._snapshot_for(*self.stamp(), progress=progress)

    def _snapshot_for(
        self, stamp: str, complete: bool, *, progress: bool = False
    ) -> Snapshot | None:
        built_for, snapshot = self._current
        if stamp == built_for or (snapshot is not None and not complete):
            return snapshot
        # Wait only when there is nothing to answer from; otherwise one thread rebuilds.
        if not self._build_lock.acquire(blocking=snapshot is None):
            return snapshot
        try:
            if self._current[0] != stamp:
                found = self._load(stamp) if complete else None
                built = found or self._build(stamp if complete else None, progress=progress)
                self._current = (stamp, built)
            return self._current[1]
        finally:
            self._build_lock.release()

    def _folder(self, stamp: str) -> Path | None:
        if self._cache_dir is None or stamp.startswith("count:"):
            return None
        return self._cache_dir / self._chunks.name / stamp

    def _load(self, stamp: str) -> Snapshot | None:
        """The index saved for `stamp`; an unreadable one is removed, to be built again."""
        folder = self._folder(stamp)
        if folder is None or not folder.exists():
            return None
        try:
            saved = json.loads((folder / _STAMP_FILE).read_text(encoding="utf-8"))
            if saved.get("format") == _FORMAT:
                index = bm25s.BM25.load(folder, load_corpus=True, show_progress=False)
                return Snapshot.of(index, list(index.corpus))
            problem = f"saved in format {saved.get('format')}, not {_FORMAT}"
        except (OSError, EOFError, ValueError, KeyError, AttributeError) as exc:
            problem = str(exc)  # e.g. damaged, or removed by another process meanwhile
        log.warning("Could not load the BM25 index at %s (%s); rebuilding it.", folder, problem)
        shutil.rmtree(folder, ignore_errors=True)
        return None

    def _build(self, stamp: str | None, *, progress: bool = False) -> Snapshot | None:
        """Index the store's chunks; save the index when `stamp` names a finished run's.

        Reads the store a page at a time and keeps only each chunk's indexed text and record
        (llama-index's `BM25Retriever.from_defaults` would hold every node twice over).
        """
        # llama-index only serves this rebuild; importing it costs ~1 s of every cold start.
        from llama_index.core.schema import MetadataMode
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        texts: list[str] = []
        records: list[dict[str, Any]] = []
        bar = tqdm(
            total=self._chunks.count() if progress else None,
            desc="Building the BM25 index",
            unit="chunk",
            disable=not progress,
            leave=False,
        )
        for got in read_all(self._chunks, include=["documents", "metadatas"]):
            bar.update(len(got["ids"]))
            for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
                node = metadata_dict_to_node(meta, text=text)
                # What BM25Retriever indexes: the text with the metadata the chunk embeds.
                texts.append(node.get_content(metadata_mode=MetadataMode.EMBED))
                kept = {key: meta[key] for key in _RECORD_KEYS if key in meta}
                records.append({"node_id": node.node_id, "date_int": 0, **kept})
        bar.close()
        if not records:
            return None
        # Tokenised and indexed as BM25Retriever does (English stopwords, Snowball stemmer).
        stemmer = Stemmer.Stemmer("english")
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
        index = bm25s.BM25()
        index.index(tokens, show_progress=False)
        folder = self._folder(stamp) if stamp else None
        if folder is not None and stamp:
            _save(index, records, folder, stamp)
        return Snapshot.of(index, records)


def _save(index: bm25s.BM25, records: list[dict[str, Any]], folder: Path, stamp: str) -> None:
    """Write the index for `stamp` atomically, then drop those of older stamps."""
    tmp = folder.parent / f".{stamp}.{os.getpid()}.{threading.get_ident()}"
    try:
        index.save(tmp, corpus=records, show_progress=False)
        saved = {"stamp": stamp, "format": _FORMAT}
        (tmp / _STAMP_FILE).write_text(json.dumps(saved), encoding="utf-8")
        tmp.rename(folder)
    except OSError as exc:  # another process saved it first, or the disk refused
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / _STAMP_FILE).is_file():
            log.warning("Could not save the BM25 index to %s: %s", folder, exc)
        return
    for other in folder.parent.iterdir():  # and writes a crash left behind over an hour ago
        try:
            stale = not other.name.startswith(".") or time.time() - other.stat().st_mtime > 3600
        except OSError:  # another process removed it meanwhile
            continue
        if other != folder and stale:
            shutil.rmtree(other, ignore_errors=True)
