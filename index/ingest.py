"""Incremental indexing of a folder of articles into Chroma, through llama-index.

A file's chunks all carry the file's content hash and chunk count. A file is unchanged
when the store holds exactly that many chunks with that hash; anything else (changed,
new, or left half-written by a crash) is re-chunked, its new chunks written before its
old ones are deleted, so a reader always finds some version of every file.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

from llama_index.vector_stores.chroma import ChromaVectorStore
from tqdm import tqdm

from index.chunking import CHUNKER_VERSION, make_splitter
from index.reading import Piece, Reading, Source, stored_files
from index.report import IndexReport
from index.write import Generation, give_back_memory, sweep_orphans, sweep_records
from index.write import write_batch as _write
from rag.config import Settings
from rag.errors import BadInputError, IndexNotBuiltError, RagError, StoreError
from rag.providers.embeddings import Embedder, build_embedder
from rag.store import (
    REBUILD_HINT,
    SQLITE_FILE,
    SUPPORTED_SUFFIXES,
    LexicalIndex,
    article_sources,
    describe_location,
    drop_collections,
    finish_interrupted_swap,
    forget_client,
    isolated_problem,
    open_client,
    open_collection,
    open_stores,
    probe,
    rebuild_folder,
    run_interrupted,
    sqlite_problem,
    swap_in,
)

__all__ = ["IndexReport", "build_index"]


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
    if problem is None and run_interrupted(store):  # a torn index can crash the reader
        problem = isolated_problem(store)
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
    files: list[Source],
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
    texts = open_collection(client, settings, embedder, create=True, texts=True)
    state = open_collection(client, settings, embedder, create=True, state=True)
    generation = Generation(state, None if settings.uses_server else settings.chroma_path)
    interrupted = generation.interrupted()
    store = ChromaVectorStore(chroma_collection=collection)
    report = IndexReport(folder=str(root), collection=collection.name)
    stored = stored_files(collection)
    fingerprint = (
        f"{CHUNKER_VERSION}|{settings.chunk_size}|{settings.chunk_overlap}|{embedder.model_id}"
    )
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)

    seen: set[str] = set()
    batch: list[Piece] = []
    bar = tqdm(files, desc="Indexing", unit="file", disable=not progress, leave=False)
    paths = bar if on_progress is None else _reporting(bar, len(files), on_progress)
    reading = Reading(stored, fingerprint, splitter, settings, report, seen)
    for piece in reading.pieces(paths):
        generation.touch()
        batch.append(piece)
        if sum(len(p.nodes) for p in batch) >= settings.index_batch:
            _write(store, sentences, texts, embedder, batch, report, clean=not interrupted)
            bar.set_postfix(chunks=report.chunks_written)
            batch = []
            give_back_memory()
    _write(store, sentences, texts, embedder, batch, report, clean=not interrupted)
    bar.close()

    for name in sorted(set(stored) - seen):
        generation.touch()
        sentences.delete(where={"source_file": name})
        texts.delete(where={"source_file": name})
        collection.delete(where={"source_file": name})
        report.removed.append(name)
    if interrupted:  # a killed run may have left sentences of chunks it never wrote
        generation.touch()
        sweep_orphans(collection, sentences)
        sweep_records(collection, texts)
    if generation.finish():  # answering processes then load this BM25 index, not build one
        give_back_memory()  # before the build, which reads every chunk back
        LexicalIndex(collection, generation.state, settings.bm25_dir).current(progress=progress)
    report.chunks_total = collection.count()
    report.seconds = time.perf_counter() - started
    return report


def _reporting(
    files: Iterable[Source], total: int, report: Callable[[int, int], None]
) -> Iterator[Source]:
    for done, source in enumerate(files):
        report(done, total)
        yield source
    report(total, total)


def _check_folder(root: Path, uploads: Path) -> list[Source]:
    if not root.is_dir():
        raise BadInputError(f"Corpus folder not found: {root}. Pass a folder of articles.")
    files = article_sources(root, uploads)
    if not files:
        raise BadInputError(
            f"No articles in {root} (files ending {', '.join(SUPPORTED_SUFFIXES)}). "
            "Add articles, then index again."
        )
    return files
