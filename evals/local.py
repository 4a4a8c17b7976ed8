"""Small SQLite files kept beside the store folder (feedback, conversations)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from rag import Settings


def beside_store(settings: Settings, kind: str) -> Path:
    """`<store>-<kind>.sqlite3` next to the store folder (a rebuild replaces the folder only)."""
    store = settings.chroma_path
    return store.parent / f"{store.name}-{kind}.sqlite3"


@contextmanager
def connect(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection to `path` with `schema` in place; commits when the block ends cleanly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(schema)
        yield db
