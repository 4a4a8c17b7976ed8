"""Reading the corpus: which files changed since the store last saw them, chunked in pieces."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from chromadb.api.models.Collection import Collection
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import TextNode

from index.chunking import file_hash, iter_chunks
from index.formats import read_articles
from index.report import IndexReport
from rag.config import Settings
from rag.errors import BadInputError
from rag.store import Article, read_metadatas, record_of

Source = tuple[str, Path]  # a source's name in citations, and its file


@dataclass
class Piece:
    """Consecutive chunks of one file; a large file comes in several pieces."""

    name: str
    nodes: list[TextNode]
    digest: str
    is_new: bool
    first: bool  # the file's first piece: clear what an interrupted run left under its hash
    last: bool  # the file's last piece: its chunks carry the file's chunk count
    # The article's record (metadata, extracted text), written with its first piece.
    record: tuple[str, str, dict[str, object]] | None = None


def stored_files(collection: Collection) -> dict[str, tuple[set[str], int, int]]:
    """Per source file: the hashes its chunks carry, their declared count, and how many exist."""
    metadatas = read_metadatas(collection)
    hashes: dict[str, set[str]] = {}
    declared: dict[str, int] = {}
    present: Counter[str] = Counter()
    for meta in metadatas:
        name = str(meta["source_file"])
        hashes.setdefault(name, set()).add(str(meta.get("file_hash", "")))
        # Only the last piece of a large file carries the count: the file is complete once
        # some chunk declares a count that the chunks present match.
        count = int(str(meta.get("chunk_count", -1)))
        declared[name] = max(declared.get(name, -1), count)
        present[name] += 1
    return {name: (hashes[name], declared[name], present[name]) for name in hashes}


def fields_used(articles: list[Article]) -> str:
    """Which JSON fields a file's articles were read from: "text=body, date=published_at (4 of
    5), ..." (empty for other formats)."""
    origins = [a.origin for a in articles if a.origin.startswith(_JSON_ORIGIN)]
    counts = Counter(
        pair for origin in origins for pair in origin.removeprefix(_JSON_ORIGIN).split(", ")
    )
    parts = [
        pair if n == len(origins) else f"{pair} ({n} of {len(origins)})"
        for pair, n in counts.items()
    ]
    return f"json fields: {', '.join(parts)}" if parts else ""


_JSON_ORIGIN = "json fields: "


@dataclass
class Reading:
    """Reads the listed files and yields the chunks of those that changed, in pieces."""

    stored: dict[str, tuple[set[str], int, int]]
    fingerprint: str
    splitter: SentenceSplitter
    settings: Settings
    report: IndexReport
    seen: set[str]

    def pieces(self, files: Iterable[Source]) -> Iterator[Piece]:
        """Pieces of at most `index_batch` chunks (more for the last), file after file."""
        now = time.time()
        for name, path in files:
            for article in self._read(name, path):
                digest = file_hash(article, self.fingerprint)
                source = article.source_file
                hashes, declared, present = self.stored.get(source, (set(), -1, 0))
                if hashes == {digest} and declared == present:
                    self.report.unchanged.append(source)
                    continue
                yield from self._split(article, digest, source not in self.stored, now)

    def _read(self, name: str, path: Path) -> list[Article]:
        """The file's articles; none if it cannot be indexed (the report says why)."""
        limit = self.settings.max_file_mb * 1e6
        try:
            size = path.stat().st_size
            if size > limit:
                self.report.skipped[name] = (
                    f"{size / 1e6:.1f} MB is over the limit of {self.settings.max_file_mb:g} MB "
                    "(raise RAG_MAX_FILE_MB to index it)"
                )
                return []
            articles, warnings = read_articles(name, path)
        except OSError as exc:  # e.g. deleted while indexing
            self.report.skipped[name] = f"cannot read: {exc.strerror or exc}"
            return []
        except BadInputError as exc:  # the reason, without the file name the report keys it by
            self.report.skipped[name] = str(exc).removeprefix(f"{path.name}: ")
            return []
        except Exception as exc:  # a third-party parser failing on a file it did not expect:
            # that file is skipped, the run goes on (the readers name the usual failures)
            self.report.skipped[name] = f"cannot be read ({type(exc).__name__}: {exc})"
            return []
        self.seen.update(a.source_file for a in articles)
        used = fields_used(articles)
        if used:
            self.report.fields[name] = used
        found = [*warnings, *(w for a in articles for w in a.warnings)]
        if found:
            self.report.warnings[name] = "; ".join(found)
        return articles

    def _split(self, article: Article, digest: str, is_new: bool, now: float) -> Iterator[Piece]:
        name, size = article.source_file, self.settings.index_batch
        record = record_of(article, digest, now)
        held: list[TextNode] = []
        count, first = 0, True
        for node in iter_chunks(article, self.splitter, digest, now):
            held.append(node)
            count += 1
            if len(held) > size:  # keep one back, so the last piece is never empty
                yield Piece(
                    name, held[:size], digest, is_new, first, False, record if first else None
                )
                held, first = held[size:], False
        for node in held:
            node.metadata["chunk_count"] = count
        if not count:
            self.report.skipped[name] = "no text"
        yield Piece(name, held, digest, is_new, first, True, record if first and count else None)
