"""Word documents (.docx, python-docx): paragraphs and tables in order; title and author from
the document properties (the first Title or Heading paragraph when the title is unset)."""

from __future__ import annotations

import io
import zipfile

from index.formats.common import bad, byline, make_article, tidy
from rag.store import Article


def read_docx(name: str, data: bytes) -> list[Article]:
    """The document's text, a paragraph per line pair."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise bad(f"not a Word document ({type(exc).__name__}: {exc}); save it as .docx") from None
    except Exception as exc:  # a zip of something else fails in several ways
        raise bad(f"not a Word document ({type(exc).__name__}: {exc})") from None
    props = document.core_properties
    title = (props.title or "").strip()
    paragraphs: list[str] = []
    skipped = False
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if not title and (style == "Title" or style.startswith("Heading")):
            title = text
            continue
        if text == title and not paragraphs and not skipped:  # the printed title, once
            skipped = True
            continue
        paragraphs.append(text)
    for table in document.tables:
        for row in table.rows:
            paragraphs.append(" | ".join(cell.text.strip() for cell in row.cells))
    body = tidy("\n\n".join(paragraphs))
    if not body:
        raise bad("the document has no text")
    # The document's creation date is when the file was made, not when the article appeared
    # (a new document's template may even carry one from years ago): left out.
    return [byline(make_article(name, title, body, None, author=props.author or "", origin="docx"))]
