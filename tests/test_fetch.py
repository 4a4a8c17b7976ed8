"""`rag add URL` and `index.fetch`: pages served from 127.0.0.1 by a real HTTP server, fetched
with httpx, saved into the upload folder, indexed and cited exactly; and the refusals."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rag
from cli import app
from index.fetch import add_url, fetch_page
from rag import BadInputError, Pipeline, Settings
from tests.support import Handler, news_page_bytes


@pytest.fixture
def server() -> Iterator[str]:
    news_page_bytes()  # built before any request is made, so none waits on it
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.hits = []
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _settings(tmp_path: Path, **extra: object) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    return Settings(
        chroma_path=tmp_path / "chroma",
        corpus_dir=corpus,
        upload_dir=tmp_path / "uploads",
        answer_mode="extractive",
        fetch_allow_private=True,
        **extra,
    )


def test_a_page_is_saved_indexed_and_cited_exactly(server: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    added = add_url(f"{server}/moved", settings)  # one redirect, followed
    assert added.url == f"{server}/article.html"
    assert added.path.parent == settings.upload_dir and added.path.suffix == ".html"
    assert added.report is not None and added.report.added == [added.source]
    pipeline = Pipeline.from_settings(settings)
    answer = pipeline.answer("Where was Melania Trump born?")
    assert answer.citations
    text = rag.article_text(added.source, settings=settings)
    for c in answer.citations:
        assert c.source_file == added.source and text[c.start : c.end] == c.quote
    assert "cookies" not in text


def test_a_page_keeps_the_address_it_came_from(server: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    added = add_url(f"{server}/bare", settings)
    files = Pipeline.from_settings(settings).corpus().files
    assert [(f.source_file, f.url) for f in files] == [(added.source, f"{server}/bare")]


def test_private_addresses_are_refused_by_default(server: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path).model_copy(update={"fetch_allow_private": False})
    for url in (f"{server}/article.html", "http://localhost:9/x", "http://[::1]/x"):
        with pytest.raises(BadInputError, match="Save the page from your browser.*RAG_FETCH"):
            fetch_page(url, settings)
    assert Handler.hits == []  # refused before any request
    assert not settings.upload_dir.exists()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "only http:// and https://"),
        ("ftp://example.com/a", "only http:// and https://"),
        ("/image.png", "not a web page (image/png)"),
        ("/big", "over 0.1 MB"),
        ("/loop", "more than 5 redirects"),
        ("/missing", "answered 404"),
        ("/slow", "no answer within 1 s"),
    ],
)
def test_bad_downloads_are_refused(server: str, tmp_path: Path, url: str, problem: str) -> None:
    settings = _settings(tmp_path, max_file_mb=0.1, fetch_timeout=1.0)
    with pytest.raises(BadInputError, match=re.escape(problem)):
        fetch_page(url if "://" in url else server + url, settings)
    assert not settings.upload_dir.exists() or not any(settings.upload_dir.iterdir())


def test_rag_add_through_the_cli(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    monkeypatch.setenv("RAG_CHROMA_PATH", str(settings.chroma_path))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("RAG_UPLOAD_DIR", str(settings.upload_dir))
    refused = CliRunner().invoke(app, ["add", f"{server}/article.html", "-q"])
    assert refused.exit_code == 1 and "RAG_FETCH_ALLOW_PRIVATE" in refused.output
    monkeypatch.setenv("RAG_FETCH_ALLOW_PRIVATE", "true")
    done = CliRunner().invoke(app, ["add", f"{server}/article.html", "-q"])
    assert done.exit_code == 0, done.output
    assert "1 added" in done.output
    asked = CliRunner().invoke(app, ["ask", "Where was Melania Trump born?"])
    assert "uploads/127.0.0.1-article.html (2025-08-16)" in asked.output
    assert "by Anna Kowalski · The Daily Ledger" in asked.output
