"""Streamlit chat over the indexed articles: streamed, verified, cited answers.

This page holds session state and rendering only; every decision is made by `rag` (and the
index is updated through `index`). Corpus text is always escaped, never rendered as HTML.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from evals import conversations, feedback
from evals.local import attempt
from index import build_index
from rag import Answer, Filters, Pipeline, RagError, Settings
from rag.errors import StoreDamagedError
from rag.trust.conflicts import reconciled
from rag.types import CorpusInfo
from ui.markup import STYLE, date_text, untagged, user_html
from ui.render import Reader, answer_md, md, page_script, retitled, show_answer
from ui.sidebar import Choice, side_file_notice, sidebar
from ui.state import (
    date_range,
    display_names,
    follow_ups,
    forget_pipeline,
    load_pipeline,
    load_settings,
    read_article,
    starters,
)

EVALS = Path(__file__).resolve().parent / "evals_page.py"
ARTICLES = Path(__file__).resolve().parent / "articles_page.py"


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
    forget_pipeline()
    st.success(f"Rebuilt: {report.summary()}")
    st.button("Continue")


def welcome(pipeline: Pipeline, corpus: CorpusInfo) -> None:
    """What the corpus holds and a few questions to start from."""
    files = corpus.files
    span = date_range(files)
    when = f", published {span[0]} to {span[1]}" if span else ""
    st.markdown(f"**{len(files)} articles{when}.** Ask a question: answers quote them.")
    questions = starters(pipeline, corpus)
    if questions:
        st.caption("Try one of these:")
        for column, question in zip(st.columns(2), questions[:2], strict=False):
            _example(column, question)
        for column, question in zip(st.columns(2), questions[2:], strict=False):
            _example(column, question)
    newest = sorted(files, key=lambda f: (f.date is not None, f.date), reverse=True)[:3]
    if newest:
        st.caption("Newest articles:")
        names = display_names(corpus)
        st.markdown(
            "\n".join(
                f"- {md(untagged(names[f.source_file], f.date))} ({date_text(f.date)})"
                for f in newest
            )
        )


def _example(column: Any, question: str) -> None:
    if column.button(question, use_container_width=True):
        st.session_state.pending = question


@dataclass(frozen=True)
class View:
    """What drawing an answer needs besides the answer."""

    reader: Reader
    votes: Path
    titles: dict[str, str]
    corpus: CorpusInfo


def draw_turns(turns: list[dict[str, Any]], view: View) -> None:
    """The conversation so far, every answer with its chips, sources and 👍/👎."""
    for i, turn in enumerate(turns):
        with st.chat_message(turn["role"]):
            if turn["role"] == "user":
                st.html(user_html(turn["content"]))
                continue
            if turn.get("filters"):
                st.caption(f"Filters: {md(turn['filters'])}")
            draw_answer(turn, i, view, last=i == len(turns) - 1)


def draw_answer(turn: dict[str, Any], i: int, view: View, *, last: bool) -> None:
    """One kept answer: text and chips, sources, votes and, on the last, what to ask next."""
    answer = retitled(Answer.model_validate(turn["answer"]), view.titles)
    show_answer(answer, f"a{i}", view.reader, filtered=bool(turn.get("filters")))
    rate(turn, i, view.votes, last=last)
    if last and not answer.refused:
        _next_questions(answer, view.corpus, i)


_VERSIONED = ("content", "answer", "vote", "feedback_id", "comment")


def _next_questions(answer: Answer, corpus: CorpusInfo, i: int) -> None:
    """Two or three questions to ask next, from the cited articles."""
    questions = follow_ups(answer, corpus)
    if not questions:
        return
    st.caption("Ask next:")
    for n, (column, question) in enumerate(zip(st.columns(len(questions)), questions, strict=True)):
        if column.button(question, key=f"next-q-{i}-{n}", use_container_width=True):
            st.session_state.pending = question  # asked below, in this run


def rate(turn: dict[str, Any], i: int, votes: Path, *, last: bool) -> None:
    """👍/👎 (kept in the feedback file, with an optional comment, and acknowledged), the
    versions of a regenerated answer ("1/2", each with its own vote) and, on the last answer
    of a generative run, a button that asks again (an extractive answer would not change)."""
    versions: list[dict[str, Any]] = turn.get("versions") or []
    suffix = f"-{turn.get('shown', 0)}" if versions else ""
    left, right = st.columns([3, 2], vertical_alignment="top")
    with left:
        st.feedback(
            "thumbs",
            key=f"vote-{i}{suffix}",
            default=turn.get("vote"),  # exactly the stored verdict of the version shown
            on_change=_voted,
            args=(turn, i, votes, suffix),
        )
        if turn.get("feedback_id"):
            said = "👍" if turn.get("vote") == 1 else "👎"
            more = " and your comment" if turn.get("comment") else ""
            st.caption(f"Thanks, saved: your {said}{more}.")
            st.text_input(
                "Comment (optional)",
                key=f"comment-{i}{suffix}",
                placeholder="What was wrong or missing?",
                on_change=_commented,
                args=(turn, i, votes, suffix),
            )
    with right:
        if len(versions) > 1:
            _version_switch(turn, i, versions)
        generative = turn.get("answer", {}).get("mode") == "openai"
        if last and generative and st.button(
            "Regenerate", icon=":material/refresh:", key=f"again-{i}",
            help="Ask the model again; this version stays, with its vote",
        ):  # fmt: skip
            st.session_state.regenerate = True
            st.session_state.pending = turn["answer"]["question"]
            st.rerun()


def _version_switch(turn: dict[str, Any], i: int, versions: list[dict[str, Any]]) -> None:
    shown = turn.get("shown", len(versions) - 1)
    back, label, ahead = st.columns([1, 1, 1], vertical_alignment="center")
    label.markdown(f"{shown + 1}/{len(versions)}", help="Versions of this answer")
    if back.button("", icon=":material/chevron_left:", key=f"prev-{i}", disabled=shown == 0,
                   help="Previous version"):  # fmt: skip
        _show_version(turn, shown - 1)
    if ahead.button("", icon=":material/chevron_right:", key=f"next-{i}",
                    disabled=shown == len(versions) - 1, help="Next version"):  # fmt: skip
        _show_version(turn, shown + 1)


def _show_version(turn: dict[str, Any], shown: int) -> None:
    versions = turn["versions"]
    versions[turn.get("shown", len(versions) - 1)] = {k: turn.get(k) for k in _VERSIONED}
    turn.update(versions[shown])
    turn["shown"] = shown
    keep(load_settings())
    st.rerun()


def _voted(turn: dict[str, Any], i: int, votes: Path, suffix: str) -> None:
    choice = st.session_state.get(f"vote-{i}{suffix}")
    if choice is None:
        return
    rating = 1 if choice == 1 else -1
    if turn.get("feedback_id"):
        _, problem = attempt(lambda: feedback.rerate(votes, turn["feedback_id"], rating), None)
    else:
        answer = Answer.model_validate(turn["answer"])
        kept, problem = attempt(lambda: feedback.record(votes, answer, rating), 0)
        turn["feedback_id"] = kept or None
    if problem:
        st.session_state.side_file_problem = problem  # shown by the run this callback precedes
        return
    turn["vote"] = choice
    keep(load_settings())


def keep(settings: Settings) -> None:
    """Save the open conversation (its verdicts included) beside the store."""
    chat_id = st.session_state.setdefault("chat_id", uuid.uuid4().hex)
    turns = st.session_state.setdefault("turns", [])
    path = conversations.conversations_path(settings)
    # Unsaved turns stay in the session and are saved whole with the next answer.
    _, problem = attempt(lambda: conversations.save(path, chat_id, turns), None)
    if problem:
        st.session_state.side_file_problem = problem  # shown on the next run (keep reruns)


def _commented(turn: dict[str, Any], i: int, votes: Path, suffix: str) -> None:
    text = st.session_state.get(f"comment-{i}{suffix}", "")
    _, problem = attempt(lambda: feedback.comment(votes, turn["feedback_id"], text), None)
    if problem:
        st.session_state.side_file_problem = problem
        return
    turn["comment"] = text
    keep(load_settings())


def chat_page() -> None:
    """Render the chat page."""
    st.html(STYLE)
    st.title("Ask the articles")
    try:
        pipeline = load_pipeline()
    except StoreDamagedError as exc:
        st.error(str(exc))
        offer_rebuild(load_settings())
        st.stop()
    except RagError as exc:
        st.error(str(exc))
        st.stop()
    with st.sidebar:
        # The first stop after the page links: the question box without ~25 Tab stops.
        st.html('<a class="rag-skip" href="#ask">Skip to the question box</a>')
        choice, finish_sidebar = sidebar(pipeline)
    if problem := st.session_state.pop("side_file_problem", None):
        side_file_notice(problem, where="main")
    turns: list[dict[str, Any]] = st.session_state.setdefault("turns", [])
    keep_stopped(pipeline, turns)
    memo: dict[str, tuple[str, int] | None] = {}

    def reader(source_file: str) -> tuple[str, int] | None:
        return read_article(pipeline, memo, source_file)

    # The welcome has a slot of its own, emptied explicitly once there is a conversation
    # (the first answer is drawn without redrawing the page).
    intro = st.empty()
    if not turns:
        with intro.container():
            welcome(pipeline, pipeline.corpus())
    else:
        intro.empty()
    corpus = pipeline.corpus()
    view = View(reader, feedback.feedback_path(pipeline.settings), display_names(corpus), corpus)
    draw_turns(turns, view)
    if choice.problem:
        st.error(f"Asking is paused until the filters in the sidebar can match: {choice.problem}")
    typed = st.chat_input("Ask about the articles", disabled=bool(choice.problem))
    question = typed or st.session_state.pop("pending", None)
    if question and not choice.problem:
        ask(pipeline, question, choice, turns, view)
        if turns:
            intro.empty()
    finish_sidebar()  # saved conversations and downloads, this run's answer included
    target = st.session_state.pop("scroll_to", None)
    page_script(target, f"{len(turns)}-{bool(target)}")  # chips, panel, copy, skip link


def ask(
    pipeline: Pipeline, question: str, choice: Choice, turns: list[dict[str, Any]], view: View
) -> None:
    """Stream the answer to `question`, keep it, and draw it finished in the streamed text's
    place (the page is not redrawn: the sidebar is drawn after it, in this same run)."""
    with st.chat_message("user"):
        st.html(user_html(question))
    asked = turns[:-2] if st.session_state.get("regenerate") else turns  # not its own answer
    history = [{"role": t["role"], "content": t["content"]} for t in asked]
    with st.chat_message("assistant"):
        if choice.described:
            st.caption(f"Filters: {md(choice.described)}")
        # Any click reruns the page and so ends this run: what streamed so far is kept
        # (`partial`) and shown as a stopped answer on the next run.
        stop = st.empty()
        stop.button("Stop", icon=":material/stop_circle:", key="stop")
        st.session_state.partial = {"question": question, "text": "", "filters": choice.described}
        try:
            answer, body = _stream(pipeline, question, choice.top_k, choice.filters, history)
        except StoreDamagedError as exc:
            st.session_state.pop("partial", None)
            st.error(str(exc))
            offer_rebuild(pipeline.settings)
            return
        except RagError as exc:
            st.session_state.pop("partial", None)
            st.error(str(exc))
            return
        stop.empty()
        st.session_state.pop("partial", None)
        regenerated = bool(st.session_state.get("regenerate"))
        # A regenerated answer replaces one drawn above: only then is the page redrawn.
        _keep_turn(pipeline, question, answer, choice.described, turns, rerun=regenerated)
        with body.container():
            draw_answer(turns[-1], len(turns) - 1, view, last=True)


def keep_stopped(pipeline: Pipeline, turns: list[dict[str, Any]]) -> None:
    """An answer the reader stopped (or left by clicking elsewhere) mid-stream, kept as far as
    it came and marked incomplete."""
    partial = st.session_state.pop("partial", None)
    if not partial:
        return
    answer = Answer(
        question=partial["question"],
        text=partial["text"],
        mode=pipeline.mode,
        incomplete=True,
        incomplete_reason=(
            "You stopped it before it finished, so it was not checked against the articles; "
            "ask again or press Regenerate."
        ),
    )
    _keep_turn(pipeline, partial["question"], answer, partial["filters"], turns, rerun=False)


def _keep_turn(
    pipeline: Pipeline,
    question: str,
    answer: Answer,
    described: str,
    turns: list[dict[str, Any]],
    *,
    rerun: bool = True,
) -> None:
    st.session_state.pop("deleted", None)  # an Undo is offered until the next question
    answer = reconciled(answer)  # every side of a disagreement counted, kept and exported
    turn: dict[str, Any] = {
        "role": "assistant",
        "content": answer.text,
        "answer": answer.model_dump(mode="json"),
        "filters": described,
    }
    if st.session_state.pop("regenerate", False) and len(turns) >= 2:
        old = turns[-1]
        versions = old.get("versions") or [{}]
        versions[old.get("shown", len(versions) - 1)] = {k: old.get(k) for k in _VERSIONED}
        versions.append({k: turn.get(k) for k in _VERSIONED})
        turn.update(versions=versions, shown=len(versions) - 1)
        del turns[-2:]  # the question and its answer come back, with every version
    turns.append({"role": "user", "content": question})
    turns.append(turn)
    keep(pipeline.settings)
    st.session_state.scroll_to = f"answer-a{len(turns) - 1}"
    if rerun:
        st.rerun()


def _stream(
    pipeline: Pipeline,
    question: str,
    top_k: int,
    filters: Filters | None,
    history: list[dict[str, str]],
) -> tuple[Answer, Any]:
    """The streamed answer, and the place it was streamed into (below the status line)."""
    with st.status("Searching the articles…", expanded=False) as status:
        stream = pipeline.stream_answer(question, top_k=top_k, filters=filters, history=history)
        first = next(stream)
        status.update(label="Found sources, writing…", state="running")
    final: list[Answer] = []

    def pieces() -> Iterator[str]:
        held = ""  # the last word may go on in the next piece: a URL is rendered whole
        for item in itertools.chain([first], stream):
            if isinstance(item, Answer):
                final.append(item)
                continue
            held += item
            st.session_state.partial["text"] += item
            cut = max(held.rfind(" "), held.rfind("\n")) + 1
            if cut:
                yield answer_md(held[:cut])
                held = held[cut:]
        if held:
            yield answer_md(held)

    body = st.empty()
    with body.container():
        st.caption("Draft, not yet checked against the articles…")
        st.write_stream(pieces())
    # Reconciled before the status counts its passages: a disagreement's every side is cited.
    answer = reconciled(final[-1])
    if answer.refused:
        status.update(label="Nothing in the articles answers this", state="error")
    elif answer.confidence == "related":
        label = f"Related passages found ({len(answer.citations)}): they may not answer this"
        status.update(label=label, state="complete")
    else:
        n = len(answer.citations)
        status.update(label=f"Answered from {n} passage{'s' if n != 1 else ''}", state="complete")
    return answer, body


def main() -> None:
    """The app: the chat, the Articles and the Evals pages, named so in the navigation."""
    st.set_page_config(page_title="Ask the articles", page_icon="📰")
    pages = [
        st.Page(chat_page, title="Chat", icon=":material/chat:", default=True),
        st.Page(ARTICLES, title="Articles", icon=":material/library_books:"),
        st.Page(EVALS, title="Evals", icon=":material/monitoring:"),
    ]
    st.navigation(pages).run()


main()
