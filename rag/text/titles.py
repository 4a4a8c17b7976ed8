"""Short display titles that tell articles apart.

An article's title is its real headline where the format gives one (a page's `<title>`, a
feed entry's title, a short first line) and otherwise its lead sentence, which can run to
120 characters and opens like its neighbours' ("US First Lady Melania Trump has…"). Lists,
cards and filters show a short title instead: the first clause cut at a word boundary, with
the outlet or date added where two titles would still look alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

SHORT = 64  # characters a display title keeps, at most (before a disambiguating suffix)
ALIKE_WORDS = 5  # titles whose first words agree this far look alike in a list
# Where a lead sentence's first clause ends: a comma or dash before more words, a colon.
_CLAUSE_END = re.compile(r"(?:,|;|:|\s[—–-])\s")
# Words a cut title should not end on ("… children in", "… the").
_DANGLING = frozenset(
    "a an and as at by for from in into of on or the to with who which that its his her their "
    "is are was were has have had will would over about after before under than against between "
    "during says said".split()
)


@dataclass(frozen=True)
class Titled:
    """What a display title is made from."""

    source_file: str
    title: str
    date: dt.date | None = None
    outlet: str = ""


def short_title(title: str, source_file: str = "", limit: int = SHORT) -> str:
    """`title` cut to its first clause, and that to `limit` characters at a word boundary
    (never ending on "of", "the"…); the file's stem when there is no title."""
    text = " ".join(title.split())
    if not text:
        return PurePosixPath(source_file).stem or source_file
    if len(text) <= limit:
        return text
    clause = _CLAUSE_END.split(text, maxsplit=1)[0].strip()
    if 24 <= len(clause) <= limit:  # a clause too short to tell anything keeps reading on
        return clause
    words = text[: limit + 1].split(" ")[:-1] or [text[:limit]]
    while len(words) > 3 and words[-1].lower().strip(",;:") in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(",;:—–- ") + "…"


def _key(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.lower())[:ALIKE_WORDS])


def _suffix(item: Titled) -> str:
    parts = [item.outlet, f"{item.date:%-d %b %Y}" if item.date else ""]
    return ", ".join(p for p in parts if p)


def display_titles(items: Sequence[Titled], limit: int = SHORT) -> dict[str, str]:
    """A short, distinct title per source file.

    Titles whose first words agree get their outlet and date added ("… (BBC, 16 Aug 2025)");
    titles that are still the same get a number ("… (2)").
    """
    short = {item.source_file: short_title(item.title, item.source_file, limit) for item in items}
    groups: dict[str, list[Titled]] = {}
    for item in items:
        groups.setdefault(_key(short[item.source_file]), []).append(item)
    for group in groups.values():
        if len(group) < 2:
            continue
        for item in group:
            suffix = _suffix(item)
            if suffix:
                short[item.source_file] += f" ({suffix})"
    seen: dict[str, int] = {}
    for item in sorted(items, key=lambda i: i.source_file):
        title = short[item.source_file]
        seen[title] = seen.get(title, 0) + 1
        if seen[title] > 1:
            short[item.source_file] = f"{title} ({seen[title]})"
    return short
