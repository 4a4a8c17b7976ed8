"""The BM25 side: built from the chunks in the store, saved on disk, kept in step by a stamp.

An index run that changes the store marks its generation stamp (a one-record collection
beside the chunks, see `rag.store.write_generation`) incomplete before its first write and
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
from pathlib import Path
from typing import Any

import bm25s
from chromadb.api.models.Collection import Collection
from llama_index.core.schema import BaseNode, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.retrievers.bm25 import BM25Retriever

from rag.store import read_all, read_generation

log = logging.getLogger(__name__)

_STAMP_FILE = "stamp.txt"


class LexicalIndex:
    """The current `bm25s.BM25` index of a chunk collection (its corpus maps hits to ids)."""

    def __init__(
        self, chunks: Collection, state: Collection | None = None, cache_dir: Path | None = None
    ) -> None:
        self._chunks = chunks
        self._state = state
        self._cache_dir = cache_dir if state is not None else None
        self._current: tuple[str | None, bm25s.BM25 | None] = (None, None)
        self._build_lock = threading.Lock()

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

    def current(self) -> bm25s.BM25 | None:
        """The index for the store as it is now (or as it was, while it is being rewritten)."""
        stamp, complete = self.stamp()
        built_for, index = self._current
        if stamp == built_for or (index is not None and not complete):
            return index
        # Wait only when there is nothing to answer from; otherwise one thread rebuilds.
        if not self._build_lock.acquire(blocking=index is None):
            return index
        try:
            if self._current[0] != stamp:
                found = self._load(stamp) if complete else None
                self._current = (stamp, found or self._build(stamp if complete else None))
            return self._current[1]
        finally:
            self._build_lock.release()

    def _folder(self, stamp: str) -> Path | None:
        if self._cache_dir is None or stamp.startswith("count:"):
            return None
        return self._cache_dir / self._chunks.name / stamp

    def _load(self, stamp: str) -> bm25s.BM25 | None:
        folder = self._folder(stamp)
        if folder is None or not (folder / _STAMP_FILE).is_file():
            return None
        try:
            index = bm25s.BM25.load(folder, load_corpus=True, show_progress=False)
        except (OSError, ValueError) as exc:  # e.g. removed by another process meanwhile
            log.warning("Could not load the BM25 index at %s (%s); rebuilding it.", folder, exc)
            return None
        return index

    def _build(self, stamp: str | None) -> bm25s.BM25 | None:
        """Index the store's chunks; save the index when `stamp` names a finished run's."""
        pages = read_all(self._chunks, include=["documents", "metadatas"])
        nodes: list[BaseNode] = [
            metadata_dict_to_node(meta, text=text)
            for got in pages
            for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True)
        ]
        if not nodes:
            return None
        index: bm25s.BM25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=1).bm25
        index.corpus = [_hit_record(node) for node in nodes]
        folder = self._folder(stamp) if stamp else None
        if folder is not None and stamp:
            _save(index, folder, stamp)
        return index


def _hit_record(node: BaseNode) -> dict[str, Any]:
    """What a BM25 hit keeps of its chunk: the id, and the flat metadata filters test."""
    flat = {k: v for k, v in node.metadata.items() if isinstance(v, str | int | float | bool)}
    content = TextNode(id_=node.node_id).to_json()
    return flat | {"node_id": node.node_id, "_node_content": content, "_node_type": "TextNode"}


def _save(index: bm25s.BM25, folder: Path, stamp: str) -> None:
    """Write the index for `stamp` atomically, then drop those of older stamps."""
    tmp = folder.parent / f".{stamp}.{os.getpid()}.{threading.get_ident()}"
    try:
        index.save(tmp, corpus=index.corpus, show_progress=False)
        (tmp / _STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
        tmp.rename(folder)
    except OSError as exc:  # another process saved it first, or the disk refused
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / _STAMP_FILE).is_file():
            log.warning("Could not save the BM25 index to %s: %s", folder, exc)
        return
    for other in folder.parent.iterdir():  # and writes a crash left behind over an hour ago
        if other != folder and (
            not other.name.startswith(".") or time.time() - other.stat().st_mtime > 3600
        ):
            shutil.rmtree(other, ignore_errors=True)
