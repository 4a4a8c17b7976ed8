"""`rag watch` end to end: a real watcher process on a temp folder, real files, a real store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.synthetic import write_corpus
from rag import Pipeline, Settings
from rag.retrieval.retrieve import FusionConfig
from rag.store.integrity import run_interrupted

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "articles"
FACT = (
    " date 2026-03-02 The Zorbian lighthouse gets a new coat\n\n"
    "Workers on the island of Zorbia finished repainting the old lighthouse on Monday. "
    "The Zorbian lighthouse was painted ultramarine blue, the harbour master said. "
)
QUESTION = "What colour was the Zorbian lighthouse painted?"


def _env(settings: Settings, **env: str) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_", "OPENAI_"))
    }
    return clean | {
        "RAG_CHROMA_PATH": str(settings.chroma_path),
        "RAG_UPLOAD_DIR": str(settings.upload_dir),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "PYTHONUNBUFFERED": "1",
        **env,
    }


def _start(folder: Path, settings: Settings, **env: str) -> subprocess.Popen[str]:
    clean = _env(settings, **env)
    command = [
        sys.executable,
        "-m",
        "cli",
        "watch",
        str(folder),
        "--step",
        "100",
        "--settle",
        "0.5",
    ]
    # Ctrl-C must reach the watcher even when the tests run in the background (a
    # non-interactive shell starts background jobs with SIGINT ignored, and children inherit it).
    return subprocess.Popen(
        command, env=clean, stdout=subprocess.PIPE, text=True, preexec_fn=_default_interrupt
    )


def _default_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _lines(process: subprocess.Popen[str]) -> Iterator[str]:
    assert process.stdout is not None
    for line in process.stdout:
        yield line.rstrip("\n")


def _next_run(lines: Iterator[str]) -> str:
    """The watcher's next run summary (each run prints one line with "changed:")."""
    return next(line for line in lines if " changed: " in line)


def _until(check: Callable[[], bool], seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the watched change never reached the store"
        time.sleep(0.2)


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, Settings]:
    corpus = tmp_path / "articles"
    corpus.mkdir()
    for name in sorted(p.name for p in SAMPLE.glob("*.txt"))[:2]:
        (corpus / name).write_bytes((SAMPLE / name).read_bytes())
    settings = Settings(
        chroma_path=tmp_path / "chroma",
        corpus_dir=corpus,
        upload_dir=tmp_path / "uploads",
        answer_mode="extractive",
    )
    return corpus, settings


@pytest.mark.slow  # a watcher process, many files
def test_watch_indexes_new_changed_and_removed_files_for_a_running_reader(
    folder: tuple[Path, Settings],
) -> None:
    corpus, settings = folder
    watcher = _start(corpus, settings)
    try:
        lines = _lines(watcher)
        assert "2 added" in _next_run(lines)  # the catch-up run at start
        pipeline = Pipeline.from_settings(settings)  # one reader, kept across every change

        # Written in two parts with a pause: the run must read the whole file, once.
        path = corpus / "zorbia.txt"
        with path.open("w", encoding="utf-8") as out:
            out.write(FACT[:60])
            out.flush()
            time.sleep(0.3)
            out.write(FACT[60:])
        summary = _next_run(lines)
        assert "1 added" in summary and "0 updated" in summary, summary
        _until(lambda: "ultramarine" in pipeline.answer(QUESTION).text)
        cited = pipeline.answer(QUESTION).citations[0]
        assert cited.source_file == "zorbia.txt"
        assert cited.quote in path.read_text(encoding="utf-8")

        # A burst of files is one run.
        write_corpus(corpus / "burst", 40, seed=3)
        summary = _next_run(lines)
        assert "40 added" in summary, summary

        gone = sorted(p.name for p in corpus.glob("*.txt"))[0]
        (corpus / gone).unlink()
        assert "1 removed" in _next_run(lines)
        _until(lambda: gone not in {f.source_file for f in pipeline.corpus().files})
        assert len(pipeline.corpus().files) == 1 + 1 + 40
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=30)


@pytest.mark.slow  # a watcher process, many files
def test_a_watcher_killed_mid_run_loses_nothing_when_started_again(
    folder: tuple[Path, Settings],
) -> None:
    corpus, settings = folder
    watcher = _start(corpus, settings, RAG_INDEX_BATCH="2")  # many small writes: a wide window
    lines = _lines(watcher)
    _next_run(lines)
    write_corpus(corpus / "burst", 60, seed=5)
    deadline = time.monotonic() + 60
    while not run_interrupted(settings.chroma_path):  # the run is writing now
        assert time.monotonic() < deadline, "the watcher never started writing"
        time.sleep(0.01)
    time.sleep(0.5)
    watcher.send_signal(signal.SIGKILL)
    watcher.wait(timeout=30)
    assert run_interrupted(settings.chroma_path)  # killed mid-run, as meant

    again = _start(corpus, settings)
    try:
        summary = _next_run(_lines(again))  # catches up at start, with no new change
        assert "removed" in summary and "0 removed" in summary, summary
        names = {f.source_file for f in Pipeline.from_settings(settings).corpus().files}
        assert names == {str(p.relative_to(corpus)) for p in corpus.rglob("*.txt")}
        assert len(names) == 62
        assert not run_interrupted(settings.chroma_path)
    finally:
        again.send_signal(signal.SIGINT)
        again.wait(timeout=30)


@pytest.mark.slow  # a second process
def test_a_reader_finds_chunks_another_process_added_on_the_dense_side_too(
    folder: tuple[Path, Settings],
) -> None:
    corpus, settings = folder
    first = subprocess.run([sys.executable, "-m", "index", str(corpus), "-q"], env=_env(settings))
    assert first.returncode == 0
    pipeline = Pipeline.from_settings(settings)
    pipeline.retriever.fusion = FusionConfig(bm25_weight=0.0, rerank_depth=0)  # dense only
    assert pipeline.retrieve(QUESTION, top_k=1)[0].source_file != "zorbia.txt"
    (corpus / "zorbia.txt").write_text(FACT, encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "index", str(corpus), "-q"], env=_env(settings))
    assert again.returncode == 0
    assert pipeline.retrieve(QUESTION, top_k=1)[0].source_file == "zorbia.txt"
