"""Article records kept with the index: each article's metadata and, for formats whose text is
extracted (HTML, PDF, DOCX, feeds, JSON), that text, so checking a citation never extracts again.

The indexer writes a file's records (one per article; a feed or JSON export holds several) before
its chunks, and drops the old version's after them, as it does sentences: a record is keyed by
source name and file hash, and the chunk ids carry that hash.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where

from rag.store.corpus import Article

# Article metadata a record keeps besides its text (all strings; "" when not found).
META_KEYS = ("title", "date", "author", "outlet", "url", "language", "origin")


@dataclass(frozen=True)
class ArticleRecord:
    """What the index keeps of one article."""

    source_file: str
    file_hash: str
    text: str | None  # the extracted text; None for a plain file (its text is the file's)
    meta: Mapping[str, str]
    pages: tuple[int, ...]
    indexed_at: float

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding `offset` (None for a text without pages)."""
        if not self.pages:
            return None
        return max(1, bisect.bisect_right(self.pages, offset))


def record_of(article: Article, digest: str, indexed_at: float) -> tuple[str, str, dict[str, Any]]:
    """(id, document, metadata) of an article's record for the store."""
    meta: dict[str, Any] = {
        "source_file": article.source_file,
        "file_hash": digest,
        "extracted": article.extracted,
        "pages": json.dumps(list(article.pages)),
        "indexed_at": indexed_at,
        "title": article.title,
        "date": article.date.isoformat() if article.date else "",
        "author": article.author,
        "outlet": article.outlet,
        "url": article.url,
        "language": article.language,
        "origin": article.origin,
    }
    document = article.text if article.extracted else ""
    return f"{article.source_file}@{digest}", document, meta


def write_records(collection: Collection, records: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Add records (read by id or source only; Chroma wants a vector, so each gets a 1-d one)."""
    if records:
        collection.upsert(
            ids=[r[0] for r in records],
            documents=[r[1] for r in records],
            metadatas=[r[2] for r in records],
            embeddings=np.ones((len(records), 1), dtype=np.float32),
        )


def read_records(collection: Collection, names: Iterable[str]) -> dict[str, list[ArticleRecord]]:
    """The records of these sources, newest first per source."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    where = cast(Where, {"source_file": {"$in": list(wanted)}})
    got = collection.get(where=where, include=["documents", "metadatas"])
    found: dict[str, list[ArticleRecord]] = {}
    for doc, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
        record = _record(doc, meta)
        found.setdefault(record.source_file, []).append(record)
    for records in found.values():
        records.sort(key=lambda r: r.indexed_at, reverse=True)
    return found


def pick(records: list[ArticleRecord], chunk_id: str | None = None) -> ArticleRecord:
    """The version a citation of `chunk_id` was made from, else the newest."""
    if chunk_id:
        digest = chunk_id.rsplit("#", 2)[-2] if chunk_id.count("#") >= 2 else ""
        for record in records:
            if digest and record.file_hash.startswith(digest):
                return record
    return records[0]


def _record(doc: str | None, meta: Mapping[str, Any]) -> ArticleRecord:
    return ArticleRecord(
        source_file=str(meta["source_file"]),
        file_hash=str(meta.get("file_hash", "")),
        text=doc if meta.get("extracted") else None,
        meta={key: str(meta.get(key, "")) for key in META_KEYS},
        pages=tuple(int(p) for p in json.loads(str(meta.get("pages", "[]")))),
        indexed_at=float(meta.get("indexed_at", 0.0)),
    )
