"""Small SQLite files kept beside the store folder (feedback, conversations).

They are side files: a damaged or locked one must never take the chat down. Every access goes
through `connect`, which turns SQLite's failures into a `SideFileError` saying what happened
(`DamagedFileError`: move the file aside with `move_aside`, never deleted; `BusyFileError`:
another process holds the lock, retried briefly, nothing written is lost).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypeVar

from rag import Settings
from rag.errors import RagError

T = TypeVar("T")
# How long SQLite's busy handler retries a locked file before giving up (its default is 5 s,
# which froze a vote or a page run for that long).
BUSY_TIMEOUT_S = 1.0


class SideFileError(RagError):
    """A feedback or conversations file that cannot be used right now."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class DamagedFileError(SideFileError):
    """The file is not a readable SQLite database; it can be moved aside."""


class BusyFileError(SideFileError):
    """Another process holds the file's lock past the brief retry."""


def beside_store(settings: Settings, kind: str) -> Path:
    """`<store>-<kind>.sqlite3` next to the store folder (a rebuild replaces the folder only)."""
    store = settings.chroma_path
    return store.parent / f"{store.name}-{kind}.sqlite3"


@contextmanager
def connect(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection to `path` with `schema` in place; commits when the block ends cleanly.

    Raises:
        DamagedFileError: the file is not a database (or a damaged one).
        BusyFileError: the file stayed locked by another process for `BUSY_TIMEOUT_S`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as db, db:
            db.execute(schema)
            yield db
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BusyFileError(
                f"{path.name} is busy (another process is writing it); nothing was saved this "
                "time and nothing kept is lost: try again in a moment.",
                path,
            ) from None
        raise _damaged(path, exc) from None
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, exc) from None


def _damaged(path: Path, exc: Exception) -> DamagedFileError:
    return DamagedFileError(
        f"{path} is damaged ({exc}); answering goes on, but nothing is kept in it. Move it "
        "aside to start a new one (it is kept, renamed, for recovery).",
        path,
    )


def move_aside(path: Path) -> Path:
    """Rename a damaged file to `<name>.damaged-<time>` beside it (never deleted); returns
    the new path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    path.rename(target)
    for extra in ("-wal", "-shm", "-journal"):  # SQLite's side files belong to the damaged one
        side = path.with_name(path.name + extra)
        if side.exists():
            side.rename(target.with_name(target.name + extra))
    return target


def attempt(action: Callable[[], T], fallback: T) -> tuple[T, SideFileError | None]:
    """`action()`, or `fallback` and the problem when the side file cannot be used."""
    try:
        return action(), None
    except SideFileError as exc:
        return fallback, exc
