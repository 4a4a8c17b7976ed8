"""Syndicated copies: grouped at index time, cited once with "also published by", corrections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import render
from index import build_index
from rag import Pipeline, Settings
from ui.markup import byline

STORY = (
    "The Kelvale city council approved a new tram line on Tuesday after a long debate. "
    "The line will connect the harbour district with the university campus in the north. "
    "Construction is expected to start next spring and to take about three years. "
    "The council said the project would cost 240 million euros, paid mostly by the region. "
    "Opponents argued that buses would serve the same routes for a fraction of the price. "
    "The mayor said the tram would carry 40,000 passengers a day once it is finished."
)
INDEPENDENT = (
    "Kelvale will get a tram, the council decided on Tuesday. Our reporter spoke with "
    "residents of the harbour district, who welcomed the plan but feared years of roadworks. "
    "A shop owner said the tram line should have been built decades ago. "
    "Work on the harbour section is planned to begin first, the council said."
)


def _article(folder: Path, name: str, **fields: str) -> None:
    (folder / name).write_text(json.dumps(fields), encoding="utf-8")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    corpus = tmp_path / "articles"
    corpus.mkdir()
    _article(
        corpus,
        "wire.json",
        title="Kelvale approves tram line",
        date="2026-03-03",
        outlet="Wire Service",
        url="https://wire.example/tram",
        text=STORY,
    )
    _article(
        corpus,
        "ledger.json",
        title="Council says yes to the tram",
        date="2026-03-03",
        outlet="The Daily Ledger",
        url="https://ledger.example/tram",
        text="By Staff Writer\n\n" + STORY + "\n\nCopyright The Daily Ledger.",
    )
    _article(
        corpus,
        "post.json",
        title="Residents on the tram",
        date="2026-03-03",
        outlet="Harbour Post",
        text=INDEPENDENT,
    )
    (corpus / "other.txt").write_text("Farmers expect a good harvest this year.\n", "utf-8")
    return Settings(
        chroma_path=tmp_path / "chroma",
        corpus_dir=corpus,
        upload_dir=tmp_path / "uploads",
        answer_mode="extractive",
    )


def test_copies_of_a_story_are_cited_once_with_the_other_outlets(settings: Settings) -> None:
    build_index(None, settings, progress=False)
    answer = Pipeline.from_settings(settings).answer("How much would the project cost?")
    cited = {c.source_file for c in answer.citations}
    assert len(cited & {"wire.json", "ledger.json"}) == 1  # the story counts once
    story = next(c for c in answer.citations if c.source_file in ("wire.json", "ledger.json"))
    (copy,) = story.also
    assert {copy.source_file, story.source_file} == {"wire.json", "ledger.json"}
    assert copy.outlet in ("Wire Service", "The Daily Ledger") and copy.has_quote
    assert story.updated is None
    assert f"also published by {copy.outlet}" in byline(story)  # the chat's source card
    assert f"also published by {copy.outlet}" in render(answer)  # `rag ask`
    # Only one copy's chunks reach the answerer; the independent report still counts.
    sources = {c.source_file for c in answer.contexts}
    assert len(sources & {"wire.json", "ledger.json"}) == 1
    assert "post.json" in sources


def test_a_corrected_copy_wins_and_shows_the_correction_with_both_dates(
    settings: Settings,
) -> None:
    corrected = STORY.replace("240 million", "260 million")
    _article(
        settings.corpus_dir,
        "ledger.json",
        title="Council says yes to the tram",
        date="2026-03-05",
        outlet="The Daily Ledger",
        text=corrected,
    )
    build_index(None, settings, progress=False)
    answer = Pipeline.from_settings(settings).answer("How much would the project cost?")
    story = next(c for c in answer.citations if c.source_file in ("wire.json", "ledger.json"))
    assert story.source_file == "ledger.json" and "260 million" in answer.text
    (earlier,) = story.also
    assert earlier.source_file == "wire.json" and not earlier.has_quote
    assert str(earlier.date) == "2026-03-03" and str(story.updated) == "2026-03-05"
    assert "updated on 5 Mar 2026" in byline(story)
    assert "earlier version: Wire Service (3 Mar 2026)" in byline(story)
    assert "updated on 2026-03-05" in render(answer)
    assert not answer.conflicts or all(
        {s.source_file for s in c.sides} != {"wire.json", "ledger.json"} for c in answer.conflicts
    )
