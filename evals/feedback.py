"""Readers' 👍/👎 on answers, kept in SQLite beside the store, and turned into eval cases.

A 👎 becomes a case for a person to complete (the question, with what was answered and cited
written above it as comments); a 👍 becomes a regression case expecting the same sources.
The exported file is an ordinary suite: `rag eval` runs it as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from evals.local import beside_store, connect
from rag import Answer, Settings
from rag.store.corpus import UPLOADS_PREFIX

_SCHEMA = """CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL
)"""


@dataclass(frozen=True)
class Feedback:
    """One reader's verdict on one answer."""

    id: int
    at: str
    rating: int  # 1 for 👍, -1 for 👎
    comment: str
    answer: Answer


def feedback_path(settings: Settings) -> Path:
    """The feedback database: a file beside the store folder."""
    return beside_store(settings, "feedback")


def record(path: Path, answer: Answer, rating: int, comment: str = "") -> int:
    """Keep a verdict (1 or -1) on `answer`; returns its id."""
    if rating not in (1, -1):
        raise ValueError("rating is 1 (👍) or -1 (👎)")
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with connect(path, _SCHEMA) as db:
        cursor = db.execute(
            "INSERT INTO feedback (at, rating, comment, question, answer) VALUES (?, ?, ?, ?, ?)",
            (at, rating, comment.strip(), answer.question, answer.model_dump_json()),
        )
        return int(cursor.lastrowid or 0)


def comment(path: Path, feedback_id: int, text: str) -> None:
    """Set the reader's comment on a kept verdict."""
    with connect(path, _SCHEMA) as db:
        db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (text.strip(), feedback_id))


def rerate(path: Path, feedback_id: int, rating: int) -> None:
    """Change a kept verdict (the reader changed their mind)."""
    with connect(path, _SCHEMA) as db:
        db.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, feedback_id))


def entries(path: Path) -> list[Feedback]:
    """Every verdict kept, oldest first (none if the file does not exist yet)."""
    if not path.is_file():
        return []
    with connect(path, _SCHEMA) as db:
        rows = db.execute("SELECT id, at, rating, comment, answer FROM feedback ORDER BY id")
        return [
            Feedback(i, at, rating, comment, Answer.model_validate_json(answer))
            for i, at, rating, comment, answer in rows
        ]


def export_suite(path: Path, corpus: Path, name: str = "feedback") -> str:
    """The verdicts as an eval suite (YAML text) over `corpus`; empty text if there are none.

    Cited uploads are named in the comments only: a suite's expected sources are files of its
    corpus folder.
    """
    kept = entries(path)
    if not kept:
        return ""
    lines = [
        "# Cases made from readers' feedback in the chat (`rag feedback export`).",
        "# thumbs-down cases: add expected_sources and facts (what a right answer says), then",
        "# drop the 'to-complete' tag. thumbs-up cases expect the sources the answer cited.",
        yaml.safe_dump({"name": name, "corpus": str(corpus.resolve())}, sort_keys=False).rstrip(),
        "cases:",
    ]
    for item in kept:
        lines += _case(item)
    return "\n".join(lines) + "\n"


def _case(item: Feedback) -> list[str]:
    answer = item.answer
    cited = sorted({c.source_file for c in answer.citations})
    notes = [f"# {'👍' if item.rating > 0 else '👎'} {item.at}"]
    if item.comment:
        notes.append(f"# reader: {_one_line(item.comment)}")
    notes.append(f"# answered: {_one_line(answer.text) or '(refused)'}")
    notes.append(f"# cited: {', '.join(cited) or 'nothing'}")
    case: dict[str, object] = {"id": f"feedback-{item.id}", "question": answer.question}
    if item.rating > 0:
        in_corpus = [s for s in cited if not s.startswith(UPLOADS_PREFIX) and "/" not in s]
        if in_corpus:
            case["expected_sources"] = in_corpus
        elif answer.refused:
            case["unanswerable"] = True
        case["tags"] = ["feedback", "regression"]
    else:
        case["tags"] = ["feedback", "to-complete"]
    body = yaml.safe_dump([case], allow_unicode=True, sort_keys=False, width=1000)
    return ["  " + line for line in notes + body.splitlines()]


def _one_line(text: str, limit: int = 300) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"
