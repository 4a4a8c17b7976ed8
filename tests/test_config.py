"""Settings: precedence and one readable line per malformed value."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import ConfigError, Settings


def test_precedence_argument_over_env_over_default(monkeypatch, tmp_path: Path) -> None:
    assert Settings.load().top_k == 5
    monkeypatch.setenv("RAG_TOP_K", "7")
    assert Settings.load().top_k == 7
    assert Settings.load(top_k=3).top_k == 3
    env = tmp_path / ".env"
    env.write_text("RAG_CHUNK_SIZE=300\nOPENAI_API_KEY=sk-from-file\n")
    loaded = Settings.load(env_file=env)
    assert loaded.chunk_size == 300 and loaded.resolved_mode == "openai"


def test_key_value_never_echoed(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    monkeypatch.setenv("RAG_TOP_K", "x")
    with pytest.raises(ConfigError) as info:
        Settings.load()
    assert "sk-secret-123" not in str(info.value)
    assert "sk-secret-123" not in repr(Settings.load(top_k=4))


def test_env_example_documents_every_setting() -> None:
    from rag.config import ENV_NAMES

    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    documented = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert set(ENV_NAMES.values()) == documented
    assert (
        Settings.load(env_file=Path(__file__).resolve().parents[1] / ".env.example")
        == Settings.load()
    )
