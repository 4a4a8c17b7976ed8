"""The process-wide pipeline (loaded once, warmed before the server serves) and small readers
of the corpus the pages show."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import streamlit as st

from rag import Pipeline, RagError, Settings
from rag.corpus import parse_article
from rag.titles import Titled, display_titles
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
    """Up to `k` questions about what the corpus titles name most often (people, places,
    organisations: runs of capitalised words, the last two words of a longer run, which is
    where a name follows its role), longest names first among equals."""
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
    return [f"What do the articles say about {name}?" for name in chosen]
