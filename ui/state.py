"""The process-wide pipeline (loaded once, warmed before the server serves) and small readers
of the corpus the pages show."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import streamlit as st

from rag import Answer, Pipeline, RagError, Settings
from rag.store.corpus import parse_article
from rag.text.titles import Titled, display_titles
from rag.types import CorpusInfo, IndexedFile

# Pipelines built by `python -m ui.serve` before the server starts, by settings key: the first
# visitor then finds the model and index loaded instead of waiting ~20 s behind a spinner.
_WARM: dict[str, Pipeline] = {}


def load_settings() -> Settings:
    """The settings of the page: the environment, and `.env` in the working folder if any."""
    return Settings.load(env_file=".env" if Path(".env").is_file() else None)


def settings_key(settings: Settings) -> str:
    """A key naming these settings (the API key only as a hash)."""
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return settings.model_dump_json() + hashlib.sha256(secret.encode()).hexdigest()


def warm(settings: Settings) -> Pipeline:
    """Build the pipeline now and answer one question, so every model is loaded too."""
    pipeline = Pipeline.from_settings(settings)
    pipeline.corpus()
    pipeline.answer("What do the articles say?")  # loads every model an answer needs
    starters(pipeline, pipeline.corpus())  # checked before the first visitor sees them
    _WARM[settings_key(settings)] = pipeline
    return pipeline


@st.cache_resource(show_spinner="Loading the index and models…")
def _pipeline_for(key: str, _settings: Settings) -> Pipeline:
    return _WARM.pop(key, None) or Pipeline.from_settings(_settings)


def load_pipeline() -> Pipeline:
    """One pipeline per process and settings, shared by every session and rerun."""
    settings = load_settings()
    return _pipeline_for(settings_key(settings), settings)


def forget_pipeline() -> None:
    """Drop the cached pipeline (after the store was rebuilt beside it)."""
    _pipeline_for.clear()


def read_article(
    pipeline: Pipeline, memo: dict[str, tuple[str, int] | None], source_file: str
) -> tuple[str, int] | None:
    """An article's text and where its body starts (after the ` date …` line), or None."""
    if source_file not in memo:
        try:
            text = pipeline.source_text(source_file)
            memo[source_file] = (text, parse_article(source_file, text).body_start)
        except (RagError, OSError):
            memo[source_file] = None
    return memo[source_file]


def display_names(corpus: CorpusInfo) -> dict[str, str]:
    """Each article's short, distinct display title, by source file."""
    return display_titles([Titled(f.source_file, f.title, f.date, f.outlet) for f in corpus.files])


def date_range(files: list[IndexedFile]) -> tuple[str, str] | None:
    """The first and last publication dates of the corpus, if any article is dated."""
    dates = sorted(f.date for f in files if f.date)
    return (dates[0].isoformat(), dates[-1].isoformat()) if dates else None


_NAME_RUN = (
    r"(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,})(?:\s+(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,}))*"
)
_GENERIC = {"The", "A", "An", "In", "On", "US", "First", "Read", "More", "How", "What", "Why"}
_CALENDAR = {
    *"Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    *"January February March April May June July August September October".split(),
    *"November December".split(),
}


def example_questions(files: list[IndexedFile], k: int = 4) -> list[str]:
    """Up to `k` questions about what the corpus titles name most often."""
    return [f"What do the articles say about {name}?" for name in title_names(files, k)]


# Questions asked of each name; a starter is shown only if the index answers it.
_ASKED = ("What did {name} say?", "What did {name} do?", "Who is {name}?")  # a person's name
_ASKED_PLACE = ("What happened in {name}?",)  # one word: a place or organisation
_STARTERS: dict[str, list[str]] = {}  # by pipeline and corpus stamp: once per index version


def starters(pipeline: Pipeline, corpus: CorpusInfo, k: int = 4) -> list[str]:
    """Up to `k` questions about the names the corpus titles use most, each one asked of the
    index first and kept only if it is answered (a starter never leads to a refusal); at most
    one per name. Checked once per version of the index."""
    # Per pipeline too: the same index answers differently offline and through a model.
    stamp = (
        f"{id(pipeline)}:{pipeline.mode}:{corpus.last_indexed}:{corpus.chunks}:{len(corpus.files)}"
    )
    if stamp not in _STARTERS:
        # Checked offline whatever the mode: a page load never costs model calls.
        if pipeline.mode != "extractive":
            offline = pipeline.settings.model_copy(update={"answer_mode": "extractive"})
            pipeline = Pipeline.from_settings(offline, embedder=pipeline.embedder)
        chosen: list[str] = []
        shared = len(corpus.files) >= 3  # a name one title uses is that article's subject
        for name in title_names(corpus.files, 2 * k):
            if shared and sum(name in f.title for f in corpus.files) < 2:
                continue
            for template in _ASKED if " " in name else _ASKED_PLACE:
                question = template.format(name=name)
                try:
                    answer = pipeline.answer(question)
                except RagError:
                    continue
                if not answer.refused and answer.citations:
                    chosen.append(question)
                    break
            if len(chosen) == k:
                break
        _STARTERS[stamp] = chosen
    return _STARTERS[stamp]


def follow_ups(answer: Answer, corpus: CorpusInfo, k: int = 3) -> list[str]:
    """Up to `k` questions to ask next, about names the cited articles' titles and quotes use
    that the question did not."""
    cited = {c.source_file for c in answer.citations}
    files = [f for f in corpus.files if f.source_file in cited]
    quotes = [
        IndexedFile(source_file=c.source_file, title=c.quote, date=None, chunks=0, indexed_at=None)
        for c in answer.citations
    ]
    asked = answer.question.lower()
    names = [
        n for n in title_names([*files, *quotes], 4 * k) if " " in n and n.lower() not in asked
    ]  # people's names: a quote's capitalised single words are often just a sentence's start
    return [f"What did {name} say?" for name in names[:k]]


def title_names(files: list[IndexedFile], k: int = 4) -> list[str]:
    """Up to `k` names the corpus titles use most often (people, places, organisations: runs
    of capitalised words, the last two words of a longer run, which is where a name follows
    its role), longest names first among equals."""
    counts: Counter[str] = Counter()
    for f in files:
        for run in re.findall(_NAME_RUN, f.title):
            words = run.split()
            while words and words[0] in _GENERIC:
                words = words[1:]
            if len(words) == 1 and len(run.split()) > 1:
                continue  # "US First Lady": the rest of a role, not a name
            words = [w for w in words if w not in _CALENDAR][-2:]  # "role Given Family": a name
            if words and " ".join(words) not in _GENERIC:
                counts[" ".join(words)] += 1
    ranked = sorted(counts, key=lambda name: (-counts[name], -len(name.split()), name))
    chosen: list[str] = []
    for name in ranked:
        if any(name in other or other in name for other in chosen):
            continue
        chosen.append(name)
        if len(chosen) == k:
            break
    return chosen
