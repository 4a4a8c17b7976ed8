"""Stories: copies of one article (syndicated by several outlets, or versions of it) count once.

The indexer groups near-duplicate articles and gives each article record its group's `story`
id (`index.dedup`). Answers then treat a group as one story: retrieval keeps the chunks of one
copy per story (the newest, so a corrected copy wins over the one it corrects), and its
citation lists the other copies ("also published by ..."), each still reachable, marked where
its text differs at the quote (a correction, with both dates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.store.articles import ArticleRecord, read_records, read_stories
from rag.types import Citation, Context, Copy

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection


class Stories:
    """Collapses copies of a story in retrieval results and lists them on citations."""

    def __init__(
        self, texts: Callable[[], Collection | None], text_of: Callable[[str], str]
    ) -> None:
        """Args:
        texts: opens the article records' collection (None: none kept).
        text_of: an article's whole text, as citations index it.
        """
        self._texts = texts
        self._text_of = text_of

    def one_per_story(self, contexts: list[Context], top_k: int) -> list[Context]:
        """The first `top_k` contexts, keeping one copy per story (its newest-dated copy among
        those retrieved; of equal dates, the best ranked)."""
        story = self._story_of([c.source_file for c in contexts])
        best: dict[str, tuple[dt.date, int, str]] = {}
        for rank, c in enumerate(contexts):
            key = story.get(c.source_file, c.source_file)
            candidate = (c.date or dt.date.min, -rank, c.source_file)
            if key not in best or candidate[:2] > best[key][:2]:
                best[key] = candidate
        kept = [
            c for c in contexts if best[story.get(c.source_file, c.source_file)][2] == c.source_file
        ]
        return kept[:top_k]

    def with_copies(self, citations: list[Citation]) -> list[Citation]:
        """The citations, each with the other copies of its story in `also`."""
        story = self._story_of([c.source_file for c in citations])
        collection = self._texts()
        if collection is None or not story:
            return citations
        members = read_stories(collection, set(story.values()))
        texts: dict[str, str | None] = {}
        done = []
        for citation in citations:
            others = [
                r
                for r in members.get(story.get(citation.source_file, ""), [])
                if r.source_file != citation.source_file
            ]
            copies = [self._copy(r, citation, texts) for r in _newest_per_source(others)]
            if not copies:
                done.append(citation)
                continue
            older = [c.date for c in copies if not c.has_quote and c.date]
            corrects = citation.date is not None and any(d < citation.date for d in older)
            updated = citation.date if corrects else citation.updated
            done.append(citation.model_copy(update={"also": copies, "updated": updated}))
        return done

    def _copy(
        self, record: ArticleRecord, citation: Citation, texts: dict[str, str | None]
    ) -> Copy:
        name = record.source_file
        if name not in texts:
            try:
                texts[name] = record.text if record.text is not None else self._text_of(name)
            except (RagError, OSError):
                texts[name] = None
        text = texts[name]
        date = record.meta.get("date", "")
        return Copy(
            source_file=name,
            outlet=record.meta.get("outlet", ""),
            date=dt.date.fromisoformat(date) if date else None,
            title=record.meta.get("title", ""),
            url=record.meta.get("url", ""),
            has_quote=text is None or " ".join(citation.quote.split()) in " ".join(text.split()),
        )

    def _story_of(self, names: list[str]) -> dict[str, str]:
        collection = self._texts()
        if collection is None or not names:
            return {}
        try:
            records = read_records(collection, names)
        except Exception:  # a store indexed before stories: every article is its own story
            return {}
        return {name: found[0].meta.get("story") or name for name, found in records.items()}


def _newest_per_source(records: list[ArticleRecord]) -> list[ArticleRecord]:
    seen: dict[str, ArticleRecord] = {}
    for record in sorted(records, key=lambda r: r.indexed_at, reverse=True):
        if record.superseded is None:  # a copy's old versions are not other copies
            seen.setdefault(record.source_file, record)
    return sorted(seen.values(), key=lambda r: r.source_file)
