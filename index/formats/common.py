"""What the format readers share: making an article of extracted text, dates, HTML fragments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import re
from typing import Any

from rag.errors import BadInputError
from rag.store import Article

_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Block elements whose text is a paragraph of its own in an HTML fragment (a feed entry's body).
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "dd")
_DATE_IN_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


def bad(reason: str) -> BadInputError:
    """The error a reader raises for a file it cannot index: the reason, the file names itself."""
    return BadInputError(reason)


def tidy(text: str) -> str:
    """Paragraphs one blank line apart, runs of spaces as one: the text citations index into."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def make_article(
    name: str,
    title: str,
    body: str,
    date: dt.date | None,
    *,
    printed: bool = False,
    **meta: Any,
) -> Article:
    """An extracted article: a header (its title) then the body, the part chunked.

    With `printed` (a page or PDF, whose text opens with the headline as printed), a first
    line that is the title is the header instead. A PDF's `pages` offsets are into `body`.
    """
    title = " ".join(title.split())
    pages: tuple[int, ...] = tuple(meta.pop("pages", ()))
    first = body.split("\n", 1)[0].strip()
    if printed and title and (first == title or (len(first) > 20 and title.startswith(first))):
        # A page title is often "Headline | Site": the headline as printed is the cleaner one.
        cut = len(body.split("\n", 1)[0]) + 1
        return Article(
            name, body, min(cut, len(body)), date, first, extracted=True, pages=pages, **meta
        )
    head = f"{title}\n\n" if title else ""
    return Article(
        source_file=name,
        text=head + body,
        body_start=len(head),
        date=date,
        title=title or first[:120],
        extracted=True,
        pages=tuple(len(head) + p for p in pages),
        **meta,
    )


_MONTH_DATE = re.compile(
    r"(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}"
    r"|\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{4}"
    r"|\d{4}-\d{2}-\d{2})"
)
_BYLINE = re.compile(
    r"^By\s+(?P<who>[^\d\n]{3,80}?)\s*(?:[|,·•-]\s*)?(?P<when>" + _MONTH_DATE.pattern + r")?\s*$"
)


# "Published 3 November 2025", "First published on Nov. 3, 2025", "Posted: 2025-11-03".
_PRINTED = re.compile(
    r"\b(?:(?:first\s+)?published|posted|dated)(?:\s+on)?:?\s+(?P<when>"
    + _MONTH_DATE.pattern
    + ")",
    re.IGNORECASE,
)
PRINTED_REACH = 2_000  # characters of the body a printed publication date is looked for in


def printed_date(text: str) -> dt.date | None:
    """The publication date a page prints in its text ("Published 3 November 2025") near its
    start, for a page whose markup names none; dates without such a word (an event's) are not
    the article's."""
    found = _PRINTED.search(text[:PRINTED_REACH])
    return parse_date(found.group("when")) if found else None


def byline(article: Article) -> Article:
    """A printed byline ("By Name  August 16, 2025") opening the body, or just below a printed
    headline: its author and date become the article's (where not known), the line (and the
    headline, which then becomes the title) join the header."""
    rest = article.text[article.body_start :]
    lines = rest.split("\n", 2)
    for at in (0, 1):
        if len(lines) <= at + 1 or not lines[at + 1].strip():
            return article
        found = _BYLINE.match(lines[at].strip())
        if found is None:
            continue
        when = parse_date(found.group("when")) if found.group("when") else None
        return dataclasses.replace(
            article,
            title=lines[0].strip() if at == 1 else article.title,
            body_start=article.body_start + sum(len(line) + 1 for line in lines[: at + 1]),
            author=article.author or found.group("who").strip(),
            date=article.date or when,
        )
    return article


def parse_date(value: object) -> dt.date | None:
    """A date from ISO 8601 (2025-08-16, 2025-08-16T10:00:00Z) or RFC 822 (feeds); else None."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    found = _DATE_IN_TEXT.search(text)
    if found:
        try:
            return dt.date.fromisoformat(found.group())
        except ValueError:
            return None
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%d %B %Y", "%d %b %Y", "%b. %d, %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def fragment_text(html: str) -> str:
    """The text of an HTML fragment (a feed entry or a JSON body), a paragraph per block."""
    if "<" not in html:
        return tidy(html)
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # lxml raises several types for unusable markup
        return ""
    for bad_node in root.xpath("//script|//style"):
        bad_node.drop_tree()
    blocks = [el for el in root.iter(*_BLOCKS) if not _inside_block(el)]
    if not blocks:
        return tidy(root.text_content())
    return tidy("\n\n".join(el.text_content() for el in blocks))


def _inside_block(el: Any) -> bool:
    return any(parent.tag in _BLOCKS for parent in el.iterancestors())


def slug(text: str, limit: int = 60) -> str:
    """A readable, stable name part: lower case words joined by hyphens."""
    words = re.findall(r"\w+", text.lower())
    out = "-".join(words)[:limit].rstrip("-")
    return out or "entry"


def unique_names(file_name: str, wanted: list[str]) -> list[str]:
    """`file#entry` names, made unique by a number where two entries want the same one."""
    seen: dict[str, int] = {}
    names = []
    for want in wanted:
        seen[want] = seen.get(want, 0) + 1
        names.append(
            f"{file_name}#{want}" if seen[want] == 1 else f"{file_name}#{want}-{seen[want]}"
        )
    return names
