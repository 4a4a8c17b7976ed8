"""Streamlit chat over the indexed articles: streamed, verified, cited answers.

This page holds session state and rendering only; every decision is made by `rag` (and the
index is updated through `index`). Corpus text is always escaped, never rendered as HTML.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from index import build_index
from rag import Answer, Filters, Pipeline, RagError, Settings
from rag.corpus import save_upload
from rag.errors import StoreDamagedError
from ui.render import answer_md, as_markdown, md, show_answer


@st.cache_resource(show_spinner="Loading the index and models…")
def _pipeline_for(key: str, _settings: Settings) -> Pipeline:
    return Pipeline.from_settings(_settings)


def load_pipeline() -> Pipeline:
    """One pipeline per process and settings, shared by every session and rerun."""
    settings = Settings.load(env_file=".env" if Path(".env").is_file() else None)
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    key = settings.model_dump_json() + hashlib.sha256(secret.encode()).hexdigest()
    return _pipeline_for(key, settings)


def sidebar(pipeline: Pipeline) -> tuple[int, Filters | None]:
    """Mode, knobs, filters, corpus panel and uploads; returns top-k and filters."""
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
    names = [f.source_file for f in corpus.files]
    sources = st.multiselect("Only these articles", names)
    since = st.date_input("Published from", value=None)
    until = st.date_input("Published until", value=None)
    try:
        filters = Filters.coerce({"sources": sources, "since": since, "until": until})
    except RagError as exc:
        st.error(str(exc))
        filters = None
    with st.expander(f"Corpus: {len(corpus.files)} files, {corpus.chunks} chunks"):
        if corpus.last_indexed:
            st.caption(f"Last indexed {corpus.last_indexed:%Y-%m-%d %H:%M} UTC")
        st.dataframe(
            [{"file": f.source_file, "date": f.date, "chunks": f.chunks} for f in corpus.files],
            hide_index=True,
        )
    uploads(pipeline)
    downloads()
    return top_k, filters if filters and not filters.is_empty() else None


def uploads(pipeline: Pipeline) -> None:
    """Add .txt/.md articles to the upload folder and index them; or re-index the folder."""
    files = st.file_uploader("Add articles", type=["txt", "md"], accept_multiple_files=True)
    add = st.button("Add to corpus", disabled=not files)
    reindex = st.button("Re-index folder")
    if not (add or reindex):
        return
    settings = pipeline.settings
    try:
        for upload in (files or []) if add else []:
            save_upload(settings.upload_dir, upload.name, upload.getvalue())
        bar = st.progress(0.0, text="Indexing…")

        def advance(done: int, total: int) -> None:
            bar.progress(done / max(1, total), text="Indexing…")

        report = build_index(
            settings.corpus_dir,
            settings,
            embedder=pipeline.embedder,
            progress=False,
            on_progress=advance,
        )
        pipeline.refresh()
        st.success(report.summary())
    except RagError as exc:
        st.error(str(exc))


def offer_rebuild(settings: Settings) -> None:
    """A button that rebuilds the store from the articles (beside the old one, swapped in
    when complete), then reloads the page's pipeline."""
    if not st.button("Rebuild the index from the articles", type="primary"):
        return
    with st.spinner("Rebuilding the index…"):
        try:
            report = build_index(settings.corpus_dir, settings, progress=False, rebuild=True)
        except RagError as exc:
            st.error(str(exc))
            return
    _pipeline_for.clear()
    st.success(f"Rebuilt: {report.summary()}")
    st.button("Continue")


def downloads() -> None:
    """The conversation as Markdown or JSON."""
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


def main() -> None:
    """Render the chat page."""
    st.set_page_config(page_title="Ask the articles", page_icon="📰")
    st.title("Ask the articles")
    try:
        pipeline = load_pipeline()
    except StoreDamagedError as exc:
        st.error(str(exc))
        offer_rebuild(Settings.load(env_file=".env" if Path(".env").is_file() else None))
        st.stop()
    except RagError as exc:
        st.error(str(exc))
        st.stop()
    with st.sidebar:
        top_k, filters = sidebar(pipeline)

    turns: list[dict[str, Any]] = st.session_state.setdefault("turns", [])
    for turn in turns:
        with st.chat_message(turn["role"]):
            if turn["role"] == "user":
                st.markdown(md(turn["content"]))
            else:
                answer = Answer.model_validate(turn["answer"])
                st.markdown(answer_md(answer.text))
                show_answer(answer, pipeline)

    question = st.chat_input("Ask about the articles")
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(md(question))
    history = [{"role": t["role"], "content": t["content"]} for t in turns]
    with st.chat_message("assistant"):
        try:
            answer = _stream(pipeline, question, top_k, filters, history)
        except StoreDamagedError as exc:
            st.error(str(exc))
            offer_rebuild(pipeline.settings)
            return
        except RagError as exc:
            st.error(str(exc))
            return
        show_answer(answer, pipeline)
    turns.append({"role": "user", "content": question})
    turns.append(
        {"role": "assistant", "content": answer.text, "answer": answer.model_dump(mode="json")}
    )


def _stream(
    pipeline: Pipeline,
    question: str,
    top_k: int,
    filters: Filters | None,
    history: list[dict[str, str]],
) -> Answer:
    with st.status("Searching the articles…", expanded=False) as status:
        stream = pipeline.stream_answer(question, top_k=top_k, filters=filters, history=history)
        first = next(stream)
        status.update(label="Found sources", state="complete")
    final: list[Answer] = []

    def pieces() -> Iterator[str]:
        held = ""  # the last word may go on in the next piece: a URL is rendered whole
        for item in itertools.chain([first], stream):
            if isinstance(item, Answer):
                final.append(item)
                continue
            held += item
            cut = max(held.rfind(" "), held.rfind("\n")) + 1
            if cut:
                yield answer_md(held[:cut])
                held = held[cut:]
        if held:
            yield answer_md(held)

    shown = st.empty()
    with shown.container():
        st.write_stream(pieces())
    answer = final[-1]
    shown.markdown(answer_md(answer.text))  # the verified answer replaces the streamed draft
    return answer


main()
