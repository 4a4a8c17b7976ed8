"""Telling a usable embedded store from a damaged one, and replacing it without a gap.

Chroma 1.5 saves its HNSW files in place, without a temporary file or fsync: a process killed
during a save can leave a collection whose log no longer applies to its index
("Failed to apply logs to the hnsw segment writer"; upstream chroma-core/chroma#7678). Such a
store opens, but every read or write of that collection fails from then on. The articles are
the source of truth, so the cure is a rebuild: a fresh store is built beside the old one and
swapped in only when complete.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from chromadb.api.models.Collection import Collection

from rag.errors import StoreDamagedError

SQLITE_FILE = "chroma.sqlite3"
# A rebuild is written here, beside the store; this file inside it says it is complete.
REBUILD_SUFFIX = ".rebuild"
COMPLETE_MARK = "REBUILD_COMPLETE"
# An indexing run writes this file into the store before its first write and removes it after
# its last: left behind, it says a run was killed mid-write (or is writing now).
RUN_MARK = "RUN_INCOMPLETE"
REBUILD_HINT = "rebuild it from the articles with: rag index --rebuild"


def sqlite_problem(store: Path) -> str | None:
    """What SQLite's own check finds wrong with the store's database, or None.

    `PRAGMA quick_check` reads every page (0.02 s for the sample store); Chroma itself reads
    a damaged page only when a query reaches it.
    """
    database = store / SQLITE_FILE
    if not database.is_file():
        return None
    try:
        rows = _quick_check(database, writable=os.access(database, os.W_OK))
    except sqlite3.DatabaseError as exc:
        return f"its database cannot be read: {exc}"
    return None if rows == ["ok"] else "its database is damaged: " + "; ".join(rows[:2])


def _quick_check(database: Path, *, writable: bool) -> list[str]:
    # A kill inside a write leaves a hot rollback journal. A read-write connection rolls it back
    # (SQLite's normal recovery, what Chroma's next open does too); a read-only one cannot and
    # fails with "attempt to write a readonly database", which is not damage.
    mode = "rw" if writable else "ro"
    with closing(sqlite3.connect(f"file:{database}?mode={mode}", uri=True)) as db:
        return [str(r[0]) for r in db.execute("PRAGMA quick_check").fetchall()]


def probe(collections: list[Collection | None], location: str) -> None:
    """Read every collection once; a damaged one raises `StoreDamagedError`.

    Counting forces Chroma to load each collection's index and replay its log, which is where
    a store torn by a kill fails; opening the client and listing collections do not.
    """
    for collection in collections:
        if collection is None:
            continue
        try:
            collection.count()
            collection.get(limit=1, include=[])
        except Exception as exc:
            raise StoreDamagedError(damaged(location, collection.name, exc)) from None


def mark_run(store: Path, *, running: bool) -> None:
    """Record that an indexing run is writing to `store` (or, `running=False`, that it ended)."""
    mark = store / RUN_MARK
    if running:
        store.mkdir(parents=True, exist_ok=True)
        mark.write_text(f"{os.getpid()}\n", encoding="utf-8")
    else:
        mark.unlink(missing_ok=True)


def run_interrupted(store: Path) -> bool:
    """Whether a run was killed while writing to `store` (or one is writing now)."""
    return (store / RUN_MARK).is_file()


_READ_EVERY_COLLECTION = """
import sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
for collection in client.list_collections():
    collection.count()
    collection.get(limit=1, include=[])
"""


def isolated_problem(store: Path, timeout: float = 600.0) -> str | None:
    """What reading every collection of `store` meets, read in a child process; None if fine.

    Some HNSW files torn by a kill crash Chroma's loader (SIGSEGV, chroma-core/chroma#7238)
    instead of raising, and would take the reading process with them. Costs a process start
    and a Chroma import (~2 s), so it is used only after an interrupted run.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", _READ_EVERY_COLLECTION, str(store)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"reading it took over {timeout:.0f} s"
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        return f"Chroma crashed reading it ({signal.Signals(-done.returncode).name})"
    lines = done.stderr.strip().splitlines()
    if not lines:
        return f"reading it failed (exit {done.returncode})"
    return lines[-1].removeprefix("chromadb.errors.")[:200]


def damaged(location: str, what: str, exc: BaseException | str) -> str:
    """The one-line message for a damaged store."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"The {location} is damaged ({what}: {detail[:200]}); {REBUILD_HINT}"


def rebuild_folder(store: Path) -> Path:
    """Where a rebuild of `store` is written."""
    return store.with_name(store.name + REBUILD_SUFFIX)


def finish_interrupted_swap(store: Path) -> None:
    """Complete or clear what an interrupted rebuild left beside `store`.

    A complete rebuild whose swap was cut short is swapped in; an incomplete one is removed
    (the store it was to replace is still in place, untouched).
    """
    fresh, old = rebuild_folder(store), _old_folder(store)
    if fresh.is_dir() and (fresh / COMPLETE_MARK).is_file():
        _swap(store, fresh, old)
    elif fresh.exists():
        shutil.rmtree(fresh, ignore_errors=True)
    if old.exists() and store.exists():
        shutil.rmtree(old, ignore_errors=True)


def swap_in(store: Path) -> None:
    """Replace `store` by its complete rebuild: renames that a later run can finish."""
    fresh = rebuild_folder(store)
    (fresh / COMPLETE_MARK).write_text("complete\n", encoding="utf-8")
    _swap(store, fresh, _old_folder(store))


def _swap(store: Path, fresh: Path, old: Path) -> None:
    if store.exists():
        shutil.rmtree(old, ignore_errors=True)
        store.rename(old)
    fresh.rename(store)  # killed before this: `finish_interrupted_swap` does it next time
    (store / COMPLETE_MARK).unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)


def _old_folder(store: Path) -> Path:
    return store.with_name(store.name + ".old")
