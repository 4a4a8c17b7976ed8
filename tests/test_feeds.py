"""Feed subscriptions against a real HTTP server on 127.0.0.1 serving feeds that change."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index import build_index
from index.subscriptions import FeedOptions, add_feed, list_feeds, poll, remove_feed
from rag import Pipeline, Settings
from rag.errors import BadInputError

LONG = " ".join(["The council met on Monday to discuss the harbour works in detail."] * 12)
PAGE = (
    "<html><head><title>Bridge reopens</title></head><body><article><h1>Bridge reopens</h1>"
    + "<p>The Kelvale bridge reopened to traffic on Friday after nine months of repairs.</p>" * 6
    + "</article></body></html>"
)


def _rss(title: str, items: list[tuple[str, str, str, str]]) -> bytes:
    """An RSS feed: items are (guid, title, link, description)."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>{link}</link>"
        f"<author>desk@example.org (Ana Desk)</author>"
        f"<pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate><description>{d}</description></item>"
        for g, t, link, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://example.org/</link>{body}</channel></rss>"
    ).encode()


class Server:
    """Routes: path -> (status, content type, body, etag); every request counted."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes, str]] = {}
        self.hits: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()
        self.slow: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] += 1
                if self.path in server.slow:
                    time.sleep(3)
                status, kind, body, etag = server.routes.get(
                    self.path, (404, "text/plain", b"", "")
                )
                if etag and self.headers.get("If-None-Match") == etag:
                    server.conditional[self.path] += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def feed(
        self, path: str, title: str, items: list[tuple[str, str, str, str]], etag: str
    ) -> None:
        self.routes[path] = (200, "application/rss+xml", _rss(title, items), etag)


@pytest.fixture
def server() -> Iterator[Server]:
    found = Server()
    thread = threading.Thread(target=found.httpd.serve_forever, daemon=True)
    thread.start()
    yield found
    found.httpd.shutdown()
    found.httpd.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    corpus = tmp_path / "articles"
    corpus.mkdir()
    (corpus / "seed.txt").write_text("An unrelated article about farming.\n", encoding="utf-8")
    return Settings(
        chroma_path=tmp_path / "chroma",
        corpus_dir=corpus,
        upload_dir=tmp_path / "uploads",
        answer_mode="extractive",
        fetch_allow_private=True,  # the test server is on 127.0.0.1
        fetch_timeout=1.0,
    )


EVERY_TIME = FeedOptions(min_interval_s=0.0)


def _articles(settings: Settings) -> dict[str, dict[str, str]]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8"))
        for p in settings.upload_dir.glob("*.json")
    }


def test_entries_become_articles_once_and_unchanged_ones_are_never_fetched_again(
    server: Server, settings: Settings
) -> None:
    wire = server.base + "/wire.rss"
    server.feed(
        "/wire.rss",
        "Wire",
        [
            ("w1", "Harbour works", "http://example.org/w1", LONG),
            ("w2", "Budget vote", "http://example.org/w2", LONG),
        ],
        '"v1"',
    )
    # A feed of summaries: each entry's page is fetched and extracted.
    server.routes["/bridge.html"] = (200, "text/html; charset=utf-8", PAGE.encode(), "")
    local = server.base + "/local.rss"
    server.feed(
        "/local.rss",
        "Kelvale Post",
        [("k1", "Bridge reopens", server.base + "/bridge.html", "Short summary.")],
        "",
    )
    add_feed(settings, wire)
    add_feed(settings, local)

    first = poll(settings, options=EVERY_TIME)
    assert len(first.written) == 3 and first.pages == 1 and not first.failed
    articles = _articles(settings)
    bridge = next(a for a in articles.values() if a["guid"] == "k1")
    assert "nine months of repairs" in bridge["text"]
    assert bridge["outlet"] == "Kelvale Post" and bridge["date"] == "2026-03-02"
    assert bridge["url"] == server.base + "/bridge.html" and "Ana Desk" in bridge["author"]

    report = build_index(None, settings, progress=False)
    assert len(report.added) == 1 + 3
    files = {f.source_file: f for f in Pipeline.from_settings(settings).corpus().files}
    entry = next(f for name, f in files.items() if name.startswith("uploads/feed-127-0-0-1-bridge"))
    assert entry.outlet == "Kelvale Post" and entry.url.endswith("/bridge.html")

    # Asked again: the wire answers 304 to its ETag; the local feed has no validators, so it
    # is read again, but its unchanged entry's page is not downloaded again.
    again = poll(settings, options=EVERY_TIME)
    assert again.not_modified == [wire] and server.conditional["/wire.rss"] == 1
    assert not again.written and not again.changed and again.unchanged == 1
    assert server.hits["/bridge.html"] == 1

    # The wire adds an entry and corrects one: one new file, one rewritten, one left alone.
    server.feed(
        "/wire.rss",
        "Wire",
        [
            ("w1", "Harbour works", "http://example.org/w1", LONG + " Corrected."),
            ("w2", "Budget vote", "http://example.org/w2", LONG),
            ("w3", "New ferry", "http://example.org/w3", LONG),
        ],
        '"v2"',
    )
    changed = poll(settings, options=EVERY_TIME)
    assert len(changed.written) == 1 and len(changed.changed) == 1 and changed.unchanged == 2
    assert len(_articles(settings)) == 4  # the corrected entry kept its file
    report = build_index(None, settings, progress=False)
    assert (len(report.added), len(report.updated)) == (1, 1)
    assert len(Pipeline.from_settings(settings).corpus().files) == 1 + 4  # each entry once


def test_min_interval_back_off_errors_slow_servers_and_the_per_run_cap(
    server: Server, settings: Settings
) -> None:
    items = [(f"e{i}", f"Story {i}", f"http://example.org/{i}", LONG) for i in range(5)]
    server.feed("/many.rss", "Many", items, '"m1"')
    server.routes["/broken.rss"] = (500, "text/plain", b"oops", "")
    server.feed("/slow.rss", "Slow", items[:1], "")
    server.slow.add("/slow.rss")
    for path in ("/many.rss", "/broken.rss", "/slow.rss"):
        add_feed(settings, server.base + path)

    options = FeedOptions(min_interval_s=60.0, max_entries=3)
    first = poll(settings, options=options)
    assert len(first.written) == 3 and first.capped == 2
    assert "500" in first.failed[server.base + "/broken.rss"]
    assert "no answer within 1 s" in first.failed[server.base + "/slow.rss"]

    # Within the interval nothing is asked; back-off doubles the wait after each error.
    hits = sum(server.hits.values())
    assert len(poll(settings, options=options).not_due) == 3
    assert sum(server.hits.values()) == hits
    broken = next(f for f in list_feeds(settings) if f.url.endswith("/broken.rss"))
    assert broken.failures == 1 and broken.next_poll - broken.polled_at == pytest.approx(120, abs=1)
    poll(settings, options=options, force=True)
    broken = next(f for f in list_feeds(settings) if f.url.endswith("/broken.rss"))
    assert broken.failures == 2 and broken.next_poll - broken.polled_at == pytest.approx(240, abs=1)

    # The capped feed's entries left out came with the forced poll (its ETag was not kept).
    assert len(_articles(settings)) == 5 + 0  # the slow feed never answered in time
    assert server.conditional["/many.rss"] == 0


def test_subscriptions_refuse_private_addresses_and_unknown_feeds(tmp_path: Path) -> None:
    settings = Settings(chroma_path=tmp_path / "chroma", upload_dir=tmp_path / "uploads")
    with pytest.raises(BadInputError, match="local or intranet address"):
        add_feed(settings, "http://127.0.0.1:9/feed.rss")
    with pytest.raises(BadInputError, match="only http"):
        add_feed(settings, "file:///etc/passwd")
    with pytest.raises(BadInputError, match="Not subscribed"):
        remove_feed(settings, "http://example.org/feed.rss")
