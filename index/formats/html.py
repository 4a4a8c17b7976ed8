"""Web pages: the article only (no menus, ads, banners, related links or comments), by
trafilatura; metadata from JSON-LD, OpenGraph, meta tags and `<time>` (trafilatura's, with the
page's own JSON-LD NewsArticle preferred for the date and author).

Text a reader never sees is removed before extraction (`drop_hidden`): `<template>`, the
`hidden` attribute, zero font size, zero opacity, text coloured as its own background, and
screen-reader-only classes (`sr-only`, `visually-hidden`, ...); trafilatura itself drops
`display:none`, `aria-hidden`, comments and `<noscript>`. A hidden instruction in a page is
then neither indexed, quoted nor sent to a model."""

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
        tree = trafilatura.load_html(data)
        if tree is None:
            raise ValueError("no HTML document found")
        drop_hidden(tree)
        doc = trafilatura.bare_extraction(
            tree,
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


# Classes that hide text from sight but not from screen readers (Bootstrap, Tailwind,
# WordPress, HTML5 Boilerplate); a reader of the page never sees their text.
_HIDDEN_CLASSES = {
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader-text",
    "screen-reader-only",
    "element-invisible",
    "a11y-hidden",
}
_ZERO = re.compile(r"^[+-]?0*\.?0*(?:px|pt|em|rem|%|vw|vh|ex|ch)?$")
_NAMED = {"white": "#ffffff", "black": "#000000"}


def drop_hidden(root: Any) -> None:
    """Remove, in place, the elements of a page a reader never sees (their tails stay)."""
    hidden = [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and (el.tag.lower() == "template" or _is_hidden(el))
    ]
    for el in hidden:
        if el.getparent() is not None:
            el.drop_tree()


def _is_hidden(el: Any) -> bool:
    if el.get("hidden") is not None:
        return True
    if _HIDDEN_CLASSES & set((el.get("class") or "").lower().split()):
        return True
    style = _style(el.get("style") or "")
    if _ZERO.match(style.get("font-size", "1")) or _ZERO.match(style.get("opacity", "1")):
        return True
    colour = _colour(style.get("color", ""))
    background = _colour(style.get("background-color") or style.get("background", ""))
    return bool(colour) and colour == background


def _style(text: str) -> dict[str, str]:
    """An inline style's declarations, names and values lower-cased, without `!important`."""
    found = {}
    for part in text.split(";"):
        name, _, value = part.partition(":")
        value = value.lower().replace("!important", "").strip()
        if value:
            found[name.strip().lower()] = value
    return found


def _colour(value: str) -> str:
    """A colour as #rrggbb for white, black, #rgb, #rrggbb and rgb(); else as written."""
    value = value.strip().split()[0] if value.strip() else ""
    value = _NAMED.get(value, value)
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        return "#" + "".join(c * 2 for c in value[1:])
    found = re.fullmatch(r"rgba?\((\d+),(\d+),(\d+)(?:,(1|1\.0*))?\)", value.replace(" ", ""))
    if found:
        return "#" + "".join(f"{min(int(n), 255):02x}" for n in found.groups()[:3])
    return value


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
