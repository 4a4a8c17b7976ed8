"""Saved conversations listed with their verdicts and found by their questions."""

from __future__ import annotations

from pathlib import Path

from evals import conversations


def test_listing_counts_verdicts_and_search_needs_every_word(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    turns = [
        {"role": "user", "content": "Where was Melania Trump born?"},
        {"role": "assistant", "content": "Slovenia [1].", "vote": 1},
        {"role": "user", "content": "Did the letter mention the children?"},
        {"role": "assistant", "content": "Yes [1].", "vote": 0},
        {"role": "user", "content": "When was the summit?"},
        {"role": "assistant", "content": "August [1].", "vote": 0},
    ]
    conversations.save(path, "a", turns)
    conversations.save(path, "b", turns[:2], "Birthplace")
    saved = {s.id: s for s in conversations.listed(path)}
    assert (saved["a"].up, saved["a"].down) == (1, 2)
    assert (saved["b"].up, saved["b"].down) == (1, 0)
    found = conversations.matching(list(saved.values()), "LETTER children")
    assert [s.id for s in found] == ["a"]
    assert [s.id for s in conversations.matching(list(saved.values()), "birthplace")] == ["b"]
