"""RSS and Atom feeds (feedparser): an article per entry, named `<file>#<entry>`, each with its
own title, date, author and link."""

from __future__ import annotations

import datetime as dt
from typing import Any

from index.formats.common import bad, fragment_text, make_article, parse_date, slug, unique_names
from rag.store import Article


def read_feed(name: str, data: bytes) -> tuple[list[Article], list[str]]:
    """The feed's entries that have text, and a warning per entry left out."""
    import feedparser

    parsed = feedparser.parse(data)
    entries = list(parsed.entries)
    if not entries:
        problem = parsed.get("bozo_exception")
        if problem is not None and not parsed.feed:
            raise bad(f"not a feed ({problem})")
        raise bad("a feed with no entries")
    outlet = str(parsed.feed.get("title", ""))
    language = str(parsed.feed.get("language", ""))
    kept, warnings, wanted = [], [], []
    for number, entry in enumerate(entries, start=1):
        text = _entry_text(entry)
        if not text:
            warnings.append(f"entry {number} has no text; left out")
            continue
        kept.append((entry, text))
        wanted.append(slug(str(entry.get("title") or entry.get("id") or f"entry-{number}")))
    if not kept:
        raise bad("no entry of the feed has any text")
    articles = [
        make_article(
            source,
            str(entry.get("title", "")),
            text,
            _entry_date(entry),
            author=str(entry.get("author", "")),
            outlet=outlet,
            url=str(entry.get("link", "")),
            language=language,
            origin="feed entry",
        )
        for source, (entry, text) in zip(unique_names(name, wanted), kept, strict=True)
    ]
    return articles, warnings


def _entry_text(entry: Any) -> str:
    """The entry's fullest text: its content, else its summary (HTML made plain)."""
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    best = max(contents, key=len, default="")
    summary = str(entry.get("summary", ""))
    return fragment_text(best if len(best) >= len(summary) else summary)


def _entry_date(entry: Any) -> dt.date | None:
    """The entry's date as the feed writes it (its own time zone), else feedparser's (UTC)."""
    for key in ("published", "updated", "created"):
        found = parse_date(entry.get(key))
        if found is not None:
            return found
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return dt.date(*parsed[:3])
    return None
