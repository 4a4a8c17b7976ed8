"""Citations follow the files as they are now, while an index run lags behind an edit."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from index import build_index
from rag import Answer, Pipeline, Settings
from rag.store.corpus import read_text

QUESTIONS = [
    "Where did Trump hand Putin the letter?",
    "Where was Melania Trump born?",
    "Did the letter mention the abducted children?",
    "What did Melania Trump's letter ask Putin to do?",
]
INSERTED = "An editor's note was added here. "


def _shift(path: Path) -> None:
    """Insert a sentence at the start of the second line: every later offset moves."""
    text = read_text(path)
    cut = text.index("\n") + 1
    path.write_text(text[:cut] + INSERTED + text[cut:], encoding="utf-8", newline="")


def _check(settings: Settings, answer: Answer) -> tuple[int, int]:
    """(citations valid at their offsets now, citations marked stale); fails on any other."""
    valid = stale = 0
    for c in answer.citations:
        path = settings.corpus_dir / c.source_file
        text = read_text(path) if path.exists() else ""
        if c.stale:
            assert c.quote not in text, c
            stale += 1
        else:
            assert text[c.start : c.end] == c.quote, c
            valid += 1
    return valid, stale


def test_edited_files_relocate_or_mark_quotes(corpus_copy: tuple[Path, Settings]) -> None:
    corpus, settings = corpus_copy
    settings = settings.model_copy(update={"answer_mode": "extractive"})
    build_index(corpus, settings, progress=False)
    pipeline = Pipeline.from_settings(settings)
    before = pipeline.answer(QUESTIONS[0])
    cited = before.citations[0]
    path = corpus / cited.source_file
    _shift(path)  # not re-indexed: the store still has the old offsets
    moved = pipeline.answer(QUESTIONS[0]).citations[0]
    assert moved.quote == cited.quote and not moved.stale
    assert moved.start == cited.start + len(INSERTED)
    assert read_text(path)[moved.start : moved.end] == moved.quote

    path.write_text(read_text(path).replace(cited.quote, "(removed)"), encoding="utf-8")
    gone = [c for c in pipeline.answer(QUESTIONS[0]).citations if c.quote == cited.quote]
    assert gone and all(c.stale for c in gone)


@pytest.mark.slow  # an indexer subprocess while 8 threads answer
def test_answers_under_load_while_files_change_are_exact_or_stale(
    corpus_copy: tuple[Path, Settings],
) -> None:
    corpus, settings = corpus_copy
    settings = settings.model_copy(update={"answer_mode": "extractive"})
    build_index(corpus, settings, progress=False)
    pipeline = Pipeline.from_settings(settings)
    answers: list[tuple[float, Answer]] = []
    stop = threading.Event()

    def ask(offset: int) -> None:
        turn = offset
        while not stop.is_set():
            started = time.monotonic()
            answers.append((started, pipeline.answer(QUESTIONS[turn % len(QUESTIONS)])))
            turn += 1

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        for path in sorted(corpus.glob("*.txt")):
            _shift(path)
        edited = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_"))}
        env |= {"RAG_CHROMA_PATH": str(settings.chroma_path), "RAG_INDEX_BATCH": "2"}
        command = [sys.executable, "-m", "index", str(corpus), "-q"]
        indexer = subprocess.run(command, env=env, capture_output=True)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert indexer.returncode == 0, indexer.stderr.decode()
    after = [a for started, a in answers if started > edited]
    assert len(after) > 20
    counts = [_check(settings, a) for a in after]  # every citation is exact now, or stale
    assert sum(valid for valid, _ in counts) > 0
