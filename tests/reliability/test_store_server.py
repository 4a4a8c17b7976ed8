"""Server mode: a real `chroma run` on 127.0.0.1; index and answer through HttpClient."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import build_index
from rag import Pipeline, Settings, StoreError
from tests.support import SAMPLE, answers_while_indexing

pytestmark = pytest.mark.slow  # a real `chroma run` server and indexer subprocesses

CHROMA = Path(sys.executable).with_name("chroma")


class ChromaServer:
    """`chroma run` in a subprocess, stoppable and restartable on the same port and data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            str(CHROMA),
            "run",
            "--path",
            str(self.path),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
                with urllib.request.urlopen(url, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError("chroma run did not answer its heartbeat within 60 s")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
            self._proc = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} not found (it comes with the chromadb package)")
    srv = ChromaServer(tmp_path / "server-data")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server_settings(server: ChromaServer, tmp_path: Path) -> Settings:
    """Settings pointing at the server, with a private copy of the sample corpus."""
    corpus = tmp_path / "articles"
    shutil.copytree(SAMPLE, corpus)
    return Settings(
        chroma_host="127.0.0.1",
        chroma_port=server.port,
        corpus_dir=corpus,
        answer_mode="extractive",
        chroma_path=tmp_path / "unused",
    )


def test_index_and_answer_against_a_server_then_survive_a_restart(
    server: ChromaServer, server_settings: Settings
) -> None:
    settings, corpus = server_settings, server_settings.corpus_dir
    report = build_index(corpus, settings, progress=False)
    assert len(report.added) == 5
    assert not settings.chroma_path.exists()  # nothing was written to the embedded store
    again = build_index(corpus, settings, progress=False)
    assert len(again.unchanged) == 5 and again.chunks_written == 0
    # The BM25 index is saved locally, under the stamp the run left in the server's store.
    assert settings.bm25_dir == Path.cwd() / ".rag" / "bm25" / f"127.0.0.1-{server.port}"
    (saved,) = [p.name for d in settings.bm25_dir.iterdir() for p in d.iterdir()]

    pipeline = Pipeline.from_settings(settings)
    assert pipeline.retriever.lexical.stamp() == (saved, True)
    first = pipeline.answer("Where was Melania Trump born?")
    assert first.citations[0].source_file == "000_e5097b3054c473ee.txt"

    server.stop()
    with pytest.raises(StoreError, match=f"127.0.0.1:{server.port}"):
        pipeline.answer("Where was Melania Trump born?")
    server.start()
    back = pipeline.answer("Where was Melania Trump born?")
    assert back.text == first.text and back.citations == first.citations


def test_answers_keep_coming_while_another_process_reindexes(
    server: ChromaServer, server_settings: Settings
) -> None:
    import os

    settings, corpus = server_settings, server_settings.corpus_dir
    build_index(corpus, settings, progress=False)
    pipeline = Pipeline.from_settings(settings)
    question = "Where was Melania Trump born?"
    before = pipeline.answer(question)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_", "OPENAI_"))}
    env |= {
        "CHROMA_HOST": "127.0.0.1",
        "CHROMA_PORT": str(server.port),
        "RAG_INDEX_BATCH": "2",
        "RAG_CHUNK_OVERLAP": "48",
    }  # every file re-chunked
    indexer = subprocess.Popen(
        [sys.executable, "-m", "index", str(corpus), "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    answers_while_indexing(indexer, pipeline, question)  # old or new chunks, no errors
    after = pipeline.answer(question)
    assert after.text == before.text
    assert after.citations[0].source_file == "000_e5097b3054c473ee.txt"
