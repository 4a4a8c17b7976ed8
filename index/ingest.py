"""Incremental indexing of a folder of articles into Chroma, through llama-index.

A file's chunks all carry the file's content hash and chunk count. A file is unchanged
when the store holds exactly that many chunks with that hash; anything else (changed,
new, or left half-written by a crash) is re-chunked, its new chunks written before its
old ones are deleted, so a reader always finds some version of every file.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import cast

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore
from tqdm import tqdm

from index.chunking import (
    CHUNKER_VERSION,
    SentenceRecord,
    file_hash,
    iter_chunks,
    make_splitter,
    sentence_records,
)
from rag.config import Settings
from rag.corpus import Article, article_sources, load_text, parse_article
from rag.embeddings import Embedder, Matrix, build_embedder
from rag.errors import BadInputError, IndexNotBuiltError, RagError, StoreError
from rag.integrity import (
    REBUILD_HINT,
    SQLITE_FILE,
    finish_interrupted_swap,
    probe,
    rebuild_folder,
    sqlite_problem,
    swap_in,
)
from rag.lexical import LexicalIndex
from rag.store import (
    describe_location,
    drop_collections,
    forget_client,
    open_client,
    open_collection,
    open_stores,
    read_generation,
    read_metadatas,
    write_generation,
)

log = logging.getLogger(__name__)

_CHROMA_BATCH = 4096  # records per Chroma add call

_Source = tuple[str, Path]  # a source's name in citations, and its file


@dataclass
class IndexReport:
    """What an index run did."""

    folder: str
    collection: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    chunks_written: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    rebuilt: str | None = None  # why the store was built afresh, if it was

    def summary(self) -> str:
        """One line for people."""
        line = (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged; {self.chunks_written} chunks written, "
            f"{self.chunks_total} in the index; {self.seconds:.1f} s"
        )
        if self.skipped:
            line += f"; {len(self.skipped)} skipped"
        return line

    def notices(self) -> list[str]:
        """One line per skipped file and per warning (and a rebuild's reason), for people."""
        rebuilt = [f"rebuilt the store from the folder: {self.rebuilt}"] if self.rebuilt else []
        return (
            rebuilt
            + [f"skipped {name}: {why}" for name, why in self.skipped.items()]
            + [f"warning {name}: {what}" for name, what in self.warnings.items()]
        )


@dataclass
class _Piece:
    """Consecutive chunks of one file; a large file comes in several pieces."""

    name: str
    nodes: list[TextNode]
    digest: str
    is_new: bool
    first: bool  # the file's first piece: clear what an interrupted run left under its hash
    last: bool  # the file's last piece: its chunks carry the file's chunk count


def build_index(
    folder: Path | str | None = None,
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    progress: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    rebuild: bool = False,
) -> IndexReport:
    """Bring the store in line with `folder` (default: the settings' corpus folder) and the
    settings' upload folder, whose files are cited as `uploads/<name>`.

    An embedded store found damaged (its database fails SQLite's check, a collection cannot be
    read, or Chroma fails during the run) is rebuilt: the store is only a cache of the folder.
    A rebuild is written beside the store and swapped in when complete, so a run killed
    meanwhile leaves the old store as it was (`IndexReport.rebuilt` says why one happened).

    Args:
        progress: show a terminal progress bar.
        on_progress: called with (files read, files in all) as the run advances (for UIs).
        rebuild: build the store afresh (server mode: its collections are dropped first).
    """
    settings = settings or Settings.load()
    root = Path(folder) if folder is not None else settings.corpus_dir
    files = _check_folder(root, settings.upload_dir)
    embedder = embedder or build_embedder(settings)
    run = partial(
        _index, root, files, embedder=embedder, progress=progress, on_progress=on_progress
    )
    if settings.uses_server:
        if rebuild:
            drop_collections(open_client(settings, create=True), settings, embedder)
        return run(settings)
    store = settings.chroma_path
    finish_interrupted_swap(store)
    reason = "asked for" if rebuild else _damage(settings, embedder)
    if reason is None:
        try:
            return run(settings)
        except RagError:
            raise
        except Exception:  # Chroma failed mid-run: a damaged store, or a passing fault
            reason = _damage(settings, embedder)
            if reason is None:
                raise
    # The store is only a cache of the folder: build a fresh one beside it, swap it in whole.
    shutil.rmtree(rebuild_folder(store), ignore_errors=True)
    fresh = settings.model_copy(update={"chroma_path": rebuild_folder(store)})
    report = run(fresh)
    forget_client(rebuild_folder(store))
    forget_client(store)
    swap_in(store)
    report.rebuilt = reason
    return report


def _damage(settings: Settings, embedder: Embedder) -> str | None:
    """Why the embedded store cannot be used as it is, or None (a missing store is fine)."""
    store = settings.chroma_path
    if not (store / SQLITE_FILE).exists():
        return None
    problem = sqlite_problem(store)
    if problem is not None:
        return problem
    try:
        client = open_client(settings, create=False)
        probe(list(open_stores(client, settings, embedder)), describe_location(settings))
    except IndexNotBuiltError:
        return None
    except StoreError as exc:
        forget_client(store)
        return str(exc).removesuffix(f"; {REBUILD_HINT}")
    return None


def _index(
    root: Path,
    files: list[_Source],
    settings: Settings,
    *,
    embedder: Embedder,
    progress: bool,
    on_progress: Callable[[int, int], None] | None,
) -> IndexReport:
    """One pass over the listed files into the store of `settings`."""
    started = time.perf_counter()
    client = open_client(settings, create=True)
    collection = open_collection(client, settings, embedder, create=True)
    sentences = open_collection(client, settings, embedder, create=True, sentences=True)
    generation = _Generation(open_collection(client, settings, embedder, create=True, state=True))
    store = ChromaVectorStore(chroma_collection=collection)
    report = IndexReport(folder=str(root), collection=collection.name)
    stored = _stored_files(collection)
    fingerprint = (
        f"{CHUNKER_VERSION}|{settings.chunk_size}|{settings.chunk_overlap}|{embedder.model_id}"
    )
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)

    seen: set[str] = set()
    batch: list[_Piece] = []
    bar = tqdm(files, desc="Indexing", unit="file", disable=not progress, leave=False)
    paths = bar if on_progress is None else _reporting(bar, len(files), on_progress)
    reading = _Reading(stored, fingerprint, splitter, settings, report, seen)
    for piece in reading.pieces(paths):
        generation.touch()
        batch.append(piece)
        if sum(len(p.nodes) for p in batch) >= settings.index_batch:
            _write(store, sentences, embedder, batch, report)
            bar.set_postfix(chunks=report.chunks_written)
            batch = []
    _write(store, sentences, embedder, batch, report)
    bar.close()

    for name in sorted(set(stored) - seen):
        generation.touch()
        sentences.delete(where={"source_file": name})
        collection.delete(where={"source_file": name})
        report.removed.append(name)
    if generation.finish():  # answering processes then load this BM25 index, not build one
        LexicalIndex(collection, generation.state, settings.bm25_dir).current(progress=progress)
    report.chunks_total = collection.count()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Generation:
    """Stamps the store incomplete before a run's first write and complete after its last."""

    state: Collection
    touched: bool = False

    def touch(self) -> None:
        """Called before every write; stamps once."""
        if not self.touched:
            write_generation(self.state, complete=False)
            self.touched = True

    def finish(self) -> bool:
        """Stamp the store complete if this run, or one killed before it, wrote to it."""
        found = read_generation(self.state)
        if self.touched or found is None or not found[1]:
            write_generation(self.state, complete=True)
            return True
        return False


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


