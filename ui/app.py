"""Streamlit chat over the indexed articles: streamed, cited answers with their sources."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from rag import Answer, Pipeline, RagError, Settings
from rag.types import Citation


@st.cache_resource(show_spinner="Loading the index and models…")
def _pipeline_for(key: str, _settings: Settings) -> Pipeline:
    return Pipeline.from_settings(_settings)


def load_pipeline() -> Pipeline:
    """One pipeline per process and settings, shared by every session and rerun."""
    settings = Settings.load(env_file=".env" if Path(".env").is_file() else None)
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    key = settings.model_dump_json() + hashlib.sha256(secret.encode()).hexdigest()
    return _pipeline_for(key, settings)


def show_sources(citations: list[Citation]) -> None:
    """Numbered source cards under an answer; corpus text is rendered escaped, never as HTML."""
    for c in citations:
        date = c.date.isoformat() if c.date else "undated"
        with st.container(border=True):
            st.markdown(f"**[{c.n}] {_md_escape(c.title or c.source_file)}**")
            st.caption(
                f"{c.source_file} · {date} · chars {c.start}–{c.end} · support {c.score:.2f}"
            )
            st.text(c.quote)


def _md_escape(text: str) -> str:
    specials = "\\`*_{}[]()#+-.!|<>~"
    return "".join("\\" + ch if ch in specials else ch for ch in text)


def show_answer(answer: Answer) -> None:
    """A finished answer: refusal styling, searched question, sources."""
    if answer.refused:
        st.info("Nothing in the articles answers this. Try rephrasing, or widen the filters.")
    if answer.rewritten_question:
        st.caption(f"Searched for: {_md_escape(answer.rewritten_question)}")
    if answer.unsupported:
        listed = "; ".join(f"“{_md_escape(s)}”" for s in answer.unsupported)
        st.warning(f"Not supported by any retrieved source: {listed}", icon="⚠️")
    if answer.conflicts:
        st.warning("The sources disagree: compare the cited sides and their dates.", icon="⚖️")
    show_sources(answer.citations)


def main() -> None:
    """Render the chat page."""
    st.set_page_config(page_title="News Q&A", page_icon="📰")
    st.title("Ask the articles")
    try:
        pipeline = load_pipeline()
    except RagError as exc:
        st.error(str(exc))
        st.stop()
    with st.sidebar:
        mode = (
            "OpenAI " + pipeline.settings.chat_model
            if pipeline.mode == "openai"
            else "offline, extractive"
        )
        st.markdown(f"**Mode:** {mode}")
        if pipeline.settings.openai_api_key is None:
            st.caption("No OPENAI_API_KEY set: answers quote the articles directly.")
        top_k = st.slider("Sources to retrieve", 1, 20, pipeline.settings.top_k)
        if st.button("New chat"):
            st.session_state.turns = []

    turns: list[dict[str, Any]] = st.session_state.setdefault("turns", [])
    for turn in turns:
        with st.chat_message(turn["role"]):
            text = turn["content"]
            st.markdown(_md_escape(text) if turn["role"] == "user" else _md_text(text))
            if turn.get("answer"):
                show_answer(Answer.model_validate(turn["answer"]))

    question = st.chat_input("Ask about the articles")
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(_md_escape(question))
    history = [{"role": t["role"], "content": t["content"]} for t in turns]
    with st.chat_message("assistant"):
        try:
            answer = _stream(pipeline, question, top_k, history)
        except RagError as exc:
            st.error(str(exc))
            return
        show_answer(answer)
    turns.append({"role": "user", "content": question})
    turns.append(
        {"role": "assistant", "content": answer.text, "answer": answer.model_dump(mode="json")}
    )


def _stream(pipeline: Pipeline, question: str, top_k: int, history: list[dict[str, str]]) -> Answer:
    with st.status("Searching the articles…", expanded=False) as status:
        stream = pipeline.stream_answer(question, top_k=top_k, history=history)
        first = next(stream)
        status.update(label="Found sources", state="complete")
    final: list[Answer] = []

    def pieces() -> Iterator[str]:
        for item in itertools.chain([first], stream):
            if isinstance(item, Answer):
                final.append(item)
            else:
                yield _md_text(item)

    shown = st.empty()
    with shown.container():
        st.write_stream(pieces())
    answer = final[-1]
    shown.markdown(_md_text(answer.text))  # the verified answer replaces the streamed draft
    return answer


def _md_text(piece: str) -> str:
    # Answer text is shown as Markdown for the [n] markers; keep corpus characters literal.
    return piece.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("#", "\\#")


main()
