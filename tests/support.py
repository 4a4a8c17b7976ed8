"""Helpers the test modules share: paths, the sample store's files, an OpenAI-mode pipeline,
a store's contents, and a local web server with news pages. Fixtures stay in `conftest.py`."""

from __future__ import annotations

import subprocess
import time
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from pydantic import SecretStr

from devtools.extract_set import articles, news_page
from rag import Answer, Pipeline, Settings
from rag.providers.embeddings import build_embedder
from rag.store.chroma import forget_client, open_client, open_collection
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "articles"
QUESTION = "Where did Trump hand Putin the letter?"


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


def store_contents(
    settings: Settings, ignore: tuple[str, ...] = ()
) -> dict[str, set[tuple[str, str, str]]]:
    """(id, text, metadata without the timestamp and `ignore`) of chunks and of sentences, as
    on disk now."""
    forget_client(settings.chroma_path)  # another process may have rewritten or swapped it
    client = open_client(settings, create=False)
    embedder = build_embedder(settings)
    out = {}
    for kind, sentences in (("chunks", False), ("sentences", True)):
        got = open_collection(client, settings, embedder, create=False, sentences=sentences).get()
        rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        out[kind] = {
            (
                i,
                d,
                repr(
                    sorted(
                        (k, v)
                        for k, v in m.items()
                        if k not in ("indexed_at", "_node_content", *ignore)
                    )
                ),
            )
            for i, d, m in rows
        }
    return out


@cache
def news_page_bytes() -> bytes:
    """The first sample article as a news site's HTML page (built once, on first request)."""
    items = articles()
    return news_page(items[0], items, 0).encode()


# A page that does not state its own address: the saved copy remembers where it came from.
BARE = (
    b"<html><head><title>Zebra census</title></head><body><article><h1>Zebra census</h1>"
    b"<p>The 2025 zebra census in Kenya counted 4,812 zebras in the Maasai Mara reserve, "
    b"rangers said on Monday after a three-week survey.</p><p>The count was 300 higher than "
    b"the last one, which the rangers put down to two good rainy seasons in a row.</p>"
    b"</article></body></html>"
)


class Handler(BaseHTTPRequestHandler):
    """Serves `news_page_bytes()`, `BARE` and the failures a fetch must survive; notes each path."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        Handler.hits.append(self.path)
        page = news_page_bytes()
        routes = {
            "/article.html": (200, "text/html; charset=utf-8", page),
            "/bare": (200, "text/html", BARE),
            "/image.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
            "/big": (200, "text/html", b"<p>" + b"x" * 300_000 + b"</p>"),
            "/missing": (404, "text/html", b"gone"),
        }
        if self.path == "/moved":
            return self._redirect("/article.html")
        if self.path.startswith("/loop"):
            return self._redirect(f"/loop{len(self.path)}")
        if self.path == "/slow":
            time.sleep(3)
        status, kind, body = routes.get(self.path, (200, "text/html", page))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, to: str) -> None:
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass
