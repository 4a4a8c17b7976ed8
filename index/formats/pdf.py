"""PDF files: the text layer, page by page (pypdf); title, author and date from the document
information. A citation's page is found from where each page starts in the text."""

from __future__ import annotations

import io
import re

from index.formats.common import bad as refuse
from index.formats.common import make_article, tidy
from rag.corpus import Article

# A line that ends mid-sentence is wrapped, not a paragraph's end: join it to the next line.
_WRAPPED = re.compile(r"(?<=[^\s.!?:;\"”’)\]])\n(?=[^\n])")


def read_pdf(name: str, data: bytes) -> list[Article]:
    """The text of every page, in order; the pages' start offsets go with it."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise refuse("encrypted PDF; save a copy without a password to index it")
        pages = [_page_text(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except PdfReadError as exc:
        raise refuse(f"not a readable PDF ({exc})") from None
    except Exception as exc:  # pypdf raises plain errors on damaged files and missing crypto
        if "crypt" in str(exc).lower():
            raise refuse(f"encrypted PDF ({exc}); save a copy without a password") from None
        raise refuse(f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    if not any(pages):
        raise refuse("no text layer (a scanned or image-only PDF); run OCR on it first")
    body, starts = "", []
    for text in pages:
        starts.append(len(body) + (2 if body else 0))
        body = f"{body}\n\n{text}" if body else text
    starts[0] = 0
    title = str((info.title if info else None) or "")
    # The document's creation date is when the PDF was made (often printed long after the
    # article appeared): it is not taken as the article's date.
    return [
        make_article(
            name,
            title,
            body,
            None,
            author=str((info.author if info else None) or ""),
            pages=tuple(starts),
            origin=f"pdf: {len(pages)} pages",
        )
    ]


def _page_text(raw: str) -> str:
    """A page's text with wrapped lines joined (a sentence is one line, as in the article)."""
    return tidy(_WRAPPED.sub(" ", tidy(raw)))
