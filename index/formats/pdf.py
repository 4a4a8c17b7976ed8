"""PDF files: the text layer, page by page (pypdf); title and author from the document
information, or a printed byline below the headline. A citation's page is found from where
each page starts in the text.

pypdf gives a line per printed line; lines are joined back into paragraphs where the page's
layout says so (the gap to the next line is no wider than the usual line gap, in the same font
size), so a sentence reads as one line, as in the article.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from index.formats.common import bad as refuse
from index.formats.common import byline, make_article, tidy
from rag.errors import BadInputError
from rag.store import Article

_HYPHENATED = re.compile(r"\w-$")
_MAX_LINE_GAP = 1.7  # baseline to baseline, in font sizes: wider is a paragraph break


def read_pdf(name: str, data: bytes) -> list[Article]:
    """The text of every page, in order; the pages' start offsets go with it."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every repair it makes ("EOF marker not found"): the skip line says enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise refuse("encrypted PDF; save a copy without a password to index it")
        pages = [_page_text(page) for page in reader.pages]
        info = reader.metadata
    except BadInputError:
        raise
    except PdfReadError as exc:
        raise refuse(f"not a readable PDF ({exc})") from None
    except Exception as exc:  # pypdf raises plain errors on damaged files and missing crypto
        if "crypt" in str(exc).lower() or "password" in str(exc).lower():
            raise refuse(f"encrypted PDF ({exc}); save a copy without a password") from None
        raise refuse(f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    if not any(pages):
        raise refuse("no text layer (a scanned or image-only PDF); run OCR on it first")
    body, starts = "", []
    for text in pages:
        starts.append(len(body) + 2 if body else 0)
        body = f"{body}\n\n{text}" if body else text
    title = str((info.title if info else None) or "")
    # The document's creation date is when the PDF was made (often printed long after the
    # article appeared): it is not taken as the article's date.
    article = make_article(
        name,
        title,
        body,
        None,
        author=str((info.author if info else None) or ""),
        pages=tuple(starts),
        origin=f"pdf: {len(pages)} pages",
        printed=True,
    )
    return [byline(article)]


def _page_text(page: Any) -> str:
    """A page's text, its lines joined into paragraphs by the layout."""
    rows: list[tuple[float, float]] = []  # (baseline, font size) of each printed line

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            y = float(tm[5]) * float(cm[3]) + float(cm[5])
            if not rows or abs(rows[-1][0] - y) > 0.5:
                rows.append((y, float(size) * abs(float(tm[3]) * float(cm[3])) or float(size)))

    raw = page.extract_text(visitor_text=visit) or ""
    lines = [line.strip() for line in raw.split("\n") if line.strip()]
    if len(lines) != len(rows) or len(lines) < 2:  # the layout cannot be matched: keep lines
        return tidy("\n".join(lines))
    # Line gaps in font sizes: within a paragraph the smallest on the page (1.1-1.5 for usual
    # line heights), between paragraphs wider; a page of one-line paragraphs has no line gap.
    ratios = [abs(b[0] - a[0]) / max(a[1], 1e-6) for a, b in zip(rows, rows[1:], strict=False)]
    sizes_equal = [abs(a[1] - b[1]) < 0.5 for a, b in zip(rows, rows[1:], strict=False)]
    usual = min((r for r, eq in zip(ratios, sizes_equal, strict=True) if eq), default=1.0)
    limit = min(usual * 1.3, _MAX_LINE_GAP)
    paragraphs, current = [], lines[0]
    for i, line in enumerate(lines[1:]):
        same = sizes_equal[i] and ratios[i] <= limit
        if not same:
            paragraphs.append(current)
            current = line
        elif _HYPHENATED.search(current):  # Russian-/occupied: the hyphen is the word's
            current += line
        else:
            current += " " + line
    paragraphs.append(current)
    return tidy("\n".join(paragraphs))
