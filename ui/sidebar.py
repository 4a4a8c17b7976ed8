"""The chat's sidebar: mode, filters (checked before asking), corpus panel, uploads, downloads."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import streamlit as st

from index import build_index
from rag import Answer, Filters, Pipeline, RagError
from rag.corpus import MAX_UPLOAD_BYTES, save_upload
from rag.types import CorpusInfo
from ui.markup import date_text
from ui.render import answer_md, as_markdown, md


@dataclass(frozen=True)
class Choice:
    """What the sidebar settles for the next question."""

    top_k: int
    filters: Filters | None
    problem: str | None  # a filter that cannot apply, in plain words: asking is blocked
    described: str  # the active filters in words ("" for none)


def sidebar(pipeline: Pipeline) -> Choice:
    """Mode, knobs, filters, corpus panel, uploads and downloads."""
    settings = pipeline.settings
    if pipeline.mode == "openai":
        st.markdown(f"**Mode:** OpenAI-compatible · `{md(settings.chat_model)}`")
    else:
        st.markdown("**Mode:** offline, extractive")
        if settings.openai_api_key is None:
            st.caption("No OPENAI_API_KEY set: answers quote the articles directly.")
    if st.button("New chat", icon=":material/add_comment:"):
        st.session_state.turns = []
    top_k = st.slider("Sources to retrieve", 1, 20, settings.top_k)
    corpus = pipeline.corpus()
    choice = filters_panel(corpus, top_k)
    corpus_panel(corpus)
    uploads(pipeline)
    downloads()
    return choice


def filters_panel(corpus: CorpusInfo, top_k: int) -> Choice:
    """Article and date filters; an impossible combination is a plain message, not ignored."""
    titles = {
        f.source_file: f"{f.title or f.source_file} ({date_text(f.date)})" for f in corpus.files
    }
    sources = st.multiselect(
        "Only these articles",
        list(titles),
        format_func=lambda name: titles.get(name, name),
        placeholder="All articles",
    )
    dates = sorted(f.date for f in corpus.files if f.date)
    span: dict[str, Any] = {"min_value": dates[0], "max_value": dates[-1]} if dates else {}
    since = st.date_input("Published from", value=None, format="YYYY-MM-DD", **span)
    until = st.date_input("Published until", value=None, format="YYYY-MM-DD", **span)
    since_d = since if isinstance(since, dt.date) else None
    until_d = until if isinstance(until, dt.date) else None
    if since_d and until_d and since_d > until_d:
        problem = (
            f"“Published from” ({since_d}) is after “Published until” ({until_d}): no article "
            "can match. Swap the dates or clear one to ask."
        )
        st.error("“Published from” is after “Published until”.")
        return Choice(top_k, None, problem, "")
    try:
        filters = Filters.coerce({"sources": sources, "since": since_d, "until": until_d})
    except RagError as exc:
        st.error(str(exc))
        return Choice(top_k, None, str(exc), "")
    undated = sum(1 for f in corpus.files if f.date is None)
    if (since_d or until_d) and undated:
        st.caption(
            f"{undated} undated article{'s are' if undated > 1 else ' is'} left out while a "
            "date filter is on."
        )
    if filters is None or filters.is_empty():
        return Choice(top_k, None, None, "")
    return Choice(top_k, filters, None, describe(filters, titles))


def describe(filters: Filters, titles: dict[str, str]) -> str:
    """The filters in words, for the line above an answer."""
    parts = []
    if filters.sources:
        names = [titles.get(s, s) for s in filters.sources]
        parts.append("only " + "; ".join(names))
    if filters.since:
        parts.append(f"published from {filters.since}")
    if filters.until:
        parts.append(f"published until {filters.until}")
    return ", ".join(parts)


def corpus_panel(corpus: CorpusInfo) -> None:
    """The indexed articles by title and date (file names in their own column)."""
    with st.expander(f"Corpus: {len(corpus.files)} articles, {corpus.chunks} chunks"):
        if corpus.last_indexed:
            st.caption(f"Last indexed {corpus.last_indexed:%Y-%m-%d %H:%M} UTC")
        st.dataframe(
            [
                {"title": f.title or f.source_file, "date": f.date, "file": f.source_file}
                for f in sorted(corpus.files, key=lambda f: f.date or dt.date.min, reverse=True)
            ],
            hide_index=True,
        )


def uploads(pipeline: Pipeline) -> None:
    """Add .txt/.md articles (each accepted or refused with its reason), then index them."""
    for kind, text in st.session_state.pop("upload_results", []):
        (st.success if kind == "ok" else st.error)(text)
    key = f"uploader-{st.session_state.get('uploads_done', 0)}"  # a new key clears the widget
    limit = MAX_UPLOAD_BYTES / 1e6
    files = st.file_uploader(
        f"Add articles (.txt or .md, up to {limit:.0f} MB each)",
        type=["txt", "md"],
        accept_multiple_files=True,
        key=key,
    )
    add = st.button("Add to corpus", disabled=not files)
    reindex = st.button("Re-index folder")
    if add or reindex:
        results = _index_uploads(pipeline, list(files or []) if add else [])
        st.session_state.upload_results = results
        st.session_state.uploads_done = st.session_state.get("uploads_done", 0) + 1
        st.rerun()  # the sidebar's counts and filters show the new corpus at once


def _index_uploads(pipeline: Pipeline, files: list[Any]) -> list[tuple[str, str]]:
    settings = pipeline.settings
    results: list[tuple[str, str]] = []
    saved: list[str] = []
    for upload in files:
        try:
            saved.append(save_upload(settings.upload_dir, upload.name, upload.getvalue()).name)
        except RagError as exc:
            results.append(("error", f"Not added: {exc}"))
    if files and not saved:
        return results
    bar = st.progress(0.0, text="Indexing…")

    def advance(done: int, total: int) -> None:
        bar.progress(done / max(1, total), text="Indexing…")

    try:
        report = build_index(
            settings.corpus_dir,
            settings,
            embedder=pipeline.embedder,
            progress=False,
            on_progress=advance,
        )
        pipeline.refresh()
        added = f"Added {', '.join(saved)}. " if saved else ""
        results.insert(0, ("ok", added + report.summary()))
    except RagError as exc:
        results.append(("error", str(exc)))
    bar.empty()
    return results


def downloads() -> None:
    """The conversation as Markdown or JSON (drawn after every answer, so always current)."""
    turns: list[dict[str, Any]] = st.session_state.get("turns", [])
    if not turns:
        return
    markdown = "\n\n".join(
        f"**You:** {answer_md(t['content'])}"
        if t["role"] == "user"
        else "**Answer:** " + as_markdown(Answer.model_validate(t["answer"]))
        for t in turns
    )
    st.download_button("Download chat (Markdown)", markdown, "conversation.md", "text/markdown")
    data = json.dumps([t.get("answer") or t for t in turns], indent=2, default=str)
    st.download_button("Download chat (JSON)", data, "conversation.json", "application/json")
