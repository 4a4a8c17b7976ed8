"""How answers, sources, conflicts and refusals are drawn: article and model text as text
(escaped Markdown here, escaped HTML in `ui.markup`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import escape

import streamlit as st

from rag import Answer
from rag.text.titles import short_title
from rag.trust.conflicts import reconciled
from rag.types import Citation
from ui.markup import answer_html, conflicts_html, date_text, sources_html, untagged

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
_MARKERS = re.compile(r"\s*\[\d+\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


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
    - opening a "Whole article" scrolls its text to the first cited quote;
    - a citation chip opens its source beside the answer (a bottom sheet on a phone) with a
      "Back to the answer" button (Escape too), so the reading place is kept; on a touch
      screen the first tap shows the chip's quote preview;
    - "Copy answer" copies the answer's clean Markdown.

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
    if (doc.ragClick) doc.removeEventListener("click", doc.ragClick, true);
    doc.ragClick = (event) => {{
      const copy = event.target.closest && event.target.closest(".rag-copy");
      if (copy) {{
        const text = doc.getElementById(copy.dataset.copy).value;
        window.parent.navigator.clipboard.writeText(text).then(
          () => {{ copy.textContent = "Copied"; }},
          () => {{ copy.textContent = "Select and copy from the download instead"; }});
        return;
      }}
      if (event.target.closest && event.target.closest(".rag-back")) {{ ragClose(true); return; }}
      if (event.target.closest && event.target.closest(".rag-skip")) {{
        event.preventDefault();
        const box = doc.querySelector('[data-testid="stChatInputTextArea"]');
        if (box) box.focus();
        return;
      }}
      const chip = event.target.closest && event.target.closest("a.rag-chip");
      if (!chip) return;
      event.preventDefault();
      // On a touch screen the first tap shows the quote preview; the next opens the source.
      const touch = window.parent.matchMedia("(hover: none)").matches;
      if (touch && !chip.classList.contains("rag-peek")) {{
        doc.querySelectorAll(".rag-peek").forEach((c) => c.classList.remove("rag-peek"));
        chip.classList.add("rag-peek");
        return;
      }}
      chip.classList.remove("rag-peek");
      ragOpen(chip);
    }};
    doc.addEventListener("click", doc.ragClick, true);
    // The source opens beside the answer (a bottom sheet on a phone): the reading place stays.
    const ragClose = (refocus) => {{
      const panel = doc.getElementById("rag-panel");
      if (!panel) return;
      const from = panel.ragFrom;
      panel.remove();
      if (refocus && from) from.focus({{preventScroll: true}});
    }};
    const ragOpen = (chip) => {{
      const card = doc.getElementById(chip.dataset.src);
      if (!card) return;
      ragClose(false);
      const panel = doc.createElement("aside");
      panel.id = "rag-panel";
      panel.className = "rag-panel";
      panel.setAttribute("role", "dialog");
      panel.setAttribute("aria-label", chip.getAttribute("aria-label") || "Source");
      const back = doc.createElement("button");
      back.className = "rag-back";
      back.type = "button";
      back.textContent = "← Back to the answer";
      panel.appendChild(back);
      const copy = card.cloneNode(true);
      copy.removeAttribute("id");
      copy.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
      panel.appendChild(copy);
      panel.ragFrom = chip;
      doc.body.appendChild(panel);
      const wanted = "q-" + chip.dataset.src.slice(4);
      const at = [...card.querySelectorAll(".rag-quote")].findIndex((q) => q.id === wanted);
      const quote = copy.querySelectorAll(".rag-quote")[at];
      if (quote) quote.style.background = "#eff6ff";
      back.focus({{preventScroll: true}});
    }};
    // Streamlit's avatars carry no name: say whose message it is.
    for (const [kind, name] of [["User", "You"], ["Assistant", "Assistant"]]) {{
      doc.querySelectorAll(`[data-testid="stChatMessageAvatar${{kind}}"]`).forEach((el) => {{
        el.setAttribute("role", "img");
        el.setAttribute("aria-label", name);
      }});
    }}
    if (doc.ragKey) doc.removeEventListener("keydown", doc.ragKey, true);
    doc.ragKey = (event) => {{ if (event.key === "Escape") ragClose(true); }};
    doc.addEventListener("keydown", doc.ragKey, true);
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


_MD_SPECIAL = re.compile(r"[\\`*_<>]|\[(?!\d+\])|(?<!\[\d)(?<!\[\d\d)\]|^#|^>", re.MULTILINE)


def plain_md(text: str) -> str:
    """Prose for a Markdown export: as written ("costing 2.4 million euros [2]."), only the
    characters that would turn it into emphasis, code, HTML or a link escaped."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def source_line(c: Citation) -> str:
    """ "[n] Title — Outlet, 16 Aug 2025. <link>" for an export's numbered sources."""
    link = c.url.strip() if re.match(r"https?://\S+$", c.url.strip(), re.IGNORECASE) else ""
    parts = [c.outlet or "outlet unknown", date_text(c.date) if c.date else "date unknown"]
    title = untagged(c.title, c.date) or c.source_file
    line = f"[{c.n}] {plain_md(title)} — {plain_md(', '.join(parts))}."
    return f"{line} <{link}>" if link else line


