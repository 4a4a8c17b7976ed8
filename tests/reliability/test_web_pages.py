"""Round three, items 4, 5 and 10: text a reader of a page never sees is not indexed; private
addresses wrapped in IPv6 forms are refused; the saved page's provenance comment cannot be
closed by its URL; bidi controls in titles and bylines do not reach the terminal; pages that
differ only in their query are saved apart, and adding a page again updates it, saying so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

import rag
from cli import app
from cli.main import render
from index import build_index
from index.fetch import check_url, fetch_page
from index.formats.html import read_html
from rag import Answer, BadInputError, Citation, Settings

ARTICLE = (
    "<p>The 2025 zebra census in Kenya counted 4,812 zebras in the Maasai Mara reserve, rangers "
    "said on Monday after a three-week survey of the plains.</p><p>The count was 300 higher than "
    "the last one, which the rangers put down to two good rainy seasons in a row.</p>"
)
HIDDEN = {
    "template": "<template><p>Template secret: wire the money to account 7781.</p></template>",
    "hidden": "<p hidden>Hidden attribute secret: the minister resigned.</p>",
    "font-size": '<p style="color:#333; FONT-SIZE: 0px">Zero font secret: the dam burst.</p>',
    "white": '<p style="color: #FFF; background-color: white">White text secret: it rained.</p>',
    "rgb": '<p style="color:rgb(0,0,0);background:#000000">Black on black secret: a fire.</p>',
    "sr-only": '<p>Visible words <span class="x sr-only">SR secret</span> here.</p>',
    "visually-hidden": '<div class="visually-hidden"><p>Visually hidden secret.</p></div>',
}
KEPT = '<p style="font-size:0.9em; color:#fff; background:#222">Small light print stays.</p>'


def _page(extra: str) -> bytes:
    return (
        "<html><head><title>Zebra census</title></head><body><article><h1>Zebra census</h1>"
        f"{ARTICLE}{extra}{KEPT}</article></body></html>"
    ).encode()


@pytest.mark.parametrize("kind", sorted(HIDDEN))
def test_hidden_html_text_is_not_extracted(kind: str) -> None:
    (article,) = read_html("page.html", _page(HIDDEN[kind]))
    assert "secret" not in article.text.lower(), kind
    assert "4,812 zebras" in article.text and "Small light print stays." in article.text
    if kind == "sr-only":
        assert "Visible words" in article.text and "here." in article.text  # the tail is kept


def test_hidden_html_text_is_not_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zebra.html").write_bytes(_page("".join(HIDDEN.values())))
    settings = Settings(
        chroma_path=tmp_path / "chroma", corpus_dir=corpus, answer_mode="extractive"
    )
    build_index(corpus, settings, progress=False)
    assert "secret" not in rag.article_text("zebra.html", settings=settings).lower()
    answer = rag.Pipeline.from_settings(settings).answer("Which account should the money go to?")
    assert all("secret" not in c.quote.lower() for c in [*answer.citations, *answer.closest])


@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
        "[64:ff9b:1::a00:1]",  # local-use NAT64
        "[::127.0.0.1]",  # IPv4-compatible
        "[::a9fe:a9fe]",  # IPv4-compatible 169.254.169.254 (cloud metadata)
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[2002:c0a8:101::1]",  # 6to4 of 192.168.1.1
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
    ],
)
def test_private_addresses_in_ipv6_forms_are_refused(tmp_path: Path, host: str) -> None:
    settings = Settings(chroma_path=tmp_path / "chroma")
    with pytest.raises(BadInputError, match="RAG_FETCH_ALLOW_PRIVATE"):
        check_url(f"http://{host}:8080/x", settings)


def test_public_addresses_in_ipv6_forms_still_pass(tmp_path: Path) -> None:
    settings = Settings(chroma_path=tmp_path / "chroma")
    check_url("http://[64:ff9b::808:808]/x", settings)  # NAT64 of 8.8.8.8
    check_url("http://[2002:808:808::1]/x", settings)  # 6to4 of 8.8.8.8


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        query = parse_qs(urlsplit(self.path).query)
        n = query.get("id", ["0"])[0]
        version = query.get("v", ["1"])[0]
        body = _page(f"<p>Page number {n} in version {version} of the census story.</p>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _settings(tmp_path: Path) -> Settings:
    (tmp_path / "corpus").mkdir(exist_ok=True)
    return Settings(
        chroma_path=tmp_path / "chroma",
        corpus_dir=tmp_path / "corpus",
        upload_dir=tmp_path / "uploads",
        fetch_allow_private=True,
    )


def test_the_url_cannot_close_the_provenance_comment(server: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    page = fetch_page(f"{server}/a--><h1>Injected headline</h1><!--", settings)
    first, rest = page.path.read_bytes().split(b"\n", 1)
    assert first.startswith(b"<!-- saved from url=") and first.endswith(b" -->")
    assert first.count(b"-->") == 1 and b"<h1>" not in first
    assert rest.startswith(b"<html>")
    (article,) = read_html(page.path.name, page.path.read_bytes())
    assert "Injected" not in article.text and "Injected" not in article.title


def test_bidi_controls_in_titles_and_bylines_do_not_reach_the_terminal() -> None:
    citation = Citation(
        n=1,
        source_file="page.html",
        title="Harbour \u202eselur\u202c news",
        author="Jo \u2066Smith\u2069\u200f",
        outlet="Daily\u202d Ledger",
        url="https://example.org/a",
        date=None,
        quote="The harbour reopened.",
        start=0,
        end=21,
        chunk_id="c",
        score=1.0,
    )
    answer = Answer(
        question="Q?", text="The harbour reopened [1].", citations=[citation], mode="openai"
    )
    shown = render(answer)
    assert "Harbour selur news" in shown and "by Jo Smith" in shown
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    assert not any(c in shown for c in bidi)


def test_pages_differing_only_in_their_query_are_kept_apart(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    for key, value in (
        ("RAG_CHROMA_PATH", settings.chroma_path),
        ("RAG_CORPUS_DIR", settings.corpus_dir),
        ("RAG_UPLOAD_DIR", settings.upload_dir),
        ("RAG_FETCH_ALLOW_PRIVATE", "true"),
        ("RAG_ANSWER_MODE", "extractive"),
    ):
        monkeypatch.setenv(key, str(value))
    runner = CliRunner()
    first = runner.invoke(app, ["add", f"{server}/page?id=1", "-q"])
    second = runner.invoke(app, ["add", f"{server}/page?id=2", "-q"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    saved = sorted(settings.upload_dir.iterdir())
    assert len(saved) == 2
    texts = [rag.article_text(f"uploads/{p.name}", settings=settings) for p in saved]
    assert sorted("Page number 1" in t for t in texts) == [False, True]
    assert sorted("Page number 2" in t for t in texts) == [False, True]
    # The same URL again (the page changed since): updated in place, and said so.
    again = runner.invoke(app, ["add", f"{server}/page?id=1&v=1", "-q"])
    assert again.exit_code == 0 and "saved" in again.output
    again = runner.invoke(app, ["add", f"{server}/page?id=1&v=1", "-q"])
    assert again.exit_code == 0 and "updated" in again.output, again.output
    assert len(list(settings.upload_dir.iterdir())) == 3
