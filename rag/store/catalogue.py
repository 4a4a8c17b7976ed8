"""The corpus catalogue: which files the store holds, and the text citations index into."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.errors import BadInputError, StoreError
from rag.store.articles import ArticleRecord, pick, read_records
from rag.store.chroma import read_metadatas
from rag.store.corpus import TEXT_SUFFIXES, read_text, resolve_source
from rag.store.lexical import LexicalIndex
from rag.types import Citation, CorpusInfo, IndexedFile

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection


class Catalogue:
    """Lists the indexed files, kept until the store's generation stamp changes.

    Reading every chunk's metadata from Chroma takes 15 s at 100k chunks: the listing comes
    from the BM25 snapshot's records when that matches the store (the chat page asks on every
    rerun).
    """

    def __init__(
        self,
        settings: Settings,
        lexical: LexicalIndex,
        location: str,
        texts: Callable[[], Collection | None] | None = None,
    ) -> None:
        """Args:
        texts: opens the collection of article records (None: a store indexed before
            records existed, or none kept).
        """
        self._settings = settings
        self._lexical = lexical
        self._location = location
        self._texts = texts
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
        """The citations checked against their articles as they are now, with their page,
        author, outlet and URL.

        An extracted article (a page, PDF, feed entry...) is checked against its text as kept
        with the index. A plain file may have been edited since the index run: a quote still
        in the file gets the offsets it has there now (the occurrence nearest the old one); a
        quote no longer in the file (or a file gone) is marked `stale`.
        """
        records = self._records(c.source_file for c in citations)
        texts: dict[str, str | None] = {}
        checked = []
        for citation in citations:
            name = citation.source_file
            record = pick(records[name], citation.chunk_id) if name in records else None
            if record is not None and record.text is not None:
                text: str | None = record.text
            else:
                if name not in texts:
                    try:
                        texts[name] = self._file_text(name)
                    except (BadInputError, OSError):
                        texts[name] = None
                text = texts[name]
            stale = citation.model_copy(update={"stale": True})
            found = stale if text is None else _relocated(citation, text)
            checked.append(found if record is None else _described(found, record))
        return checked

    def source_text(self, source_file: str) -> str:
        """The whole text of an indexed article, as citation offsets index it: the text
        extracted when it was indexed (HTML, PDF, DOCX, feeds, JSON), or a plain file's text."""
        records = self._records([source_file])
        if source_file in records:
            record = pick(records[source_file])
            if record.text is not None:
                return record.text
        return self._file_text(source_file)

    def _file_text(self, source_file: str) -> str:
        path = resolve_source(self._settings.corpus_dir, self._settings.upload_dir, source_file)
        if path is None or path.suffix.lower() not in TEXT_SUFFIXES:
            raise BadInputError(
                f"{source_file!r} is not a file of the corpus folder "
                f"{self._settings.corpus_dir.resolve()} or of the uploads, nor an indexed "
                "article; check the name, or index the folder."
            )
        return read_text(path)

    def _records(self, names: Iterable[str]) -> dict[str, list[ArticleRecord]]:
        collection = self._texts() if self._texts is not None else None
        if collection is None:
            return {}
        try:
            return read_records(collection, names)
        except Exception as exc:
            raise StoreError(f"The {self._location} failed: {exc}") from None


def _described(citation: Citation, record: ArticleRecord) -> Citation:
    """`citation` with the page its quote starts on and the article's author, outlet, URL."""
    meta = record.meta
    return citation.model_copy(
        update={
            "page": record.page_at(citation.start),
            "author": meta.get("author", ""),
            "outlet": meta.get("outlet", ""),
            "url": meta.get("url", ""),
        }
    )


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
                **{
                    key: str(meta.get(key) or "") for key in ("author", "outlet", "url", "language")
                },
            ),
        )
        entry.chunks += 1
    ordered = sorted(files.values(), key=lambda f: f.source_file)
    stamps = [f.indexed_at for f in ordered if f.indexed_at]
    return CorpusInfo(files=ordered, chunks=len(metadatas), last_indexed=max(stamps, default=None))
