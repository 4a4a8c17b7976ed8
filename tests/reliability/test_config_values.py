"""Malformed configuration values: one line naming the key and what is allowed."""

from __future__ import annotations

import pytest

from rag import ConfigError, Settings


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("RAG_TOP_K", "ten", "RAG_TOP_K: Input should be a valid integer"),
        (
            "RAG_ANSWER_MODE",
            "magic",
            "RAG_ANSWER_MODE: Input should be 'auto', 'extractive' or 'openai'",
        ),
        (
            "OPENAI_BASE_URL",
            "localhost:8080",
            "OPENAI_BASE_URL: Value error, must be an http(s) URL",
        ),
        ("CHROMA_PORT", "99999", "CHROMA_PORT: Input should be less than or equal to 65535"),
    ],
)
def test_malformed_values_name_the_key(monkeypatch, key: str, value: str, expected: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        Settings.load()
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)