def shown_text(answer: Answer) -> str:
    """The answer's prose as the page shows it below a disagreement: without the reconciling
    sentences (drawn above it) nor any sentence they already hold."""
    text = answer.text
    if not answer.conflicts:
        return text
    said = " ".join(c.summary for c in answer.conflicts)
    text = text.replace(said, "", 1).strip()
    kept = [
        piece
        for piece in _SENTENCE.split(text)
        if not (bare := _MARKERS.sub("", piece).strip().rstrip(".")) or bare not in said
    ]
    return " ".join(kept).strip()


def as_markdown(answer: Answer) -> str:
    """An answer as clean Markdown to copy or keep: its reconciling sentences, its prose with
    [n] markers, then the numbered sources (title, outlet, date, link) and their quotes."""
    lines = [plain_md(c.summary) for c in answer.conflicts if c.summary]
    text = shown_text(answer)
    if text:
        lines += ["", plain_md(text)] if lines else [plain_md(text)]  # a paragraph of its own
    if answer.citations:
        lines += ["", "Sources:", ""]
    for c in answer.citations:
        lines.append(source_line(c))
        lines.append(f"   > “{plain_md(c.quote)}”")
    return "\n".join(lines).strip()


def as_record(answer: Answer) -> dict[str, object]:
    """The same clean answer for the JSON export: prose, numbered sources, and the full answer."""
    return {
        "question": answer.question,
        "text": "\n\n".join(
            [*(c.summary for c in answer.conflicts if c.summary), shown_text(answer)]
        ).strip(),
        "sources": [
            {
                "n": c.n,
                "title": c.title or c.source_file,
                "outlet": c.outlet,
                "date": c.date.isoformat() if c.date else None,
                "url": c.url,
                "file": c.source_file,
                "quote": c.quote,
            }
            for c in answer.citations
        ],
        "answer": answer.model_dump(mode="json"),
    }


def retitled(answer: Answer, titles: dict[str, str]) -> Answer:
    """`answer` with every citation titled by its article's short display title."""

    def named(cs: list[Citation]) -> list[Citation]:
        return [
            c.model_copy(
                update={"title": titles.get(c.source_file) or short_title(c.title, c.source_file)}
            )
            for c in cs
        ]

    return answer.model_copy(
        update={"citations": named(answer.citations), "closest": named(answer.closest)}
    )


def copy_button(text: str, aid: str) -> None:
    """One click copies `text` (the page script does the copying; the text is escaped)."""
    st.html(
        f'<button class="rag-copy" type="button" data-copy="copy-{aid}" '
        f'aria-label="Copy this answer and its sources as Markdown">Copy answer</button>'
        f'<textarea id="copy-{aid}" class="rag-copytext" hidden readonly>{escape(text)}</textarea>'
    )


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
    answer = reconciled(answer)
    if answer.conflicts:
        st.html(conflicts_html(answer, aid))
    text = shown_text(answer)
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
        copy_button(as_markdown(answer), aid)
