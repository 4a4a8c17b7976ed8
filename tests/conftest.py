"""Shared fixtures: isolated environment, a real Chroma index of the sample corpus."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from index import build_index
from rag import Answer, Pipeline, Settings
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "articles"


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


def answers_while_indexing(
    indexer: subprocess.Popen[bytes], pipeline: Pipeline, question: str
) -> list[Answer]:
    """Answer `question` until `indexer` exits; it must have re-indexed the five sample files,
    and every answer's citations must resolve in the files, whichever version it saw."""
    answers = []
    while indexer.poll() is None:
        answers.append(pipeline.answer(question))  # must never raise
    out, err = indexer.communicate()
    assert indexer.returncode == 0, err
    assert "5 updated" in out.decode()
    assert answers
    for answer in answers:
        for c in answer.citations:
            assert file_text(pipeline.settings, c.source_file)[c.start : c.end] == c.quote
    return answers


def file_text(settings: Settings, source_file: str) -> str:
    """The cited file's text as the library reads it."""
    from rag.store.corpus import read_text

    return read_text(settings.corpus_dir / source_file)


def openai_pipeline(settings: Settings, server: FakeOpenAI, **extra: object) -> Pipeline:
    """A pipeline in OpenAI mode against the wire-level fake `server` (no retries)."""
    update = {
        "answer_mode": "openai",
        "openai_api_key": SecretStr("sk-test-key"),
        "openai_base_url": server.base_url,
        "chat_model": "local-model-7b",
        "max_retries": 0,
    }
    return Pipeline.from_settings(settings.model_copy(update={**update, **extra}))
