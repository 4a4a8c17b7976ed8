"""Opening the Chroma store: embedded on disk, or a `chroma run` server over HTTP.

Every collection is opened with the project's own embedding function, so Chroma never
falls back to its default one (which would download a model).
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Include
from chromadb.config import Settings as ChromaSettings

from rag.config import Settings
from rag.errors import IndexNotBuiltError, StoreDamagedError, StoreError
from rag.providers.embeddings import Embedder
from rag.store.integrity import damaged

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


# The chunk collection, its sentence collection and its generation-stamp collection.
Stores = tuple[Collection, Collection | None, Collection | None]


class ChromaEmbedding(EmbeddingFunction[Documents]):
    """Adapter that lets Chroma embed with the project's embedder (never its default)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "rag-project-embedder"

    def get_config(self) -> dict[str, Any]:
        return {"model_id": self._embedder.model_id}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:
        raise NotImplementedError("open collections through rag.store.chroma.open_collection")

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


def collection_name(settings: Settings, model_id: str) -> str:
    """One collection per embedding model, so vectors of two models are never mixed."""
    slug = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")
    return f"{settings.collection}--{slug}"[:63].rstrip("-_.")


def sentences_name(chunks_name: str) -> str:
    """The collection holding the sentence vectors of a chunk collection."""
    return f"{chunks_name[:60]}-s"


def texts_name(chunks_name: str) -> str:
    """The collection holding a chunk collection's article records (metadata, extracted text)."""
    return f"{chunks_name[:60]}-t"


def state_name(chunks_name: str) -> str:
    """The one-record collection holding a chunk collection's generation stamp."""
    return f"{chunks_name[:60]}-g"


_GENERATION_ID = "generation"


def write_generation(state: Collection, *, complete: bool) -> str:
    """Mark the chunk collection as changed: readers rebuild what they derive from it.

    An index run marks the store incomplete before its first write and complete after its
    last, so a run killed in between is finished (and stamped) by the next one.
    """
    stamp = uuid.uuid4().hex
    state.upsert(
        ids=[_GENERATION_ID],
        embeddings=np.ones((1, 1), dtype=np.float32),  # read by id only; Chroma wants a vector
        metadatas=[{"stamp": stamp, "complete": complete, "written_at": time.time()}],
    )
    return stamp


def read_generation(state: Collection) -> tuple[str, bool] | None:
    """The chunk collection's generation stamp and whether the run that wrote it finished
    (None before the first index run that stamped it)."""
    got = state.get(ids=[_GENERATION_ID], include=["metadatas"])
    metadatas = got.get("metadatas") or []
    if not metadatas or not metadatas[0]:
        return None
    return str(metadatas[0]["stamp"]), bool(metadatas[0].get("complete", True))


def describe_location(settings: Settings) -> str:
    """Where the store lives, for messages."""
    if settings.uses_server:
        return f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
    return f"Chroma store at {settings.chroma_path}"


def open_client(settings: Settings, *, create: bool) -> ClientAPI:
    """A Chroma client for the settings; `create=False` refuses to make a new empty store."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.uses_server:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host or "localhost",
                port=settings.chroma_port,
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreError(
                f"Cannot reach the {describe_location(settings)}: {_first_line(exc)}. "
                "Start it (chroma run --path DIR --port PORT) or unset CHROMA_HOST."
            ) from None
    if not create and not settings.chroma_path.exists():
        raise IndexNotBuiltError(_not_built(settings))
    # Chroma caches clients by the path string: a relative one would keep pointing at the
    # directory it first resolved to after the process changes directory.
    path = settings.chroma_path.resolve()
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        problem = _first_line(exc)
        if not _read_only(exc):
            raise StoreDamagedError(
                damaged(describe_location(settings), "opening it", problem)
            ) from None
        if create:
            raise StoreError(
                f"The {describe_location(settings)} is read-only ({problem}); indexing writes "
                "to it: give it write access, or set RAG_CHROMA_PATH to a writable folder."
            ) from None
    # Embedded Chroma writes even to answer (its log and index files): a read-only store is
    # answered from a private copy.
    copy = read_only_copy(path)
    log.warning(
        "The %s is read-only: answering from a copy in %s", describe_location(settings), copy
    )
    return chromadb.PersistentClient(path=str(copy), settings=chroma_settings)


def _read_only(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, PermissionError) or "readonly" in text or "read-only" in text


def read_only_copy(store: Path) -> Path:
    """A private, writable copy of a read-only store, removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix="rag-read-only-"))
    atexit.register(shutil.rmtree, folder, True)
    copy = folder / store.name
    shutil.copytree(store, copy, copy_function=shutil.copyfile)
    for path in [copy, *copy.rglob("*")]:  # directories keep the store's read-only mode
        path.chmod(0o700 if path.is_dir() else 0o600)
    return copy


