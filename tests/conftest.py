"""Shared fixtures: isolated environment, a real Chroma index of the sample corpus."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import build_index
from rag import Settings
from tests.fake_openai import FakeOpenAI
from tests.support import SAMPLE


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No provider keys or store settings leak in from the machine; cwd is a temp dir."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "RAG_", "CHROMA_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_CHROMA_PATH", str(tmp_path / "default-chroma"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a store holding the sample corpus, indexed once per test session."""
    root = tmp_path_factory.mktemp("sample")
    corpus = root / "articles"
    shutil.copytree(SAMPLE, corpus)
    settings = Settings(chroma_path=root / "chroma", corpus_dir=corpus, answer_mode="extractive")
    build_index(corpus, settings, progress=False)
    return settings


@pytest.fixture
def corpus_copy(tmp_path: Path) -> tuple[Path, Settings]:
    """A private copy of the sample corpus and settings for a store of its own."""
    corpus = tmp_path / "articles"
    shutil.copytree(SAMPLE, corpus)
    return corpus, Settings(chroma_path=tmp_path / "chroma", corpus_dir=corpus)


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """An OpenAI-protocol server on 127.0.0.1 with scripted replies."""
    with FakeOpenAI() as server:
        yield server
