"""Feed subscriptions: RSS/Atom feeds polled into article files in the upload folder.

Subscriptions and what was seen of each entry live in `<store>-feeds.sqlite3` beside the store
folder (a rebuild of the store replaces the folder only). A poll writes one JSON article per
entry (`feed-<host>-<entry>.json`: text, link, title, date, author, outlet, guid), which the
indexer reads like any upload; when an entry carries only a summary, the linked page is
downloaded and its article extracted instead. Every download follows `index.fetch.download`'s
rules (public http(s) hosts only unless `RAG_FETCH_ALLOW_PRIVATE`, timeout, size cap, redirects).

Polite by construction: conditional requests (ETag / Last-Modified, a 304 costs no parsing), a
minimum interval per feed, at most `max_entries` new or changed entries per run (the rest come
next time), and exponential back-off after errors. An entry is keyed by its guid (else its
link); one whose content is unchanged since it was written is never fetched again, and a changed
one rewrites the same file (the indexer then replaces the old version).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from index.fetch import check_url, download
from index.formats.common import slug
from index.formats.feeds import entry_date, entry_text
from rag.config import Settings
from rag.errors import BadInputError

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '', added_at REAL NOT NULL,
    etag TEXT NOT NULL DEFAULT '', modified TEXT NOT NULL DEFAULT '',
    polled_at REAL NOT NULL DEFAULT 0, next_poll REAL NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS entries (
    feed TEXT NOT NULL, key TEXT NOT NULL, digest TEXT NOT NULL, file TEXT NOT NULL,
    written_at REAL NOT NULL, PRIMARY KEY (feed, key)
);
"""

__all__ = ["Feed", "FeedOptions", "PollReport", "add_feed", "list_feeds", "poll", "remove_feed"]


@dataclass(frozen=True)
class FeedOptions:
    """How politely feeds are polled."""

    min_interval_s: float = 900.0  # never ask one feed more often than this
    max_entries: int = 50  # new or changed entries written per run, all feeds together
    backoff_max_s: float = 86_400.0  # the longest wait after repeated errors
    summary_chars: int = 600  # an entry with less text (and a link) gets its page fetched


@dataclass(frozen=True)
class Feed:
    """A subscription as kept."""

    url: str
    title: str
    polled_at: float
    next_poll: float
    failures: int
    last_error: str
    entries: int


@dataclass
class PollReport:
    """What a poll did."""

    polled: list[str] = field(default_factory=list)  # feeds asked
    not_modified: list[str] = field(default_factory=list)  # of those, answered 304
    not_due: list[str] = field(default_factory=list)  # left alone: asked too recently
    failed: dict[str, str] = field(default_factory=dict)  # feed or entry link -> why
    written: list[str] = field(default_factory=list)  # new entries' files
    changed: list[str] = field(default_factory=list)  # changed entries' files (rewritten)
    unchanged: int = 0
    pages: int = 0  # linked pages downloaded for summary-only entries
    capped: int = 0  # entries left for the next run (the per-run cap)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{len(self.polled)} polled ({len(self.not_modified)} not modified), "
            f"{len(self.not_due)} not due, {len(self.failed)} failed; {len(self.written)} new, "
            f"{len(self.changed)} changed, {self.unchanged} unchanged entries; "
            f"{self.pages} pages fetched"
            + (f"; {self.capped} left for the next run" if self.capped else "")
        )


def feeds_path(settings: Settings) -> Path:
    """`<store>-feeds.sqlite3` next to the store folder."""
    store = settings.chroma_path
    return store.parent / f"{store.name}-feeds.sqlite3"


@contextmanager
def _connect(settings: Settings) -> Iterator[sqlite3.Connection]:
    path = feeds_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        db.executescript(_SCHEMA)
        yield db


def add_feed(settings: Settings, url: str) -> None:
    """Subscribe to the feed at `url` (polled by `poll`)."""
    url = url.strip()
    check_url(url, settings)
    with _connect(settings) as db:
        if db.execute("SELECT 1 FROM feeds WHERE url = ?", (url,)).fetchone():
            raise BadInputError(f"Already subscribed to {url}; `rag feeds list` shows them.")
        db.execute("INSERT INTO feeds (url, added_at) VALUES (?, ?)", (url, time.time()))


def remove_feed(settings: Settings, url: str) -> int:
    """Unsubscribe; the articles already written stay. Returns how many entries it had."""
    with _connect(settings) as db:
        if not db.execute("SELECT 1 FROM feeds WHERE url = ?", (url,)).fetchone():
            raise BadInputError(f"Not subscribed to {url}; `rag feeds list` shows the feeds.")
        count = db.execute("DELETE FROM entries WHERE feed = ?", (url,)).rowcount
        db.execute("DELETE FROM feeds WHERE url = ?", (url,))
    return int(count)


def list_feeds(settings: Settings) -> list[Feed]:
    """The subscriptions, in the order they were added."""
    with _connect(settings) as db:
        rows = db.execute(
            "SELECT url, title, polled_at, next_poll, failures, last_error, "
            "(SELECT COUNT(*) FROM entries WHERE feed = feeds.url) FROM feeds ORDER BY added_at"
        ).fetchall()
    return [Feed(*row) for row in rows]


def poll(
    settings: Settings, *, options: FeedOptions | None = None, force: bool = False
) -> PollReport:
    """Ask every feed that is due for new and changed entries; write them as articles into
    the upload folder (not indexed here: `rag feeds poll` and `rag watch` index them).

    Args:
        force: ask every feed now, whatever its interval or back-off says.
    """
    options = options or FeedOptions()
    report = PollReport()
    now = time.time()
    for feed in sorted(list_feeds(settings), key=lambda f: f.next_poll):
        if not force and feed.next_poll > now:
            report.not_due.append(feed.url)
            continue
        _poll_one(settings, feed, options, report)
    return report


