"""How answers, sources, conflicts and refusals are drawn: article and model text as text."""

from __future__ import annotations

import re

import streamlit as st

from rag import Answer, Pipeline, RagError
from rag.types import Citation, Context

EXCERPT = 220  # characters of context shown either side of a quote
# What a Markdown renderer would make clickable on its own: URLs with a scheme, www. addresses,
# e-mail addresses (backticks excluded: the match is set inside a code span).
_LINKABLE = re.compile(
    r"(?:\b(?:[a-z][a-z0-9+.-]*://|(?:mailto|javascript|data|vbscript|tel|sms):)|\bwww\.)"
    r"[^\s`<>]*[^\s`<>.,;:!?)\]'\"”’]"  # a sentence's closing punctuation is not part of it
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    re.IGNORECASE,
)
_MARKER_MD = re.compile(r"\\\[(\d+)\\\]")  # an escaped [n] marker


def md(text: str) -> str:
    """Escape text for Markdown so corpus characters show literally (no HTML, no links)."""
    specials = "\\`*_{}[]()#+-.!|<>~$:"
    return "".join("\\" + ch if ch in specials else ch for ch in text)


def answer_md(text: str) -> str:
    """Model-written text as Markdown that shows it as text: escaped (no HTML, no link syntax),
    its [n] markers kept readable, and anything a renderer would turn into a live link (a URL,
    `www.` address or e-mail address) set as code instead.

    Escaping alone is not enough: GitHub-flavoured Markdown finds bare URLs in the text after
    escapes are resolved, so `http\\://evil\\.example` would still become a link.
    """
    parts = []
    cursor = 0
    for match in _LINKABLE.finditer(text):
        parts.append(md(text[cursor : match.start()]))
        parts.append(f"`{match.group(0)}`")
        cursor = match.end()
    parts.append(md(text[cursor:]))
    return _MARKER_MD.sub(r"[\1]", "".join(parts))


def highlighted(text: str, start: int, end: int) -> str:
    """`text` as Markdown with [start:end] highlighted."""
    return f"{md(text[:start])}:orange-background[{md(text[start:end])}]{md(text[end:])}"


def quote_md(c: Citation) -> str:
    """The quote as Markdown, the phrase that answers the question (if marked) in bold."""
    if c.answer_span is None:
        return md(c.quote)
    lo, hi = c.answer_span[0] - c.start, c.answer_span[1] - c.start
    return f"{md(c.quote[:lo])}**{md(c.quote[lo:hi])}**{md(c.quote[hi:])}"


def show_conflicts(answer: Answer) -> None:
    """Each disagreement as one column per source: its value, citation and date."""
    for conflict in answer.conflicts:
        st.warning(f"The sources disagree on: {md(conflict.slot)}", icon="⚖️")
        for side, column in zip(conflict.sides, st.columns(len(conflict.sides)), strict=True):
            date = side.date.isoformat() if side.date else "undated"
            column.metric(f"[{side.citation}] {md(side.source_file)}", side.value)
            column.caption(f"{md(side.source_file)} · {date}")


def show_closest(answer: Answer) -> None:
    """A refusal's nearest passages, marked as not answering the question."""
    st.caption("Closest passages (they do not answer the question):")
    for c in answer.closest:
        date = c.date.isoformat() if c.date else "undated"
        with st.container(border=True):
            st.caption(f"{md(c.source_file)} · {date} · support {c.score:.2f}")
            st.markdown(md(c.quote))


def show_source(c: Citation, contexts: dict[str, Context], pipeline: Pipeline) -> None:
    """One numbered source card: title, file, date, support, the quote in its excerpt."""
    date = c.date.isoformat() if c.date else "undated"
    with st.container(border=True):
        st.markdown(f"**[{c.n}] {md(c.title or c.source_file)}**")
        st.caption(f"{md(c.source_file)} · {date} · support {c.score:.2f}")
        if c.answer_span is not None:
            st.markdown(quote_md(c))
        ctx = contexts.get(c.chunk_id)
        if ctx is None:
            st.markdown(f":orange-background[{md(c.quote)}]")
        else:
            lo, hi = c.start - ctx.start, c.end - ctx.start
            left, right = max(0, lo - EXCERPT), min(len(ctx.text), hi + EXCERPT)
            excerpt = highlighted(ctx.text[left:right], lo - left, hi - left)
            st.markdown(("… " if left else "") + excerpt + (" …" if right < len(ctx.text) else ""))
        with st.expander("Whole article"):
            try:
                st.markdown(highlighted(pipeline.source_text(c.source_file), c.start, c.end))
            except RagError as exc:
                st.error(str(exc))


def as_markdown(answer: Answer) -> str:
    """An answer and its numbered sources, as Markdown to copy: every text is escaped, so it
    renders as the text it is (no links, no HTML) wherever it is pasted."""
    lines = [answer_md(answer.text), ""]
    for c in answer.citations:
        date = c.date.isoformat() if c.date else "undated"
        lines.append(
            f"\\[{c.n}\\] {md(c.source_file)} ({date}), chars {c.start}-{c.end}: "
            f"“{answer_md(c.quote)}”"
        )
    return "\n".join(lines).strip()


def show_answer(answer: Answer, pipeline: Pipeline) -> None:
    """A finished answer's marks and sources under its text."""
    if answer.refused:
        st.info("Nothing in the articles answers this. Try rephrasing, or widen the filters.")
        if answer.closest:
            show_closest(answer)
    if answer.rewritten_question:
        with st.expander("Searched for"):
            st.markdown(answer_md(answer.rewritten_question))
    if answer.incomplete:
        reason = answer.incomplete_reason or "The provider stopped before finishing."
        st.warning(f"This answer is incomplete. {md(reason)}", icon="✂️")
    if answer.unsupported:
        listed = "; ".join(f"“{answer_md(s)}”" for s in answer.unsupported)
        st.warning(f"Not supported by any retrieved source: {listed}", icon="⚠️")
    if answer.conflicts:
        show_conflicts(answer)
    contexts = {c.chunk_id: c for c in answer.contexts}
    for citation in answer.citations:
        show_source(citation, contexts, pipeline)
    if answer.citations:
        with st.expander("Copy as Markdown"):
            st.code(as_markdown(answer), language="markdown")
