"""Reading every accepted format into articles (text that citations index into, and metadata).

`read_articles(name, path)` dispatches on the file's suffix; each reader refuses a file it
cannot index with `BadInputError` (its reason, one line), so the caller skips it whole.
"""

from __future__ import annotations

from pathlib import Path

from rag.store import SUPPORTED_SUFFIXES, Article

# What the indexer (and the chat's uploads) accept.
ACCEPTED_SUFFIXES = SUPPORTED_SUFFIXES

__all__ = ["ACCEPTED_SUFFIXES", "read_articles"]


def read_articles(name: str, path: Path) -> tuple[list[Article], list[str]]:
    """The articles of the file `name` (one; several for a feed or JSON export) and warnings.

    Raises:
        BadInputError: the file cannot be indexed (the reason, without the file name).
        OSError: the file cannot be read.
    """
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md"):
        from index.formats.text import read_text_file

        return read_text_file(name, path)
    data = path.read_bytes()
    if suffix in (".html", ".htm"):
        from index.formats.html import read_html

        return read_html(name, data), []
    if suffix == ".pdf":
        from index.formats.pdf import read_pdf

        return read_pdf(name, data), []
    if suffix == ".docx":
        from index.formats.word import read_docx

        return read_docx(name, data), []
    if suffix in (".json", ".jsonl"):
        from index.formats.jsondocs import read_json

        return read_json(name, data, lines=suffix == ".jsonl")
    from index.formats.feeds import read_feed

    return read_feed(name, data)
