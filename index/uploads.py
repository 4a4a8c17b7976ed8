"""Adding and removing uploaded articles, as the chat, `rag add` and the HTTP API do it.

Files are saved by `rag.store.corpus.save_upload` (type, size and name rules), pages by
`index.fetch.fetch_page` (the download rules); then the corpus and upload folders are indexed
again, so the store follows the folders. Only uploads can be removed: the corpus folder is the
operator's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from index.ingest import IndexReport, build_index
from rag.config import Settings
from rag.errors import BadInputError, RagError
from rag.providers.embeddings import Embedder
from rag.store import UPLOADS_PREFIX, save_upload

Progress = Callable[[int, int], None]


def save_uploads(
    settings: Settings, files: Iterable[tuple[str, bytes]]
) -> tuple[list[Path], list[str]]:
    """Save (name, bytes) uploads into the upload folder: the saved paths, and one reason per
    refused file (not saved, nothing else changed)."""
    saved: list[Path] = []
    refused: list[str] = []
    for name, data in files:
        try:
            saved.append(save_upload(settings.upload_dir, name, data))
        except RagError as exc:
            refused.append(str(exc))
    return saved, refused


def reindex(
    settings: Settings, *, embedder: Embedder | None = None, on_progress: Progress | None = None
) -> IndexReport:
    """Bring the store in line with the corpus and upload folders (quietly)."""
    return build_index(
        settings.corpus_dir,
        settings,
        embedder=embedder,
        progress=False,
        on_progress=on_progress,
    )


def upload_path(settings: Settings, source: str) -> Path:
    """The file of an uploaded article named `uploads/<name>`.

    Raises:
        BadInputError: the name is not an upload's, or no such upload exists.
    """
    if not source.startswith(UPLOADS_PREFIX):
        raise BadInputError(
            f"{source!r} is not an uploaded article; only sources named {UPLOADS_PREFIX}<name> "
            "can be removed (the corpus folder is changed on disk, then `rag index`)."
        )
    base = settings.upload_dir.resolve()
    path = (base / source.removeprefix(UPLOADS_PREFIX)).resolve()
    if not path.is_relative_to(base) or path == base or not path.is_file():
        raise BadInputError(f"No uploaded article named {source!r}.")
    return path


def remove_upload(
    settings: Settings,
    source: str,
    *,
    embedder: Embedder | None = None,
    on_progress: Progress | None = None,
) -> IndexReport:
    """Remove an uploaded article: its file, then its chunks (the index drops files that are
    gone from the folders)."""
    upload_path(settings, source).unlink(missing_ok=True)
    return reindex(settings, embedder=embedder, on_progress=on_progress)