def _reporting(
    files: Iterable[_Source], total: int, report: Callable[[int, int], None]
) -> Iterator[_Source]:
    for done, source in enumerate(files):
        report(done, total)
        yield source
    report(total, total)


def _check_folder(root: Path, uploads: Path) -> list[_Source]:
    if not root.is_dir():
        raise BadInputError(f"Corpus folder not found: {root}. Pass a folder of .txt/.md files.")
    files = article_sources(root, uploads)
    if not files:
        raise BadInputError(f"No .txt or .md files in {root}. Add articles, then index again.")
    return files


def _stored_files(collection: Collection) -> dict[str, tuple[set[str], int, int]]:
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


@dataclass
class _Reading:
    """Reads the listed files and yields the chunks of those that changed, in pieces."""

    stored: dict[str, tuple[set[str], int, int]]
    fingerprint: str
    splitter: SentenceSplitter
    settings: Settings
    report: IndexReport
    seen: set[str]

    def pieces(self, files: Iterable[_Source]) -> Iterator[_Piece]:
        """Pieces of at most `index_batch` chunks (more for the last), file after file."""
        now = time.time()
        for name, path in files:
            article = self._read(name, path)
            if article is None:
                continue
            digest = file_hash(article, self.fingerprint)
            hashes, declared, present = self.stored.get(name, (set(), -1, 0))
            if hashes == {digest} and declared == present:
                self.report.unchanged.append(name)
                continue
            yield from self._split(article, digest, name not in self.stored, now)

    def _read(self, name: str, path: Path) -> Article | None:
        limit = self.settings.max_file_mb * 1e6
        try:
            size = path.stat().st_size
            if size > limit:
                self.report.skipped[name] = (
                    f"{size / 1e6:.1f} MB is over the limit of {self.settings.max_file_mb:g} MB "
                    "(raise RAG_MAX_FILE_MB to index it)"
                )
                return None
            text, warnings = load_text(path)
        except OSError as exc:  # e.g. deleted while indexing
            self.report.skipped[name] = f"cannot read: {exc.strerror or exc}"
            return None
        except BadInputError as exc:  # the reason, without the file name the report keys it by
            self.report.skipped[name] = str(exc).removeprefix(f"{path.name}: ")
            return None
        self.seen.add(name)
        article = parse_article(name, text)
        if warnings or article.warnings:
            self.report.warnings[name] = "; ".join((*warnings, *article.warnings))
        return article

    def _split(self, article: Article, digest: str, is_new: bool, now: float) -> Iterator[_Piece]:
        name, size = article.source_file, self.settings.index_batch
        held: list[TextNode] = []
        count, first = 0, True
        for node in iter_chunks(article, self.splitter, digest, now):
            held.append(node)
            count += 1
            if len(held) > size:  # keep one back, so the last piece is never empty
                yield _Piece(name, held[:size], digest, is_new, first=first, last=False)
                held, first = held[size:], False
        for node in held:
            node.metadata["chunk_count"] = count
        if not count:
            self.report.skipped[name] = "no text"
        yield _Piece(name, held, digest, is_new, first=first, last=True)


