"""More than one machine: two `rag serve` processes over one real `chroma run` server give the
same answers, and each sees an article the other added or removed (the BM25 side follows the
store's generation stamp). Each process has its own working folder, so its own BM25 cache;
the corpus and upload folders are shared, as a network volume would be."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index import build_index
from rag import Settings
from tests.api.serving import free_port
from tests.reliability.test_store_server import CHROMA, ChromaServer
from tests.support import SAMPLE

KEY = "sk-two-servers-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
ZEBRAS = b"date 2025-09-01 Zebra census\n\nThe 2025 zebra census in Kenya counted 4,812 zebras.\n"
ZEBRA_QUESTION = "How many zebras did the 2025 census in Kenya count?"

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} not found (it comes with the chromadb package)")
    server = ChromaServer(tmp_path / "chroma-data")
    server.start()
    yield server
    server.stop()


def _serve(name: str, tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    home = tmp_path / name  # the process's working folder: its own .rag/bm25 cache
    home.mkdir()
    port = free_port()
    command = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    root = str(Path(__file__).resolve().parents[2])
    env = {**env, "PYTHONPATH": root}
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, f"rag serve exited with {process.returncode}"
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} was not ready in 300 s")


def _ask(url: str, question: str) -> dict[str, object]:
    response = httpx.post(f"{url}/v1/answer", json={"question": question}, headers=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _sources(url: str) -> set[str]:
    listed = httpx.get(f"{url}/v1/articles", headers=AUTH, timeout=60).json()
    return {f["source_file"] for f in listed["files"]}


def test_two_api_processes_share_one_chroma_server(chroma: ChromaServer, tmp_path: Path) -> None:
    corpus = tmp_path / "articles"
    shutil.copytree(SAMPLE, corpus)
    uploads = tmp_path / "uploads"
    settings = Settings(
        chroma_host="127.0.0.1",
        chroma_port=chroma.port,
        corpus_dir=corpus,
        upload_dir=uploads,
        answer_mode="extractive",
        bm25_cache=tmp_path / "indexer-bm25",
    )
    build_index(corpus, settings, progress=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_", "OPENAI_"))}
    env |= {
        "CHROMA_HOST": "127.0.0.1",
        "CHROMA_PORT": str(chroma.port),
        "RAG_CORPUS_DIR": str(corpus),
        "RAG_UPLOAD_DIR": str(uploads),
        "RAG_ANSWER_MODE": "extractive",
        "RAG_API_KEYS": KEY,
        "RAG_API_RATE_PER_MINUTE": "0",
    }
    servers = [_serve(name, tmp_path, env) for name in ("a", "b")]
    try:
        for process, url in servers:
            _wait_ready(url, process)
        (_, a), (_, b) = servers
        for question in ("Where did Trump hand Putin the letter?", "Where was Melania Trump born?"):
            one, two = _ask(a, question), _ask(b, question)
            assert one["citations"] and one["citations"] == two["citations"]
            assert one["text"] == two["text"]

        files = {"files": ("zebras.txt", ZEBRAS, "text/plain")}
        added = httpx.post(f"{a}/v1/articles", files=files, headers=AUTH, timeout=120)
        assert added.status_code == 201, added.text
        seen = _ask(b, ZEBRA_QUESTION)  # b never indexed: its BM25 follows the store's stamp
        cited = seen["citations"][0]  # type: ignore[index]
        assert cited["source_file"] == "uploads/zebras.txt" and "4,812" in str(seen["text"])
        assert "uploads/zebras.txt" in _sources(b)

        removed = httpx.delete(f"{b}/v1/articles/uploads/zebras.txt", headers=AUTH, timeout=120)
        assert removed.status_code == 200, removed.text
        assert "uploads/zebras.txt" not in _sources(a)
        after = _ask(a, ZEBRA_QUESTION)
        assert all(c["source_file"] != "uploads/zebras.txt" for c in after["citations"])  # type: ignore[attr-defined]
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)
