"""Generated corpora for the scale benchmarks: dev-bench paragraphs recombined into articles.

Each article gets a date header, a headline (its first paragraph's first sentence) and 1-3
paragraphs drawn at random, so sizes and vocabulary look like short news pieces. The
vocabulary is that of 294 paragraphs, so BM25 postings are denser than in a real corpus of
the same size (a pessimistic case for the lexical side).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from bench.common import DEFAULT_BENCH

PARAGRAPHS = DEFAULT_BENCH / "articles"


def paragraphs() -> list[str]:
    """The dev bench's paragraph texts, in file order."""
    return [p.read_text(encoding="utf-8").strip() for p in sorted(PARAGRAPHS.glob("*.txt"))]


def write_corpus(folder: Path, files: int, *, seed: int = 0, most: int = 3) -> Path:
    """Write `files` generated articles into `folder` (created); returns the folder."""
    rng = random.Random(seed)
    pool = paragraphs()
    folder.mkdir(parents=True, exist_ok=True)
    start = dt.date(2020, 1, 1)
    for i in range(files):
        chosen = rng.sample(pool, rng.randint(1, most))
        headline = chosen[0].split(". ", 1)[0][:90]
        date = start + dt.timedelta(days=rng.randrange(2000))
        body = "\n\n".join(chosen)
        text = f" date {date.isoformat()} {headline}\n\n{body}\n"
        (folder / f"article_{i:06d}.txt").write_text(text, encoding="utf-8")
    return folder
