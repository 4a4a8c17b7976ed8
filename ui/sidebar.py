"""The chat's sidebar: mode, new chat, saved conversations, filters (checked before asking),
downloads. The corpus is managed on the Articles page (`ui.articles_page`)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from evals import conversations
from evals.local import DamagedFileError, SideFileError, attempt, move_aside
from rag import Answer, Filters, Pipeline, RagError
from rag.types import CorpusInfo
from ui.markup import date_text, untagged
from ui.render import as_markdown, as_record, md, plain_md, retitled
from ui.state import display_names


@dataclass(frozen=True)
class Choice:
    """What the sidebar settles for the next question."""

    top_k: int
    filters: Filters | None
    problem: str | None  # a filter that cannot apply, in plain words: asking is blocked
    described: str  # the active filters in words ("" for none)


def sidebar(pipeline: Pipeline) -> tuple[Choice, Callable[[], None]]:
    """Mode, new chat, saved conversations, knobs, filters and downloads.

    Returns the filters' choice and a function that draws the saved conversations and the
    downloads in their places; the page calls it last, so an answer given in this run is in
    them without redrawing the page."""
    settings = pipeline.settings
    if pipeline.mode == "openai":
        st.markdown(f"**Mode:** OpenAI-compatible · `{md(settings.chat_model)}`")
    else:
        st.markdown("**Mode:** offline, extractive")
        if settings.openai_api_key is None:
            st.caption("No OPENAI_API_KEY set: answers quote the articles directly.")
    if st.button("New chat", icon=":material/add_comment:"):
        new_chat()
    history = st.empty()
    top_k = st.slider("Sources to retrieve", 1, 20, settings.top_k)
    corpus = pipeline.corpus()
    choice = filters_panel(corpus, top_k)
    st.caption(
        f"{len(corpus.files)} articles, {corpus.chunks} passages. Add or remove them on the "
        "Articles page."
    )
    later = st.empty()

    def finish() -> None:
        with history.container():
            conversations_panel(conversations.conversations_path(settings))
        with later.container():
            downloads(display_names(corpus))

    return choice, finish


def new_chat() -> None:
    """Start an empty conversation (the last one stays saved)."""
    st.session_state.turns = []
    st.session_state.chat_id = uuid.uuid4().hex
    st.session_state.pop("partial", None)  # an answer cut short by this click stays behind


def conversations_panel(path: Path) -> None:
    """Saved conversations by day with their verdicts, searchable: reopen, rename the open one,
    delete (with Undo)."""
    nothing: list[conversations.Saved] = []
    saved, problem = attempt(lambda: conversations.listed(path), nothing)
    if problem:
        side_file_notice(problem)
        return
    current = st.session_state.get("chat_id")
    undo = st.session_state.get("deleted")
    with st.expander(f"Saved conversations ({len(saved)})", expanded=bool(undo)):
        if undo:
            _undo_line(path, undo)
        if not saved:
            st.caption("Each conversation is kept here after its first answer.")
            return
        query = st.text_input(
            "Search conversations", key="history-search", placeholder="Words of a question"
        )
        found = conversations.matching(saved, query) if query.strip() else saved
        if not found:
            st.caption("No saved conversation has those words.")
        today = dt.datetime.now(dt.UTC).date()
        for day, items in itertools.groupby(found[:30], key=lambda item: item.day):
            st.caption(_day_name(day, today))
            for item in items:
                _saved_row(path, item, current)
        titles = {item.id: item.title for item in saved}
        if current in titles:
            name = st.text_input("Rename this conversation", titles[current], key=f"name-{current}")
            if name.strip() and name.strip() != titles[current]:
                conversations.rename(path, current, name)
                st.rerun()


def _day_name(day: dt.date, today: dt.date) -> str:
    if day == today:
        return "Today"
    if day == today - dt.timedelta(days=1):
        return "Yesterday"
    return f"{day:%-d %B %Y}"


def _saved_row(path: Path, item: conversations.Saved, current: str | None) -> None:
    left, right = st.columns([5, 1], vertical_alignment="center")
    mark = "▸ " if item.id == current else ""
    verdicts = " ".join(
        part
        for part in (f"👍{item.up}" if item.up else "", f"👎{item.down}" if item.down else "")
        if part
    )
    # Callbacks: they run before the page does, so it is drawn once, already changed (these
    # buttons are drawn last, after the conversation).
    left.button(
        f"{mark}{item.title}" + (f" · {verdicts}" if verdicts else ""),
        key=f"open-{item.id}",
        type="tertiary",
        help=f"Updated {item.updated.replace('T', ' ')[:16]} UTC",
        on_click=_open,
        args=(path, item.id),
    )
    right.button(
        "",
        icon=":material/delete:",
        key=f"del-{item.id}",
        help=f"Delete “{item.title}”",
        on_click=_delete,
        args=(path, item, current),
    )


def _open(path: Path, chat_id: str) -> None:
    st.session_state.turns = conversations.load(path, chat_id)
    st.session_state.chat_id = chat_id


def _delete(path: Path, item: conversations.Saved, current: str | None) -> None:
    st.session_state.deleted = (item.id, item.title, conversations.load(path, item.id))
    conversations.delete(path, item.id)
    if item.id == current:
        new_chat()


def _undo_line(path: Path, undo: tuple[str, str, list[dict[str, Any]]]) -> None:
    title = undo[1]
    st.caption(f"Deleted “{title}”.")
    st.button("Undo", icon=":material/undo:", key="undo-delete", on_click=_undo, args=(path,))


def _undo(path: Path) -> None:
    chat_id, title, turns = st.session_state.pop("deleted")
    conversations.save(path, chat_id, turns, title)


def side_file_notice(problem: SideFileError, where: str = "sidebar") -> None:
    """A feedback or conversations file that cannot be used: one message (the chat goes on),
    and for a damaged one a button that moves it aside (it is never deleted)."""
    st.warning(str(problem), icon=":material/database:")
    if isinstance(problem, DamagedFileError) and problem.path.exists():
        # A callback: it runs on the click's rerun even where this notice is not drawn again.
        key = f"aside-{where}-{problem.path.name}"
        st.button(
            "Move the damaged file aside", key=key, on_click=_move_aside, args=(problem.path,)
        )


def _move_aside(path: Path) -> None:
    if path.exists():
        moved = move_aside(path)
        st.toast(f"Moved to {moved.name}; a new file starts with the next answer.")


def filters_panel(corpus: CorpusInfo, top_k: int) -> Choice:
    """Article and date filters; an impossible combination is a plain message, not ignored."""
    names = display_names(corpus)
    titles = {
        f.source_file: f"{untagged(names[f.source_file], f.date)} · {date_text(f.date)}"
        for f in corpus.files
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


def conversation_export(
    turns: list[dict[str, Any]], titles: dict[str, str]
) -> tuple[str, list[dict[str, object]]]:
    """The conversation as clean Markdown (questions as headings, each answer with its
    numbered sources) and as JSON records holding the same text."""
    parts: list[str] = []
    records: list[dict[str, object]] = []
    for t in turns:
        if t["role"] == "user":
            parts.append(f"## {plain_md(t['content'])}")
            continue
        answer = retitled(Answer.model_validate(t["answer"]), titles)
        parts.append(as_markdown(answer))
        records.append(as_record(answer))
    return "\n\n".join(parts) + "\n", records


def downloads(titles: dict[str, str]) -> None:
    """The conversation as Markdown or JSON (drawn after every answer, so always current)."""
    turns: list[dict[str, Any]] = st.session_state.get("turns", [])
    if not turns:
        return
    markdown, records = conversation_export(turns, titles)
    st.download_button("Download chat (Markdown)", markdown, "conversation.md", "text/markdown")
    data = json.dumps(records, indent=2, ensure_ascii=False, default=str)
    st.download_button("Download chat (JSON)", data, "conversation.json", "application/json")
