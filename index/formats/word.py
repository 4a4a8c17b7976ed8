"""Word documents (.docx, python-docx): paragraphs and tables in order; title and author from
the document properties (the first Title or Heading paragraph when the title is unset)."""

from __future__ import annotations

import io
import zipfile
from typing import IO

from index.formats.common import bad, byline, make_article, tidy
from index.formats.limits import MAX_PARAGRAPHS, MAX_ZIP_MEMBERS, Budget
from rag.store import Article

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(name: str, data: bytes, *, max_bytes: int | None = None) -> list[Article]:
    """The document's text, a paragraph per line pair.

    Args:
        max_bytes: the most the zip may expand to; a larger one (a zip bomb) is refused before
            anything is decompressed.
    """
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_package(data, max_bytes)
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
    budget = Budget("paragraphs", MAX_PARAGRAPHS)
    for paragraph in document.paragraphs:
        budget.take()
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
            budget.take()
            paragraphs.append(" | ".join(cell.text.strip() for cell in row.cells))
    body = tidy("\n\n".join(paragraphs))
    if not body:
        raise bad("the document has no text")
    # The document's creation date is when the file was made, not when the article appeared
    # (a new document's template may even carry one from years ago): left out.
    return [byline(make_article(name, title, body, None, author=props.author or "", origin="docx"))]


def check_package(data: bytes, max_bytes: int | None) -> None:
    """Refuse a .docx whose members expand past `max_bytes`, that has too many members, or
    whose body has more than `MAX_PARAGRAPHS` paragraphs, before python-docx loads it whole.

    The sizes are the zip's declared ones; Python's zipfile never inflates a member past its
    declared size, so a lying header cannot expand further.
    """
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return  # python-docx gives the reason
    with package:
        members = package.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise bad(f"more than {MAX_ZIP_MEMBERS:,} parts in the zip (the limit per file)")
        expanded = sum(m.file_size for m in members)
        if max_bytes is not None and expanded > max_bytes:
            raise bad(
                f"decompresses to {expanded / 1e6:,.1f} MB, over the limit of "
                f"{max_bytes / 1e6:g} MB (raise RAG_MAX_FILE_MB to index it)"
            )
        if "word/document.xml" in package.namelist():
            with package.open("word/document.xml") as body:
                _count_paragraphs(body)


def _count_paragraphs(body: IO[bytes]) -> None:
    """Stream the body's XML, counting paragraphs against the limit (each freed when read)."""
    from lxml import etree

    budget = Budget("paragraphs", MAX_PARAGRAPHS)
    try:
        for _, element in etree.iterparse(body, events=("end",), tag=f"{_W}p", huge_tree=False):
            budget.take()
            element.clear()
    except etree.XMLSyntaxError:
        return  # python-docx gives the reason
