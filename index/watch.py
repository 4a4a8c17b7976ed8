"""Keeping the store in line with a folder as files appear, change or go (`rag watch`).

The file-system watcher (watchfiles: inotify on Linux, in a Rust thread, so an idle watch costs
next to nothing) only says *that* something changed; the incremental indexer (`build_index`)
decides *what* to do, from content hashes. That split gives the guarantees:

- A burst is one run: watchfiles gathers changes until `step` ms pass without one (at most
  `debounce` ms), changes arriving while a run is under way wait for the next one, and each run
  brings the whole folder up to date.
- A file still being written is not read half-way: before a run, the changed files are checked
  until their size and modification time hold still for `settle` seconds. (A writer pausing
  longer than that is caught by the next run: its next write is another change.)
- A crash or kill loses nothing: the watch starts with a full run, which finishes whatever a
  killed run left (the indexer is crash-tolerant) and picks up what changed meanwhile.
- Readers need no restart: each run stamps the store's generation, which `Pipeline` follows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from index.ingest import build_index
from index.report import IndexReport
from rag.config import Settings
from rag.errors import BadInputError
from rag.providers.embeddings import Embedder, build_embedder
from rag.store import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)

__all__ = ["WatchOptions", "settle", "watch"]


@dataclass(frozen=True)
class WatchOptions:
    """How the watch groups changes and waits for files to settle."""

    step_ms: int = 500  # a burst ends after this long without a change
    debounce_ms: int = 5000  # ... or after this long, whatever comes first
    settle_s: float = 0.5  # a changed file must keep its size and mtime this long
    settle_max_s: float = 60.0  # give up waiting (the next change runs again)
    wake_s: float = 5.0  # how often the loop wakes with nothing changed (stop, feed polls)


@dataclass
class WatchRun:
    """One run of the indexer: why it ran and what it did (None if it could not run)."""

    changed: int
    report: IndexReport | None
    error: str | None = None
    started: float = field(default_factory=time.time)


def watch(
    folder: Path | str | None = None,
    settings: Settings | None = None,
    *,
    options: WatchOptions | None = None,
    embedder: Embedder | None = None,
    on_run: Callable[[WatchRun], None] | None = None,
    on_idle: Callable[[], bool] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Index `folder` (default: the corpus folder) and the upload folder now, then again after
    every change to an article file there, until `stop` is set (or Ctrl-C).

    Args:
        on_run: called after every run (the CLI prints it).
        on_idle: called when the loop wakes with no change (every `wake_s`); returns whether
            it changed the folders itself (feed polling writes into the upload folder, whose
            changes the watcher reports anyway).
    """
    import watchfiles

    settings = settings or Settings.load()
    options = options or WatchOptions()
    root = Path(folder) if folder is not None else settings.corpus_dir
    if not root.is_dir():
        raise BadInputError(f"Folder not found: {root}. Pass the folder of articles to watch.")
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    embedder = embedder or build_embedder(settings)
    stop = stop or threading.Event()

    def run(changed: int) -> None:
        result = _run(root, settings, embedder, changed)
        if on_run is not None:
            on_run(result)

    run(0)  # catch up with whatever changed while no watch ran (or a killed run left)
    paths = [root] if _inside(settings.upload_dir, root) else [root, settings.upload_dir]
    for changes in watchfiles.watch(
        *paths,
        watch_filter=_is_article,
        debounce=options.debounce_ms,
        step=options.step_ms,
        stop_event=stop,
        rust_timeout=int(options.wake_s * 1000),
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        if not changes:
            if on_idle is not None:
                on_idle()
            continue
        touched = {Path(path) for _, path in changes}
        settle(touched, options)
        run(len(touched))


def settle(paths: Iterable[Path], options: WatchOptions) -> None:
    """Wait until none of `paths` changes size or modification time for `settle_s` (files
    gone are settled), at most `settle_max_s`."""
    deadline = time.monotonic() + options.settle_max_s
    before = _stats(paths)
    while time.monotonic() < deadline:
        time.sleep(options.settle_s)
        now = _stats(before)
        if now == before:
            return
        before = now


def _stats(paths: Iterable[Path]) -> dict[Path, tuple[int, int] | None]:
    found: dict[Path, tuple[int, int] | None] = {}
    for path in paths:
        try:
            stat = path.stat()
            found[path] = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            found[path] = None
    return found


def _run(root: Path, settings: Settings, embedder: Embedder, changed: int) -> WatchRun:
    try:
        report = build_index(root, settings, embedder=embedder, progress=False)
    except BadInputError as exc:  # e.g. the folder holds no article (yet)
        return WatchRun(changed, None, str(exc))
    return WatchRun(changed, report)


def _is_article(change: object, path: str) -> bool:
    """Changes worth a run: files of an indexed format and folders, not hidden (editors' and
    downloaders' temporary files are hidden or carry another suffix until they are renamed
    into place). A folder counts: files written into a new folder before the watcher has
    added a watch on it are reported by the folder's own event only."""
    name = Path(path).name
    suffix = Path(name).suffix.lower()
    return not name.startswith(".") and (
        suffix in SUPPORTED_SUFFIXES or Path(path).is_dir() or not suffix
    )


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())
