"""Per-file bounds on what a reader takes from one file: items, decompressed bytes and time.

A hostile file can be small on disk and enormous once read: a YAML alias bomb, a zip bomb
inside a .docx, a million empty paragraphs, a feed of twenty thousand entries. Each reader
checks these bounds before (or while) it expands a file and refuses it whole with
`BadInputError` naming the limit, so the indexer skips that file with one line and goes on.
"""

from __future__ import annotations

import time

from index.formats.common import bad

# Entries of a feed, objects of a JSON/JSONL file: a news feed carries tens, an export a few
# hundred; each entry is an article to embed, so thousands would index for many minutes.
MAX_ENTRIES = 2_000
# Paragraphs (and table rows) of a Word document: a long article has a few hundred.
MAX_PARAGRAPHS = 20_000
# Members of a .docx zip (a real one has 10-30).
MAX_ZIP_MEMBERS = 1_000
# YAML front matter of a Markdown file (title, date, author...: a few hundred bytes).
MAX_FRONT_MATTER = 64_000
# Wall-clock time a reader may spend on one file's items (checked between items).
READ_SECONDS = 60.0


class Budget:
    """Counts a file's items against `limit` and its reading time against `READ_SECONDS`."""

    def __init__(self, what: str, limit: int, seconds: float | None = None) -> None:
        self.what, self.limit, self.count = what, limit, 0
        self.seconds = READ_SECONDS if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds

    def take(self, n: int = 1) -> None:
        """Count `n` more items; refuse the file past the limit or the time."""
        self.count += n
        if self.count > self.limit:
            raise bad(f"more than {self.limit:,} {self.what} (the limit per file); split it")
        if time.monotonic() > self.deadline:
            raise bad(f"reading took over {self.seconds:g} s (the limit per file); split it")