# Records per read: one read of a whole large collection exceeds SQLite's limits, and Chroma
# holds about 35 KB of native memory per record of a page while reading it (a page of 5,000
# chunks with their texts took +180 MB of RSS, one of 500 +64 MB; `bench/ingest_memory.py`).
PAGE = 500


def read_all(
    collection: Collection, include: Include, page: int | None = None
) -> Iterator[dict[str, Any]]:
    """Everything the collection holds, in pages.

    A single `get()` of a collection of ~100k chunks fails inside Chroma with "too many SQL
    variables"; pages of a few thousand records do not.
    """
    page = page or PAGE
    offset = 0
    while True:
        got: dict[str, Any] = dict(collection.get(include=include, limit=page, offset=offset))
        if not got["ids"]:
            return
        yield got
        if len(got["ids"]) < page:
            return
        offset += page


def read_metadatas(collection: Collection) -> list[Any]:
    """The metadata of every record, read in pages."""
    return [m for got in read_all(collection, ["metadatas"]) for m in got["metadatas"] or []]


def reopen_client(settings: Settings) -> ClientAPI:
    """A new embedded client that reads the store from disk again.

    Chroma's embedded client keeps its index in memory and does not see what another process
    writes (its queries then fail with "Error finding id"); dropping its cached system for
    this path makes the next client load the store as it is on disk now.
    """
    forget_client(settings.chroma_path)
    return open_client(settings, create=False)


def forget_client(store: Path) -> None:
    """Drop Chroma's cached embedded client of `store`, so the next one reads the disk again
    (after another process rewrote the store, or a rebuild replaced its folder)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    path = str(store.resolve())
    SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)


def open_collection(
    client: ClientAPI,
    settings: Settings,
    embedder: Embedder,
    *,
    create: bool,
    sentences: bool = False,
    state: bool = False,
    texts: bool = False,
) -> Collection:
    """Open (or with `create`, make) the chunk collection of the settings' embedding model.

    With `sentences`, the companion collection of per-sentence vectors instead; with `state`,
    the one holding its generation stamp; with `texts`, the one holding its article records.
    """
    name = collection_name(settings, embedder.model_id)
    if sentences or state or texts:
        name = (
            sentences_name(name) if sentences else state_name(name) if state else texts_name(name)
        )
    ef: Any = ChromaEmbedding(embedder)  # chromadb types the parameter by its own classes
    try:
        if create:
            return client.get_or_create_collection(
                name,
                embedding_function=ef,
                metadata={
                    "hnsw:space": "cosine",
                    "embedding_model": embedder.model_id,
                    "schema_version": SCHEMA_VERSION,
                },
            )
        return client.get_collection(name, embedding_function=ef)
    except chromadb.errors.NotFoundError:
        raise IndexNotBuiltError(_not_built(settings)) from None
    except Exception as exc:
        if create or "does not exist" not in str(exc):
            raise StoreError(
                f"Cannot open collection {name!r} in the {describe_location(settings)}: "
                f"{_first_line(exc)}"
            ) from None
        raise IndexNotBuiltError(_not_built(settings)) from None


def open_stores(client: ClientAPI, settings: Settings, embedder: Embedder) -> Stores:
    """The chunk collection, sentence collection and generation stamp of the embedding model."""
    chunks = open_collection(client, settings, embedder, create=False)
    sentences = open_collection(client, settings, embedder, create=False, sentences=True)
    try:
        state: Collection | None = open_collection(
            client, settings, embedder, create=False, state=True
        )
    except IndexNotBuiltError:  # written before stamps existed: BM25 follows the chunk count
        state = None
    return chunks, sentences, state


def drop_collections(client: ClientAPI, settings: Settings, embedder: Embedder) -> None:
    """Delete the chunk, sentence, stamp and article collections of the model, if present."""
    name = collection_name(settings, embedder.model_id)
    for each in (name, sentences_name(name), state_name(name), texts_name(name)):
        try:
            client.delete_collection(each)
        except Exception as exc:
            if "does not exist" not in str(exc) and "NotFound" not in type(exc).__name__:
                raise StoreError(
                    f"Cannot drop {each!r} in the {describe_location(settings)}: {_first_line(exc)}"
                ) from None


def _not_built(settings: Settings) -> str:
    return (
        f"No index found in the {describe_location(settings)} for collection "
        f"'{settings.collection}'. Build it with: rag index {settings.corpus_dir}"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