def _poll_one(settings: Settings, feed: Feed, options: FeedOptions, report: PollReport) -> None:
    report.polled.append(feed.url)
    with _connect(settings) as db:
        etag, modified = db.execute(
            "SELECT etag, modified FROM feeds WHERE url = ?", (feed.url,)
        ).fetchone()
    headers = {"If-None-Match": etag} if etag else {}
    headers |= {"If-Modified-Since": modified} if modified else {}
    try:
        got = download(feed.url, settings, accept=FEED_TYPES, headers=headers, what="a feed")
        if got.status == 304:
            report.not_modified.append(feed.url)
            _done(settings, feed, options, None, etag, modified)
            return
        capped_before = report.capped
        title = _write_entries(settings, feed.url, got.body, options, report)
        # Capped: forget the validators, so the next poll reads the entries left out.
        complete = report.capped == capped_before
        validators = (
            (got.headers.get("etag", ""), got.headers.get("last-modified", ""))
            if complete
            else ("", "")
        )
        _done(settings, feed, options, None, *validators, title=title)
    except BadInputError as exc:
        report.failed[feed.url] = str(exc)
        _done(settings, feed, options, str(exc), etag, modified)


def _done(
    settings: Settings,
    feed: Feed,
    options: FeedOptions,
    error: str | None,
    etag: str,
    modified: str,
    *,
    title: str | None = None,
) -> None:
    """Record a poll: the validators, when to ask next (later after each error in a row)."""
    now = time.time()
    failures = feed.failures + 1 if error else 0
    wait = min(options.min_interval_s * 2**failures, options.backoff_max_s)
    with _connect(settings) as db:
        db.execute(
            "UPDATE feeds SET etag = ?, modified = ?, polled_at = ?, next_poll = ?, "
            "failures = ?, last_error = ?, title = COALESCE(?, title) WHERE url = ?",
            (etag, modified, now, now + wait, failures, error or "", title, feed.url),
        )


def _write_entries(
    settings: Settings, url: str, data: bytes, options: FeedOptions, report: PollReport
) -> str:
    """Write the feed's new and changed entries; returns the feed's title."""
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries and parsed.get("bozo_exception") is not None and not parsed.feed:
        raise BadInputError(f"{url}: not a feed ({parsed.get('bozo_exception')}).")
    outlet = str(parsed.feed.get("title", "")) or (urlsplit(url).hostname or "")
    with _connect(settings) as db:
        rows = db.execute("SELECT key, digest, file FROM entries WHERE feed = ?", (url,))
        seen = {key: (digest, file) for key, digest, file in rows.fetchall()}
    for entry in parsed.entries:
        key = str(entry.get("id") or entry.get("link") or entry.get("title") or "")
        if not key:
            continue
        digest = _digest(entry)
        known = seen.get(key)
        if known is not None and known[0] == digest:
            report.unchanged += 1
            continue
        if len(report.written) + len(report.changed) >= options.max_entries:
            report.capped += 1
            continue
        file = known[1] if known is not None else None  # a changed entry keeps its file
        name = _write_entry(settings, url, key, entry, outlet, options, report, file)
        if name is None:
            continue
        (report.changed if key in seen else report.written).append(name)
        with _connect(settings) as db:
            db.execute(
                "INSERT OR REPLACE INTO entries (feed, key, digest, file, written_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (url, key, digest, name, time.time()),
            )
    return outlet


def _digest(entry: Any) -> str:
    """What identifies an entry's content: its text, title, link, author and dates."""
    # dict.get: feedparser's own `get("updated")` falls back to `published`, with a warning.
    keys = ("title", "link", "author", "published", "updated", "summary")
    parts = [str(dict.get(entry, k, "")) for k in keys]
    parts += [str(c.get("value", "")) for c in entry.get("content", []) or []]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _write_entry(
    settings: Settings,
    feed: str,
    key: str,
    entry: Any,
    outlet: str,
    options: FeedOptions,
    report: PollReport,
    file: str | None,
) -> str | None:
    """Write the entry's article file (atomically); its name, or None if it has no text."""
    link = str(entry.get("link", ""))
    text = entry_text(entry)
    if len(text) < options.summary_chars and link:
        try:
            text = _page_text(settings, link) or text
            report.pages += 1
        except BadInputError as exc:  # the summary is indexed; the page is tried when it changes
            report.failed[link] = str(exc)
    if not text:
        report.failed[link or key] = "the entry has no text, and no page could be read"
        return None
    date = entry_date(entry)
    article = {
        "title": " ".join(str(entry.get("title", "")).split()),
        "date": date.isoformat() if date else "",
        "author": str(entry.get("author", "")),
        "outlet": outlet,
        "url": link,
        "guid": key,
        "feed": feed,
        "updated": str(dict.get(entry, "updated", "")),
        "text": text,
    }
    host = slug(urlsplit(feed).hostname or "feed", 30)
    ident = hashlib.sha256(f"{feed}\n{key}".encode()).hexdigest()[:10]
    name = file or f"feed-{host}-{slug(article['title'] or key, 50)}-{ident}.json"
    folder = settings.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    hidden = folder / f".{name}.{os.getpid()}.tmp"  # the watcher ignores hidden files
    hidden.write_text(json.dumps(article, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(hidden, folder / name)
    return name


def _page_text(settings: Settings, link: str) -> str:
    """The article text of the page at `link` (downloaded under the same rules as `rag add`)."""
    from index.formats.html import read_html

    page = download(link, settings)
    articles = read_html(link, page.body)
    return articles[0].body if articles else ""