def _write(
    store: ChromaVectorStore,
    sentences: Collection,
    embedder: Embedder,
    batch: list[_Piece],
    report: IndexReport,
) -> None:
    """Embed and write a batch: sentences first, then chunks, then drop stale versions.

    A file counts as indexed once all its chunks exist, so writing its sentences before its
    chunks means a complete file always has its sentences too.
    """
    nodes: list[BaseNode] = [node for piece in batch for node in piece.nodes]
    per_node = [sentence_records(node) for node in nodes]  # type: ignore[arg-type]
    records = [r for group in per_node for r in group]
    vectors = _sentence_vectors(embedder, nodes, per_node)
    for node, group in zip(nodes, per_node, strict=True):
        node.embedding = chunk_vector(vectors, node, group).tolist()
        node.metadata["sentence_count"] = len(group)  # its sentences' ids: "<chunk id>:<i>"
    for piece in batch:
        if not piece.first:
            continue
        # Records of the same hash left by an interrupted run would collide with the new ids.
        same: Where = {"$and": [{"source_file": piece.name}, {"file_hash": piece.digest}]}
        sentences.delete(where=same)
        store.client.delete(where=same)
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
        newer = cast(Where, {"file_hash": {"$ne": piece.digest}})
        stale: Where = {"$and": [{"source_file": piece.name}, newer]}
        store.client.delete(where=stale)
        sentences.delete(where=stale)
        if piece.name not in report.skipped:  # a file with no text is reported as skipped only
            (report.added if piece.is_new else report.updated).append(piece.name)
    report.chunks_written += len(nodes)
