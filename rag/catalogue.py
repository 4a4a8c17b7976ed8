"""The corpus catalogue: which files the store holds, and the text citations index into."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from rag.config import Settings
from rag.corpus import read_text, resolve_source
from rag.errors import BadInputError, StoreError
from rag.lexical import LexicalIndex
from rag.store import read_metadatas
from rag.types import Citation, CorpusInfo, IndexedFile


class Catalogue:
    """Lists the indexed files, kept until the store's generation stamp changes.

    Reading every chunk's metadata from Chroma takes 15 s at 100k chunks: the listing comes
    from the BM25 snapshot's records when that matches the store (the chat page asks on every
    rerun).
    """

    def __init__(self, settings: Settings, lexical: LexicalIndex, location: str) -> None:
        self._settings = settings
        self._lexical = lexical
        self._location = location
        self._cached: tuple[tuple[str, bool], CorpusInfo] | None = None  # (stamp, listing)

    def corpus(self) -> CorpusInfo:
        """Files, chunk count and last indexing time of the store."""
        try:
            generation = self._lexical.stamp()
            if self._cached is not None and self._cached[0] == generation:
                return self._cached[1]
            metadatas = self._lexical.records() or read_metadatas(self._lexical.chunks)
        except Exception as exc:
            raise StoreError(f"The {self._location} failed: {exc}") from None
        info = listing(metadatas)
        self._cached = (generation, info)
        return info

    def current(self, citations: list[Citation]) -> list[Citation]:
        """The citations checked against their files as they are now.

        An index run may lag behind an edited file: a quote still in the file gets the offsets
        it has there now (the occurrence nearest the old one); a quote no longer in the file
        (or a file gone) is marked `stale`.
        """
        texts: dict[str, str | None] = {}
        checked = []
        for citation in citations:
            name = citation.source_file
            if name not in texts:
                try:
                    texts[name] = self.source_text(name)
                except (BadInputError, OSError):
                    texts[name] = None
            text = texts[name]
            stale = citation.model_copy(update={"stale": True})
            checked.append(stale if text is None else _relocated(citation, text))
        return checked

    def source_text(self, source_file: str) -> str:
        """The whole text of an indexed article, as citation offsets index it."""
        path = resolve_source(self._settings.corpus_dir, self._settings.upload_dir, source_file)
        if path is None:
            raise BadInputError(
                f"{source_file!r} is not a file of the corpus folder "
                f"{self._settings.corpus_dir.resolve()} or of the uploads."
            )
        return read_text(path)


def _relocated(citation: Citation, text: str) -> Citation:
    """`citation` with offsets into `text` (the nearest occurrence of its quote), or stale."""
    if text[citation.start : citation.end] == citation.quote:
        return citation
    found = _occurrences(text, citation.quote)
    if not found:
        return citation.model_copy(update={"stale": True})
    start = min(found, key=lambda at: abs(at - citation.start))
    moved: dict[str, object] = {"start": start, "end": start + len(citation.quote)}
    if citation.answer_span is not None:  # file offsets too: they move with the quote
        shift = start - citation.start
        moved["answer_span"] = (citation.answer_span[0] + shift, citation.answer_span[1] + shift)
    return citation.model_copy(update=moved)


def _occurrences(text: str, quote: str) -> list[int]:
    starts, at = [], text.find(quote)
    while at >= 0:
        starts.append(at)
        at = text.find(quote, at + 1)
    return starts


def listing(metadatas: Sequence[Mapping[str, Any]]) -> CorpusInfo:
    """The corpus listing made from every chunk's metadata."""
    files: dict[str, IndexedFile] = {}
    for meta in metadatas:
        name = str(meta["source_file"])
        when = meta.get("indexed_at")
        date = meta.get("date")
        entry = files.setdefault(
            name,
            IndexedFile(
                source_file=name,
                title=str(meta.get("title", "")),
                date=dt.date.fromisoformat(str(date)) if date else None,
                chunks=0,
                indexed_at=dt.datetime.fromtimestamp(float(when), dt.UTC) if when else None,
            ),
        )
        entry.chunks += 1
    ordered = sorted(files.values(), key=lambda f: f.source_file)
    stamps = [f.indexed_at for f in ordered if f.indexed_at]
    return CorpusInfo(files=ordered, chunks=len(metadatas), last_indexed=max(stamps, default=None))
