"""How answers, sources, conflicts and refusals are drawn: article and model text as text
(escaped Markdown here, escaped HTML in `ui.markup`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import streamlit as st

from rag import Answer
from rag.trust.conflicts import conflict_note
from ui.markup import answer_html, conflicts_html, date_text, sources_html

Reader = Callable[[str], tuple[str, int] | None]  # source file -> (text, body start) or None
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


def page_script(element_id: str | None, nonce: str) -> None:
    """Behaviour HTML alone cannot give, from a tiny same-origin component (our own script;
    no corpus text in it):

    - after an answer is drawn, scroll so its top is in view. Streamlit keeps a chat pinned to
      its bottom while late parts render, so the answer's top is held in view for a moment,
      unless the reader scrolls, clicks or types;
    - opening a "Whole article" scrolls its text to the first cited quote.

    `nonce` makes each request a new component, so it runs again for the next answer.
    """
    script = f"""<script>/* {nonce} */
    const doc = window.parent.document;
    // One listener, from the newest component (a removed frame's functions no longer run).
    if (doc.ragToggle) doc.removeEventListener("toggle", doc.ragToggle, true);
    doc.ragToggle = (event) => {{
      const details = event.target;
      const text = details.open && details.querySelector(":scope > .rag-article");
      const mark = text && text.querySelector("mark");
      if (mark) text.scrollTop = Math.max(0, mark.offsetTop - 24);
    }};
    doc.addEventListener("toggle", doc.ragToggle, true);  // toggle does not bubble: capture
    const target = {json.dumps(element_id)};
    let moved = false;
    for (const kind of ["wheel", "touchstart", "keydown", "mousedown"]) {{
      doc.addEventListener(kind, () => {{ moved = true; }}, {{once: true, capture: true}});
    }}
    const go = (tries) => {{
      const el = target && doc.getElementById(target);
      const box = el && el.closest('[data-testid="stChatMessage"]');
      if (!box) {{ if (target && tries > 0) setTimeout(() => go(tries - 1), 100); return; }}
      box.style.scrollMarginTop = "4.5rem";  // below Streamlit's fixed header
      for (const wait of [0, 250, 600, 1000, 1600, 2500, 3500]) {{
        setTimeout(() => {{ if (!moved) box.scrollIntoView({{block: "start"}}); }}, wait);
      }}
    }};
    go(30);
    </script>"""
    st.iframe(script, height=1)


def show_closest(answer: Answer, aid: str, article: Reader) -> None:
    """A refusal's nearest passages, each marked as not answering the question."""
    if answer.closest:
        st.html(sources_html(answer, aid, article, closest=True))


def as_markdown(answer: Answer) -> str:
    """An answer and its numbered sources, as Markdown to copy: every text is escaped, so it
    renders as the text it is (no links, no HTML) wherever it is pasted."""
    lines = [answer_md(answer.text), ""]
    for c in answer.citations:
        lines.append(
            f"\\[{c.n}\\] {md(c.title or c.source_file)} ({date_text(c.date)}), "
            f"{md(c.source_file)}, chars {c.start}-{c.end}: "
            f"“{answer_md(c.quote)}”"
        )
    return "\n".join(lines).strip()


def show_answer(answer: Answer, aid: str, article: Reader, *, filtered: bool = False) -> None:
    """A finished answer: its text with citation chips (or the refusal, once), warnings,
    the disagreement table and the compact sources strip.

    Args:
        filtered: the question was asked with filters (a refusal then suggests widening them).
    """
    if answer.refused:
        st.info(
            answer.text or "Nothing in the articles answers this.", icon=":material/search_off:"
        )
        st.caption("Try rephrasing, or widen the filters." if filtered else "Try rephrasing.")
        show_closest(answer, aid, article)
        return
    text = answer.text
    if answer.conflicts:
        st.html(conflicts_html(answer, aid))
        # The table says it: the answer's own one-line summary of the sides is left out.
        text = text.replace(conflict_note(answer.conflicts), "", 1).strip()
    st.html(answer_html(text, answer.citations, aid))
    if answer.rewritten_question:
        st.caption(f"Searched for: {answer_md(answer.rewritten_question)}")
    if answer.confidence == "related":
        st.caption(f"⚠️ Low confidence: the quoted passages are {answer.confidence_words}.")
    if answer.incomplete:
        reason = answer.incomplete_reason or "The provider stopped before finishing."
        st.warning(f"This answer is incomplete. {md(reason)}", icon="✂️")
    if answer.unsupported:  # left out of the answer: shown apart, collapsed, marked
        with st.expander(
            f"Not in the articles ({len(answer.unsupported)}), left out of the answer"
        ):
            for sentence in answer.unsupported:
                st.markdown(f"- “{answer_md(sentence)}”")
    if answer.citations:
        st.html(sources_html(answer, aid, article))
        with st.expander("Copy as Markdown"):
            st.code(as_markdown(answer), language="markdown")
