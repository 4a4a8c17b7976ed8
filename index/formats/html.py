"""Web pages: the article only (no menus, ads, banners, related links or comments), by
trafilatura; metadata from JSON-LD, OpenGraph, meta tags and `<time>` (trafilatura's, with the
page's own JSON-LD NewsArticle preferred for the date and author)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import trafilatura

from index.formats.common import bad, make_article, parse_date, printed_date, tidy
from rag.store import Article

_MIN_WORDS = 5
# Browsers (and `rag add URL`) open a saved page with the address it came from.
_SAVED_FROM = re.compile(rb"\s*<!-- saved from url=\(\d+\)(\S+?) -->")
_ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "WebPage"}


def read_html(name: str, data: bytes) -> list[Article]:
    """The article of a saved web page."""
    if not data.strip():
        raise bad("empty page")
    saved_from = _SAVED_FROM.match(data)
    page_url = saved_from.group(1).decode("utf-8", "replace") if saved_from else None
    try:
        doc = trafilatura.bare_extraction(
            data,
            url=page_url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            deduplicate=False,
        )
    except Exception as exc:  # lxml and trafilatura raise many types on unusable markup
        raise bad(f"cannot parse the HTML ({type(exc).__name__}: {exc})") from None
    found: dict[str, Any] = {}
    if isinstance(doc, dict):
        found = doc
    elif doc is not None:
        found = doc.as_dict()
    text = tidy(str(found.get("text") or ""))
    if len(text.split()) < _MIN_WORDS:  # a menu's or footer's few words are not an article
        raise bad("no article text found (broken HTML, or a page without an article body)")
    ld = _json_ld(data)

    def meta(key: str) -> str:
        return str(found.get(key) or "")

    date = parse_date(ld.get("datePublished")) or _page_date(data) or printed_date(text)
    return [
        make_article(
            name,
            str(ld.get("headline") or meta("title")),
            text,
            date,
            author=_person(ld.get("author")) or str(meta("author") or ""),
            outlet=_person(ld.get("publisher")) or str(meta("sitename") or ""),
            url=str(ld.get("url") or meta("url") or page_url or ""),
            language=str(ld.get("inLanguage") or meta("language")),
            origin="html: trafilatura",
            printed=True,
        )
    ]


def _json_ld(data: bytes) -> dict[str, Any]:
    """The page's JSON-LD article object, if it has one (else empty)."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(data)
    except Exception:
        return {}
    for script in root.xpath('//script[@type="application/ld+json"]'):
        try:
            found = json.loads(script.text_content())
        except ValueError:
            continue
        for item in _items(found):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if _ARTICLE_TYPES & {str(k) for k in kinds}:
                return item
    return {}


def _items(found: Any) -> list[dict[str, Any]]:
    if isinstance(found, list):
        return [i for i in found if isinstance(i, dict)]
    if isinstance(found, dict):
        graph = found.get("@graph")
        return [found, *_items(graph)] if graph else [found]
    return []


def _person(value: Any) -> str:
    """Names from a JSON-LD author/publisher: a string, an object with `name`, or a list."""
    if isinstance(value, list):
        return ", ".join(filter(None, (_person(v) for v in value)))
    if isinstance(value, dict):
        return str(value.get("name") or "")
    return str(value or "")


# Parts of a page whose dates are not the article's: comments, related stories, menus, footer.
_NOT_ARTICLE = (
    "//aside|//footer|//nav|//header[not(ancestor::article)]"
    "|//*[contains(@class,'comment') or contains(@id,'comment')]"
    "|//*[contains(@class,'related') or contains(@class,'most-read')]"
)


def _page_date(data: bytes) -> dt.date | None:
    """The publication date from the page's markup (meta tags, `<time>`, URL), by htmldate,
    with comments, related stories, menus and footer left out: their dates are not the
    article's, and an undated article must stay undated."""
    import lxml.html
    from htmldate import find_date

    try:
        root = lxml.html.document_fromstring(data)
        for node in root.xpath(_NOT_ARTICLE):
            node.drop_tree()
        found = find_date(root, extensive_search=False, original_date=True)
    except Exception:  # htmldate and lxml raise many types on odd markup: no date, then
        return None
    return parse_date(found)
