"""Corrections: a known article arriving changed replaces the old one in answers; citations of
the old version still resolve against the text they quoted."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from cli.main import render
from index import build_index
from rag import Pipeline, Settings

FIRST = (
    "The Kelvale harbour authority reported record traffic on Monday. "
    "The port handled 1.2 million containers last year, the authority said. "
    "New cranes will arrive in the spring to speed up loading."
)
QUESTION = "How many containers did the port handle last year?"


@pytest.mark.parametrize("name", ["harbour.txt", "harbour.json"])
def test_a_corrected_article_replaces_the_old_and_old_citations_still_resolve(
    tmp_path: Path, name: str
) -> None:
    corpus = tmp_path / "articles"
    corpus.mkdir()
    path = corpus / name

    def write(text: str) -> None:
        if name.endswith(".json"):  # as `rag feeds` writes an entry: same guid, same file
            entry = {"title": "Record traffic", "url": "https://port.example/a", "text": text}
            path.write_text(json.dumps(entry | {"guid": "port-1"}), encoding="utf-8")
        else:
            path.write_text(f"Record traffic\n\n{text}\n", encoding="utf-8")

    (corpus / "other.txt").write_text("Farmers expect a good harvest this year.\n", "utf-8")
    write(FIRST)
    settings = Settings(
        chroma_path=tmp_path / "chroma", corpus_dir=corpus, answer_mode="extractive"
    )
    build_index(None, settings, progress=False)
    before = Pipeline.from_settings(settings).answer(QUESTION)
    old = before.citations[0]
    assert "1.2 million" in old.quote and old.updated is None

    write(FIRST.replace("1.2 million", "1.4 million"))  # the correction
    report = build_index(None, settings, progress=False)
    assert report.updated == [name]
    pipeline = Pipeline.from_settings(settings)
    after = pipeline.answer(QUESTION)
    new = after.citations[0]
    assert "1.4 million" in after.text and "1.2 million" not in after.text
    assert new.updated == dt.datetime.now(dt.UTC).date() and new.superseded is None
    assert f"updated on {new.updated.isoformat()}" in render(after)

    # The answer given before the correction: its citation resolves against the old version.
    # (`stale`: not in the article as it is now; `superseded`: the offsets name the old
    # version, whose text is kept.)
    (again,) = pipeline.catalogue.current([old])
    assert again.stale and again.superseded == new.updated
    assert (again.start, again.end, again.quote) == (old.start, old.end, old.quote)
    text = pipeline.source_text(name, old.chunk_id)
    assert text[old.start : old.end] == old.quote and "1.2 million" in text
    assert "1.4 million" in pipeline.source_text(name)  # the current version by default
