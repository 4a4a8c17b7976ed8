"""Round three, item 8: a damaged or locked conversations / feedback file never takes the chat
down: one message, answering goes on, a damaged file is moved aside only when asked (never
deleted), a locked one is retried briefly and then reported, and nothing kept is lost."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evals import conversations, feedback
from evals.local import BusyFileError, DamagedFileError, move_aside
from rag import Answer, Settings
from tests.test_ui import APP, _ask, _html

GARBAGE = b"SQLite format 3\x00" + b"\xde\xad\xbe\xef" * 2000


def _answer(question: str) -> Answer:
    return Answer(question=question, text="An answer.", mode="extractive")


def test_a_damaged_file_is_reported_and_moved_aside_on_request(tmp_path: Path) -> None:
    path = tmp_path / "chroma-chats.sqlite3"
    path.write_bytes(GARBAGE)
    for call in (
        lambda: conversations.listed(path),
        lambda: conversations.save(path, "c1", [{"role": "user", "content": "Q"}]),
        lambda: feedback.record(path, _answer("Q?"), 1),
    ):
        with pytest.raises(DamagedFileError) as caught:
            call()
        assert path.name in str(caught.value) and "Move it aside" in str(caught.value)
    assert path.read_bytes() == GARBAGE  # nothing written over it
    moved = move_aside(path)
    assert moved.read_bytes() == GARBAGE and not path.exists()
    conversations.save(path, "c1", [{"role": "user", "content": "Q"}])
    assert [s.id for s in conversations.listed(path)] == ["c1"]


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A feedback file with one verdict, held under an exclusive lock by another connection."""
    path = tmp_path / "chroma-feedback.sqlite3"
    feedback.record(path, _answer("Kept?"), 1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield path
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_locked_file_is_a_message_and_nothing_is_lost(locked: Path) -> None:
    with pytest.raises(BusyFileError, match="busy"):
        feedback.record(locked, _answer("New?"), -1)
    with pytest.raises(BusyFileError):
        conversations.save(locked, "c1", [{"role": "user", "content": "Q"}])


def test_after_the_lock_the_earlier_rows_are_intact(tmp_path: Path) -> None:
    path = tmp_path / "chroma-feedback.sqlite3"
    feedback.record(path, _answer("Kept?"), 1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(BusyFileError):
        feedback.record(path, _answer("New?"), -1)
    holder.execute("ROLLBACK")
    holder.close()
    feedback.record(path, _answer("New?"), -1)
    assert [e.answer.question for e in feedback.entries(path)] == ["Kept?", "New?"]


@pytest.fixture
def app_store(sample_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The chat over the sample store, with its side files in a folder of this test."""
    store = tmp_path / "store"
    store.symlink_to(sample_settings.chroma_path, target_is_directory=True)
    monkeypatch.setenv("RAG_CHROMA_PATH", str(store))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(sample_settings.corpus_dir))
    return tmp_path


def test_the_chat_stays_up_on_a_damaged_chats_file(app_store: Path) -> None:
    chats = app_store / "store-chats.sqlite3"
    chats.write_bytes(GARBAGE)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert any("damaged" in w.value and chats.name in w.value for w in at.warning)
    assert "Alaska" in _html(_ask(at, "Where did Trump hand Putin the letter?"))  # still answers
    assert not at.exception and chats.read_bytes() == GARBAGE
    [button] = [b for b in at.button if b.label == "Move the damaged file aside"][:1]
    button.click().run()
    assert not at.exception and not chats.exists()
    assert [p.read_bytes() for p in app_store.glob("store-chats.sqlite3.damaged-*")] == [GARBAGE]
    at = AppTest.from_file(APP, default_timeout=120).run()  # a new visit: a fresh file
    assert not at.exception and not any("damaged" in w.value for w in at.warning)
