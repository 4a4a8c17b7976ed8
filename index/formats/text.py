"""Plain text and Markdown: the file's own text (read again to check a citation). A .txt file may
open with ` date YYYY-MM-DD`; a .md file with YAML front matter (title, date, author, url)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from index.formats.common import parse_date
from rag.store import Article, load_text, parse_article

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def read_text_file(name: str, path: Path) -> tuple[list[Article], list[str]]:
    """The file as one article, and what had to be repaired to read it."""
    text, warnings = load_text(path)
    match = _FRONT_MATTER.match(text) if path.suffix.lower() == ".md" else None
    if match is None:
        return [parse_article(name, text)], list(warnings)
    meta, problem = _yaml(match.group(1))
    body_start = match.end()
    article = parse_article(name, text[body_start:])
    date = parse_date(meta.get("date") or meta.get("published")) or article.date
    found = dataclasses.replace(
        article,
        text=text,
        body_start=body_start + article.body_start,
        date=date,
        title=_str(meta.get("title")) or article.title,
        author=_str(meta.get("author") or meta.get("authors")),
        outlet=_str(meta.get("source") or meta.get("outlet") or meta.get("publisher")),
        url=_str(meta.get("url") or meta.get("link")),
        language=_str(meta.get("lang") or meta.get("language")),
        origin="markdown front matter",
    )
    return [found], [*warnings, *([problem] if problem else [])]


def _yaml(block: str) -> tuple[dict[str, Any], str]:
    import yaml

    try:
        found = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        return {}, f"front matter is not valid YAML ({str(exc).splitlines()[0]}); ignored"
    if not isinstance(found, dict):
        return {}, "front matter is not a YAML mapping; ignored"
    return {str(k).lower(): v for k, v in found.items()}, ""


def _str(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value).strip()
