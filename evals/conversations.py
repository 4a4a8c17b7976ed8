"""Chat conversations kept in SQLite beside the store, to reopen, rename or delete later.

Each conversation is stored whole (its turns as JSON, answers included), so reopening one
shows it exactly as it was answered, without asking again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.local import beside_store, connect
from rag import Settings

_SCHEMA = """CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    updated TEXT NOT NULL,
    turns TEXT NOT NULL
)"""


@dataclass(frozen=True)
class Saved:
    """One kept conversation, as listed."""

    id: str
    title: str
    updated: str
    up: int = 0  # answers the reader marked 👍
    down: int = 0  # and 👎
    questions: str = ""  # every question asked, for searching

    @property
    def day(self) -> dt.date:
        """The day (UTC) it was last updated."""
        return dt.datetime.fromisoformat(self.updated).date()


def conversations_path(settings: Settings) -> Path:
    """The conversations database: a file beside the store folder."""
    return beside_store(settings, "chats")


def save(path: Path, chat_id: str, turns: list[dict[str, Any]], title: str = "") -> None:
    """Keep (or update) a conversation; a new one is titled after its first question."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    first = next((t["content"] for t in turns if t["role"] == "user"), "New chat")
    name = title or " ".join(first.split())[:80]
    with connect(path, _SCHEMA) as db:
        db.execute(
            "INSERT INTO conversations (id, title, updated, turns) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, turns = excluded.turns",
            (chat_id, name, now, json.dumps(turns, default=str)),
        )


def listed(path: Path) -> list[Saved]:
    """Kept conversations, most recently updated first."""
    if not path.is_file():
        return []
    with connect(path, _SCHEMA) as db:
        rows = db.execute(_LISTED)
        return [
            Saved(row[0], row[1], row[2], row[3] or 0, row[4] or 0, row[5] or "") for row in rows
        ]


# Verdicts and questions counted inside SQLite: a listing never parses every answer in Python.
_LISTED = """SELECT id, title, updated,
    (SELECT count(*) FROM json_each(turns) WHERE json_extract(value, '$.vote') = 1),
    (SELECT count(*) FROM json_each(turns) WHERE json_extract(value, '$.vote') = 0),
    (SELECT group_concat(json_extract(value, '$.content'), ' | ') FROM json_each(turns)
        WHERE json_extract(value, '$.role') = 'user')
    FROM conversations ORDER BY updated DESC"""


def matching(saved: list[Saved], query: str) -> list[Saved]:
    """The conversations whose title or questions hold every word of `query` (any case)."""
    wanted = query.lower().split()
    return [s for s in saved if all(w in f"{s.title} {s.questions}".lower() for w in wanted)]


def load(path: Path, chat_id: str) -> list[dict[str, Any]]:
    """A kept conversation's turns (empty if it is gone)."""
    with connect(path, _SCHEMA) as db:
        row = db.execute("SELECT turns FROM conversations WHERE id = ?", (chat_id,)).fetchone()
    return list(json.loads(row[0])) if row else []


def rename(path: Path, chat_id: str, title: str) -> None:
    """Give a kept conversation a new title (blank titles are ignored)."""
    if title.strip():
        with connect(path, _SCHEMA) as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), chat_id))


def delete(path: Path, chat_id: str) -> None:
    """Forget a kept conversation."""
    with connect(path, _SCHEMA) as db:
        db.execute("DELETE FROM conversations WHERE id = ?", (chat_id,))
