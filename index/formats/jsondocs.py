"""JSON and JSONL exports: an article per object, found under common field names; the fields
used are named in the article's `origin` (and so in the index report)."""

from __future__ import annotations

import json
from typing import Any

from index.formats.common import bad, fragment_text, make_article, parse_date, slug, unique_names
from rag.store import Article

# Field names tried in order, per article property (compared case-insensitively).
FIELDS: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "body",
        "content",
        "article",
        "article_text",
        "full_text",
        "articlebody",
        "story",
        "description",
        "summary",
    ),
    "title": ("title", "headline", "name", "heading"),
    "date": (
        "date",
        "published",
        "published_at",
        "publishedat",
        "pubdate",
        "datepublished",
        "publish_date",
        "publication_date",
        "created_at",
        "created",
        "updated",
        "time",
    ),
    "author": ("author", "authors", "byline", "creator", "writer"),
    "url": ("url", "link", "canonical_url", "permalink", "href"),
    "outlet": ("source", "outlet", "publisher", "site", "site_name", "publication", "domain"),
    "language": ("language", "lang", "inlanguage", "locale"),
    "id": ("id", "guid", "uuid", "slug"),
}
# Where a JSON file keeps its list of articles, if not at the top level.
_LISTS = ("articles", "items", "data", "results", "entries", "posts", "stories", "docs")


def read_json(name: str, data: bytes, *, lines: bool) -> tuple[list[Article], list[str]]:
    """The objects' articles, and a warning per object left out."""
    objects, single = _objects(data, lines)
    if not objects:
        raise bad("no JSON objects found")
    kept, wanted, warnings = [], [], []
    for number, obj in enumerate(objects, start=1):
        found = _fields(obj)
        text = fragment_text(_string(obj.get(found.get("text", ""))))
        if not text:
            warnings.append(f"object {number} has no text field; left out")
            continue
        kept.append((obj, found, text))
        ident = _string(obj.get(found.get("id", ""))) or _string(obj.get(found.get("title", "")))
        wanted.append(slug(ident or f"item-{number}"))
    if not kept:
        keys = sorted({k for obj in objects for k in obj})[:12]
        raise bad(
            f"no text field (looked for {', '.join(FIELDS['text'][:6])}…; found: "
            f"{', '.join(keys) or 'nothing'})"
        )
    names = [name] if single else unique_names(name, wanted)  # one article object: the file
    return [_article(n, obj, f, t) for n, (obj, f, t) in zip(names, kept, strict=True)], warnings


def _article(name: str, obj: dict[str, Any], found: dict[str, str], text: str) -> Article:
    def get(key: str) -> Any:
        return obj.get(found[key]) if key in found else None

    used = ", ".join(f"{key}={field}" for key, field in found.items() if key != "id")
    return make_article(
        name,
        _string(get("title")),
        text,
        parse_date(_string(get("date"))),
        author=_string(get("author")),
        outlet=_string(get("outlet")),
        url=_string(get("url")),
        language=_string(get("language")),
        origin=f"json fields: {used}",
    )


def _objects(data: bytes, lines: bool) -> tuple[list[dict[str, Any]], bool]:
    """The file's objects, and whether the file is a single article object (not a list)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad("not UTF-8 JSON; save it as UTF-8") from None
    try:
        if lines:
            found: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            found = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"not valid JSON ({exc})") from None
    single = False
    if isinstance(found, dict):
        inner = next((found[k] for k in found if k.lower() in _LISTS), None)
        single = not isinstance(inner, list)
        found = [found] if single else inner
    if not isinstance(found, list):
        return [], False
    return [obj for obj in found if isinstance(obj, dict)], single


def _fields(obj: dict[str, Any]) -> dict[str, str]:
    """Per article property, the object's field that holds it (the first common name found)."""
    by_lower = {key.lower(): key for key in obj}
    found = {}
    for prop, names in FIELDS.items():
        for candidate in names:
            key = by_lower.get(candidate)
            if key is not None and _string(obj[key]):
                found[prop] = key
                break
    return found


def _string(value: Any) -> str:
    """A field's value as text: names of objects ({"name": ...}) and lists joined by commas."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(filter(None, (_string(v) for v in value)))
    if isinstance(value, dict):
        return _string(value.get("name") or value.get("title") or value.get("value"))
    return str(value).strip()
